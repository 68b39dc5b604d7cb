package storetest

import (
	"net/netip"
	"strings"

	"steward"
	"steward/numbers"
	"steward/rirstats"
)

const statsV1 = `2|apnic|20140701|4|19850701|20140630|+1000
apnic|*|asn|*|1|summary
apnic|*|ipv4|*|2|summary
apnic|*|ipv6|*|1|summary
apnic|JP|asn|173|1|20020801|allocated
apnic|AU|ipv4|1.0.0.0|256|20110811|assigned
apnic|CN|ipv4|1.0.1.0|768|20110414|allocated
apnic|JP|ipv6|2001:200::|35|19990813|allocated
`

// statsV2 changes one record's country and drops the ASN.
const statsV2 = `2|apnic|20140702|3|19850701|20140701|+1000
apnic|*|ipv4|*|2|summary
apnic|*|ipv6|*|1|summary
apnic|AU|ipv4|1.0.0.0|256|20110811|assigned
apnic|HK|ipv4|1.0.1.0|768|20110414|allocated
apnic|JP|ipv6|2001:200::|35|19990813|allocated
`

func parseStats(h *harness, text string) *steward.StatsFile {
	h.Helper()
	f, err := rirstats.Parse("test", strings.NewReader(text))
	if err != nil {
		h.Fatal(err)
	}
	return f
}

func testNumbers(h *harness) {
	live := numbers.NewLive(h.s)
	live.Interval = 0
	c := h.do(steward.ImportStats(steward.ActorImport, parseStats(h, statsV1))).(*steward.RecordCounts)
	if c.Added != 4 || c.Changed+c.Removed+c.Unchanged != 0 {
		h.Fatalf("first import: %+v; want 4 added", c)
	}
	ix, err := live.Index(h.ctx)
	if err != nil {
		h.Fatal(err)
	}
	if got := ix.LookupIP(netip.MustParseAddr("1.0.2.9")); len(got) != 1 || got[0].Country != "CN" {
		h.Fatalf("LookupIP(1.0.2.9) = %v; want the CN range", got)
	}
	size, digest := h.head()
	c = h.do(steward.ImportStats(steward.ActorImport, parseStats(h, statsV1))).(*steward.RecordCounts)
	if c.Unchanged != 4 || c.Added+c.Changed+c.Removed != 0 {
		h.Fatalf("same import again: %+v; want 4 unchanged", c)
	}
	if s2, d2 := h.head(); s2 != size || d2 != digest {
		h.Fatalf("re-importing the same file grew the ledger from %d to %d", size, s2)
	}
	c = h.do(steward.ImportStats(steward.ActorImport, parseStats(h, statsV2))).(*steward.RecordCounts)
	if c.Changed != 1 || c.Removed != 1 || c.Unchanged != 2 || c.Added != 0 {
		h.Fatalf("second import: %+v; want 1 changed, 1 removed, 2 unchanged", c)
	}
	ix, err = live.Index(h.ctx)
	if err != nil {
		h.Fatal(err)
	}
	if got := ix.LookupIP(netip.MustParseAddr("1.0.2.9")); len(got) != 1 || got[0].Country != "HK" || len(got[0].Events) != 2 {
		h.Fatalf("after the second import, LookupIP(1.0.2.9) = %+v; want the HK range with two events", got)
	}
	if got := ix.LookupAS(173); got != nil {
		h.Fatalf("the removed AS173 is still found: %v", got)
	}

	// Bad input changes nothing.
	size, digest = h.head()
	before := h.state()
	body := statsV2[strings.Index(statsV2, "apnic|AU"):]
	for _, bad := range []string{
		// overlaps 1.0.0.0/24 without nesting
		"apnic|AU|ipv4|1.0.0.128|256|20110811|assigned\n",
		// the same range twice
		"apnic|AU|ipv4|1.0.0.0|256|20110811|assigned\n",
		// nested inside another record of the same registry
		"apnic|AU|ipv4|1.0.0.0|128|20110811|assigned\n",
	} {
		h.doFail(steward.EINVALID, steward.ImportStats(steward.ActorImport, parseStats(h, body+bad)))
	}
	// Another registry's block that partly overlaps apnic's.
	h.doFail(steward.EINVALID, steward.ImportStats(steward.ActorImport, parseStats(h, "arin|US|ipv4|1.0.0.0|512|20110811|assigned\n")))
	if s2, d2 := h.head(); s2 != size || d2 != digest {
		h.Fatalf("a refused import grew the ledger from %d to %d", size, s2)
	}
	if after := h.state(); len(after) != len(before) {
		h.Fatalf("a refused import changed the state: %d records, was %d", len(after), len(before))
	}
	// Only an operator may import under a participant's name.
	h.doFail(steward.EFORBIDDEN, steward.ImportStats("nobody", parseStats(h, statsV1)))

	// Replaying the ledger rebuilds the same number records.
	mem := steward.NewMemState()
	for _, e := range h.events(0, size) {
		if err := steward.Apply(h.ctx, mem, e); err != nil {
			h.Fatalf("replay: %v", err)
		}
	}
	want, err := steward.ScanAll(h.ctx, h.s, "num/")
	if err != nil {
		h.Fatal(err)
	}
	got, _ := steward.ScanAll(h.ctx, mem, "num/")
	if len(got) != len(want) {
		h.Fatalf("replay rebuilt %d number records; the store has %d", len(got), len(want))
	}
	for i := range want {
		if got[i].Key != want[i].Key || string(got[i].Value) != string(want[i].Value) {
			h.Fatalf("replay: record %s = %s; the store has %s = %s", got[i].Key, got[i].Value, want[i].Key, want[i].Value)
		}
	}
}
