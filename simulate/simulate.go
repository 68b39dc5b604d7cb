// Package simulate replays the change requests recorded in an instance's
// ledger under another charter: which bodies would have had to decide, the
// outcome where the recorded votes allow one, and how long each request
// would have taken. A community can so compare the WGIG's four models, the
// post-2016 arrangement and its own charter on its own history.
//
// A Simulator observes the ledger entry by entry, with the state just after
// each (as steward audit replays it), and reports at the end.
package simulate

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"steward"
	"steward/charter"
)

// Outcomes of a request.
const (
	Approved     = "approved"     // every approving body would have passed it
	NoReview     = "no-review"    // the charter names no approving body: approved without a vote
	Rejected     = "rejected"     // an approving body would not have passed it
	Undetermined = "undetermined" // a body the charter names did not vote on the record
	BeforeReview = "ended-before-review"
	Open         = "open" // still open in the ledger
)

// Path is how one request went, or would have gone.
type Path struct {
	Bodies  []string `json:"bodies"`           // approving bodies, in order
	Advice  []string `json:"advice,omitempty"` // advisory bodies whose advice would be invited
	Outcome string   `json:"outcome"`
	// Decided lists, per approving body, the result: "passed", "not
	// passed", or "no votes recorded".
	Decided []string `json:"decided,omitempty"`
	// Reasons explains each evaluated ballot.
	Reasons []string `json:"reasons,omitempty"`
	Days    float64  `json:"days"` // from submission to the end
}

// Request is the comparison for one request.
type Request struct {
	ID        int64  `json:"id"`
	Kind      string `json:"kind"`
	TLD       string `json:"tld"`
	State     string `json:"state"` // its recorded state
	Recorded  Path   `json:"recorded"`
	Simulated Path   `json:"simulated"`
}

// Totals sum up a report.
type Totals struct {
	Requests     int            `json:"requests"`
	Same         int            `json:"same_outcome"`
	Different    int            `json:"different_outcome"`
	Undetermined int            `json:"undetermined"`
	RecordedDays float64        `json:"recorded_days_mean"`
	SimDays      float64        `json:"simulated_days_mean"`
	Bodies       map[string]int `json:"bodies"` // body -> requests it would decide
	Outcomes     map[string]int `json:"outcomes"`
}

// Report is the result of a simulation.
type Report struct {
	Charter  string    `json:"charter"`
	Instance string    `json:"instance,omitempty"`
	Requests []Request `json:"requests"`
	Totals   Totals    `json:"totals"`
}

// Simulator accumulates what it needs while the ledger is replayed.
type Simulator struct {
	c *charter.Charter
	// seated[id][body] is the voting membership of body when request id's
	// last ballot closed (or its review began).
	seated map[int64]map[string][]steward.Member
	last   steward.StateReader
}

// New returns a simulator of the charter c.
func New(c *charter.Charter) *Simulator {
	return &Simulator{c: c, seated: map[int64]map[string][]steward.Member{}}
}

// Observe takes one replayed entry and the state just after it.
func (s *Simulator) Observe(e *steward.Event, st steward.StateReader) error {
	s.last = st
	if e.Kind != "request.ballot-opened" && e.Kind != "request.ballot-closed" {
		return nil
	}
	var p struct {
		ID int64 `json:"id"`
	}
	if err := json.Unmarshal(e.Payload, &p); err != nil {
		return fmt.Errorf("entry %d: %w", e.Seq, err)
	}
	ctx := context.Background()
	m := map[string][]steward.Member{}
	for _, b := range s.c.Bodies {
		ms, err := steward.Members(ctx, st, b.ID)
		if err != nil {
			return err
		}
		m[b.ID] = slices.DeleteFunc(ms, func(x steward.Member) bool { return x.Capacity != string(charter.CapacityVoting) })
	}
	s.seated[p.ID] = m
	return nil
}

// Report compares every request recorded in the ledger.
func (s *Simulator) Report(ctx context.Context) (*Report, error) {
	rep := &Report{Charter: s.c.Name, Totals: Totals{Bodies: map[string]int{}, Outcomes: map[string]int{}}}
	if s.last == nil {
		return rep, nil
	}
	if in, err := steward.LoadInstance(ctx, s.last); err == nil {
		rep.Instance = in.Name
	}
	var before int64
	var all []steward.Request
	for {
		page, err := steward.ListRequests(ctx, s.last, "", before, 500)
		if err != nil {
			return nil, err
		}
		all = append(all, page...)
		if len(page) < 500 {
			break
		}
		before = page[len(page)-1].ID
	}
	slices.Reverse(all) // oldest first
	var recDays, simDays float64
	for i := range all {
		r := &all[i]
		q := Request{ID: r.ID, Kind: r.Kind, TLD: r.TLD, State: r.State, Recorded: recorded(r), Simulated: s.simulate(r)}
		rep.Requests = append(rep.Requests, q)
		t := &rep.Totals
		t.Requests++
		t.Outcomes[q.Simulated.Outcome]++
		for _, b := range q.Simulated.Bodies {
			t.Bodies[b]++
		}
		switch {
		case q.Simulated.Outcome == Undetermined:
			t.Undetermined++
		case same(q.Recorded.Outcome, q.Simulated.Outcome):
			t.Same++
		default:
			t.Different++
		}
		recDays += q.Recorded.Days
		simDays += q.Simulated.Days
	}
	if n := float64(rep.Totals.Requests); n > 0 {
		rep.Totals.RecordedDays, rep.Totals.SimDays = round(recDays/n), round(simDays/n)
	}
	return rep, nil
}

func same(a, b string) bool {
	pass := func(o string) bool { return o == Approved || o == NoReview }
	return a == b || pass(a) && pass(b)
}

func round(d float64) float64 { return float64(int64(d*10+0.5)) / 10 }

func days(d time.Duration) float64 { return round(d.Hours() / 24) }

// end is when the request reached its final (or current) state.
func end(r *steward.Request) time.Time { return r.Timeline[len(r.Timeline)-1].Time }

// reviewSpan returns when the request entered review and when its review
// ended (its last ballot closed), or zero times if it never reached review.
func reviewSpan(r *steward.Request) (from, to time.Time) {
	for _, st := range r.Timeline {
		if st.Kind == "request.state" && st.State == steward.StateReview && from.IsZero() {
			from = st.Time
		}
		if st.Kind == "request.ballot-closed" {
			to = st.Time
		}
	}
	if !from.IsZero() && to.IsZero() {
		// Review without ballots: it ended when the next state began.
		for _, st := range r.Timeline {
			if st.Time.After(from) && st.State != steward.StateReview {
				return from, st.Time
			}
		}
		to = from
	}
	return from, to
}

func recorded(r *steward.Request) Path {
	p := Path{Days: days(end(r).Sub(r.Submitted))}
	for _, rv := range r.Reviews {
		switch rv.Role {
		case "advice":
			p.Advice = append(p.Advice, rv.Body)
			continue
		case "approval", "appeal":
			p.Bodies = append(p.Bodies, rv.Body)
		}
		switch {
		case !rv.Closed:
			p.Decided = append(p.Decided, "open")
		case rv.Passed:
			p.Decided = append(p.Decided, "passed")
		default:
			p.Decided = append(p.Decided, "not passed")
		}
	}
	from, _ := reviewSpan(r)
	switch {
	case !r.Final:
		p.Outcome = Open
	case r.State == steward.StateRejected && len(p.Bodies) > 0:
		p.Outcome = Rejected
	case from.IsZero() && r.State != steward.StatePublished:
		p.Outcome = BeforeReview
	case len(p.Bodies) == 0:
		p.Outcome = NoReview
	case r.State == steward.StatePublished:
		p.Outcome = Approved
	default:
		p.Outcome = r.State
	}
	return p
}

// simulate decides how r would have gone under the simulator's charter,
// using the recorded votes of bodies it names and the recorded times of
// the stages that do not depend on the charter (checks, confirmation,
// implementation). The review takes the charter's full windows: a comment
// period, then each approving body's vote window in turn.
func (s *Simulator) simulate(r *steward.Request) Path {
	p := Path{}
	d, ok := s.c.Decision(r.Kind)
	w := s.c.WindowsFor(r.Kind)
	if ok {
		p.Bodies, p.Advice = slices.Clone(d.Approval), slices.Clone(d.Advice)
	}
	from, to := reviewSpan(r)
	if from.IsZero() {
		// It ended (or waits) before any review: the same under any charter.
		p.Outcome, p.Days = BeforeReview, days(end(r).Sub(r.Submitted))
		if !r.Final {
			p.Outcome = Open
		}
		return p
	}
	before := from.Sub(r.Submitted)
	after := end(r).Sub(to)
	if r.State != steward.StatePublished {
		after = 0 // rejected on the record: no implementation time to carry over
	}
	if len(p.Bodies) == 0 {
		p.Outcome = NoReview
		p.Days = days(before + after)
		if r.State != steward.StatePublished {
			p.Days = days(before)
		}
		return p
	}
	review := time.Duration(w.Comment)
	p.Outcome = Approved
	for _, b := range p.Bodies {
		review += time.Duration(w.Vote)
		var votes []steward.Vote
		found := false
		for _, rv := range r.Reviews {
			if rv.Body == b && rv.Role != "advice" {
				votes, found = append(votes, rv.Votes...), true
			}
		}
		if !found || len(votes) == 0 {
			p.Decided = append(p.Decided, "no votes recorded")
			p.Outcome = Undetermined
			break
		}
		rule := s.c.RuleFor(r.Kind, b)
		if rule == nil {
			p.Decided = append(p.Decided, "no rule")
			p.Outcome = Undetermined
			break
		}
		ballots := make([]charter.Ballot, len(votes))
		for i, v := range votes {
			ballots[i] = charter.Ballot{Member: v.Member, Group: v.Group, Region: v.Region, Vote: v.Vote}
		}
		seated := len(s.seated[r.ID][b])
		if seated == 0 {
			seated = len(votes)
		}
		out := rule.Evaluate(seated, ballots)
		p.Reasons = append(p.Reasons, out.Reasons...)
		if !out.Passed {
			p.Decided = append(p.Decided, "not passed")
			p.Outcome = Rejected
			break
		}
		p.Decided = append(p.Decided, "passed")
	}
	p.Days = days(before + review)
	if p.Outcome == Approved {
		p.Days = days(before + review + after)
	}
	return p
}
