package zone

import (
	"sort"
	"testing"

	"github.com/miekg/dns"
)

func rr(t *testing.T, s string) dns.RR {
	t.Helper()
	r, err := dns.NewRR(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestCanonicalOrder uses the example of RFC 4034 §6.1.
func TestCanonicalOrder(t *testing.T) {
	want := []string{"example.", "a.example.", "yljkjljk.a.example.", "Z.a.example.", "zABC.a.EXAMPLE.", "z.example.", `\001.z.example.`, "*.z.example.", `\200.z.example.`}
	got := append([]string(nil), want...)
	for i, j := 0, len(got)-1; i < j; i, j = i+1, j-1 {
		got[i], got[j] = got[j], got[i]
	}
	sort.Slice(got, func(i, j int) bool { return Compare(got[i], got[j]) < 0 })
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("canonical order = %q, want %q", got, want)
		}
	}
}

func TestLookups(t *testing.T) {
	var rrs []dns.RR
	for _, s := range []string{
		". 86400 IN SOA a.root-servers.net. nstld.verisign-grs.com. 2026112600 1800 900 604800 86400",
		". 518400 IN NS a.root-servers.net.",
		"example. 172800 IN NS ns1.example.",
		"example. 172800 IN NS ns2.nic.example.",
		"ns1.example. 172800 IN A 192.0.2.1",
		"ns2.nic.example. 172800 IN AAAA 2001:db8::2",
		"example. 86400 IN DS 12345 13 2 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		"ORG. 172800 IN NS a0.org.afilias-nst.info.",
	} {
		rrs = append(rrs, rr(t, s))
	}
	z, err := New(".", rrs)
	if err != nil {
		t.Fatal(err)
	}
	if z.Serial != 2026112600 {
		t.Errorf("serial %d", z.Serial)
	}
	if got := z.Names(); len(got) != 5 || got[0] != "." || got[1] != "example." || got[4] != "org." {
		t.Errorf("names %q", got)
	}
	for q, want := range map[string]string{"example.": "example.", "www.example.": "example.", "a.b.ns1.example.": "example.", "org.": "org.", "net.": "", ".": ""} {
		cut, ok := z.Delegation(q)
		if cut != want || ok != (want != "") {
			t.Errorf("Delegation(%s) = %q %v, want %q", q, cut, ok, want)
		}
	}
	if !z.Exists("nic.example.") || z.Exists("nope.example.") || !z.Exists("EXAMPLE.") {
		t.Error("Exists is wrong about empty non-terminals or case")
	}
	if p := z.Previous("net."); p != "ns1.example." {
		t.Errorf("Previous(net.) = %s", p)
	}
	if p := z.Previous("aaa."); p != "." {
		t.Errorf("Previous(aaa.) = %s", p)
	}
	if p := z.Previous("zzz."); p != "org." {
		t.Errorf("Previous(zzz.) = %s", p)
	}
	recs := z.Records()
	if len(recs) != len(rrs) || recs[0].Header().Rrtype != dns.TypeSOA {
		t.Errorf("Records: %d, first %v", len(recs), recs[0])
	}
	if _, err := New(".", rrs[1:]); err == nil {
		t.Error("a zone without SOA was accepted")
	}
	if _, err := New("example.", rrs); err == nil {
		t.Error("records outside the zone were accepted")
	}
}
