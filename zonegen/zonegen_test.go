package zonegen_test

import (
	"bytes"
	"crypto/sha256"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"steward/rootzone"
	"steward/zone"
	"steward/zonegen"
)

func generate(t *testing.T, o zonegen.Options) ([]byte, *zonegen.Stats) {
	t.Helper()
	var b bytes.Buffer
	st, err := zonegen.Generate(&b, o)
	if err != nil {
		t.Fatal(err)
	}
	return b.Bytes(), st
}

// TestDeterministic: the same options give the same bytes; another seed
// gives another zone.
func TestDeterministic(t *testing.T) {
	a, _ := generate(t, zonegen.Options{Delegations: 3000, Seed: 7})
	b, _ := generate(t, zonegen.Options{Delegations: 3000, Seed: 7})
	if !bytes.Equal(a, b) {
		t.Fatal("two runs with the same options differ")
	}
	c, _ := generate(t, zonegen.Options{Delegations: 3000, Seed: 8})
	if bytes.Equal(a, c) {
		t.Fatal("seeds 7 and 8 give the same zone")
	}
	// A pinned digest catches a change of the sequence, which would change
	// every published benchmark's input.
	if got := sha256.Sum256(a); got != pinned {
		t.Errorf("3000 delegations, seed 7: SHA-256 %x; if the generator changed on purpose, update pinned", got)
	}
}

// TestZoneParses reads a generated zone with miekg/dns, with steward's
// root zone importer and into a zone.Zone, and checks the counts and the
// shape: the shares of DS, IDN and in-bailiwick delegations, 2-4 NS each,
// glue only below the delegation it serves, records in canonical order.
func TestZoneParses(t *testing.T) {
	const n = 5000
	text, st := generate(t, zonegen.Options{Delegations: n, Seed: 1, Serial: 2025010203})
	if st.Delegations != n {
		t.Fatalf("%d delegations, want %d", st.Delegations, n)
	}
	zp := dns.NewZoneParser(bytes.NewReader(text), ".", "gen.zone")
	var rrs []dns.RR
	types := map[uint16]int{}
	nsPer := map[string]int{}
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		rrs = append(rrs, rr)
		h := rr.Header()
		types[h.Rrtype]++
		if h.Rrtype == dns.TypeNS && h.Name != "." {
			nsPer[h.Name]++
		}
	}
	if err := zp.Err(); err != nil {
		t.Fatal(err)
	}
	if len(rrs) != st.Records {
		t.Errorf("%d records parsed, stats say %d", len(rrs), st.Records)
	}
	if types[dns.TypeNS] != st.NS+13 || types[dns.TypeDS] != st.DS || types[dns.TypeA]+types[dns.TypeAAAA] != st.Glue || types[dns.TypeSOA] != 1 {
		t.Errorf("types %v, stats %+v", types, st)
	}
	if len(nsPer) != n {
		t.Errorf("%d delegations with NS, want %d", len(nsPer), n)
	}
	for name, k := range nsPer {
		if k < 2 || k > 4 {
			t.Errorf("%s: %d NS, want 2-4", name, k)
		}
	}
	share := func(k int) float64 { return float64(k) / n }
	if s := share(st.WithDS); s < 0.55 || s > 0.65 {
		t.Errorf("DS on %.2f of delegations, want about 0.60", s)
	}
	if s := share(st.IDN); s < 0.02 || s > 0.06 {
		t.Errorf("IDN %.3f of delegations, want about 0.04", s)
	}
	if s := share(st.InBailiwick); s < 0.10 || s > 0.20 {
		t.Errorf("in bailiwick %.2f of delegations, want about 0.15", s)
	}
	lengths := map[int]bool{}
	for name := range nsPer {
		lengths[len(name)-1] = true
	}
	if len(lengths) < 20 {
		t.Errorf("only %d distinct label lengths", len(lengths))
	}

	z, err := zone.New(".", rrs)
	if err != nil {
		t.Fatal(err)
	}
	if z.Serial != 2025010203 {
		t.Errorf("serial %d", z.Serial)
	}
	// Written in canonical order: the owner names as they appear are z.Names().
	var owners []string
	for _, rr := range rrs {
		if len(owners) == 0 || owners[len(owners)-1] != rr.Header().Name {
			owners = append(owners, rr.Header().Name)
		}
	}
	names := z.Names()
	if len(owners) != len(names) {
		t.Fatalf("%d owner runs in the file, %d names in the zone: a name appears twice", len(owners), len(names))
	}
	for i := range names {
		if owners[i] != names[i] {
			t.Fatalf("owner %d is %s, canonical order has %s", i, owners[i], names[i])
		}
	}
	for _, rr := range rrs {
		h := rr.Header()
		if ns, ok := rr.(*dns.NS); ok && h.Name != "." && dns.IsSubDomain(h.Name, ns.Ns) {
			if len(z.RRset(ns.Ns, dns.TypeA)) == 0 || len(z.RRset(ns.Ns, dns.TypeAAAA)) == 0 {
				t.Errorf("%s NS %s: in bailiwick without glue", h.Name, ns.Ns)
			}
		}
		if h.Rrtype != dns.TypeA && h.Rrtype != dns.TypeAAAA {
			continue
		}
		if d, ok := z.Delegation(h.Name); !ok || d == h.Name {
			t.Errorf("glue %s is not below a delegation", h.Name)
		}
	}

	imp, rst, err := rootzone.Parse("gen.zone", bytes.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	if rst.TLDs != n || rst.DS != st.DS || len(imp.TLDs) != n {
		t.Errorf("importer read %+v (%d TLDs), generator wrote %+v", rst, len(imp.TLDs), st)
	}
}

func TestSmallZones(t *testing.T) {
	for _, n := range []int{1, 2, 4, 5} {
		text, st := generate(t, zonegen.Options{Delegations: n})
		if st.Delegations != n {
			t.Errorf("%d: %d delegations", n, st.Delegations)
		}
		if _, _, err := rootzone.Parse("small.zone", bytes.NewReader(text)); err != nil {
			t.Errorf("%d delegations: %v", n, err)
		}
	}
}

func TestBadOptions(t *testing.T) {
	for _, n := range []int{0, -1, zonegen.MaxDelegations + 1} {
		var b bytes.Buffer
		if _, err := zonegen.Generate(&b, zonegen.Options{Delegations: n}); err == nil || !strings.Contains(err.Error(), "delegations") {
			t.Errorf("%d delegations: %v", n, err)
		}
		if b.Len() != 0 {
			t.Errorf("%d delegations: wrote %d bytes", n, b.Len())
		}
	}
}

// pinned is the SHA-256 of the zone of 3000 delegations with seed 7.
var pinned = [32]byte{0xc4, 0x78, 0xe7, 0x82, 0x5e, 0x38, 0x2f, 0x96, 0x74, 0x1e, 0x70, 0x28, 0x4e, 0x51, 0xe1, 0x54, 0xef, 0xee, 0x41, 0xbd, 0x26, 0x08, 0x9f, 0xae, 0x08, 0x09, 0x6a, 0x45, 0x12, 0xae, 0xac, 0x53}
