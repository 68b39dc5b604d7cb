package zone

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"steward/internal/testdata"
)

func loadRoot(t *testing.T) *Zone {
	t.Helper()
	z, err := LoadFile(testdata.RootZoneFile, ".")
	if err != nil {
		t.Fatal(err)
	}
	return z
}

// contentOf returns a zone's records by owner name.
func contentOf(z *Zone) map[string][]dns.RR {
	m := map[string][]dns.RR{}
	for _, rr := range z.Records() {
		m[rr.Header().Name] = append(m[rr.Header().Name], rr)
	}
	return m
}

// flatOf builds a flat zone from content.
func flatOf(t *testing.T, content map[string][]dns.RR) *Zone {
	t.Helper()
	var rrs []dns.RR
	for _, set := range content {
		rrs = append(rrs, set...)
	}
	z, err := New(".", rrs)
	if err != nil {
		t.Fatal(err)
	}
	return z
}

// samePatched checks that a patched version answers every lookup as the
// flat version of the same records does.
func samePatched(t *testing.T, got, want *Zone, probes []string) {
	t.Helper()
	if got.Serial != want.Serial || got.SOA().String() != want.SOA().String() {
		t.Fatalf("SOA %v, want %v", got.SOA(), want.SOA())
	}
	if got.Len() != want.Len() {
		t.Errorf("Len %d, want %d", got.Len(), want.Len())
	}
	if !slices.Equal(got.Names(), want.Names()) {
		t.Fatalf("names differ: %d names, want %d", len(got.Names()), len(want.Names()))
	}
	var gw, ww bytes.Buffer
	if err := got.Write(&gw); err != nil {
		t.Fatal(err)
	}
	if err := want.Write(&ww); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(gw.Bytes(), ww.Bytes()) {
		t.Fatalf("Write differs")
	}
	var ge, we []string
	got.EachRdata(func(name string, typ, class uint16, ttl uint32, rdata []byte) error {
		ge = append(ge, fmt.Sprintf("%s %d %d %d %x", name, typ, class, ttl, rdata))
		return nil
	})
	want.EachRdata(func(name string, typ, class uint16, ttl uint32, rdata []byte) error {
		we = append(we, fmt.Sprintf("%s %d %d %d %x", name, typ, class, ttl, rdata))
		return nil
	})
	if !slices.Equal(ge, we) {
		t.Fatalf("EachRdata differs")
	}
	for _, n := range probes {
		if g, w := fmt.Sprint(got.Types(n)), fmt.Sprint(want.Types(n)); g != w {
			t.Errorf("Types(%s) = %s, want %s", n, g, w)
		}
		for _, typ := range want.Types(n) {
			if g, w := fmt.Sprint(got.RRset(n, typ)), fmt.Sprint(want.RRset(n, typ)); g != w {
				t.Errorf("RRset(%s, %d) = %s, want %s", n, typ, g, w)
			}
		}
		if g, w := fmt.Sprint(got.Sigs(n, dns.TypeDS)), fmt.Sprint(want.Sigs(n, dns.TypeDS)); g != w {
			t.Errorf("Sigs(%s) = %s, want %s", n, g, w)
		}
		if got.HasName(n) != want.HasName(n) || got.Exists(n) != want.Exists(n) {
			t.Errorf("HasName/Exists(%s) = %v/%v, want %v/%v", n, got.HasName(n), got.Exists(n), want.HasName(n), want.Exists(n))
		}
		gc, gok := got.Delegation(n)
		wc, wok := want.Delegation(n)
		if gc != wc || gok != wok {
			t.Errorf("Delegation(%s) = %s %v, want %s %v", n, gc, gok, wc, wok)
		}
		if g, w := got.Next(n), want.Next(n); g != w {
			t.Errorf("Next(%s) = %s, want %s", n, g, w)
		}
		if g, w := got.Previous(n), want.Previous(n); g != w {
			t.Errorf("Previous(%s) = %s, want %s", n, g, w)
		}
	}
}

// TestPatch changes, adds and removes delegations of the real root zone in
// several rounds of patches and compares each version with the flat zone
// of the same records.
func TestPatch(t *testing.T) {
	base := loadRoot(t)
	content := contentOf(base)
	r := rand.New(rand.NewPCG(1, 2))
	names := base.Names()
	cur := base
	for round := range 6 {
		var changes []Change
		// Remove a few names (delegations with their glue left or not).
		for range 3 {
			n := names[1+r.IntN(len(names)-1)]
			changes = append(changes, Change{Name: n})
			delete(content, n)
		}
		// Change a delegation's DS and NS.
		n := names[1+r.IntN(len(names)-1)]
		c := Change{Name: strings.ToUpper(n)}
		for _, s := range []string{
			n + " 172800 IN NS ns1.example.net.",
			n + fmt.Sprintf(" 86400 IN DS %d 13 2 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", round),
		} {
			c.Records = append(c.Records, rr(t, s))
		}
		changes = append(changes, c)
		content[n] = c.Records
		// Add new delegations: before the first TLD, in the middle, after the last.
		for _, add := range []string{"0000test.", fmt.Sprintf("new%d.", round), "zzzzzzz."} {
			c := Change{Name: add, Records: []dns.RR{rr(t, add+" 172800 IN NS ns."+add), rr(t, "ns."+add+" 172800 IN A 192.0.2.1")}}
			changes = append(changes, Change{Name: add, Records: c.Records[:1]}, Change{Name: "ns." + add, Records: c.Records[1:]})
			content[add] = c.Records[:1]
			content["ns."+add] = c.Records[1:]
		}
		// A new SOA.
		soa := dns.Copy(base.SOA()).(*dns.SOA)
		soa.Serial += uint32(round + 1)
		apex := []dns.RR{soa}
		for _, typ := range base.Types(".") {
			if typ != dns.TypeSOA {
				apex = append(apex, base.RRset(".", typ)...)
			}
		}
		changes = append(changes, Change{Name: ".", Records: apex})
		content["."] = apex

		next, err := cur.Patch(changes)
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		want := flatOf(t, content)
		probes := []string{".", "0000test.", "zzzzzzz.", "ns.zzzzzzz.", "a.b.zzzzzzz.", "zzzzzzzz.", "aaa.", "nonexistent.", "com.", "www.example.com."}
		for range 40 {
			probes = append(probes, names[r.IntN(len(names))])
		}
		for _, c := range changes {
			probes = append(probes, c.Name, "x."+c.Name)
		}
		samePatched(t, next, want, probes)
		if changed, ok := next.Patched(); !ok || len(changed) == 0 || next.Base() != base {
			t.Errorf("round %d: Patched = %d names %v, base kept %v", round, len(changed), ok, next.Base() == base)
		}
		flat, err := next.Flatten()
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := flat.Patched(); ok {
			t.Errorf("Flatten returned a patched version")
		}
		samePatched(t, flat, want, probes)
		// The previous version is untouched.
		if round == 0 && cur.Serial != base.SOA().Serial {
			t.Errorf("the base changed")
		}
		cur = next
	}
	// The base itself still answers as it did.
	samePatched(t, base, flatOf(t, contentOf(loadRoot(t))), []string{".", "com.", "0000test."})
}

// TestPatchRefused checks that bad patches are refused and leave the zone
// as it was.
func TestPatchRefused(t *testing.T) {
	base := loadRoot(t)
	soa := dns.Copy(base.SOA())
	for name, changes := range map[string][]Change{
		"outside":       {{Name: "example.com.invalid.other", Records: nil}, {Name: "org.", Records: []dns.RR{rr(t, "example.com. 3600 IN A 192.0.2.1")}}},
		"wrong owner":   {{Name: "org.", Records: []dns.RR{rr(t, "net. 3600 IN NS ns.net.")}}},
		"no origin":     {{Name: "."}},
		"two SOA":       {{Name: ".", Records: []dns.RR{soa, rr(t, ". 86400 IN SOA a. b. 1 2 3 4 5")}}},
		"SOA elsewhere": {{Name: "org.", Records: []dns.RR{rr(t, "org. 86400 IN SOA a. b. 1 2 3 4 5")}}},
		"origin no SOA": {{Name: ".", Records: []dns.RR{rr(t, ". 3600 IN NS a.root-servers.net.")}}},
	} {
		if name == "outside" {
			z, err := New("org.", []dns.RR{rr(t, "org. 86400 IN SOA a. b. 1 2 3 4 5")})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := z.Patch(changes[:1]); err == nil {
				t.Errorf("%s: patch accepted", name)
			}
			continue
		}
		if _, err := base.Patch(changes); err == nil {
			t.Errorf("%s: patch accepted", name)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
	samePatched(t, base, flatOf(t, contentOf(loadRoot(t))), []string{".", "org.", "net."})
}

// TestCompareFast checks Compare's unescaped path against the general one
// on the root zone's names, in several cases, and on made-up ones.
func TestCompareFast(t *testing.T) {
	names := append([]string{".", "", "a", "a.", "A.", "a.b.", "b.a.", "xn--p1ai.", "a-.b", "zz.", "z.z.", "-.", "_x."}, loadRoot(t).Names()...)
	r := rand.New(rand.NewPCG(5, 6))
	for range 20000 {
		a, b := names[r.IntN(len(names))], names[r.IntN(len(names))]
		if r.IntN(3) == 0 {
			a = strings.ToUpper(a)
		}
		if got, want := Compare(a, b), compareEscaped(a, b); got != want {
			t.Fatalf("Compare(%q, %q) = %d, want %d", a, b, got, want)
		}
	}
}

// TestPatchedFrom: a version knows the one it was made from and the names
// that patch changed.
func TestPatchedFrom(t *testing.T) {
	base := loadRoot(t)
	p1, err := base.Patch([]Change{{Name: "org."}, {Name: "net."}})
	if err != nil {
		t.Fatal(err)
	}
	p2, err := p1.Patch([]Change{{Name: "com."}})
	if err != nil {
		t.Fatal(err)
	}
	if parent, names := p2.PatchedFrom(); parent != p1 || !slices.Equal(names, []string{"com."}) {
		t.Errorf("p2 from %v: %v", parent == p1, names)
	}
	if parent, names := p1.PatchedFrom(); parent != base || !slices.Equal(names, []string{"net.", "org."}) {
		t.Errorf("p1: %v", names)
	}
	if all, _ := p2.Patched(); len(all) != 3 {
		t.Errorf("p2 changed %v since the base", all)
	}
	if parent, _ := base.PatchedFrom(); parent != nil {
		t.Error("a flat version has a parent")
	}
}

// TestPatchSerial: the change and the new serial, the origin's other
// records as they were.
func TestPatchSerial(t *testing.T) {
	base := loadRoot(t)
	p, err := base.PatchSerial([]Change{{Name: "org."}}, base.Serial+5)
	if err != nil {
		t.Fatal(err)
	}
	if p.Serial != base.Serial+5 || p.HasName("org.") || len(p.RRset(".", dns.TypeNS)) != len(base.RRset(".", dns.TypeNS)) ||
		len(p.RRset(".", dns.TypeRRSIG)) != len(base.RRset(".", dns.TypeRRSIG)) {
		t.Errorf("serial %d, org. %v", p.Serial, p.HasName("org."))
	}
	if base.Serial == p.Serial || !base.HasName("org.") {
		t.Error("the base changed")
	}
}
