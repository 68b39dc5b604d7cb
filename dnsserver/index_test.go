package dnsserver

import (
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"

	"steward/zone"
)

// TestCanonicalKey checks that ordering keys as strings is canonical order
// (RFC 4034 §6.1), on the RFC's own example and on names with escapes.
func TestCanonicalKey(t *testing.T) {
	for _, want := range [][]string{
		// RFC 4034 §6.1.
		{"example.", "a.example.", "yljkjljk.a.example.", "Z.a.example.", "zABC.a.EXAMPLE.", "z.example.",
			`\001.z.example.`, "*.z.example.", `\200.z.example.`},
		// A label that is a prefix of another; bytes 0 and 1; escaped dots.
		{".", "a.", `a\000.`, `a\001.`, `a\002.`, "b.a\\..", "aa.", "b.", `\000.b.`, "a.b."},
	} {
		got := append([]string(nil), want...)
		sort.Slice(got, func(i, j int) bool { return canonicalKey(got[i]) < canonicalKey(got[j]) })
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("order by key (-want +got):\n%s", diff)
		}
		for i := 1; i < len(want); i++ {
			if zone.Compare(want[i-1], want[i]) >= 0 {
				t.Errorf("zone.Compare disagrees: %s ≥ %s", want[i-1], want[i])
			}
		}
	}
	if k := canonicalKey("WWW.Example."); k != "example\x00www\x00" {
		t.Errorf("key %q", k)
	}
	if !strings.HasPrefix(canonicalKey("a.b.example."), canonicalKey("b.example.")) {
		t.Error("an ancestor's key is not a prefix")
	}
}

// TestIndexMatchesZone checks the index against zone.Zone's own lookups
// on the real root zone: delegation points, existence, and the NSEC that
// covers each name in between.
func TestIndexMatchesZone(t *testing.T) {
	z := rootZone(t)
	ix := newIndex(z)
	for _, n := range z.Names() {
		cut, ok := ix.delegation(n)
		zcut, zok := z.Delegation(n)
		if cut != zcut || ok != zok {
			t.Fatalf("delegation(%s) = %q %v, zone says %q %v", n, cut, ok, zcut, zok)
		}
	}
	for _, name := range []string{"a.", "zzzzzz.", "www.nonexistent.", "com-.", "xn--zz.", "0.", "*."} {
		key := canonicalKey(name)
		if ix.exists(key) != z.Exists(name) {
			t.Errorf("exists(%s) = %v", name, ix.exists(key))
		}
		owner := ix.cover(key)
		nsec, _ := z.RRset(owner, dns.TypeNSEC)[0].(*dns.NSEC)
		if nsec == nil || !covers(nsec, name) {
			t.Errorf("cover(%s) = %s, which does not cover it", name, owner)
		}
	}
	if !ix.signed {
		t.Error("the root zone is signed")
	}
}

// TestDiff checks the difference between zone versions that IXFR sends.
func TestDiff(t *testing.T) {
	base := loadZone(t, "example.zone", "example.")
	tests := []struct {
		name     string
		replace  map[string][]string
		del, add []string
	}{
		{"nothing but the serial", nil, nil, nil},
		{"an address changes", map[string][]string{"www.example. A": {"www.example. 3600 IN A 192.0.2.81"}},
			[]string{"www.example.\t3600\tin\ta\t192.0.2.80"}, []string{"www.example.\t3600\tin\ta\t192.0.2.81"}},
		{"a TTL changes", map[string][]string{"www.example. A": {"www.example. 60 IN A 192.0.2.80"}},
			[]string{"www.example.\t3600\tin\ta\t192.0.2.80"}, []string{"www.example.\t60\tin\ta\t192.0.2.80"}},
		{"a record is added to an RRset", map[string][]string{"www.example. A": {"www.example. 3600 IN A 192.0.2.80", "www.example. 3600 IN A 192.0.2.82"}},
			nil, []string{"www.example.\t3600\tin\ta\t192.0.2.82"}},
		{"a name is added", map[string][]string{"new.example. TXT": {`new.example. 3600 IN TXT "new"`}},
			nil, []string{"new.example.\t3600\tin\ttxt\t\"new\""}},
		{"an RRset is removed", map[string][]string{"mail.example. A": nil},
			[]string{"mail.example.\t3600\tin\ta\t192.0.2.25"}, nil},
		{"a delegation is removed", map[string][]string{"sub.example. NS": nil, "ns.sub.example. A": nil},
			[]string{"ns.sub.example.\t3600\tin\ta\t192.0.2.54", "sub.example.\t3600\tin\tns\tns.sub.example."}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			next := edit(t, base, base.Serial+1, tc.replace)
			del, add := diff(base, next)
			if d := cmp.Diff(tc.del, rrStrings(del), cmpEmpty); d != "" {
				t.Errorf("deleted (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tc.add, rrStrings(add), cmpEmpty); d != "" {
				t.Errorf("added (-want +got):\n%s", d)
			}
		})
	}
}

func TestIsSubDomain(t *testing.T) {
	for _, tc := range []struct {
		parent, child string
		want          bool
	}{
		{".", "org.", true},
		{".", ".", true},
		{"org.", "org.", true},
		{"org.", "www.org.", true},
		{"org.", "a.b.org.", true},
		{"org.", "borg.", false},
		{"org.", "www.org.example.", false},
		{"org.", `a\.org.`, false},
		{"org.", `a\\.org.`, true},
		{"www.org.", "org.", false},
	} {
		if got := isSubDomain(tc.parent, tc.child); got != tc.want {
			t.Errorf("isSubDomain(%q, %q) = %v, want %v", tc.parent, tc.child, got, tc.want)
		}
	}
}
