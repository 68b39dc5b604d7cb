package steward_test

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"steward"
)

// manyBlocks returns n /24s of registry from base.0.0 on, every third
// available, the rest allocated to a holder.
func manyBlocks(reg string, base, n int) []steward.Block {
	var out []steward.Block
	for i := range n {
		a := fmt.Sprintf("%d.%d.%d", base+i/65536, i/256%256, i%256)
		b := steward.Block{Family: "ipv4", First: a + ".0", Last: a + ".255", Registry: reg, Status: "available"}
		if i%3 != 0 {
			b.Status, b.Holder, b.Country, b.Date = "allocated", fmt.Sprintf("ORG-%d", i), "NL", "20200101"
			b.Ext = []string{"e-mail"}
		}
		out = append(out, b)
	}
	return out
}

// chunkSizes returns the number of blocks in each chunk record of a
// registry's family.
func chunkSizes(t *testing.T, m *memTx, fam, reg string) []int {
	t.Helper()
	kvs, err := steward.ScanAll(context.Background(), m.st, steward.ChunkKeyPrefix(fam)+reg+"/")
	if err != nil {
		t.Fatal(err)
	}
	var sizes []int
	for _, kv := range kvs {
		bs, err := steward.ChunkBlocks(kv.Key, kv.Value)
		if err != nil {
			t.Fatal(err)
		}
		sizes = append(sizes, len(bs))
	}
	return sizes
}

// replayed rebuilds the state from m's entries and checks it is m's.
func replayed(t *testing.T, m *memTx) {
	t.Helper()
	ctx := context.Background()
	mem := steward.NewMemState()
	for _, data := range m.entries {
		e, err := steward.DecodeEvent(data)
		if err != nil {
			t.Fatal(err)
		}
		if err := steward.Apply(ctx, mem, e); err != nil {
			t.Fatalf("replay: %v", err)
		}
	}
	want, got := m.st.All(), mem.All()
	if len(got) != len(want) {
		t.Fatalf("replay rebuilt %d records; the state has %d", len(got), len(want))
	}
	for i := range want {
		if got[i].Key != want[i].Key || string(got[i].Value) != string(want[i].Value) {
			t.Fatalf("replay: %s differs from the state's %s", got[i].Key, want[i].Key)
		}
	}
}

// TestChunks imports thousands of blocks, which land in chunk records of
// bounded size, then changes, allocates, returns and removes some: every
// block stays found, the chunks stay bounded, and replaying the ledger
// rebuilds the same state.
func TestChunks(t *testing.T) {
	ctx := context.Background()
	m := newMemTx()
	all := func(*steward.Block) bool { return true }
	blocks := append(manyBlocks("ripencc", 10, 3000), manyBlocks("apnic", 20, 700)...)
	blocks = append(blocks, steward.Block{Family: "ipv4", First: "10.0.0.0", Last: "10.255.255.255", Registry: "iana", Holder: "ripencc", Status: "allocated", Name: "RIPE NCC"})
	c := m.must(t, steward.SyncBlocks(steward.ActorImport, "test", all, steward.Families, blocks)).(*steward.RecordCounts)
	if c.Added != len(blocks) {
		t.Fatalf("added %d; want %d", c.Added, len(blocks))
	}
	sizes := chunkSizes(t, m, "ipv4", "ripencc")
	total := 0
	for _, n := range sizes {
		if n < 1 || n > 512 {
			t.Fatalf("chunk sizes %v: want 1 to 512 blocks each", sizes)
		}
		total += n
	}
	if total != 3000 || len(sizes) < 6 {
		t.Fatalf("ripencc's 3000 blocks are in chunks of %v", sizes)
	}
	got, err := steward.LoadBlocks(ctx, m, "ipv4")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(blocks) || got[0].Registry != "ripencc" || got[0].First != "10.0.0.0" {
		t.Fatalf("LoadBlocks: %d blocks, first %+v", len(got), got[0])
	}
	for i := 1; i < len(got); i++ {
		if got[i-1].Key() >= got[i].Key() {
			t.Fatalf("LoadBlocks out of key order at %d: %s, %s", i, got[i-1].Key(), got[i].Key())
		}
	}
	for _, b := range []steward.Block{blocks[0], blocks[1777], blocks[2999], blocks[3500], blocks[len(blocks)-1]} {
		x, err := steward.LoadBlock(ctx, m, b.Key())
		if err != nil || x.Holder != b.Holder || len(x.Events) != 1 {
			t.Fatalf("LoadBlock(%s) = %+v, %v", b.Key(), x, err)
		}
	}
	if _, err := steward.LoadBlock(ctx, m, steward.BlockRef{Family: "ipv4", First: "10.0.0.0", Last: "10.0.1.255", Registry: "ripencc"}.Key()); steward.ErrorCode(err) != steward.ENOTFOUND {
		t.Fatalf("LoadBlock of a block that is not there: %v", err)
	}

	// Allocate an available /24 in the middle (10.0.6.0/24), return
	// what a holder held.
	m.must(t, steward.AllocateBlock(steward.ActorImport, prefixBlock(t, "ipv4", "10.0.6.0/24", "ripencc", "ORG-NEW", "allocated", "")))
	x, err := steward.LoadBlock(ctx, m, blocks[6].Key())
	if err != nil || x.Status != "allocated" || x.Holder != "ORG-NEW" {
		t.Fatalf("the allocation from the pool: %+v, %v", x, err)
	}
	ret := blocks[1777].Ref()
	m.must(t, steward.ReturnBlock(steward.ActorImport, ret, "closed", false))
	if x, err := steward.LoadBlock(ctx, m, ret.Key()); err != nil || x.Status != "available" || len(x.Events) != 2 {
		t.Fatalf("returned block: %+v, %v", x, err)
	}

	// Keep only the first 100 ripencc blocks, change one: the emptied
	// chunks go.
	keep := append([]steward.Block{}, blocks[:100]...)
	keep[50].Country = "DE"
	ripe := func(b *steward.Block) bool { return b.Registry == "ripencc" }
	c = m.must(t, steward.SyncBlocks(steward.ActorImport, "test", ripe, steward.Families, keep)).(*steward.RecordCounts)
	// (10.0.6.0/24, allocated since, is available again.)
	if c.Changed != 2 || c.Removed != 2900 || c.Unchanged != 98 {
		t.Fatalf("second import: %+v", c)
	}
	// (10.0.6.0/24, allocated since, is in a record of its own, as
	// allocations are.)
	if sizes := chunkSizes(t, m, "ipv4", "ripencc"); len(sizes) != 1 || sizes[0] != 99 {
		t.Fatalf("after removing all but 100 blocks, chunks %v", sizes)
	}
	if _, err := m.st.Get(ctx, blocks[6].Key()); err != nil {
		t.Fatalf("the allocated block's own record: %v", err)
	}
	if x, err := steward.LoadBlock(ctx, m, keep[50].Key()); err != nil || x.Country != "DE" || len(x.Events) != 2 {
		t.Fatalf("changed block: %+v, %v", x, err)
	}
	// A record of two blocks of the same registry and range is refused,
	// and so is recording a block that exists.
	if _, err := m.do(t, steward.SyncBlocks(steward.ActorImport, "test", ripe, steward.Families, append(keep, keep[3]))); steward.ErrorCode(err) != steward.EINVALID {
		t.Fatalf("a block given twice: %v", err)
	}
	replayed(t, m)

	// The import used lines-recorded events for the plain records and a
	// recorded event for IANA's named one.
	kinds := map[string]int{}
	for _, data := range m.entries {
		e, _ := steward.DecodeEvent(data)
		kinds[e.Kind]++
	}
	if kinds["block.lines-recorded"] == 0 || kinds["block.recorded"] != 1 {
		t.Fatalf("event kinds %v", kinds)
	}
}

// TestLinesRecordedRefusesBadLines: an event whose lines are malformed or
// hold a bad value, or name a block that exists, changes nothing.
func TestLinesRecordedRefusesBadLines(t *testing.T) {
	ctx := context.Background()
	m := newMemTx()
	m.must(t, steward.SyncBlocks(steward.ActorImport, "test", func(*steward.Block) bool { return true }, steward.Families, manyBlocks("ripencc", 10, 10)))
	before := m.st.All()
	for _, p := range []steward.LinesPayload{
		{Family: "ipv4", Registry: "ripencc", Lines: "10.1.0.0|10.1.0.255|assigned|NL|20200101\n"},                                               // too few fields
		{Family: "ipv4", Registry: "ripencc", Lines: "10.1.0.0|10.1.0.255|assigned|NL|20200101|X"},                                               // no final line break
		{Family: "ipv4", Registry: "ripencc", Lines: "10.1.0.0|10.1.0.255|bogus|NL|20200101|X\n"},                                                // status
		{Family: "ipv4", Registry: "ripencc", Lines: "10.0.0.0|10.0.0.255|available|||\n"},                                                       // exists
		{Family: "ipv6", Registry: "ripencc", Lines: "10.1.0.0|10.1.0.255|assigned|NL|20200101|X\n"},                                             // family
		{Family: "ipv4", Registry: "bad registry", Lines: "10.1.0.0|10.1.0.255|assigned|NL|20200101|X\n"},                                        // registry
		{Family: "ipv4", Registry: "ripencc", Lines: ""},                                                                                         // nothing
		{Family: "ipv4", Registry: "ripencc", Lines: "10.1.0.0|10.1.0.255|assigned|NL|20200101|X\n\n"},                                           // empty line
		{Family: "ipv4", Registry: "ripencc", Lines: "10.1.1.0|10.1.1.255|assigned|nl|20200101|X\n"},                                             // country
		{Family: "ipv4", Registry: "ripencc", Lines: "10.1.2.0|10.1.2.255|assigned|NL|2020|X\n"},                                                 // date
		{Family: "ipv4", Registry: "ripencc", Lines: "10.1.3.0|10.1.3.255|assigned|NL|20200101|X\n10.1.3.0|10.1.3.255|assigned|NL|20200101|X\n"}, // twice
	} {
		e, err := steward.NewEvent(99, m.now, steward.ActorImport, "block.lines-recorded", p)
		if err != nil {
			t.Fatal(err)
		}
		if err := steward.Apply(ctx, m.st, e); err == nil {
			t.Errorf("lines %q of %s/%s applied", p.Lines, p.Family, p.Registry)
		}
	}
	after := m.st.All()
	if len(after) != len(before) {
		t.Fatalf("refused events changed the state")
	}
	for i := range after {
		if string(after[i].Value) != string(before[i].Value) {
			t.Fatalf("refused events changed %s", after[i].Key)
		}
	}
}

// FuzzBlockLine: any text either is refused or parses into a block whose
// line, once normalized, writes back and parses again to itself.
func FuzzBlockLine(f *testing.F) {
	for _, s := range []string{
		"10.0.0.0|10.0.0.255|allocated|NL|20200101|ORG-1",
		"10.0.0.0|10.0.0.255|available||||",
		"2001:db8::|2001:db8:ffff:ffff:ffff:ffff:ffff:ffff|assigned|JP|19990813|x|e-mail|more",
		"1|10|allocated|US|19900101|A\"<>&\\|",
		"", "|", "a|b|c|d|e|f|g|h",
	} {
		f.Add("ipv4", s)
		f.Add("ipv6", s)
		f.Add("asn", s)
	}
	f.Fuzz(func(t *testing.T, fam, line string) {
		for _, withEvents := range []bool{false, true} {
			b, err := steward.ParseBlockLine(fam, "ripencc", line, withEvents)
			if err != nil {
				continue
			}
			if b.Normalize() != nil {
				continue
			}
			text := string(steward.AppendBlockLine(nil, b, withEvents))
			again, err := steward.ParseBlockLine(fam, "ripencc", text, withEvents)
			if err != nil {
				t.Fatalf("%q: written %q, read back: %v", line, text, err)
			}
			if got := steward.BlockText(again); got != steward.BlockText(b) {
				t.Fatalf("%q: written %q, read back as %q", line, steward.BlockText(b), got)
			}
		}
	})
}

// FuzzCharRules: the byte-by-byte patterns of block fields accept exactly
// what their regular expressions do.
func FuzzCharRules(f *testing.F) {
	for _, s := range []string{"ripencc", "ORG-1", "a.b_c-d", "-x", "", "NL", "nl", "20200101", "2020010", "A|B", "ü", "ab cd", strings.Repeat("a", 64), strings.Repeat("a", 65), strings.Repeat("x", 129), "~}{"} {
		f.Add(s)
	}
	rules := []struct {
		rule interface{ MatchString(string) bool }
		re   *regexp.Regexp
	}{
		{steward.RegistryRE, regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)},
		{steward.HolderRE, regexp.MustCompile(`^[!-{}~]{1,128}$`)},
		{steward.CountryRE, regexp.MustCompile(`^[A-Z]{2}$`)},
		{steward.DateRE, regexp.MustCompile(`^[0-9]{8}$`)},
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, r := range rules {
			if got, want := r.rule.MatchString(s), r.re.MatchString(s); got != want {
				t.Fatalf("%s: %q matches %v; the regexp says %v", r.re, s, got, want)
			}
		}
	})
}

// FuzzNormalizeNumbers: a block's first and last values come out of
// Normalize as FormatNumber writes them.
func FuzzNormalizeNumbers(f *testing.F) {
	for _, s := range []string{"1.2.3.4", "01.2.3.4", "0", "00", "007", "AS12", "as0", "4294967295", "2001:db8::", "2001:DB8::", "::ffff:1.2.3.4"} {
		for _, fam := range steward.Families {
			f.Add(fam, s)
		}
	}
	f.Fuzz(func(t *testing.T, fam, s string) {
		b := steward.Block{Family: fam, First: s, Last: s, Registry: "x", Status: "reserved"}
		if b.Normalize() != nil {
			return
		}
		u, err := steward.ParseNumber(fam, s)
		if err != nil {
			t.Fatalf("Normalize took %q, ParseNumber refuses it: %v", s, err)
		}
		if want := steward.FormatNumber(fam, u); b.First != want || b.Last != want {
			t.Fatalf("Normalize(%s %q) = %q-%q; want %q", fam, s, b.First, b.Last, want)
		}
	})
}

// TestRecordedKeepsOwnRecords: the recorded, allocated and returned events
// (the kinds ledgers held before chunk records) still write each block in
// a record of its own at its block key, as canonical JSON, so that those
// ledgers replay to the state their checkpoints commit to; lines-recorded
// blocks go to chunks, and a block recorded both ways is refused.
func TestRecordedKeepsOwnRecords(t *testing.T) {
	ctx := context.Background()
	m := newMemTx()
	b := prefixBlock(t, "ipv4", "10.0.0.0/16", "ripencc", "", "available", "")
	if _, err := m.Emit(ctx, steward.ActorImport, "block.recorded", steward.BlocksPayload{Blocks: []steward.Block{b}}); err != nil {
		t.Fatal(err)
	}
	m.must(t, steward.AllocateBlock(steward.ActorImport, prefixBlock(t, "ipv4", "10.0.0.0/24", "ripencc", "ORG-A", "allocated", "")))
	kvs := m.st.All()
	var keys []string
	for _, kv := range kvs {
		if strings.HasPrefix(kv.Key, "num/") {
			keys = append(keys, kv.Key)
			x := new(steward.Block)
			if err := json.Unmarshal(kv.Value, x); err != nil {
				t.Fatal(err)
			}
			want, _ := steward.CanonicalBlockJSON(x)
			if kv.Key != x.Key() || string(kv.Value) != string(want) {
				t.Fatalf("%s = %s; want the block's canonical JSON at its key", kv.Key, kv.Value)
			}
		}
	}
	if len(keys) < 2 {
		t.Fatalf("number records %v; want the allocation and the rest of the pool", keys)
	}
	// A lines-recorded block at the key of a block in a record of its own
	// is refused.
	e, err := steward.NewEvent(99, m.now, steward.ActorImport, "block.lines-recorded", steward.LinesPayload{Family: "ipv4", Registry: "ripencc", Lines: "10.0.0.0|10.0.0.255|assigned|NL|20200101|X\n"})
	if err != nil {
		t.Fatal(err)
	}
	if err := steward.Apply(ctx, m.st, e); err == nil || !strings.Contains(err.Error(), "exists already") {
		t.Fatalf("a lines-recorded block over a block of its own: %v", err)
	}
	replayed(t, m)
}
