package steward_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"steward"
	"steward/charter"
)

// TestPolicyToForce takes a policy that reserves TLD strings and changes
// the number delegation sizes from proposal to in force, and checks that
// the registry enforces it from then on: a request for a reserved string,
// accepted before, is refused after.
func TestPolicyToForce(t *testing.T) {
	for _, preset := range []string{"community", "wgig-model-2"} {
		t.Run(preset, func(t *testing.T) {
			w := newRequestWorld(t, preset)
			pdp := w.c.PDPFor()
			chair := w.members[pdp.ConsensusBy][0]
			w.must(t, steward.SetChair(steward.ActorInit, pdp.ConsensusBy, chair))
			nums := steward.DefaultNumberPolicies()
			nums.Delegation.RIRIPv4Longest = 22
			v, err := w.run(t, steward.ProposePolicy("bob", steward.PolicyInput{Title: "Reserve .test-like strings", Text: "The strings home and local are reserved.",
				Params: steward.PolicyParams{Numbers: &nums, TLDStrings: &steward.TLDStringRules{Reserved: []string{"Local", "home"}, MinLength: 2}}}))
			if err != nil {
				t.Fatal(err)
			}
			p := v.(*steward.Policy)
			if p.State != steward.PolicyDiscussion || p.Params.TLDStrings.Reserved[0] != "home" {
				t.Fatalf("proposed: %s %v", p.State, p.Params.TLDStrings)
			}
			// Before it is in force, "local" may be requested.
			req := func(name string) error {
				_, err := w.run(t, steward.SubmitRequest("alice", steward.RequestInput{Kind: charter.KindTLDDelegate, TLD: name,
					Change: steward.Change{NS: []string{"ns1.example.net.", "ns2.example.org."}, Manager: "M", Contacts: []string{"alice"}}}))
				return err
			}
			if err := req("local"); err != nil {
				t.Fatal(err)
			}
			w.must(t, steward.CommentPolicy("alice", p.ID, "Support."))
			// Discussion, review and last call pass on the clock.
			w.later(t, time.Duration(pdp.Discussion))
			w.must(t, steward.CommentPolicy("alice", p.ID, "Still support."))
			w.later(t, time.Duration(pdp.Review))
			w.later(t, time.Duration(pdp.LastCall))
			p = w.policy(t, p.ID)
			if p.State != steward.PolicyConsensus || len(p.Comments) != 2 || p.Comments[1].Stage != steward.PolicyReview {
				t.Fatalf("after the last call: %s, %d comments", p.State, len(p.Comments))
			}
			_, err = w.run(t, steward.CommentPolicy("alice", p.ID, "late"))
			wantCode(t, err, steward.ECONFLICT)
			// Only the chair determines consensus; the refusal is recorded.
			_, err = w.run(t, steward.DetermineConsensus("alice", p.ID, true, "I think so"))
			wantCode(t, err, steward.EFORBIDDEN)
			w.must(t, steward.DetermineConsensus(chair, p.ID, true, "Broad support, no sustained objection."))
			d, _ := w.c.Decision(charter.KindPolicyRatify)
			for _, body := range d.Approval {
				p = w.policy(t, p.ID)
				b := p.Reviews[len(p.Reviews)-1]
				if b.Body != body {
					t.Fatalf("ballot of %s, want %s", b.Body, body)
				}
				w.later(t, b.Opens.Sub(w.m.now))
				for _, h := range w.members[body] {
					w.must(t, steward.VotePolicy(h, p.ID, body, charter.VoteYes, ""))
				}
				w.later(t, 8*24*time.Hour)
			}
			p = w.policy(t, p.ID)
			if p.State != steward.PolicyInForce || p.InForce.IsZero() || !p.Final {
				t.Fatalf("after ratification: %s", p.State)
			}
			// The registry enforces it.
			ctx := context.Background()
			got, err := steward.LoadNumberPolicies(ctx, w.m.st)
			if err != nil || got.Delegation.RIRIPv4Longest != 22 {
				t.Errorf("number policies in force: %+v %v", got.Delegation, err)
			}
			err = req("home")
			if steward.ErrorCode(err) != steward.EINVALID || !strings.Contains(err.Error(), "reserved") || !strings.Contains(err.Error(), "policy 1") {
				t.Errorf("reserved string: %v", err)
			}
			if err := req("x"); steward.ErrorCode(err) != steward.EINVALID {
				t.Errorf("one-letter string: %v", err)
			}
			if err := req("allowed"); err != nil {
				t.Errorf("a string the policy allows: %v", err)
			}
			states := []string{}
			for _, s := range p.Timeline {
				if !slices.Contains(states, s.State) {
					states = append(states, s.State)
				}
			}
			if want := []string{"proposed", "discussion", "review", "last-call", "consensus", "ratification", "in-force"}; !slices.Equal(states, want) {
				t.Errorf("timeline %v, want %v", states, want)
			}
		})
	}
}

func TestPolicyRejectedAppealedWithdrawn(t *testing.T) {
	w := newRequestWorld(t, "community")
	pdp := w.c.PDPFor()
	chair := w.members[pdp.ConsensusBy][0]
	w.must(t, steward.SetChair(steward.ActorInit, pdp.ConsensusBy, chair))
	propose := func() int64 {
		v, err := w.run(t, steward.ProposePolicy("bob", steward.PolicyInput{Title: "T", Text: "text", Params: steward.PolicyParams{TLDStrings: &steward.TLDStringRules{NoDigits: true}}}))
		if err != nil {
			t.Fatal(err)
		}
		return v.(*steward.Policy).ID
	}
	id := propose()
	w.later(t, time.Duration(pdp.Discussion))
	w.later(t, time.Duration(pdp.Review))
	w.later(t, time.Duration(pdp.LastCall))
	w.must(t, steward.DetermineConsensus(chair, id, false, "Sustained objections were not answered."))
	p := w.policy(t, id)
	if p.State != steward.PolicyRejected || p.Appeal == nil || p.Final {
		t.Fatalf("no consensus: %s %+v", p.State, p.Appeal)
	}
	_, err := w.run(t, steward.AppealPolicy("alice", id, "not mine"))
	wantCode(t, err, steward.EFORBIDDEN)
	w.must(t, steward.AppealPolicy("bob", id, "The objections were answered on the list."))
	p = w.policy(t, id)
	if p.State != steward.PolicyAppealed {
		t.Fatalf("appealed: %s", p.State)
	}
	for _, h := range w.members[p.Appeal.Body] {
		w.must(t, steward.VotePolicy(h, id, p.Appeal.Body, charter.VoteYes, ""))
	}
	w.later(t, 8*24*time.Hour)
	if p = w.policy(t, id); p.State != steward.PolicyRatification {
		t.Fatalf("upheld appeal: %s", p.State)
	}
	// Bad input changes nothing.
	for _, in := range []steward.PolicyInput{
		{Title: "", Text: "x"}, {Title: "x", Text: " "},
		{Title: "x", Text: "y", Params: steward.PolicyParams{TLDStrings: &steward.TLDStringRules{MinLength: 70}}},
		{Title: "x", Text: "y", Params: steward.PolicyParams{TLDStrings: &steward.TLDStringRules{Reserved: []string{"not a name"}}}},
		{Title: "x", Text: strings.Repeat("y", 70000)},
	} {
		n := len(w.m.entries)
		if _, err := w.run(t, steward.ProposePolicy("bob", in)); err == nil || len(w.m.entries) != n {
			t.Errorf("bad proposal %q accepted or wrote entries", in.Title)
		}
	}
	if _, err := steward.ParsePolicyParams([]byte(`{"tld_strings":{"min_lenght":3}}`)); steward.ErrorCode(err) != steward.EINVALID {
		t.Errorf("misspelt parameter: %v", err)
	}
	id = propose()
	_, err = w.run(t, steward.WithdrawPolicy("alice", id, ""))
	wantCode(t, err, steward.EFORBIDDEN)
	w.must(t, steward.WithdrawPolicy("bob", id, "superseded"))
	if p = w.policy(t, id); p.State != steward.PolicyWithdrawn || !p.Final {
		t.Errorf("withdrawn: %s", p.State)
	}
}

func (w *requestWorld) policy(t *testing.T, id int64) *steward.Policy {
	t.Helper()
	p, err := steward.LoadPolicy(context.Background(), w.m.st, id)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
