package main

import (
	"context"
	"fmt"
	"net/netip"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"

	"steward/dnssec"
	"steward/dnsserver"
	"steward/zone"
)

// zoneServe serves one zone file authoritatively, as `serve --dns` serves
// the root zone, with no instance behind it: a signed zone (from `zone
// sign` or any signer) or an unsigned one. With --allow-update it takes
// changes by DNS UPDATE (RFC 2136), re-signing what they touch with the
// keys in --keys.
func (m *Main) zoneServe(ctx context.Context, args []string) error {
	fs := m.flags("zone serve", "--in FILE --dns ADDR [--origin NAME] [--allow-update PREFIXES [--keys DIR] [--tsig-file FILE]] [--allow-transfer PREFIXES [--notify ADDR[@KEY],...]]")
	in := fs.String("in", "", "the zone file")
	addr := fs.String("dns", "", "the address to answer on, over UDP and TCP (e.g. 127.0.0.1:5353)")
	origin := fs.String("origin", ".", "the origin for relative names in the file; the zone is the SOA's owner")
	allowXfr := fs.String("allow-transfer", "", "comma-separated prefixes allowed to take the zone by AXFR/IXFR; none by default")
	notify := fs.String("notify", "", "with --allow-transfer: comma-separated host:port[@KEYNAME] of secondaries to NOTIFY of each new serial, signed with that TSIG key (default the first)")
	allowUpdate := fs.String("allow-update", "", "comma-separated prefixes allowed to change the zone by DNS UPDATE (RFC 2136); none by default")
	keysDir := fs.String("keys", "", "the zone's DNSSEC keys (K<zone>.+<alg>+<tag>.key/.private, as zone sign --keys writes them), to sign updates of a signed zone")
	settle := fs.Duration("zonemd-after", time.Second, "with --keys: how long after the last update the version with the ZONEMD follows")
	compactAt := fs.Int("compact-after", 4096, "with --allow-update: make a flat copy of the zone in the background once updates have changed this many names since the last one")
	var tsigFiles []string
	fs.Func("tsig-file", "a file of TSIG keys (BIND key statements, Knot's YAML or [ALGORITHM:]NAME:SECRET lines); repeatable. With any, updates must be signed with one", func(v string) error {
		tsigFiles = append(tsigFiles, v)
		return nil
	})
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 || *in == "" || *addr == "" {
		return usagef("zone serve takes --in FILE and --dns ADDR")
	}
	allow, err := parsePrefixes("zone serve --allow-update", *allowUpdate)
	if err != nil {
		return err
	}
	allowT, err := parsePrefixes("zone serve --allow-transfer", *allowXfr)
	if err != nil {
		return err
	}
	var tsigKeys []dnsserver.TSIGKey
	for _, f := range tsigFiles {
		ks, err := readTSIGFile(f)
		if err != nil {
			return usagef("zone serve --tsig-file: %v", err)
		}
		tsigKeys = append(tsigKeys, ks...)
	}
	log, err := m.logger("text", "info")
	if err != nil {
		return err
	}
	start := time.Now()
	z, err := zone.LoadFile(*in, *origin)
	if err != nil {
		return err
	}
	read := time.Since(start)
	cfg := dnsserver.Config{Logger: log, Registerer: prometheus.NewRegistry(), TSIG: tsigKeys}
	var keyNames []string
	for _, k := range tsigKeys {
		keyNames = append(keyNames, k.Name)
	}
	secondaries, err := parseNotify(*notify, tsigKeys)
	if err != nil {
		return err
	}
	if len(allowT) > 0 {
		cfg.Transfer = map[string]dnsserver.TransferPolicy{z.Origin: {Allow: allowT, Keys: keyNames, Notify: secondaries}}
	} else if len(secondaries) > 0 {
		return usagef("zone serve: --notify needs --allow-transfer for the secondaries to take the zone")
	}
	var upd *zoneUpdater
	if len(allow) > 0 {
		upd = &zoneUpdater{log: log, origin: z.Origin, signer: dnssec.NewSigner(z.Origin, dnssec.DefaultPolicy), settle: *settle, compactAt: max(*compactAt, 1)}
		signed := len(z.RRset(z.Origin, dns.TypeDNSKEY)) > 0
		switch {
		case *keysDir != "":
			keys, err := readBINDKeys(*keysDir, z.Origin)
			if err != nil {
				return err
			}
			upd.keys = &keys
		case signed:
			return usagef("zone serve: %s is signed: updates need its keys (--keys DIR)", *in)
		}
		pol := dnsserver.UpdatePolicy{Allow: allow, Keys: keyNames, Apply: upd.apply}
		cfg.Update = map[string]dnsserver.UpdatePolicy{z.Origin: pol}
	} else if *keysDir != "" {
		return usagef("zone serve: --keys is for updates: give --allow-update")
	}
	srv := dnsserver.New(cfg)
	if upd != nil {
		upd.srv = srv
	}
	srv.SetZone(z)
	if err := srv.Open(*addr, *addr); err != nil {
		return fmt.Errorf("DNS server: %w", err)
	}
	// Give back what loading needed and serving does not.
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	log.Info("serving", "zone", z.Origin, "serial", z.Serial, "names", len(z.Names()), "dns", *addr,
		"read_seconds", read.Seconds(), "ready_seconds", time.Since(start).Seconds(), "heap_mb", ms.HeapInuse>>20)
	<-ctx.Done()
	cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Close(cctx)
}

// parsePrefixes parses a comma-separated list of address prefixes.
func parsePrefixes(flag, list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, p := range splitComma(list) {
		pfx, err := netip.ParsePrefix(p)
		if err != nil {
			return nil, usagef("%s: %q is not a prefix", flag, p)
		}
		out = append(out, pfx)
	}
	return out, nil
}
