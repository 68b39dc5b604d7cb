package rdap_test

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"steward"
	"steward/internal/testdata"
	"steward/ledger"
	"steward/rdap"
	"steward/rirstats"
)

// memLedger is a ledger in memory: the follower's source in benchmarks.
type memLedger struct {
	entries [][]byte
	t       time.Time
}

func (m *memLedger) Head(context.Context) (int64, ledger.Digest, error) {
	return int64(len(m.entries)), ledger.Digest{}, nil
}

func (m *memLedger) Entries(_ context.Context, start, end int64) ([][]byte, error) {
	return m.entries[start:end], nil
}

func (m *memLedger) emit(tb testing.TB, kind string, payload any) {
	tb.Helper()
	m.t = m.t.Add(time.Second)
	e, err := steward.NewEvent(int64(len(m.entries)), m.t, steward.ActorImport, kind, payload)
	if err != nil {
		tb.Fatal(err)
	}
	b, err := e.Encode()
	if err != nil {
		tb.Fatal(err)
	}
	m.entries = append(m.entries, b)
}

// realBlocks records the blocks of the real statistics files (AFRINIC
// extended 2024, APNIC and RIPE NCC 2014) in a ledger, 200 to an entry.
func realBlocks(tb testing.TB) (*memLedger, []steward.Block) {
	tb.Helper()
	l := &memLedger{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	var all []steward.Block
	for _, name := range []string{"delegated-afrinic-extended-20240105", "delegated-apnic-20140630", "delegated-ripencc-20140630"} {
		f, err := os.Open(testdata.Shared("rir-stats", name))
		if err != nil {
			testdata.Missing(tb, err)
		}
		sf, err := rirstats.Parse(filepath.Base(name), f)
		f.Close()
		if err != nil {
			tb.Fatal(err)
		}
		all = append(all, sf.Blocks...)
	}
	for _, fam := range steward.Families {
		kind := "block.recorded"
		if fam == steward.FamilyASN {
			kind = "asn.recorded"
		}
		var batch []steward.Block
		flush := func() {
			if len(batch) > 0 {
				l.emit(tb, kind, steward.BlocksPayload{Source: "bench", Blocks: batch})
				batch = nil
			}
		}
		for _, b := range all {
			if b.Family == fam {
				if batch = append(batch, b); len(batch) == 200 {
					flush()
				}
			}
		}
		flush()
	}
	return l, all
}

// BenchmarkRebuildAfterChange measures how long the follower takes, once
// it holds every block of the real statistics files, to read one new ledger
// entry that changes one block and publish the new snapshot with its IP
// and AS indexes rebuilt. The goal is under 100 ms.
func BenchmarkRebuildAfterChange(b *testing.B) {
	l, all := realBlocks(b)
	ctx := context.Background()
	f := rdap.NewFollower(rdap.FollowerConfig{Source: l})
	s, err := f.Update(ctx)
	if err != nil {
		b.Fatal(err)
	}
	c := s.Counts()
	b.ReportMetric(float64(c["ip network"]+c["autnum"]), "blocks")
	var target steward.Block
	for _, x := range all {
		if x.Family == steward.FamilyIPv4 && x.Status == steward.StatusAllocated {
			target = x
			break
		}
	}
	addr := netip.MustParseAddr(target.First)
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		target.Status = []string{steward.StatusAssigned, steward.StatusAllocated}[i%2]
		l.emit(b, "block.updated", steward.BlocksPayload{Source: "bench", Blocks: []steward.Block{target}})
		b.StartTimer()
		s, err := f.Update(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if n := s.Network(netip.PrefixFrom(addr, 32)); n == nil || n.Type != map[string]string{"assigned": "ASSIGNED", "allocated": "ALLOCATED"}[target.Status] {
			b.Fatalf("the change is not in the snapshot: %+v", n)
		}
	}
}

// BenchmarkFirstBuild is the follower reading the whole ledger of blocks
// and building its first snapshot (at start-up).
func BenchmarkFirstBuild(b *testing.B) {
	l, _ := realBlocks(b)
	b.ResetTimer()
	for range b.N {
		f := rdap.NewFollower(rdap.FollowerConfig{Source: l})
		if _, err := f.Update(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLookup is the index lookups behind ip/ and autnum/ queries.
func BenchmarkLookup(b *testing.B) {
	l, all := realBlocks(b)
	f := rdap.NewFollower(rdap.FollowerConfig{Source: l})
	s, err := f.Update(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	var ps []netip.Prefix
	for _, x := range all {
		if x.Family != steward.FamilyASN {
			ps = append(ps, netip.PrefixFrom(netip.MustParseAddr(x.First), netip.MustParseAddr(x.First).BitLen()))
		}
	}
	b.ResetTimer()
	for i := range b.N {
		if s.Network(ps[i%len(ps)]) == nil {
			b.Fatal("not found")
		}
	}
}

// The benchmarks' ledger is correct: a follower over it answers for
// every block.
func TestRealBlocksFollowed(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 135,000 blocks")
	}
	l, all := realBlocks(t)
	f := rdap.NewFollower(rdap.FollowerConfig{Source: l})
	s, err := f.Update(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range all {
		if x.Family == steward.FamilyASN {
			if a := s.Autnum(parseU32(x.First)); a == nil || a.Handle != rdap.BlockHandle(&x) {
				t.Fatalf("AS%s: %+v", x.First, a)
			}
			continue
		}
		a := netip.MustParseAddr(x.First)
		if n := s.Network(netip.PrefixFrom(a, a.BitLen())); n == nil || n.Handle != rdap.BlockHandle(&x) {
			t.Fatalf("%s: %+v", x.First, n)
		}
	}
}

func parseU32(s string) uint32 {
	var n uint32
	for _, c := range s {
		n = n*10 + uint32(c-'0')
	}
	return n
}
