package steward

import (
	"context"
	"fmt"
	"time"

	"steward/charter"
)

// The payloads of request.* events. Each names its request by id.

type requestSubmitted struct {
	ID          int64    `json:"id"`
	Kind        string   `json:"kind"`
	TLD         string   `json:"tld"`
	Reason      string   `json:"reason,omitempty"`
	Change      Change   `json:"change"`
	Charter     int      `json:"charter"`
	Confirms    []string `json:"confirms,omitempty"`
	ConfirmRule string   `json:"confirm_rule,omitempty"`
}

type requestState struct {
	ID       int64        `json:"id"`
	State    string       `json:"state"`
	Note     string       `json:"note,omitempty"`
	Deadline time.Time    `json:"deadline,omitzero"`
	Final    bool         `json:"final,omitempty"`
	Appeal   *AppealState `json:"appeal,omitempty"`
}

type requestHeld struct {
	ID       int64     `json:"id"`
	Hold     string    `json:"hold"`
	Deadline time.Time `json:"deadline,omitzero"`
}

type requestChecked struct {
	ID       int64         `json:"id"`
	Phase    string        `json:"phase"`
	Results  []CheckResult `json:"results"`
	Blocking []string      `json:"blocking,omitempty"`
	Advisory []string      `json:"advisory,omitempty"`
	Passed   bool          `json:"passed"`
}

type requestOverridden struct {
	ID            int64    `json:"id"`
	Cases         []string `json:"cases"`
	Justification string   `json:"justification"`
}

type requestConfirmed struct {
	ID      int64  `json:"id"`
	Contact string `json:"contact"`
	Via     string `json:"via"`
}

type requestBallot struct {
	ID     int64     `json:"id"`
	Body   string    `json:"body"`
	Role   string    `json:"role"`
	Opens  time.Time `json:"opens,omitzero"`
	Closes time.Time `json:"closes,omitzero"`
	Rule   string    `json:"rule,omitempty"`
	// For request.ballot-closed:
	Passed  bool     `json:"passed,omitempty"`
	Reasons []string `json:"reasons,omitempty"`
}

type requestVoted struct {
	ID     int64        `json:"id"`
	Body   string       `json:"body"`
	Member string       `json:"member"`
	Group  string       `json:"group"`
	Region string       `json:"region"`
	Vote   charter.Vote `json:"vote"`
	Reason string       `json:"reason,omitempty"`
}

type requestText struct {
	ID   int64  `json:"id"`
	Body string `json:"body,omitempty"`
	Text string `json:"text"`
}

type requestPublished struct {
	ID     int64  `json:"id"`
	Serial uint32 `json:"serial"`
	Entry  int64  `json:"entry"`
}

type requestRefused struct {
	ID     int64  `json:"id,omitempty"`
	TLD    string `json:"tld,omitempty"`
	Action string `json:"action"`
	Reason string `json:"reason"`
}

// A tracked record (a request, a policy) keeps a timeline of the events
// that changed it; track stamps one and reports whether the record is
// final.
type tracked interface {
	track(e *Event, note string) (final bool)
}

func (r *Request) track(e *Event, note string) bool {
	r.Updated = e.Time
	r.Timeline = append(r.Timeline, Step{Entry: e.Seq, Time: e.Time, Actor: e.Actor, Kind: e.Kind, State: r.State, Note: note})
	return r.Final
}

// updateTracked is the common shape of the appliers of events about an
// existing tracked record: load it, change it, stamp its timeline, drop it
// from the open ones once final, store it.
func updateTracked[R any, PR interface {
	*R
	tracked
}, T any](key, openKey func(int64) string, id func(*T) int64, f func(r PR, e *Event, x *T) (string, error)) applier {
	return applyJSON(func(ctx context.Context, w StateWriter, e *Event, x *T) error {
		r := PR(new(R))
		if err := GetJSON(ctx, w, key(id(x)), r); err != nil {
			return err
		}
		note, err := f(r, e, x)
		if err != nil {
			return err
		}
		if r.track(e, note) {
			if err := w.Delete(ctx, openKey(id(x))); err != nil && ErrorCode(err) != ENOTFOUND {
				return err
			}
		}
		return PutJSON(ctx, w, key(id(x)), r)
	})
}

// countVotes wraps the applier of a vote so that it also counts the vote
// in the participation statistics (by stakeholder group and region).
func countVotes(f applier) applier {
	return func(ctx context.Context, w StateWriter, e *Event) error {
		if err := f(ctx, w, e); err != nil {
			return err
		}
		return forumCount(ctx, w, e, "votes")
	}
}

func updateRequest[T any](id func(*T) int64, f func(r *Request, e *Event, x *T) (string, error)) applier {
	return updateTracked(requestKey, requestOpenKey, id, f)
}

func init() {
	register("request.submitted", applyJSON(func(ctx context.Context, w StateWriter, e *Event, p *requestSubmitted) error {
		var next struct {
			Next int64 `json:"next"`
		}
		if err := GetJSON(ctx, w, keyRequestNext, &next); err != nil && ErrorCode(err) != ENOTFOUND {
			return err
		}
		if next.Next == 0 {
			next.Next = 1
		}
		if p.ID != next.Next {
			return fmt.Errorf("request id %d is not the next, %d", p.ID, next.Next)
		}
		next.Next++
		if err := PutJSON(ctx, w, keyRequestNext, next); err != nil {
			return err
		}
		r := Request{
			ID: p.ID, Kind: p.Kind, TLD: p.TLD, Submitter: e.Actor, Reason: p.Reason,
			Change: p.Change, Charter: p.Charter, State: StateSubmitted,
			Submitted: e.Time, Updated: e.Time, ConfirmRule: p.ConfirmRule,
			Timeline: []Step{{Entry: e.Seq, Time: e.Time, Actor: e.Actor, Kind: e.Kind, State: StateSubmitted}},
		}
		for _, c := range p.Confirms {
			r.Confirms = append(r.Confirms, Confirm{Contact: c})
		}
		for _, k := range []string{requestOpenKey(r.ID), requestTLDKey(r.TLD, r.ID)} {
			if err := w.Put(ctx, k, []byte("{}")); err != nil {
				return err
			}
		}
		return PutJSON(ctx, w, requestKey(r.ID), r)
	}))
	register("request.state", updateRequest(func(p *requestState) int64 { return p.ID }, func(r *Request, e *Event, p *requestState) (string, error) {
		if r.Final {
			return "", fmt.Errorf("request %d is closed (%s)", r.ID, r.State)
		}
		r.State, r.Deadline, r.Final, r.Appealable, r.Hold = p.State, p.Deadline, p.Final, p.Appeal, ""
		return p.Note, nil
	}))
	register("request.held", updateRequest(func(p *requestHeld) int64 { return p.ID }, func(r *Request, e *Event, p *requestHeld) (string, error) {
		r.Hold, r.Deadline = p.Hold, p.Deadline
		return p.Hold, nil
	}))
	register("request.checked", updateRequest(func(p *requestChecked) int64 { return p.ID }, func(r *Request, e *Event, p *requestChecked) (string, error) {
		r.Checks = append(r.Checks, CheckRun{Phase: p.Phase, Entry: e.Seq, Time: e.Time, Results: p.Results, Blocking: p.Blocking, Advisory: p.Advisory, Passed: p.Passed})
		switch {
		case p.Passed && len(p.Advisory) > 0:
			return fmt.Sprintf("%s checks passed; advisory failures: %v", p.Phase, p.Advisory), nil
		case p.Passed:
			return p.Phase + " checks passed", nil
		}
		return fmt.Sprintf("%s checks failed: %v", p.Phase, p.Blocking), nil
	}))
	register("request.overridden", updateRequest(func(p *requestOverridden) int64 { return p.ID }, func(r *Request, e *Event, p *requestOverridden) (string, error) {
		r.Overrides = append(r.Overrides, Override{Cases: p.Cases, Justification: p.Justification, By: e.Actor, Time: e.Time})
		r.Hold = ""
		return "failed checks overridden: " + p.Justification, nil
	}))
	register("request.confirmed", updateRequest(func(p *requestConfirmed) int64 { return p.ID }, func(r *Request, e *Event, p *requestConfirmed) (string, error) {
		for i := range r.Confirms {
			if c := &r.Confirms[i]; c.Contact == p.Contact {
				if !c.Confirmed.IsZero() {
					return "", fmt.Errorf("%s confirmed request %d already", p.Contact, r.ID)
				}
				c.Confirmed, c.Via = e.Time, p.Via
				return fmt.Sprintf("confirmed by %s (%s)", p.Contact, p.Via), nil
			}
		}
		return "", fmt.Errorf("%s is not asked to confirm request %d", p.Contact, r.ID)
	}))
	register("request.ballot-opened", updateRequest(func(p *requestBallot) int64 { return p.ID }, func(r *Request, e *Event, p *requestBallot) (string, error) {
		r.Reviews = append(r.Reviews, Review{Body: p.Body, Role: p.Role, Opens: p.Opens, Closes: p.Closes, Rule: p.Rule})
		if p.Role == "advice" {
			return fmt.Sprintf("advice of %s invited until %s", p.Body, p.Closes.Format(time.RFC3339)), nil
		}
		return fmt.Sprintf("%s ballot of %s opens %s, closes %s", p.Role, p.Body, p.Opens.Format(time.RFC3339), p.Closes.Format(time.RFC3339)), nil
	}))
	register("request.ballot-closed", updateRequest(func(p *requestBallot) int64 { return p.ID }, func(r *Request, e *Event, p *requestBallot) (string, error) {
		rv := r.Review(p.Body, p.Role)
		if rv == nil || rv.Closed {
			return "", fmt.Errorf("no open %s ballot of %s on request %d", p.Role, p.Body, r.ID)
		}
		rv.Closed, rv.Passed, rv.Reasons = true, p.Passed, p.Reasons
		if p.Passed {
			return fmt.Sprintf("%s ballot of %s passed", p.Role, p.Body), nil
		}
		return fmt.Sprintf("%s ballot of %s did not pass", p.Role, p.Body), nil
	}))
	register("request.voted", countVotes(updateRequest(func(p *requestVoted) int64 { return p.ID }, func(r *Request, e *Event, p *requestVoted) (string, error) {
		rv := r.OpenBallot()
		if rv == nil || rv.Body != p.Body {
			return "", fmt.Errorf("no open ballot of %s on request %d", p.Body, r.ID)
		}
		if !p.Vote.Valid() {
			return "", fmt.Errorf("%q is not a vote", p.Vote)
		}
		for _, v := range rv.Votes {
			if v.Member == p.Member {
				return "", fmt.Errorf("%s voted already", p.Member)
			}
		}
		rv.Votes = append(rv.Votes, Vote{Member: p.Member, Group: p.Group, Region: p.Region, Vote: p.Vote, Reason: p.Reason, Time: e.Time})
		return fmt.Sprintf("%s voted %s in %s", p.Member, p.Vote, p.Body), nil
	})))
	register("request.advised", updateRequest(func(p *requestText) int64 { return p.ID }, func(r *Request, e *Event, p *requestText) (string, error) {
		rv := r.Review(p.Body, "advice")
		if rv == nil || rv.Advice != "" {
			return "", fmt.Errorf("%s may not advise on request %d", p.Body, r.ID)
		}
		rv.Advice, rv.AdviceBy = p.Text, e.Actor
		return "advice of " + p.Body, nil
	}))
	register("request.answered", updateRequest(func(p *requestText) int64 { return p.ID }, func(r *Request, e *Event, p *requestText) (string, error) {
		rv := r.Review(p.Body, "advice")
		if rv == nil || rv.Advice == "" || rv.Answer != "" {
			return "", fmt.Errorf("no unanswered advice of %s on request %d", p.Body, r.ID)
		}
		rv.Answer, rv.AnswerBy = p.Text, e.Actor
		return "advice of " + p.Body + " answered", nil
	}))
	register("request.evaluated", updateRequest(func(p *requestText) int64 { return p.ID }, func(r *Request, e *Event, p *requestText) (string, error) {
		r.Evaluation = p.Text
		return "transfer evaluated", nil
	}))
	register("request.implemented", updateRequest(func(p *requestText) int64 { return p.ID }, func(r *Request, e *Event, p *requestText) (string, error) {
		r.Implemented = e.Seq
		return p.Text, nil
	}))
	register("request.published", updateRequest(func(p *requestPublished) int64 { return p.ID }, func(r *Request, e *Event, p *requestPublished) (string, error) {
		if r.State != StateImplemented {
			return "", fmt.Errorf("request %d is %s, not implemented", r.ID, r.State)
		}
		r.State, r.Serial, r.Published, r.Final, r.Deadline = StatePublished, p.Serial, p.Entry, true, time.Time{}
		if p.Serial == 0 {
			return "nothing in the zone changes", nil
		}
		return fmt.Sprintf("published in zone serial %d", p.Serial), nil
	}))
	// A refusal changes no state: the ledger records the attempt.
	register("request.refused", applyJSON(func(ctx context.Context, w StateWriter, e *Event, p *requestRefused) error {
		return nil
	}))
}
