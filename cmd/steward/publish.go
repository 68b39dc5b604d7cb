package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"

	"steward/dnssec"
	"steward/dnsserver"
	"steward/publish"
	"steward/web"
)

const (
	dnssecKeyDir   = "keys/dnssec"
	dnssecIdentity = "keys/dnssec.identity"
)

type publishFlags struct {
	dns, allow, notify, tsig, identity string
	tsigFiles                          []string
	algorithm                          int
}

// tsigKeys gathers the TSIG keys of --tsig and --tsig-file.
func (f publishFlags) tsigKeys() ([]dnsserver.TSIGKey, error) {
	var keys []dnsserver.TSIGKey
	for _, spec := range splitComma(f.tsig) {
		k, err := parseKeySpec(spec)
		if err != nil {
			return nil, usagef("--tsig: %v", err)
		}
		keys = append(keys, k)
	}
	for _, path := range f.tsigFiles {
		ks, err := readTSIGFile(path)
		if err != nil {
			return nil, usagef("--tsig-file: %v", err)
		}
		keys = append(keys, ks...)
	}
	seen := map[string]bool{}
	for _, k := range keys {
		if seen[k.Name] {
			return nil, usagef("TSIG key %s is given twice", k.Name)
		}
		seen[k.Name] = true
	}
	return keys, nil
}

// publishing is the running zone publication of serve.
type publishing struct {
	p *publish.Publisher
}

// published adapts the publisher's artifacts for the web.
func (pb *publishing) published() *web.Published {
	if pb == nil || pb.p == nil {
		return nil
	}
	a := pb.p.Current()
	if a == nil {
		return nil
	}
	return &web.Published{Serial: a.Serial, Entry: a.Entry, Files: map[string][]byte{
		"root.zone": a.ZoneFile, "root-anchors.xml": a.AnchorsXML, "root-anchors.ds": a.AnchorsDS, "root.hints": a.Hints,
	}}
}

// startPublishing opens the DNSSEC key store, starts the DNS server if
// asked, and runs the publisher in the background until ctx ends.
func (m *Main) startPublishing(ctx context.Context, in *instance, log *slog.Logger, reg prometheus.Registerer, f publishFlags) (*publishing, *dnsserver.Server, error) {
	idPath := f.identity
	if idPath == "" {
		idPath = filepath.Join(in.dir, dnssecIdentity)
		if _, err := os.Stat(idPath); errors.Is(err, fs.ErrNotExist) {
			if _, err := dnssec.NewIdentityFile(idPath); err != nil {
				return nil, nil, err
			}
			log.Info("created the age identity that encrypts the DNSSEC keys: keep it safe and apart from backups of the keys", "path", idPath)
		}
	}
	keys, err := dnssec.OpenKeyStore(filepath.Join(in.dir, dnssecKeyDir), dnssec.IdentityFileUnlocker(idPath))
	if err != nil {
		return nil, nil, fmt.Errorf("DNSSEC keys: %w", err)
	}
	// Signatures live and are refreshed as the rollover timing assumes:
	// refreshed well before cached copies of them could expire.
	rollover, signing := dnssec.DefaultRolloverPolicy(), dnssec.DefaultPolicy
	switch f.algorithm {
	case 8, 13, 15:
		rollover.Algorithm = uint8(f.algorithm)
	default:
		return nil, nil, usagef("--dnssec-algorithm: want 13 (ECDSA P-256), 15 (Ed25519) or 8 (RSA/SHA-256), not %d", f.algorithm)
	}
	if rollover.SignatureValidity > 0 {
		signing.Validity, signing.Refresh = rollover.SignatureValidity, rollover.SignatureRefresh
	}
	var dnsSrv *dnsserver.Server
	var sink publish.ZoneSink
	if f.dns != "" {
		allow, err := parsePrefixes("--allow-transfer", f.allow)
		if err != nil {
			return nil, nil, err
		}
		policy := dnsserver.TransferPolicy{Allow: allow}
		tsigKeys, err := f.tsigKeys()
		if err != nil {
			return nil, nil, err
		}
		for _, k := range tsigKeys {
			policy.Keys = append(policy.Keys, k.Name)
		}
		if policy.Notify, err = parseNotify(f.notify, tsigKeys); err != nil {
			return nil, nil, err
		}
		host, _ := os.Hostname()
		dnsSrv = dnsserver.New(dnsserver.Config{Logger: log, Registerer: reg, Identity: host, TSIG: tsigKeys,
			Transfer: map[string]dnsserver.TransferPolicy{".": policy}})
		if err := dnsSrv.Open(f.dns, f.dns); err != nil {
			return nil, nil, fmt.Errorf("DNS server: %w", err)
		}
		sink = dnsSrv
	}
	p, err := publish.New(publish.Config{Store: in.store, Keys: keys, Rollover: rollover, Signing: signing,
		Clock: m.Clock, Logger: log, Sink: sink})
	if err != nil {
		if dnsSrv != nil {
			_ = dnsSrv.Close(ctx)
		}
		return nil, nil, err
	}
	// The first version is published before serving starts, so that a
	// server with a root zone never answers without it.
	if err := p.Step(ctx); err != nil {
		log.Error("publish", "err", err)
	}
	go p.Run(ctx)
	return &publishing{p: p}, dnsSrv, nil
}

func splitComma(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// parseNotify reads --notify: comma-separated host:port[@KEYNAME] of
// secondaries, each NOTIFY signed with the key named or, if none is, the
// first of keys.
func parseNotify(list string, keys []dnsserver.TSIGKey) ([]dnsserver.Secondary, error) {
	var out []dnsserver.Secondary
	for _, a := range splitComma(list) {
		sec := dnsserver.Secondary{Addr: a}
		if addr, key, ok := strings.Cut(a, "@"); ok {
			sec.Addr, sec.Key = addr, strings.ToLower(dns.Fqdn(key))
			if !slices.ContainsFunc(keys, func(k dnsserver.TSIGKey) bool { return strings.EqualFold(dns.Fqdn(k.Name), sec.Key) }) {
				return nil, usagef("--notify %s: no TSIG key named %s (give it with --tsig-file)", a, sec.Key)
			}
		} else if len(keys) > 0 {
			sec.Key = keys[0].Name
		}
		if _, _, err := net.SplitHostPort(sec.Addr); err != nil {
			return nil, usagef("--notify: %q is not host:port", sec.Addr)
		}
		out = append(out, sec)
	}
	return out, nil
}
