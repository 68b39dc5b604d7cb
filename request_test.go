package steward_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"steward"
	"steward/charter"
)

// requestWorld is an instance under a preset with a root zone, a delegated
// TLD "example" whose contact is "alice", and every body seated.
type requestWorld struct {
	m       *memTx
	c       *charter.Charter
	members map[string][]string // body -> voting members
	others  map[string][]string // body -> non-voting members
}

func newRequestWorld(t *testing.T, preset string) *requestWorld {
	t.Helper()
	m, c := newInstance(t, preset)
	w := &requestWorld{m: m, c: c, members: map[string][]string{}, others: map[string][]string{}}
	imp := steward.RootZoneImport{
		Apex: steward.Apex{MName: "a.root.example.", RName: "hostmaster.example.", Refresh: 1800, Retry: 900, Expire: 604800, Minimum: 86400, SOATTL: 86400,
			NS: []string{"a.root.example."}, NSTTL: 518400, DelegationTTL: 172800, DSTTL: 86400, Glue: []steward.Glue{{Name: "a.root.example.", Addrs: []string{"192.0.2.53"}}}},
		TLDs: []steward.TLD{{Name: "example", NS: []string{"ns1.example.net.", "ns2.example.net."}}},
	}
	m.must(t, steward.ImportRootZone(steward.ActorImport, imp))
	m.must(t, steward.PublishZone(steward.ActorInit, false))
	register(t, m, "alice", c.Groups[0].ID, c.Regions[0])
	register(t, m, "bob", c.Groups[0].ID, c.Regions[0])
	m.must(t, steward.GrantRole("op", steward.Grant{Participant: "alice", Role: steward.RoleResourceContact, Scope: "tld:example"}))
	n := 0
	for _, b := range c.Bodies {
		if b.Kind == charter.BodyForum {
			continue
		}
		for _, s := range b.Seats {
			count := s.Count
			if b.Open {
				count = 3
			}
			region := s.Region
			if region == charter.AnyRegion {
				region = c.Regions[n%len(c.Regions)]
			}
			for range count {
				n++
				h := fmt.Sprintf("m%03d", n)
				register(t, m, h, s.Group, region)
				m.must(t, steward.SeatMember(steward.ActorInit, b.ID, h, string(s.Capacity)))
				if s.Capacity == charter.CapacityVoting {
					w.members[b.ID] = append(w.members[b.ID], h)
				} else {
					w.others[b.ID] = append(w.others[b.ID], h)
				}
			}
		}
	}
	return w
}

func (w *requestWorld) req(t *testing.T, id int64) *steward.Request {
	t.Helper()
	r, err := steward.LoadRequest(context.Background(), w.m.st, id)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (w *requestWorld) run(t *testing.T, cmd steward.Command) (any, error) {
	t.Helper()
	return steward.Unrefuse(w.m.do(t, cmd))
}

func (w *requestWorld) must(t *testing.T, cmd steward.Command) {
	t.Helper()
	if _, err := w.run(t, cmd); err != nil {
		t.Fatal(err)
	}
}

func (w *requestWorld) later(t *testing.T, d time.Duration) {
	t.Helper()
	w.m.now = w.m.now.Add(d)
	w.must(t, steward.AdvanceRequests(100))
	w.must(t, steward.AdvancePolicies(100))
}

var passing = []steward.CheckResult{{Module: "BASIC", Case: "BASIC01", Level: "OK", Message: "fine"}}

// delegate submits a request for a new TLD "newtld" by bob, with the
// given contacts.
func delegate(t *testing.T, w *requestWorld) *steward.Request {
	t.Helper()
	v, err := w.run(t, steward.SubmitRequest("bob", steward.RequestInput{
		Kind: charter.KindTLDDelegate, TLD: "NewTLD.", Reason: "a new community TLD",
		Change: steward.Change{NS: []string{"ns1.newtld.", "NS2.newtld."}, Glue: []steward.Glue{
			{Name: "ns1.newtld.", Addrs: []string{"192.0.2.1"}}, {Name: "ns2.newtld.", Addrs: []string{"2001:db8::1"}},
		}, DS: []steward.DS{{KeyTag: 1234, Algorithm: 13, DigestType: 2, Digest: strings.Repeat("ab", 32)}}, Manager: "New TLD Association", Contacts: []string{"bob"}},
	}))
	if err != nil {
		t.Fatal(err)
	}
	return v.(*steward.Request)
}

// TestRequestPathPerPreset sends the same new-TLD request through each
// preset and checks the bodies it passes through, in order, and that it
// ends published with the zone serial that carries it.
func TestRequestPathPerPreset(t *testing.T) {
	for _, tc := range []struct {
		preset   string
		approval []string
		advice   []string
	}{
		{"community", []string{"members"}, nil},
		{"iana-2016", []string{"pti-board"}, nil},
		{"wgig-model-1", []string{"gic"}, nil},
		{"wgig-model-2", []string{"board"}, []string{"gac"}},
		{"wgig-model-3", []string{"iic"}, nil},
		{"wgig-model-4", []string{"wicann-board", "oversight-committee"}, []string{"wicann-gac"}},
	} {
		t.Run(tc.preset, func(t *testing.T) {
			w := newRequestWorld(t, tc.preset)
			r := delegate(t, w)
			if r.State != steward.StateChecks || r.TLD != "newtld" || r.Change.NS[1] != "ns2.newtld." {
				t.Fatalf("after submission: %s %s %v", r.State, r.TLD, r.Change.NS)
			}
			w.must(t, steward.RecordChecks(steward.ActorRegistry, r.ID, passing))
			if r = w.req(t, r.ID); r.State != steward.StateConfirmation {
				t.Fatalf("after checks: %s", r.State)
			}
			w.must(t, steward.ConfirmRequest("bob", r.ID, "web"))
			r = w.req(t, r.ID)
			if r.State != steward.StateReview {
				t.Fatalf("after confirmation: %s (%s)", r.State, r.Hold)
			}
			var advice []string
			for _, rv := range r.Reviews {
				if rv.Role == "advice" {
					advice = append(advice, rv.Body)
				}
			}
			if !slices.Equal(advice, tc.advice) {
				t.Errorf("advice invited from %v, want %v", advice, tc.advice)
			}
			for _, a := range tc.advice {
				w.must(t, steward.GiveAdvice(w.members[a][0], r.ID, a, "We advise caution about the string."))
			}
			var seen []string
			for b := w.req(t, r.ID).OpenBallot(); b != nil; b = w.req(t, r.ID).OpenBallot() {
				seen = append(seen, b.Body)
				if len(seen) > len(tc.approval) {
					break
				}
				// Before the comment period ends, no vote.
				if w.m.now.Before(b.Opens) {
					_, err := w.run(t, steward.CastVote(w.members[b.Body][0], r.ID, b.Body, charter.VoteYes, ""))
					wantCode(t, err, steward.ECONFLICT)
					w.later(t, b.Opens.Sub(w.m.now))
				}
				for _, h := range w.members[b.Body] {
					w.must(t, steward.CastVote(h, r.ID, b.Body, charter.VoteYes, ""))
				}
				if len(tc.advice) > 0 && len(seen) == 1 {
					// The advice awaits an answer: the ballot cannot close.
					w.later(t, 60*24*time.Hour)
					if got := w.req(t, r.ID); got.Hold == "" || got.OpenBallot() == nil {
						t.Fatalf("ballot closed with unanswered advice: %s %q", got.State, got.Hold)
					}
					for _, a := range tc.advice {
						w.must(t, steward.AnswerAdvice(w.members[b.Body][0], r.ID, a, "Noted; the string was checked against the rules."))
					}
				}
				w.later(t, 8*24*time.Hour)
			}
			if !slices.Equal(seen, tc.approval) {
				t.Errorf("ballots %v, want %v", seen, tc.approval)
			}
			r = w.req(t, r.ID)
			if r.State != steward.StateRecheck {
				t.Fatalf("after review: %s (%s)", r.State, r.Hold)
			}
			w.must(t, steward.RecordChecks(steward.ActorRegistry, r.ID, passing))
			if r = w.req(t, r.ID); r.State != steward.StateImplemented {
				t.Fatalf("after re-check: %s", r.State)
			}
			if tld, err := steward.LoadTLD(context.Background(), w.m.st, "newtld"); err != nil || tld.Manager != "New TLD Association" {
				t.Fatalf("registry after implementation: %+v %v", tld, err)
			}
			zc := w.m.must(t, steward.PublishZone(steward.ActorInit, false)).(*steward.ZoneContent)
			r = w.req(t, r.ID)
			if r.State != steward.StatePublished || r.Serial != zc.Publication.Serial || r.Published != zc.Publication.Entry || !r.Final {
				t.Errorf("after publication: %s serial %d entry %d, want serial %d entry %d", r.State, r.Serial, r.Published, zc.Publication.Serial, zc.Publication.Entry)
			}
			states := []string{}
			for _, s := range r.Timeline {
				if len(states) == 0 || states[len(states)-1] != s.State {
					states = append(states, s.State)
				}
			}
			want := []string{"submitted", "pre-review", "checks", "confirmation", "review", "re-check", "approved", "implemented", "published"}
			if !slices.Equal(states, want) {
				t.Errorf("timeline states %v, want %v", states, want)
			}
			if ok, _ := steward.HasGrant(context.Background(), w.m.st, "bob", steward.RoleResourceContact, "tld:newtld"); !ok {
				t.Error("bob is not a contact of the new TLD")
			}
			stats, err := steward.ParticipationStats(context.Background(), w.m.st)
			if err != nil {
				t.Fatal(err)
			}
			var votes int64
			for _, st := range stats {
				if st.Kind == "votes" {
					votes += st.N
				}
			}
			cast := 0
			for _, b := range tc.approval {
				cast += len(w.members[b])
			}
			if votes != int64(cast) {
				t.Errorf("participation counts %d votes, want %d", votes, cast)
			}
		})
	}
}

// TestRequestWithoutReview: under the WGIG models a name server change
// needs no body's approval; under the community charter the maintainers
// approve it.
func TestRequestWithoutReview(t *testing.T) {
	for _, tc := range []struct {
		preset string
		review bool
	}{{"wgig-model-1", false}, {"iana-2016", false}, {"community", true}} {
		t.Run(tc.preset, func(t *testing.T) {
			w := newRequestWorld(t, tc.preset)
			v, err := w.run(t, steward.SubmitRequest("alice", steward.RequestInput{Kind: charter.KindTLDUpdateNS, TLD: "example",
				Change: steward.Change{NS: []string{"a.ns.example.org.", "b.ns.example.org."}}}))
			if err != nil {
				t.Fatal(err)
			}
			id := v.(*steward.Request).ID
			w.must(t, steward.RecordChecks(steward.ActorRegistry, id, passing))
			w.must(t, steward.ConfirmRequest("alice", id, "email"))
			r := w.req(t, id)
			if got := r.State == steward.StateReview; got != tc.review {
				t.Fatalf("state %s, review %v want %v", r.State, got, tc.review)
			}
			if tc.review {
				w.later(t, 2*24*time.Hour)
				w.must(t, steward.CastVote(w.members["maintainers"][0], id, "maintainers", charter.VoteYes, ""))
				w.later(t, 8*24*time.Hour)
			}
			w.must(t, steward.RecordChecks(steward.ActorRegistry, id, passing))
			tld, _ := steward.LoadTLD(context.Background(), w.m.st, "example")
			if r := w.req(t, id); r.State != steward.StateImplemented || tld.NS[0] != "a.ns.example.org." {
				t.Fatalf("state %s, NS %v", r.State, tld.NS)
			}
		})
	}
}

func TestRequestRejectionAndAppeal(t *testing.T) {
	w := newRequestWorld(t, "wgig-model-1")
	r := delegate(t, w)
	w.must(t, steward.RecordChecks(steward.ActorRegistry, r.ID, passing))
	w.must(t, steward.ConfirmRequest("bob", r.ID, "web"))
	w.later(t, 14*24*time.Hour)
	for _, h := range w.members["gic"] {
		w.must(t, steward.CastVote(h, r.ID, "gic", charter.VoteNo, ""))
	}
	w.later(t, 15*24*time.Hour)
	r = w.req(t, r.ID)
	if r.State != steward.StateRejected || r.Final || r.Appealable == nil || r.Appealable.Body != "gic" {
		t.Fatalf("after a no vote: %s final=%v appeal=%+v", r.State, r.Final, r.Appealable)
	}
	if _, err := steward.LoadTLD(context.Background(), w.m.st, "newtld"); steward.ErrorCode(err) != steward.ENOTFOUND {
		t.Fatalf("a rejected request changed the registry: %v", err)
	}
	_, err := w.run(t, steward.AppealRequest("alice", r.ID, "unfair"))
	wantCode(t, err, steward.EFORBIDDEN)
	w.must(t, steward.AppealRequest("bob", r.ID, "The council misread the community's support."))
	if r = w.req(t, r.ID); r.State != steward.StateAppealed || r.OpenBallot() == nil || r.OpenBallot().Role != "appeal" {
		t.Fatalf("after appeal: %s", r.State)
	}
	for _, h := range w.members["gic"] {
		w.must(t, steward.CastVote(h, r.ID, "gic", charter.VoteYes, ""))
	}
	w.later(t, 15*24*time.Hour)
	if r = w.req(t, r.ID); r.State != steward.StateRecheck {
		t.Fatalf("after the appeal passed: %s", r.State)
	}

	// A second request, rejected, whose appeal window passes: final.
	w2 := newRequestWorld(t, "wgig-model-1")
	r2 := delegate(t, w2)
	w2.must(t, steward.RecordChecks(steward.ActorRegistry, r2.ID, passing))
	w2.must(t, steward.ConfirmRequest("bob", r2.ID, "web"))
	w2.later(t, 29*24*time.Hour) // no votes at all: no quorum
	if r2 = w2.req(t, r2.ID); r2.State != steward.StateRejected || r2.Final {
		t.Fatalf("without votes: %s final=%v", r2.State, r2.Final)
	}
	w2.later(t, 31*24*time.Hour)
	if r2 = w2.req(t, r2.ID); r2.State != steward.StateRejected || !r2.Final {
		t.Fatalf("after the appeal window: %s final=%v", r2.State, r2.Final)
	}
	_, err = w2.run(t, steward.AppealRequest("bob", r2.ID, "late"))
	wantCode(t, err, steward.ECONFLICT)
}

func TestRequestChecksHoldOverrideExpire(t *testing.T) {
	w := newRequestWorld(t, "iana-2016")
	submit := func() int64 {
		v, err := w.run(t, steward.SubmitRequest("alice", steward.RequestInput{Kind: charter.KindTLDUpdateNS, TLD: "example",
			Change: steward.Change{NS: []string{"a.ns.example.org.", "b.ns.example.org."}}}))
		if err != nil {
			t.Fatal(err)
		}
		return v.(*steward.Request).ID
	}
	failing := []steward.CheckResult{
		{Module: "DELEGATION", Case: "DELEGATION01", Level: "ERROR", Message: "one name server"},
		{Module: "CONNECTIVITY", Case: "CONNECTIVITY02", Level: "WARNING", Message: "no TCP"},
	}
	id := submit()
	w.must(t, steward.RecordChecks(steward.ActorRegistry, id, failing))
	r := w.req(t, id)
	if r.State != steward.StateChecks || r.Hold == "" || !slices.Equal(r.Checks[0].Blocking, []string{"DELEGATION01"}) || !slices.Equal(r.Checks[0].Advisory, []string{"CONNECTIVITY02"}) {
		t.Fatalf("after failing checks: %s %q %+v", r.State, r.Hold, r.Checks)
	}
	// Only an operator overrides, with a justification.
	_, err := w.run(t, steward.OverrideChecks("alice", id, "trust me"))
	wantCode(t, err, steward.EFORBIDDEN)
	_, err = w.run(t, steward.OverrideChecks("op", id, " "))
	wantCode(t, err, steward.EINVALID)
	// The requester fixes and asks again; the checks run again.
	w.must(t, steward.RetryChecks("alice", id))
	if r = w.req(t, id); !steward.NeedsChecks(r) {
		t.Fatal("retry did not ask for checks")
	}
	w.must(t, steward.RecordChecks(steward.ActorRegistry, id, failing))
	w.must(t, steward.OverrideChecks("op", id, "The second server is being renumbered; approved by the CSC."))
	if r = w.req(t, id); r.State != steward.StateConfirmation || len(r.Overrides) != 1 {
		t.Fatalf("after override: %s", r.State)
	}
	// Confirmation expires.
	w.later(t, 15*24*time.Hour)
	if r = w.req(t, id); r.State != steward.StateExpired || !r.Final {
		t.Fatalf("after the confirmation window: %s", r.State)
	}
	// A held request expires too, and a withdrawn one is final.
	id = submit()
	w.must(t, steward.RecordChecks(steward.ActorRegistry, id, failing))
	w.later(t, 31*24*time.Hour)
	if r = w.req(t, id); r.State != steward.StateExpired {
		t.Fatalf("held past its window: %s", r.State)
	}
	id = submit()
	w.must(t, steward.WithdrawRequest("alice", id, "changed our minds"))
	if r = w.req(t, id); r.State != steward.StateWithdrawn || !r.Final {
		t.Fatalf("withdrawn: %s", r.State)
	}
	tld, _ := steward.LoadTLD(context.Background(), w.m.st, "example")
	if tld.NS[0] != "ns1.example.net." {
		t.Errorf("expired or withdrawn requests changed the registry: %v", tld.NS)
	}
}

func TestRequestBadInput(t *testing.T) {
	w := newRequestWorld(t, "community")
	submit := func(actor string, in steward.RequestInput) error {
		t.Helper()
		_, err := w.run(t, steward.SubmitRequest(actor, in))
		return err
	}
	ns := steward.Change{NS: []string{"a.ns.example.org.", "b.ns.example.org."}}
	before := len(w.m.entries)
	// Not a contact: refused, and the refusal is in the ledger.
	wantCode(t, submit("bob", steward.RequestInput{Kind: charter.KindTLDUpdateNS, TLD: "example", Change: ns}), steward.EFORBIDDEN)
	if len(w.m.entries) != before+1 || !strings.Contains(string(w.m.entries[before]), `"kind":"request.refused"`) {
		t.Fatalf("refusal not recorded: %d entries", len(w.m.entries)-before)
	}
	if _, err := steward.LoadTLD(context.Background(), w.m.st, "example"); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		in   steward.RequestInput
		code string
	}{
		"unknown kind":      {steward.RequestInput{Kind: "tld.rename", TLD: "example"}, steward.EINVALID},
		"bad tld":           {steward.RequestInput{Kind: charter.KindTLDUpdateNS, TLD: "exa mple", Change: ns}, steward.EINVALID},
		"not delegated":     {steward.RequestInput{Kind: charter.KindTLDUpdateNS, TLD: "nosuch", Change: ns}, steward.ENOTFOUND},
		"bad ns name":       {steward.RequestInput{Kind: charter.KindTLDUpdateNS, TLD: "example", Change: steward.Change{NS: []string{"-bad-.example."}}}, steward.EINVALID},
		"bad glue address":  {steward.RequestInput{Kind: charter.KindTLDUpdateNS, TLD: "example", Change: steward.Change{NS: []string{"ns1.example."}, Glue: []steward.Glue{{Name: "ns1.example.", Addrs: []string{"300.1.1.1"}}}}}, steward.EINVALID},
		"same ns":           {steward.RequestInput{Kind: charter.KindTLDUpdateNS, TLD: "example", Change: steward.Change{NS: []string{"ns1.example.net.", "ns2.example.net."}}}, steward.EINVALID},
		"forbidden DS alg":  {steward.RequestInput{Kind: charter.KindTLDUpdateDS, TLD: "example", Change: steward.Change{DS: []steward.DS{{KeyTag: 1, Algorithm: 5, DigestType: 2, Digest: strings.Repeat("AB", 32)}}}}, steward.EINVALID},
		"delegate existing": {steward.RequestInput{Kind: charter.KindTLDDelegate, TLD: "example", Change: ns}, steward.ECONFLICT},
		"no manager":        {steward.RequestInput{Kind: charter.KindTLDDelegate, TLD: "fresh", Change: steward.Change{NS: ns.NS, Contacts: []string{"alice"}}}, steward.EINVALID},
		"unknown contact":   {steward.RequestInput{Kind: charter.KindTLDUpdateContacts, TLD: "example", Change: steward.Change{Contacts: []string{"nobody"}}}, steward.EINVALID},
		"huge reason":       {steward.RequestInput{Kind: charter.KindTLDUpdateNS, TLD: "example", Change: ns, Reason: strings.Repeat("x", 5000)}, steward.ETOOLARGE},
	} {
		n := len(w.m.entries)
		if err := submit("alice", tc.in); steward.ErrorCode(err) != tc.code {
			t.Errorf("%s: error %v, want %s", name, err, tc.code)
		}
		if len(w.m.entries) != n {
			t.Errorf("%s: %d entries written", name, len(w.m.entries)-n)
		}
	}
	// One open request per TLD.
	if err := submit("alice", steward.RequestInput{Kind: charter.KindTLDUpdateNS, TLD: "example", Change: ns}); err != nil {
		t.Fatal(err)
	}
	wantCode(t, submit("alice", steward.RequestInput{Kind: charter.KindTLDUpdateDS, TLD: "example"}), steward.ECONFLICT)

	// Votes: non-member refused and recorded, twice refused, after the deadline refused.
	w.must(t, steward.RecordChecks(steward.ActorRegistry, 1, passing))
	w.must(t, steward.ConfirmRequest("alice", 1, "web"))
	w.later(t, 2*24*time.Hour)
	n := len(w.m.entries)
	_, err := w.run(t, steward.CastVote("bob", 1, "maintainers", charter.VoteYes, ""))
	wantCode(t, err, steward.EFORBIDDEN)
	if len(w.m.entries) != n+1 {
		t.Error("a non-member's vote was not recorded as refused")
	}
	m1 := w.members["maintainers"][0]
	_, err = w.run(t, steward.CastVote(m1, 1, "maintainers", charter.VoteObject, ""))
	wantCode(t, err, steward.EINVALID) // an objection needs a reason
	w.must(t, steward.CastVote(m1, 1, "maintainers", charter.VoteAbstain, ""))
	_, err = w.run(t, steward.CastVote(m1, 1, "maintainers", charter.VoteYes, ""))
	wantCode(t, err, steward.ECONFLICT)
	_, err = w.run(t, steward.CastVote(w.members["maintainers"][1], 1, "maintainers", "maybe", ""))
	wantCode(t, err, steward.EINVALID)
	w.m.now = w.m.now.Add(8 * 24 * time.Hour) // past the deadline, before any tick
	_, err = w.run(t, steward.CastVote(w.members["maintainers"][1], 1, "maintainers", charter.VoteYes, ""))
	wantCode(t, err, steward.ECONFLICT)
}
