package main

import (
	"crypto"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"

	"steward/dnssec"
	"steward/dnsserver"
	"steward/zone"
)

// readBINDKeys reads the DNSSEC keys of origin from the
// K<zone>.+<alg>+<tag>.key/.private pairs in dir, as `zone sign --keys`
// and dnssec-keygen write them: keys with the SEP flag are KSKs, the
// others ZSKs.
func readBINDKeys(dir, origin string) (dnssec.SigningKeys, error) {
	var keys dnssec.SigningKeys
	paths, err := filepath.Glob(filepath.Join(dir, "K*.key"))
	if err != nil {
		return keys, err
	}
	for _, path := range paths {
		k, err := readBINDKey(path)
		if err != nil {
			return keys, err
		}
		if !strings.EqualFold(k.DNSKEY.Hdr.Name, origin) {
			continue
		}
		if k.DNSKEY.Flags&dns.SEP != 0 {
			keys.KSKs = append(keys.KSKs, k)
		} else {
			keys.ZSKs = append(keys.ZSKs, k)
		}
	}
	if len(keys.KSKs) == 0 || len(keys.ZSKs) == 0 {
		return keys, fmt.Errorf("%s: no KSK and ZSK of %s (K%s+*.key with its .private)", dir, origin, strings.TrimSuffix(origin, "."))
	}
	return keys, nil
}

// readBINDKey reads one key pair: the DNSKEY record in path and the
// private key in the .private file beside it.
func readBINDKey(path string) (*dnssec.Key, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zp := dns.NewZoneParser(f, ".", path)
	var key *dns.DNSKEY
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		k, isKey := rr.(*dns.DNSKEY)
		if !isKey || key != nil {
			return nil, fmt.Errorf("%s: want exactly one DNSKEY record", path)
		}
		key = k
	}
	if err := zp.Err(); err != nil {
		return nil, err
	}
	if key == nil {
		return nil, fmt.Errorf("%s: no DNSKEY record", path)
	}
	privPath := strings.TrimSuffix(path, ".key") + ".private"
	pf, err := os.Open(privPath)
	if err != nil {
		return nil, err
	}
	defer pf.Close()
	priv, err := key.ReadPrivateKey(pf, privPath)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", privPath, err)
	}
	k := &dnssec.Key{DNSKEY: key}
	var ok bool
	if k.Signer, ok = priv.(crypto.Signer); !ok {
		return nil, fmt.Errorf("%s: not a signing key", privPath)
	}
	return k, nil
}

// zoneUpdater makes the versions of a zone served by `zone serve` that
// DNS UPDATE asks for: a signed zone is re-signed where the change touches
// it (dnssec.Signer.Patch) at once, without a ZONEMD, and the ZONEMD
// follows in the next version once updates have stopped for a moment (or,
// under a steady stream of them, after ten such moments); an unsigned zone
// just gets the change and a new serial. Once the versions have drifted
// from their flat base by compactAt names, a flat copy is made in the
// background and served in place of the patched one (Server.Compact).
type zoneUpdater struct {
	srv       *dnsserver.Server
	log       *slog.Logger
	origin    string
	keys      *dnssec.SigningKeys // nil for an unsigned zone
	signer    *dnssec.Signer
	settle    time.Duration // quiet time before the ZONEMD follows
	compactAt int           // names changed since the flat base that call for a flat copy

	mu         sync.Mutex
	timer      *time.Timer
	since      time.Time // when the timer was first set since the last ZONEMD
	compacting bool
}

// apply is dnsserver.UpdatePolicy.Apply.
func (u *zoneUpdater) apply(cur *zone.Zone, changes []zone.Change) (*zone.Zone, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if served := u.srv.Zone(cur.Origin); served != nil {
		// The version with the ZONEMD, or a flat copy, may have been
		// served since the update was checked: they differ at the apex
		// only, which updates do not touch, or not at all.
		cur = served
	}
	serial := cur.Serial + 1
	var z *zone.Zone
	var err error
	if u.keys == nil {
		z, err = cur.PatchSerial(changes, serial)
	} else {
		z, _, err = u.signer.Patch(cur, changes, serial, *u.keys, time.Now(), false)
	}
	if err != nil {
		return nil, err
	}
	switch {
	case u.timer == nil:
		u.since = time.Now()
		u.timer = time.AfterFunc(u.settle, u.settled)
	case time.Since(u.since) < 10*u.settle:
		u.timer.Reset(u.settle)
	}
	return z, nil
}

// settled runs once updates have paused: it serves the version after the
// one served with its ZONEMD, and starts a flat copy if the versions have
// drifted far from their base.
func (u *zoneUpdater) settled() {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.timer = nil
	z := u.srv.Zone(u.origin)
	if z == nil {
		return
	}
	if u.keys != nil && !hasZONEMD(z) {
		start := time.Now()
		next, _, err := u.signer.Patch(z, nil, z.Serial+1, *u.keys, time.Now(), true)
		if err != nil {
			u.log.Error("ZONEMD after updates", "zone", z.Origin, "err", err)
			return
		}
		u.srv.SetZone(next)
		u.log.Info("ZONEMD after updates", "zone", z.Origin, "serial", next.Serial, "seconds", time.Since(start).Seconds())
		z = next
	}
	if changed, _ := z.Patched(); len(changed) >= u.compactAt && !u.compacting {
		u.compacting = true
		go u.compact(z)
	}
}

// compact makes a flat copy of z and serves it in z's place if z is still
// the version served.
func (u *zoneUpdater) compact(z *zone.Zone) {
	defer func() {
		u.mu.Lock()
		u.compacting = false
		u.mu.Unlock()
	}()
	start := time.Now()
	flat, err := z.Flatten()
	if err != nil {
		u.log.Error("flat copy of the zone", "zone", z.Origin, "err", err)
		return
	}
	// Under the lock, so that no update is made from z meanwhile.
	u.mu.Lock()
	served := u.srv.Compact(flat)
	u.mu.Unlock()
	u.log.Info("flat copy of the zone", "zone", z.Origin, "serial", z.Serial, "served", served, "seconds", time.Since(start).Seconds())
}

// hasZONEMD reports whether z has a ZONEMD for its own serial.
func hasZONEMD(z *zone.Zone) bool {
	for _, rr := range z.RRset(z.Origin, dns.TypeZONEMD) {
		if md, ok := rr.(*dns.ZONEMD); ok && md.Serial == z.Serial {
			return true
		}
	}
	return false
}
