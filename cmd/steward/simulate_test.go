package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"steward"
	"steward/charter"
	"steward/simulate"
)

// recordRequests gives a demo instance (wgig-model-1) a history: a new TLD
// approved by the Global Internet Council with one member not voting, and
// one the council rejects.
func recordRequests(t *testing.T, dir string) {
	t.Helper()
	ctx := context.Background()
	clock := steward.NewFakeClock(time.Now().UTC().Add(-200 * 24 * time.Hour))
	in, err := openInstance(ctx, dir, openOptions{clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	do := func(cmd steward.Command) any {
		t.Helper()
		v, err := steward.Unrefuse(in.store.Do(ctx, cmd))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	do(steward.ImportRootZone(steward.ActorImport, steward.RootZoneImport{
		Apex: steward.Apex{MName: "a.root.example.", RName: "hostmaster.example.", Refresh: 1800, Retry: 900, Expire: 604800, Minimum: 86400, SOATTL: 86400,
			NS: []string{"a.root.example."}, NSTTL: 518400, DelegationTTL: 172800, DSTTL: 86400, Glue: []steward.Glue{{Name: "a.root.example.", Addrs: []string{"192.0.2.53"}}}},
	}))
	members, err := steward.Members(ctx, in.store, "gic")
	if err != nil || len(members) < 3 {
		t.Fatalf("gic members: %v %v", members, err)
	}
	ps, err := steward.ListParticipants(ctx, in.store, "", 100)
	if err != nil {
		t.Fatal(err)
	}
	submitter := ps[len(ps)-1].Handle
	for i, votes := range [][]charter.Vote{{""}, {charter.VoteNo, charter.VoteNo, charter.VoteNo}} {
		name := []string{"alpha", "beta"}[i]
		r := do(steward.SubmitRequest(submitter, steward.RequestInput{Kind: charter.KindTLDDelegate, TLD: name, Reason: "test",
			Change: steward.Change{NS: []string{"ns1.example.net.", "ns2.example.org."}, Manager: "Org " + name, Contacts: []string{submitter}}})).(*steward.Request)
		do(steward.RecordChecks(steward.ActorRegistry, r.ID, []steward.CheckResult{{Module: "BASIC", Case: "BASIC01", Level: "OK"}}))
		do(steward.ConfirmRequest(submitter, r.ID, "web"))
		clock.Advance(15 * 24 * time.Hour)
		// The first members vote as given; the others yes.
		j := 0
		for _, m := range members {
			if m.Capacity != "voting" || m.Participant == submitter {
				continue
			}
			v := charter.VoteYes
			if j < len(votes) {
				v = votes[j]
			}
			j++
			if v == "" {
				continue // this member does not vote
			}
			do(steward.CastVote(m.Participant, r.ID, "gic", v, "recorded vote"))
		}
		clock.Advance(15 * 24 * time.Hour)
		do(steward.AdvanceRequests(100))
		got, _ := steward.LoadRequest(ctx, in.store, r.ID)
		if got.State == steward.StateRecheck {
			do(steward.RecordChecks(steward.ActorRegistry, r.ID, []steward.CheckResult{{Module: "BASIC", Case: "BASIC01", Level: "OK"}}))
			do(steward.PublishZone(steward.ActorInit, false))
		}
		clock.Advance(31 * 24 * time.Hour)
		do(steward.AdvanceRequests(100))
	}
	if _, err := in.store.SignCheckpoint(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestSimulate(t *testing.T) {
	dir := freshDemo(t)
	recordRequests(t, dir)
	report := func(charterArg string) *simulate.Report {
		t.Helper()
		out := mustRun(t, "simulate", "--json", "--charter", charterArg, dir)
		var rep simulate.Report
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		if len(rep.Requests) != 2 {
			t.Fatalf("%d requests in the report, want 2:\n%s", len(rep.Requests), out)
		}
		return &rep
	}
	// Under its own charter the recorded outcomes come out again.
	rep := report("wgig-model-1")
	if rep.Requests[0].Recorded.Outcome != simulate.Approved || rep.Requests[1].Recorded.Outcome != simulate.Rejected {
		t.Fatalf("recorded outcomes %+v / %+v", rep.Requests[0].Recorded, rep.Requests[1].Recorded)
	}
	if rep.Totals.Same != 2 || rep.Requests[0].Simulated.Outcome != simulate.Approved || rep.Requests[1].Simulated.Outcome != simulate.Rejected {
		t.Errorf("own charter: %+v", rep.Totals)
	}
	// A charter whose council needs every member to vote rejects the
	// first too.
	text, err := charter.Preset("wgig-model-1")
	if err != nil {
		t.Fatal(err)
	}
	c, err := charter.Parse("m1", text)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := c.Body("gic"); b.Rule == nil || b.Rule.Kind != charter.RuleMajority {
		t.Fatalf("gic rule %+v", b.Rule)
	}
	old := "    rule:\n      kind: majority\n      quorum: \"1/2\"\n"
	if !strings.Contains(string(text), old) {
		t.Fatalf("preset has no %q", old)
	}
	strict := strings.Replace(string(text), old, "    rule:\n      kind: majority\n      quorum: \"1/1\"\n", 1)
	file := filepath.Join(t.TempDir(), "strict.yaml")
	if err := os.WriteFile(file, []byte(strict), 0o600); err != nil {
		t.Fatal(err)
	}
	rep = report(file)
	if rep.Requests[0].Simulated.Outcome != simulate.Rejected || rep.Totals.Different != 1 {
		t.Errorf("full quorum: %+v, totals %+v", rep.Requests[0].Simulated, rep.Totals)
	}
	// Under the post-2016 arrangement the PTI board decides; it never
	// voted in this instance, so the outcome is undetermined; the bodies
	// and the time are still reported.
	rep = report("iana-2016")
	if q := rep.Requests[0].Simulated; q.Outcome != simulate.Undetermined || len(q.Bodies) != 1 || q.Bodies[0] != "pti-board" {
		t.Errorf("iana-2016: %+v", q)
	}
	// The table names every request and the totals.
	out := mustRun(t, "simulate", "--charter", "wgig-model-2", dir)
	for _, want := range []string{".alpha", ".beta", "board (advice: gac)", "Same outcome:", "Mean time"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	if _, err := run(t, "simulate", "--charter", "no-such-preset", dir); err == nil {
		t.Error("an unknown charter was accepted")
	}
}
