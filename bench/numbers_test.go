package bench

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"steward"
	"steward/internal/testdata"
	"steward/numbers"
	"steward/rirstats"
	"steward/sqlstore"
)

// Today's sizes of the five RIRs' extended statistics (records per family,
// rounded, from the files published in 2025): the real files in
// shared/data are older or excerpts, so the benchmark generates files of
// these sizes in the same shape.
var rirSizes = []struct {
	rir             string
	ipv4, ipv6, asn int
}{
	{"afrinic", 5400, 7300, 3400},
	{"apnic", 50000, 100000, 14000},
	{"arin", 90000, 70000, 30000},
	{"lacnic", 15000, 35000, 13000},
	{"ripencc", 90000, 120000, 38000},
}

// genStats generates a registry's statistics file with the given numbers
// of records, laid out like a real one: IPv4 ranges (some not powers of
// two) inside the registry's own /8s, IPv6 /32s and /48s inside its /12,
// AS numbers in runs, with allocated, assigned, available and reserved
// records and opaque holder ids.
func genStats(idx int, rir string, n4, n6, nAS int, seed uint64) *steward.StatsFile {
	r := rand.New(rand.NewPCG(seed, uint64(idx)))
	f := &steward.StatsFile{Header: steward.StatsHeader{Registry: rir, Version: "2", Serial: "20251126", StartDate: "19830705", EndDate: "20251126", UTCOffset: "+0000", Extended: true, Order: []string{"asn", "ipv4", "ipv6"}}}
	statuses := []string{"allocated", "assigned", "assigned", "allocated", "available", "reserved"}
	ccs := []string{"US", "DE", "JP", "BR", "ZA", "FR", "GB", "CN", "AU", "IN"}
	rec := func(fam, first, last string) {
		st := statuses[r.IntN(len(statuses))]
		b := steward.Block{Family: fam, First: first, Last: last, Registry: rir, Status: st}
		if st == "allocated" || st == "assigned" {
			b.Country = ccs[r.IntN(len(ccs))]
			b.Date = fmt.Sprintf("%04d%02d%02d", 1995+r.IntN(30), 1+r.IntN(12), 1+r.IntN(28))
			b.Holder = fmt.Sprintf("%08x-%04x", r.Uint32(), r.Uint32()&0xffff)
		}
		f.Blocks = append(f.Blocks, b)
	}
	// IPv4: records packed from 40+idx*20 .0.0.0, sizes 256..8192 with some
	// odd counts (768, 1280).
	sizes := []uint32{256, 512, 768, 1024, 1280, 2048, 4096, 8192, 256, 256}
	cur := uint32(40+idx*20) << 24
	for range n4 {
		sz := sizes[r.IntN(len(sizes))]
		a := netip.AddrFrom4([4]byte{byte(cur >> 24), byte(cur >> 16), byte(cur >> 8), byte(cur)})
		e := cur + sz - 1
		z := netip.AddrFrom4([4]byte{byte(e >> 24), byte(e >> 16), byte(e >> 8), byte(e)})
		rec("ipv4", a.String(), z.String())
		cur += sz + 256*uint32(r.IntN(2))
	}
	// IPv6: /32s and /48s from 2[idx]00::/12.
	hi32 := uint64(0x2000+idx*0x100) << 48 // /32s from the registry's first /12
	hi48 := hi32 + 1<<52                   // /48s from its second
	for i := range n6 {
		var first, last steward.Uint128
		if i%3 == 0 {
			first = steward.Uint128{Hi: hi32}
			last = steward.Uint128{Hi: hi32 | (1<<32 - 1), Lo: ^uint64(0)}
			hi32 += 1 << 32
		} else {
			first = steward.Uint128{Hi: hi48}
			last = steward.Uint128{Hi: hi48 | (1<<16 - 1), Lo: ^uint64(0)}
			hi48 += 1 << 16
		}
		rec("ipv6", steward.FormatNumber("ipv6", first), steward.FormatNumber("ipv6", last))
	}
	asn := uint64(131072 + idx*100000)
	for range nAS {
		n := uint64(1)
		if r.IntN(20) == 0 {
			n = uint64(1 + r.IntN(8))
		}
		rec("asn", fmt.Sprint(asn), fmt.Sprint(asn+n-1))
		asn += n
	}
	for i := range f.Blocks {
		if err := f.Blocks[i].Normalize(); err != nil {
			panic(err)
		}
	}
	return f
}

// statsFiles returns the five registries' files at today's sizes, written
// out and parsed again so the benchmark measures the parser as well.
func statsFiles(b *testing.B) [][]byte {
	var out [][]byte
	for i, s := range rirSizes {
		f := genStats(i, s.rir, s.ipv4, s.ipv6, s.asn, 1)
		blocks := make([]*steward.Block, len(f.Blocks))
		for j := range f.Blocks {
			blocks[j] = &f.Blocks[j]
		}
		var buf bytes.Buffer
		if err := rirstats.Write(&buf, &f.Header, blocks); err != nil {
			b.Fatal(err)
		}
		out = append(out, buf.Bytes())
	}
	return out
}

func importStats(b *testing.B, s *sqlstore.Store, data [][]byte) int {
	var files []*steward.StatsFile
	n := 0
	for i, d := range data {
		f, err := rirstats.Parse(fmt.Sprint(i), bytes.NewReader(d))
		if err != nil {
			b.Fatal(err)
		}
		n += len(f.Blocks)
		files = append(files, f)
	}
	if _, err := s.Do(context.Background(), steward.ImportStats(steward.ActorImport, files...)); err != nil {
		b.Fatal(err)
	}
	return n
}

// BenchmarkImportStats imports all five registries' statistics at today's
// size into a fresh store: parse, check, record. Goal: under 10 s.
func BenchmarkImportStats(b *testing.B) {
	for _, db := range []struct {
		name string
		open opener
	}{{"sqlite", openSQLite}, {"postgres", openPostgres}} {
		b.Run(db.name, func(b *testing.B) {
			data := statsFiles(b)
			b.ResetTimer()
			var n int
			var cpu time.Duration
			for b.Loop() {
				b.StopTimer()
				s, drop := openBenchStore(b, db.open)
				b.StartTimer()
				c0 := cpuTime(b)
				n = importStats(b, s, data)
				cpu += cpuTime(b) - c0
				b.StopTimer()
				s.Close()
				drop()
				b.StartTimer()
			}
			b.ReportMetric(float64(n), "records")
			b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
		})
	}
}

func openBenchStore(b *testing.B, open opener) (*sqlstore.Store, func()) {
	w, r, d, drop := open(b)
	s, err := sqlstore.Open(context.Background(), w, r, d, sqlstore.Config{Logger: quiet, CheckpointInterval: -1})
	if err != nil {
		b.Fatal(err)
	}
	return s, drop
}

// todayBlocks returns the five registries' generated records.
func todayBlocks() []*steward.Block {
	var all []*steward.Block
	for i, s := range rirSizes {
		f := genStats(i, s.rir, s.ipv4, s.ipv6, s.asn, 1)
		for j := range f.Blocks {
			all = append(all, &f.Blocks[j])
		}
	}
	return all
}

// BenchmarkIndexBuild builds the number index from scratch over all five
// registries' records at today's size.
func BenchmarkIndexBuild(b *testing.B) {
	all := todayBlocks()
	b.ResetTimer()
	for b.Loop() {
		if _, err := numbers.Build(all); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(all)), "blocks")
}

// BenchmarkIndexRebuild measures rebuilding the index after one change (an
// assignment inside an allocation) over all five registries' records at
// today's size: Index.With, which Live runs for each new ledger entry.
// Goal: under 100 ms.
func BenchmarkIndexRebuild(b *testing.B) {
	all := todayBlocks()
	ix, err := numbers.Build(all)
	if err != nil {
		b.Fatal(err)
	}
	var parent *steward.Block
	ix.Blocks("ipv4", func(x *steward.Block, _ int) bool {
		if x.Registry == "ripencc" && x.Status == "allocated" && x.Span().Size().Lo >= 1024 {
			parent = x
			return false
		}
		return true
	})
	first := parent.Span().First
	nb := &steward.Block{Family: "ipv4", First: steward.FormatNumber("ipv4", first), Last: steward.FormatNumber("ipv4", first.Add(steward.U128(255))),
		Registry: parent.Holder, Holder: "END-1", Status: "assigned"}
	b.ResetTimer()
	for b.Loop() {
		nx, err := ix.With([]string{nb.Key()}, func(string) (*steward.Block, error) { return nb, nil })
		if err != nil {
			b.Fatal(err)
		}
		if got := nx.LookupIP(netip.MustParseAddr(nb.First)); got[len(got)-1] != nb {
			b.Fatal("the new index does not hold the change")
		}
	}
	b.ReportMetric(float64(len(all)), "blocks")
}

// BenchmarkLiveUpdate measures what a server does after an allocation in
// a store holding the real statistics files: Live reads the new ledger
// entry, re-reads the changed blocks and rebuilds the index.
func BenchmarkLiveUpdate(b *testing.B) {
	s, drop := openBenchStore(b, openSQLite)
	defer drop()
	defer s.Close()
	data := realStatsFiles(b)
	importStats(b, s, data)
	live := numbers.NewLive(s)
	live.Interval = 0
	ctx := context.Background()
	ix, err := live.Index(ctx)
	if err != nil {
		b.Fatal(err)
	}
	var parent *steward.Block
	ix.Blocks("ipv4", func(x *steward.Block, _ int) bool {
		if x.Registry == "ripencc" && x.Status == "allocated" && x.Holder == "" && x.Span().Size().Lo >= 65536 {
			parent = x
			return false
		}
		return true
	})
	if parent == nil {
		b.Skip("no suitable allocation")
	}
	base := parent.Span().First
	i := 0
	for b.Loop() {
		b.StopTimer()
		first := base.Add(steward.U128(uint64(i) * 256))
		nb := steward.Block{Family: "ipv4", First: steward.FormatNumber("ipv4", first), Last: steward.FormatNumber("ipv4", first.Add(steward.U128(255))),
			Registry: "ORG-BENCH", Holder: fmt.Sprintf("END-%d", i), Status: "assigned"}
		// A local registry's assignment needs the allocation to name it.
		if i == 0 {
			up := *parent
			up.Holder = "ORG-BENCH"
			up.Events = nil
			if _, err := s.Do(ctx, steward.SyncBlocks(steward.ActorImport, "bench", func(x *steward.Block) bool { return x.Key() == up.Key() }, []string{"ipv4"}, []steward.Block{up})); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := s.Do(ctx, steward.AllocateBlock(steward.ActorImport, nb)); err != nil {
			b.Fatal(err)
		}
		i++
		b.StartTimer()
		if ix, err = live.Index(ctx); err != nil {
			b.Fatal(err)
		}
	}
	if got := ix.LookupIP(netip.MustParseAddr(steward.FormatNumber("ipv4", base))); got[len(got)-1].Registry != "ORG-BENCH" {
		b.Fatalf("the index does not see the allocation")
	}
}

// realStatsFiles reads the real statistics files in shared/data.
func realStatsFiles(b *testing.B) [][]byte {
	b.Helper()
	files, _ := filepath.Glob(testdata.Shared("rir-stats", "delegated-*"))
	if len(files) == 0 {
		b.Skip("no shared data")
	}
	var data [][]byte
	for _, p := range files {
		d, err := os.ReadFile(p)
		if err != nil {
			b.Fatal(err)
		}
		data = append(data, d)
	}
	return data
}

// BenchmarkImportRealStats imports the real statistics files in
// shared/data (AFRINIC 2024, APNIC and RIPE NCC 2014).
func BenchmarkImportRealStats(b *testing.B) {
	data := realStatsFiles(b)
	var n int
	var cpu time.Duration
	for b.Loop() {
		b.StopTimer()
		s, drop := openBenchStore(b, openSQLite)
		b.StartTimer()
		c0 := cpuTime(b)
		n = importStats(b, s, data)
		cpu += cpuTime(b) - c0
		b.StopTimer()
		s.Close()
		drop()
		b.StartTimer()
	}
	b.ReportMetric(float64(n), "records")
	b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
}
