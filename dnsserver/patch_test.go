package dnsserver

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"steward/zone"
)

// patchRoot returns a patched version of z: the serial set, the named
// delegation removed with the names below it, org.'s DS replaced, and a new
// delegation with glue.
func patchRoot(t *testing.T, z *zone.Zone, serial uint32, remove, add string) *zone.Zone {
	t.Helper()
	soa := dns.Copy(z.SOA()).(*dns.SOA)
	soa.Serial = serial
	apex := zone.Change{Name: z.Origin, Records: []dns.RR{soa}}
	for _, typ := range z.Types(z.Origin) {
		if typ != dns.TypeSOA {
			apex.Records = append(apex.Records, z.RRset(z.Origin, typ)...)
		}
	}
	changes := []zone.Change{apex,
		{Name: "org.", Records: append(z.RRset("org.", dns.TypeNS), mustRR(t, fmt.Sprintf("org. 86400 IN DS %d 8 2 4FEDE294C53F438A158C41D39489CD78A86BEB0D8A0AEAFF14745C0D16E1DE32", serial%65536)))},
		{Name: add, Records: []dns.RR{mustRR(t, add+" 172800 IN NS ns1."+add), mustRR(t, add+" 86400 IN DS 1 13 2 00112233445566778899AABBCCDDEEFF00112233445566778899AABBCCDDEEFF")}},
		{Name: "ns1." + add, Records: []dns.RR{mustRR(t, "ns1."+add+" 172800 IN A 192.0.2.7")}},
	}
	if remove != "" {
		changes = append(changes, zone.Change{Name: remove})
		for d := z.Next(remove); d != "" && dns.IsSubDomain(remove, d); d = z.Next(d) {
			changes = append(changes, zone.Change{Name: d})
		}
	}
	p, err := z.Patch(changes)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestSetZonePatched serves patched versions of the real root zone and
// checks that what the server keeps for them, made for the changed names
// only, is what it makes for a whole version: the index, the IXFR
// differences, and the answers.
func TestSetZonePatched(t *testing.T) {
	z0 := rootZone(t)
	var logs logBuffer
	s := New(Config{Logger: logs.logger()})
	s.SetZone(z0)
	var removed []string
	for _, n := range z0.Names() {
		if cut, ok := z0.Delegation(n); ok && cut == n && n != "org." && len(removed) < 2 {
			if next := z0.Next(n); next != "" && dns.IsSubDomain(n, next) {
				removed = append(removed, n)
			}
		}
	}
	z1 := patchRoot(t, z0, z0.Serial+1, removed[0], "aaaa-steward.")
	z2 := patchRoot(t, z1, z0.Serial+2, removed[1], "zzzz-steward.")
	for _, z := range []*zone.Zone{z1, z2} {
		s.SetZone(z)
	}
	if n := strings.Count(logs.String(), "patched=true"); n != 2 {
		t.Errorf("%d versions served as patches, want 2:\n%s", n, logs.String())
	}
	zs := s.snap.Load().zones["."]
	if zs.z != z2 {
		t.Fatal("the last version is not served")
	}
	flat, err := z2.Flatten()
	if err != nil {
		t.Fatal(err)
	}
	want := newIndex(flat)
	if got := zs.ix.allNames(); !slices.Equal(got, want.names) || zs.ix.signed != want.signed || zs.ix.size() != len(want.names) || zs.ix.first() != want.first() {
		t.Fatalf("patched index: %d names (size %d), want %d", len(got), zs.ix.size(), len(want.names))
	}
	// Its lookups are the flat index's, for names in the zone, around the
	// changes and anywhere.
	probes := []string{".", "aaaa-steward.", "zzzz-steward.", "zzzzzzzzz.", "0.", "a.", "org.", "www.org.", removed[0], removed[1], "x." + removed[0]}
	for _, n := range z0.Names()[:200] {
		probes = append(probes, n, "zz."+n, n[:len(n)-1]+"a.")
	}
	for _, n := range probes {
		key := canonicalKey(n)
		if g, w := zs.ix.exists(key), want.exists(key); g != w {
			t.Errorf("exists(%s) = %v, want %v", n, g, w)
		}
		if g, w := zs.ix.coverName(key), want.coverName(key); g != w {
			t.Errorf("coverName(%s) = %s, want %s", n, g, w)
		}
	}
	if len(zs.deltas) != 2 {
		t.Fatalf("%d deltas, want 2", len(zs.deltas))
	}
	for i, pair := range [][2]*zone.Zone{{z0, z1}, {z1, z2}} {
		del, add := diff(pair[0], pair[1])
		d := zs.deltas[i]
		if g, w := rrStrings(d.del), rrStrings(del); !slices.Equal(g, w) {
			t.Errorf("delta %d deleted %s", i, setDiffStrings(w, g))
		}
		if g, w := rrStrings(d.add), rrStrings(add); !slices.Equal(g, w) {
			t.Errorf("delta %d added %s", i, setDiffStrings(w, g))
		}
	}

	// The chain answers from the patched version as from the flat one.
	ref := New(Config{})
	ref.SetZone(flat)
	rnd := rand.New(rand.NewPCG(3, 4))
	var cases []fastCase
	for _, c := range fastCases(flat, rnd) {
		if rnd.IntN(8) == 0 || dns.IsSubDomain("org.", c.name) || dns.IsSubDomain("aaaa-steward.", c.name) ||
			dns.IsSubDomain("zzzz-steward.", c.name) || dns.IsSubDomain(removed[0], c.name) || dns.IsSubDomain(removed[1], c.name) {
			cases = append(cases, c)
		}
	}
	for _, n := range removed {
		cases = append(cases, fastCase{name: n, qtype: dns.TypeDS, do: true, edns: 1232}, fastCase{name: "www." + n, qtype: dns.TypeA, do: true, edns: 1232})
	}
	for _, c := range cases {
		m := (ask{name: c.name, qtype: c.qtype, do: c.do, edns: c.edns}).msg()
		got, exp := &recorder{}, &recorder{}
		s.ServeDNS(got, m)
		ref.ServeDNS(exp, m)
		if !bytes.Equal(got.last, exp.last) {
			t.Errorf("%s %s do=%v: %s", c.name, dns.TypeToString[c.qtype], c.do, msgDiff(exp.last, got.last, false))
		}
	}
	t.Logf("%d queries answered alike", len(cases))

	// The fast path's answers, computed in the background for the patched
	// version, are the chain's.
	waitFast(t, s, ".")
	var sc fastScratch
	out := make([]byte, 65535)
	fast := 0
	for _, c := range cases {
		m := (ask{name: c.name, qtype: c.qtype, do: c.do, edns: 4096}).msg()
		req, err := m.Pack()
		if err != nil {
			t.Fatal(err)
		}
		n := s.answerFast(req, out, &sc)
		if n == 0 {
			continue
		}
		fast++
		w := &recorder{}
		ref.ServeDNS(w, m)
		if d := msgDiff(w.last, out[:n], false); d != "" {
			t.Errorf("fast path, %s %s do=%v: %s", c.name, dns.TypeToString[c.qtype], c.do, d)
		}
	}
	if fast < len(cases)/2 {
		t.Errorf("the fast path answered %d of %d queries", fast, len(cases))
	}
}

// TestSetZonePatchedCutMoved serves a patch that removes a delegation but
// leaves the names below it, which become authoritative: the server
// rebuilds its index.
func TestSetZonePatchedCutMoved(t *testing.T) {
	z0 := rootZone(t)
	var logs logBuffer
	s := New(Config{Logger: logs.logger()})
	s.SetZone(z0)
	soa := dns.Copy(z0.SOA()).(*dns.SOA)
	soa.Serial++
	apex := zone.Change{Name: ".", Records: []dns.RR{soa}}
	for _, typ := range z0.Types(".") {
		if typ != dns.TypeSOA {
			apex.Records = append(apex.Records, z0.RRset(".", typ)...)
		}
	}
	z1, err := z0.Patch([]zone.Change{apex, {Name: "com."}})
	if err != nil {
		t.Fatal(err)
	}
	s.SetZone(z1)
	if !strings.Contains(logs.String(), "patched=false") {
		t.Errorf("the index was not rebuilt:\n%s", logs.String())
	}
	flat, err := z1.Flatten()
	if err != nil {
		t.Fatal(err)
	}
	got, want := s.snap.Load().zones["."].ix, newIndex(flat)
	if !slices.Equal(got.pre, want.pre) || !slices.Equal(got.names, want.names) {
		t.Fatalf("index: %d names, want %d", len(got.names), len(want.names))
	}
}

// TestCompact replaces a patched version served by its flat copy: the
// IXFR history stays, lookups are the same, and a copy of a version no
// longer served is refused.
func TestCompact(t *testing.T) {
	z0 := rootZone(t)
	s := New(Config{})
	s.SetZone(z0)
	z1 := patchRoot(t, z0, z0.Serial+1, "", "aaaa-steward.")
	s.SetZone(z1)
	flat, err := z1.Flatten()
	if err != nil {
		t.Fatal(err)
	}
	if s.Compact(z1) {
		t.Error("a patched version compacted")
	}
	if !s.Compact(flat) {
		t.Fatal("the flat copy was refused")
	}
	zs := s.snap.Load().zones["."]
	if zs.z != flat || len(zs.deltas) != 1 {
		t.Fatalf("served %v, %d deltas", zs.z == flat, len(zs.deltas))
	}
	if rrs, ok := zs.ixfr(z0.Serial); !ok || len(rrs) < 4 {
		t.Errorf("IXFR from the version before: %v", ok)
	}
	m := (ask{name: "aaaa-steward.", qtype: dns.TypeDS, do: true}).msg()
	w := &recorder{}
	s.ServeDNS(w, m)
	r := new(dns.Msg)
	if err := r.Unpack(w.last); err != nil || len(r.Answer) == 0 {
		t.Errorf("aaaa-steward. DS after compaction: %v %v", err, r)
	}
	// A newer version served: the copy of the older one is refused.
	z2 := patchRoot(t, flat, z0.Serial+2, "", "zzzz-steward.")
	s.SetZone(z2)
	if s.Compact(flat) {
		t.Error("the copy of an older version compacted")
	}
	if s.snap.Load().zones["."].z != z2 {
		t.Error("the newer version is no longer served")
	}
}
