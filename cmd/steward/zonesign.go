package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"github.com/miekg/dns"

	"steward/dnssec"
	"steward/zone"
)

// zoneSign signs a zone file with fresh keys, as steward signs the root
// zone: NSEC, ZONEMD, the default policy.
func (m *Main) zoneSign(args []string) error {
	fs := m.flags("zone sign", "--in FILE --out FILE [--origin NAME] [--algorithm 13|15|8] [--keys DIR] [--now RFC3339] [--verify] [--gc-percent 20]")
	in := fs.String("in", "", "the unsigned zone file (DNSSEC records in it are dropped and made again)")
	out := fs.String("out", "", "the signed zone file to write; - for standard output")
	origin := fs.String("origin", ".", "the origin for relative names in the file; the zone is the SOA's owner")
	alg := fs.Uint("algorithm", uint(dns.ECDSAP256SHA256), "the keys' algorithm: 13 (ECDSA P-256), 15 (Ed25519) or 8 (RSA/SHA-256)")
	keysDir := fs.String("keys", "", "write the new keys there, in BIND's K<zone>+<alg>+<tag>.key/.private format")
	nowFlag := fs.String("now", "", "the signing time (RFC 3339; default now)")
	verify := fs.Bool("verify", false, "check the signed zone in process before writing it (dnssec.Verify)")
	gcPercent := fs.Int("gc-percent", 20, "garbage collection target percentage, as GOGC (which, when set, wins): signing makes garbage (the signature code's) at a high rate beside a large live heap, so collecting more often than Go's default 100 keeps the peak memory near the live heap for a few percent more CPU")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 || *in == "" || *out == "" {
		return usagef("zone sign takes --in FILE and --out FILE")
	}
	if *gcPercent <= 0 {
		return usagef("zone sign: --gc-percent must be positive")
	}
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(*gcPercent)
	}
	if *alg > 255 {
		return usagef("zone sign: --algorithm %d", *alg)
	}
	now := time.Now()
	if *nowFlag != "" {
		if now, err = time.Parse(time.RFC3339, *nowFlag); err != nil {
			return usagef("zone sign: --now: %v", err)
		}
	}
	unsigned, err := zone.LoadFile(*in, *origin)
	if err != nil {
		return err
	}
	apex := unsigned.Origin
	ksk, err := dnssec.GenerateKey(apex, uint8(*alg), true)
	if err != nil {
		return usagef("zone sign: %v", err)
	}
	zsk, err := dnssec.GenerateKey(apex, uint8(*alg), false)
	if err != nil {
		return err
	}
	keys := dnssec.SigningKeys{KSKs: []*dnssec.Key{ksk}, ZSKs: []*dnssec.Key{zsk}}
	names := len(unsigned.Names())
	var st dnssec.Stats
	if *verify {
		z, stats, err := dnssec.SignZone(unsigned, keys, dnssec.DefaultPolicy, now)
		if err != nil {
			return fmt.Errorf("%s: %w", *in, err)
		}
		unsigned, st = nil, stats
		if err := dnssec.Verify(z, now); err != nil {
			return err
		}
		err = writeZoneFile(*out, m.Stdout, z.Write)
		if err != nil {
			return err
		}
	} else {
		// Without a check of the whole signed zone, the signer writes it
		// as it goes and never holds it.
		err := writeZoneFile(*out, m.Stdout, func(w io.Writer) error {
			u := unsigned
			unsigned = nil // the signer lets go of it once read
			var err error
			st, err = dnssec.SignZoneTo(w, u, keys, dnssec.DefaultPolicy, now)
			if err != nil {
				return fmt.Errorf("%s: %w", *in, err)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	if *keysDir != "" {
		for _, k := range []*dnssec.Key{ksk, zsk} {
			if err := writeBINDKey(*keysDir, k); err != nil {
				return err
			}
		}
	}
	report := m.Stdout
	if *out == "-" {
		report = m.Stderr
	}
	ds := ksk.DNSKEY.ToDS(dns.SHA256)
	fmt.Fprintf(report, "signed %s: %d names, %d signatures; KSK %d, ZSK %d (algorithm %d)\n%s\n",
		apex, names, st.Signed, ksk.Tag(), zsk.Tag(), *alg, ds)
	return nil
}

// writeZoneFile writes a zone with write (zone.Zone.Write or the like) to
// file (- for w), atomically for a file.
func writeZoneFile(file string, w io.Writer, write func(io.Writer) error) (err error) {
	if file == "-" {
		bw := bufio.NewWriterSize(w, 1<<20)
		if err := write(bw); err != nil {
			return err
		}
		return bw.Flush()
	}
	tmp, err := os.CreateTemp(filepath.Dir(file), "."+filepath.Base(file)+".*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	bw := bufio.NewWriterSize(tmp, 1<<20)
	if err := write(bw); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), file)
}

// writeBINDKey writes a key as BIND's dnssec-keygen does: the DNSKEY record
// in K<zone>+<alg>+<tag>.key and the private key in .private (mode 0600).
func writeBINDKey(dir string, k *dnssec.Key) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	name := strings.TrimSuffix(k.DNSKEY.Hdr.Name, ".")
	base := filepath.Join(dir, fmt.Sprintf("K%s.+%03d+%05d", name, k.DNSKEY.Algorithm, k.Tag()))
	if name == "" {
		base = filepath.Join(dir, fmt.Sprintf("K.+%03d+%05d", k.DNSKEY.Algorithm, k.Tag()))
	}
	priv := k.DNSKEY.PrivateKeyString(k.Signer)
	if priv == "" {
		return errors.New("zone sign: cannot write the private key")
	}
	if err := os.WriteFile(base+".key", []byte(k.DNSKEY.String()+"\n"), 0o644); err != nil {
		return err
	}
	return os.WriteFile(base+".private", []byte(priv), 0o600)
}
