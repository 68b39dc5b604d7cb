package numbers_test

import (
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"steward"
	"steward/internal/testdata"
	"steward/numbers"
	"steward/rirstats"
)

func blk(fam, first, last, reg, holder, status string) *steward.Block {
	b := &steward.Block{Family: fam, First: first, Last: last, Registry: reg, Holder: holder, Status: status}
	if err := b.Normalize(); err != nil {
		panic(err)
	}
	return b
}

func testIndex(t *testing.T) *numbers.Index {
	t.Helper()
	ix, err := numbers.Build([]*steward.Block{
		blk("ipv4", "2.0.0.0", "2.255.255.255", "iana", "ripencc", "allocated"),
		blk("ipv4", "2.0.0.0", "2.15.255.255", "ripencc", "ORG-A", "allocated"),
		blk("ipv4", "2.1.0.0", "2.1.0.255", "ORG-A", "ORG-B", "assigned"),
		blk("ipv4", "2.16.0.0", "2.16.2.255", "ripencc", "", "available"),
		blk("ipv6", "2001:db8::", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", "iana", "apnic", "allocated"),
		blk("asn", "64496", "64511", "iana", "", "reserved"),
		blk("asn", "1", "1000", "iana", "arin", "allocated"),
		blk("asn", "7", "7", "arin", "ORG-C", "assigned"),
	})
	if err != nil {
		t.Fatal(err)
	}
	return ix
}

func labels(bs []*steward.Block) []string {
	var out []string
	for _, b := range bs {
		out = append(out, b.Label()+"@"+b.Registry)
	}
	return out
}

func TestLookup(t *testing.T) {
	ix := testIndex(t)
	for _, tt := range []struct {
		addr string
		want []string
	}{
		{"2.1.0.7", []string{"2.0.0.0/8@iana", "2.0.0.0/12@ripencc", "2.1.0.0/24@ORG-A"}},
		{"2.1.1.0", []string{"2.0.0.0/8@iana", "2.0.0.0/12@ripencc"}},
		{"2.16.1.1", []string{"2.0.0.0/8@iana", "2.16.0.0-2.16.2.255@ripencc"}},
		{"2.200.0.0", []string{"2.0.0.0/8@iana"}},
		{"3.0.0.0", nil},
		{"2001:db8::1", []string{"2001:db8::/32@iana"}},
		{"::ffff:2.1.0.1", []string{"2.0.0.0/8@iana", "2.0.0.0/12@ripencc", "2.1.0.0/24@ORG-A"}},
	} {
		got := labels(ix.LookupIP(netip.MustParseAddr(tt.addr)))
		if len(got) != len(tt.want) || (len(got) > 0 && got[len(got)-1] != tt.want[len(tt.want)-1]) || len(got) > 0 && got[0] != tt.want[0] {
			t.Errorf("LookupIP(%s) = %v; want %v", tt.addr, got, tt.want)
		}
	}
	if got := labels(ix.LookupAS(7)); len(got) != 2 || got[1] != "AS7@arin" {
		t.Errorf("LookupAS(7) = %v", got)
	}
	if got := labels(ix.LookupAS(64500)); len(got) != 1 || got[0] != "AS64496-AS64511@iana" {
		t.Errorf("LookupAS(64500) = %v", got)
	}
	if got := ix.LookupAS(5000); got != nil {
		t.Errorf("LookupAS(5000) = %v; want nil", labels(got))
	}
	if got := labels(ix.LookupPrefix(netip.MustParsePrefix("2.1.0.0/25"))); len(got) != 3 {
		t.Errorf("LookupPrefix(2.1.0.0/25) = %v", got)
	}
	if got := labels(ix.LookupPrefix(netip.MustParsePrefix("2.0.0.0/7"))); got != nil {
		t.Errorf("LookupPrefix(2.0.0.0/7) = %v; want nil", got)
	}
}

func TestTree(t *testing.T) {
	ix := testIndex(t)
	top := ix.Roots("ipv4")
	if len(top) != 1 {
		t.Fatalf("Roots = %v", labels(top))
	}
	kids := ix.Children(top[0].Key())
	if got := labels(kids); len(got) != 2 || got[0] != "2.0.0.0/12@ripencc" || got[1] != "2.16.0.0-2.16.2.255@ripencc" {
		t.Fatalf("Children(2/8) = %v", got)
	}
	if p := ix.Parent(kids[0].Key()); p == nil || p.Key() != top[0].Key() {
		t.Fatalf("Parent(2.0.0.0/12) = %v", p)
	}
	if b := ix.Block(kids[1].Key()); b != kids[1] {
		t.Fatalf("Block(key) = %v", b)
	}
	// The /8 is used by the /12 (allocated) and not by the available range.
	u := ix.Usage(top[0].Key())
	if want := float64(1<<20) / float64(1<<24); u.Fraction != want {
		t.Fatalf("Usage(2/8) = %v; want %v", u.Fraction, want)
	}
	asRoots := ix.Roots("asn")
	if got := labels(asRoots); len(got) != 2 || got[0] != "AS1-AS1000@iana" {
		t.Fatalf("Roots(asn) = %v", got)
	}
}

func TestWith(t *testing.T) {
	ix := testIndex(t)
	old := ix.Block(blk("ipv4", "2.1.0.0", "2.1.0.255", "ORG-A", "", "assigned").Key())
	nb := blk("ipv4", "2.1.1.0", "2.1.1.127", "ORG-A", "ORG-D", "assigned")
	ix2, err := ix.With([]string{old.Key(), nb.Key()}, func(k string) (*steward.Block, error) {
		if k == nb.Key() {
			return nb, nil
		}
		return nil, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := labels(ix2.LookupIP(netip.MustParseAddr("2.1.1.5"))); len(got) != 3 || got[2] != "2.1.1.0/25@ORG-A" {
		t.Fatalf("after With, LookupIP(2.1.1.5) = %v", got)
	}
	if got := ix2.LookupIP(netip.MustParseAddr("2.1.0.5")); len(got) != 2 {
		t.Fatalf("after With, LookupIP(2.1.0.5) = %v", labels(got))
	}
	if got := ix.LookupIP(netip.MustParseAddr("2.1.0.5")); len(got) != 3 {
		t.Fatalf("the old index changed: %v", labels(got))
	}
	// A change that breaks nesting is refused.
	bad := blk("ipv4", "2.15.0.0", "2.16.0.255", "arin", "", "allocated")
	if _, err := ix.With([]string{bad.Key()}, func(string) (*steward.Block, error) { return bad, nil }); steward.ErrorCode(err) != steward.EINVALID {
		t.Fatalf("With(overlapping) = %v; want EINVALID", err)
	}
}

// realBlocks parses every real statistics file.
func realBlocks(tb testing.TB) []*steward.Block {
	tb.Helper()
	files, _ := filepath.Glob(testdata.Shared("rir-stats", "delegated-*"))
	if len(files) == 0 {
		testdata.Missing(tb, os.ErrNotExist)
	}
	var all []*steward.Block
	for _, path := range files {
		fh, err := os.Open(path)
		if err != nil {
			tb.Fatal(err)
		}
		f, err := rirstats.Parse(path, fh)
		fh.Close()
		if err != nil {
			tb.Fatal(err)
		}
		for i := range f.Blocks {
			all = append(all, &f.Blocks[i])
		}
	}
	return all
}

func TestRealFiles(t *testing.T) {
	all := realBlocks(t)
	ix, err := numbers.Build(all)
	if err != nil {
		t.Fatal(err)
	}
	// Every record is found by its first address or number.
	for _, b := range all {
		var chain []*steward.Block
		if b.Family == steward.FamilyASN {
			s := b.Span()
			chain = ix.LookupAS(uint32(s.First.Lo))
		} else {
			chain = ix.LookupIP(netip.MustParseAddr(b.First))
		}
		if len(chain) == 0 {
			t.Fatalf("%s not found", b.Label())
		}
		found := false
		for _, c := range chain {
			found = found || c == b
		}
		if !found {
			t.Fatalf("lookup of %s's first value gives %v, not it", b.Label(), labels(chain))
		}
	}
}

func BenchmarkBuild(b *testing.B) {
	all := realBlocks(b)
	b.ResetTimer()
	for b.Loop() {
		if _, err := numbers.Build(all); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkWithOneChange(b *testing.B) {
	all := realBlocks(b)
	ix, err := numbers.Build(all)
	if err != nil {
		b.Fatal(err)
	}
	nb := blk("ipv4", "2.1.0.0", "2.1.0.255", "ORG-X", "ORG-Y", "assigned")
	b.ResetTimer()
	for b.Loop() {
		if _, err := ix.With([]string{nb.Key()}, func(string) (*steward.Block, error) { return nb, nil }); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLookupIP(b *testing.B) {
	ix, err := numbers.Build(realBlocks(b))
	if err != nil {
		b.Fatal(err)
	}
	a := netip.MustParseAddr("193.0.6.139")
	for b.Loop() {
		ix.LookupIP(a)
	}
}
