package steward_test

import (
	"testing"
	"time"

	"steward"
)

func TestNextSerial(t *testing.T) {
	day := time.Date(2026, 11, 26, 23, 0, 0, 0, time.UTC)
	for _, tc := range []struct{ prev, want uint32 }{
		{0, 2026112600}, {2025010105, 2026112600}, {2026112600, 2026112601}, {2026112699, 2026112700}, {2026112805, 2026112806},
	} {
		if got := steward.NextSerial(tc.prev, day); got != tc.want {
			t.Errorf("NextSerial(%d) = %d, want %d", tc.prev, got, tc.want)
		}
	}
}

func TestPublishZone(t *testing.T) {
	m := smallInstance(t)
	if _, err := m.do(t, steward.PublishZone(steward.ActorInit, false)); steward.ErrorCode(err) != steward.ENOTFOUND {
		t.Fatalf("publishing without an apex: %v", err)
	}
	imp := steward.RootZoneImport{
		Apex: steward.Apex{MName: "a.root.example.", RName: "hostmaster.example.", Refresh: 1800, Retry: 900, Expire: 604800, Minimum: 86400, SOATTL: 86400,
			NS: []string{"a.root.example."}, NSTTL: 518400, DelegationTTL: 172800, DSTTL: 86400, Glue: []steward.Glue{{Name: "a.root.example.", Addrs: []string{"192.0.2.53"}}}},
		TLDs: []steward.TLD{{Name: "example", NS: []string{"ns1.example.", "ns2.example."}}},
	}
	m.must(t, steward.ImportRootZone(steward.ActorImport, imp))
	zc := m.must(t, steward.PublishZone(steward.ActorInit, false)).(*steward.ZoneContent)
	if !zc.Changed || zc.Publication.Serial != 2026010200 || len(zc.TLDs) != 1 || zc.Publication.Entry != int64(len(m.entries)-1) {
		t.Fatalf("first publication %+v", zc)
	}
	n := len(m.entries)
	again := m.must(t, steward.PublishZone(steward.ActorInit, false)).(*steward.ZoneContent)
	if again.Changed || again.Publication != zc.Publication || len(m.entries) != n {
		t.Errorf("publishing unchanged content made a new serial: %+v", again)
	}
	forced := m.must(t, steward.PublishZone(steward.ActorInit, true)).(*steward.ZoneContent)
	if !forced.Changed || forced.Publication.Serial != 2026010201 {
		t.Errorf("forced publication %+v", forced)
	}
	imp.TLDs[0].NS = []string{"ns3.example.", "ns4.example."}
	m.must(t, steward.ImportRootZone(steward.ActorImport, imp))
	next := m.must(t, steward.PublishZone(steward.ActorInit, false)).(*steward.ZoneContent)
	if !next.Changed || next.Publication.Serial != 2026010202 || next.TLDs[0].NS[0] != "ns3.example." {
		t.Errorf("second publication %+v", next)
	}
}
