package steward

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"steward/charter"
)

// The policy development process makes the registry's binding policies,
// as the regional registries' processes do:
//
//	proposed → discussion → review → last-call → consensus (determined by
//	the chair of the charter's consensus body, with reasons) → ratification
//	(the bodies that ratify policies vote) → in-force
//
// or withdrawn (by its proposer), rejected (no consensus, or not
// ratified; appealable as the charter says) or expired. A policy carries
// machine-readable parameters that the registry enforces from the moment it
// is in force. Every step is a policy.* event.

// Policy states.
const (
	PolicyDiscussion   = "discussion"
	PolicyReview       = "review"
	PolicyLastCall     = "last-call"
	PolicyConsensus    = "consensus"
	PolicyRatification = "ratification"
	PolicyInForce      = "in-force"
	PolicyWithdrawn    = "withdrawn"
	PolicyRejected     = "rejected"
	PolicyAppealed     = "appealed"
	PolicyExpired      = "expired"
)

// PolicyParams are the parameters a policy puts in force. Each field set
// replaces the registry's rules of that kind.
type PolicyParams struct {
	// Numbers replaces the number resource policy set (the global
	// allocation policies and the delegation sizes).
	Numbers *NumberPolicies `json:"numbers,omitempty"`
	// TLDStrings are the rules a new TLD's string must meet.
	TLDStrings *TLDStringRules `json:"tld_strings,omitempty"`
}

// TLDStringRules are the rules a new TLD string must meet, checked when a
// delegation is requested.
type TLDStringRules struct {
	MinLength int      `json:"min_length,omitempty"` // in octets of the A-label
	MaxLength int      `json:"max_length,omitempty"`
	Reserved  []string `json:"reserved,omitempty"` // strings that may not be delegated
	NoIDN     bool     `json:"no_idn,omitempty"`   // refuse internationalised (xn--) strings
	NoDigits  bool     `json:"no_digits,omitempty"`
}

// Validate checks the rules.
func (r *TLDStringRules) Validate() error {
	if r.MinLength < 0 || r.MinLength > 63 || r.MaxLength < 0 || r.MaxLength > 63 || (r.MaxLength > 0 && r.MaxLength < r.MinLength) {
		return Errorf(EINVALID, "TLD string rules: lengths must be 0 to 63, the maximum at least the minimum")
	}
	if len(r.Reserved) > 1000 {
		return Errorf(EINVALID, "TLD string rules: at most 1,000 reserved strings")
	}
	for i, s := range r.Reserved {
		s = strings.ToLower(s)
		if !ValidTLDName(s) {
			return Errorf(EINVALID, "TLD string rules: reserved string %q is not a TLD name", s)
		}
		r.Reserved[i] = s
	}
	slices.Sort(r.Reserved)
	r.Reserved = slices.Compact(r.Reserved)
	return nil
}

var digitRE = regexp.MustCompile(`[0-9]`)

// Check reports whether name meets the rules, naming the policy that says
// otherwise.
func (r *TLDStringRules) Check(name string, policy int64) error {
	why := func(format string, args ...any) error {
		return Errorf(EINVALID, "%s: %s (policy %d, in force)", name, fmt.Sprintf(format, args...), policy)
	}
	switch {
	case r.MinLength > 0 && len(name) < r.MinLength:
		return why("shorter than %d characters", r.MinLength)
	case r.MaxLength > 0 && len(name) > r.MaxLength:
		return why("longer than %d characters", r.MaxLength)
	case slices.Contains(r.Reserved, name):
		return why("a reserved string")
	case r.NoIDN && strings.HasPrefix(name, "xn--"):
		return why("internationalised strings are not delegated")
	case r.NoDigits && digitRE.MatchString(name):
		return why("digits are not allowed")
	}
	return nil
}

// Policy is a policy with its whole history.
type Policy struct {
	ID        int64        `json:"id"`
	Title     string       `json:"title"`
	Summary   string       `json:"summary"`
	Text      string       `json:"text"`
	Params    PolicyParams `json:"params"`
	Proposer  string       `json:"proposer"`
	State     string       `json:"state"`
	Deadline  time.Time    `json:"deadline,omitzero"`
	Proposed  time.Time    `json:"proposed,omitzero"`
	Updated   time.Time    `json:"updated,omitzero"`
	Final     bool         `json:"final,omitempty"`
	Comments  []Comment    `json:"comments,omitempty"`
	Consensus *Determined  `json:"consensus,omitempty"`
	Reviews   []Review     `json:"reviews,omitempty"` // ratification and appeal ballots
	Appeal    *AppealState `json:"appeal,omitempty"`
	InForce   time.Time    `json:"in_force,omitzero"`
	Timeline  []Step       `json:"timeline"`
}

// Comment is a participant's comment on a policy during its discussion,
// review or last call.
type Comment struct {
	Author string    `json:"author"`
	Stage  string    `json:"stage"`
	Text   string    `json:"text"`
	Time   time.Time `json:"time"`
	Entry  int64     `json:"entry"`
}

// Determined is a consensus determination.
type Determined struct {
	By      string    `json:"by"`
	Body    string    `json:"body"`
	Reached bool      `json:"reached"`
	Reasons string    `json:"reasons"`
	Time    time.Time `json:"time"`
}

func policyKey(id int64) string     { return fmt.Sprintf("pdp/p/%012d", id) }
func policyOpenKey(id int64) string { return fmt.Sprintf("pdp/open/%012d", id) }

const (
	keyPolicyNext  = "pdp/next"
	keyTLDStrings  = "pdp/in-force/tld-strings"
	maxPolicyText  = 64 << 10
	maxComments    = 2000
	maxPolicyTitle = 200
)

type policyProposed struct {
	ID      int64        `json:"id"`
	Title   string       `json:"title"`
	Summary string       `json:"summary,omitempty"`
	Text    string       `json:"text"`
	Params  PolicyParams `json:"params"`
}

type policyDetermined struct {
	ID      int64  `json:"id"`
	Body    string `json:"body"`
	Reached bool   `json:"reached"`
	Reasons string `json:"reasons"`
}

type tldStringsInForce struct {
	Policy int64          `json:"policy"`
	Rules  TLDStringRules `json:"rules"`
}

func (p *Policy) track(e *Event, note string) bool {
	p.Updated = e.Time
	p.Timeline = append(p.Timeline, Step{Entry: e.Seq, Time: e.Time, Actor: e.Actor, Kind: e.Kind, State: p.State, Note: note})
	return p.Final
}

func updatePolicy[T any](id func(*T) int64, f func(p *Policy, e *Event, x *T) (string, error)) applier {
	return updateTracked(policyKey, policyOpenKey, id, f)
}

func init() {
	register("policy.proposed", applyJSON(func(ctx context.Context, w StateWriter, e *Event, x *policyProposed) error {
		var next struct {
			Next int64 `json:"next"`
		}
		if err := GetJSON(ctx, w, keyPolicyNext, &next); err != nil && ErrorCode(err) != ENOTFOUND {
			return err
		}
		if x.ID != max(next.Next, 1) {
			return fmt.Errorf("policy id %d is not the next", x.ID)
		}
		if err := PutJSON(ctx, w, keyPolicyNext, map[string]int64{"next": x.ID + 1}); err != nil {
			return err
		}
		p := Policy{ID: x.ID, Title: x.Title, Summary: x.Summary, Text: x.Text, Params: x.Params, Proposer: e.Actor,
			State: "proposed", Proposed: e.Time, Updated: e.Time,
			Timeline: []Step{{Entry: e.Seq, Time: e.Time, Actor: e.Actor, Kind: e.Kind, State: "proposed"}}}
		if err := w.Put(ctx, policyOpenKey(p.ID), []byte("{}")); err != nil {
			return err
		}
		return PutJSON(ctx, w, policyKey(p.ID), p)
	}))
	register("policy.state", updatePolicy(func(x *requestState) int64 { return x.ID }, func(p *Policy, e *Event, x *requestState) (string, error) {
		if p.Final {
			return "", fmt.Errorf("policy %d is closed (%s)", p.ID, p.State)
		}
		p.State, p.Deadline, p.Final, p.Appeal = x.State, x.Deadline, x.Final, x.Appeal
		if x.State == PolicyInForce {
			p.InForce = e.Time
		}
		return x.Note, nil
	}))
	register("policy.commented", updatePolicy(func(x *requestText) int64 { return x.ID }, func(p *Policy, e *Event, x *requestText) (string, error) {
		if len(p.Comments) >= maxComments {
			return "", fmt.Errorf("policy %d has %d comments already", p.ID, maxComments)
		}
		p.Comments = append(p.Comments, Comment{Author: e.Actor, Stage: p.State, Text: x.Text, Time: e.Time, Entry: e.Seq})
		return "comment by " + e.Actor, nil
	}))
	register("policy.determined", updatePolicy(func(x *policyDetermined) int64 { return x.ID }, func(p *Policy, e *Event, x *policyDetermined) (string, error) {
		p.Consensus = &Determined{By: e.Actor, Body: x.Body, Reached: x.Reached, Reasons: x.Reasons, Time: e.Time}
		if x.Reached {
			return "consensus determined: reached", nil
		}
		return "consensus determined: not reached", nil
	}))
	register("policy.ballot-opened", updatePolicy(func(x *requestBallot) int64 { return x.ID }, func(p *Policy, e *Event, x *requestBallot) (string, error) {
		p.Reviews = append(p.Reviews, Review{Body: x.Body, Role: x.Role, Opens: x.Opens, Closes: x.Closes, Rule: x.Rule})
		return fmt.Sprintf("%s ballot of %s until %s", x.Role, x.Body, x.Closes.Format(time.RFC3339)), nil
	}))
	register("policy.voted", countVotes(updatePolicy(func(x *requestVoted) int64 { return x.ID }, func(p *Policy, e *Event, x *requestVoted) (string, error) {
		rv := openBallot(p.Reviews)
		if rv == nil || rv.Body != x.Body || !x.Vote.Valid() || slices.ContainsFunc(rv.Votes, func(v Vote) bool { return v.Member == x.Member }) {
			return "", fmt.Errorf("vote of %s in %s on policy %d does not apply", x.Member, x.Body, p.ID)
		}
		rv.Votes = append(rv.Votes, Vote{Member: x.Member, Group: x.Group, Region: x.Region, Vote: x.Vote, Reason: x.Reason, Time: e.Time})
		return fmt.Sprintf("%s voted %s in %s", x.Member, x.Vote, x.Body), nil
	})))
	register("policy.ballot-closed", updatePolicy(func(x *requestBallot) int64 { return x.ID }, func(p *Policy, e *Event, x *requestBallot) (string, error) {
		rv := openBallot(p.Reviews)
		if rv == nil || rv.Body != x.Body {
			return "", fmt.Errorf("no open ballot of %s on policy %d", x.Body, p.ID)
		}
		rv.Closed, rv.Passed, rv.Reasons = true, x.Passed, x.Reasons
		if x.Passed {
			return x.Role + " ballot of " + x.Body + " passed", nil
		}
		return x.Role + " ballot of " + x.Body + " did not pass", nil
	}))
	register("policy.tld-strings", applyJSON(func(ctx context.Context, w StateWriter, e *Event, x *tldStringsInForce) error {
		if err := x.Rules.Validate(); err != nil {
			return err
		}
		return PutJSON(ctx, w, keyTLDStrings, x)
	}))
}

func openBallot(rs []Review) *Review {
	for i := range rs {
		if !rs[i].Closed {
			return &rs[i]
		}
	}
	return nil
}

// LoadPolicy reads a policy, or ENOTFOUND.
func LoadPolicy(ctx context.Context, r StateReader, id int64) (*Policy, error) {
	return loadJSON[Policy](ctx, r, policyKey(id), func() error { return Errorf(ENOTFOUND, "no policy %d", id) })
}

// ListPolicies lists policies newest first, before the id given (0: from
// the newest).
func ListPolicies(ctx context.Context, r StateReader, before int64, limit int) ([]Policy, error) {
	var next struct {
		Next int64 `json:"next"`
	}
	if err := GetJSON(ctx, r, keyPolicyNext, &next); err != nil && ErrorCode(err) != ENOTFOUND {
		return nil, err
	}
	id := next.Next - 1
	if before > 0 && before-1 < id {
		id = before - 1
	}
	var out []Policy
	for ; id >= 1 && len(out) < limit; id-- {
		p, err := LoadPolicy(ctx, r, id)
		if err != nil {
			return nil, err
		}
		out = append(out, *p)
	}
	return out, nil
}

// TLDStringsInForce returns the TLD string rules in force and the policy
// that made them, or nil.
func TLDStringsInForce(ctx context.Context, r StateReader) (*TLDStringRules, int64, error) {
	var x tldStringsInForce
	err := GetJSON(ctx, r, keyTLDStrings, &x)
	if ErrorCode(err) == ENOTFOUND {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, err
	}
	return &x.Rules, x.Policy, nil
}

// PolicyInput is a policy proposal.
type PolicyInput struct {
	Title   string       `json:"title"`
	Summary string       `json:"summary,omitempty"`
	Text    string       `json:"text"`
	Params  PolicyParams `json:"params"`
}

// ProposePolicy returns the command by which any participant proposes a
// policy. Its discussion opens at once.
func ProposePolicy(actor string, in PolicyInput) Command {
	return func(ctx context.Context, tx Tx) (any, error) {
		if _, err := LoadParticipant(ctx, tx, actor); err != nil {
			if ErrorCode(err) == ENOTFOUND {
				return nil, Errorf(EFORBIDDEN, "only registered participants may propose policies")
			}
			return nil, err
		}
		in.Title = strings.TrimSpace(in.Title)
		switch {
		case in.Title == "" || len(in.Title) > maxPolicyTitle || !utf8.ValidString(in.Title):
			return nil, Errorf(EINVALID, "a policy needs a title of at most %d bytes", maxPolicyTitle)
		case strings.TrimSpace(in.Text) == "":
			return nil, Errorf(EINVALID, "a policy needs its text")
		case len(in.Text)+len(in.Summary) > maxPolicyText:
			return nil, Errorf(ETOOLARGE, "the policy's text is over %d bytes", maxPolicyText)
		case !utf8.ValidString(in.Text) || !utf8.ValidString(in.Summary):
			return nil, Errorf(EINVALID, "the policy's text is not valid UTF-8")
		}
		if in.Params.Numbers != nil {
			if err := in.Params.Numbers.Validate(); err != nil {
				return nil, err
			}
		}
		if in.Params.TLDStrings != nil {
			if err := in.Params.TLDStrings.Validate(); err != nil {
				return nil, err
			}
		}
		var next struct {
			Next int64 `json:"next"`
		}
		if err := GetJSON(ctx, tx, keyPolicyNext, &next); err != nil && ErrorCode(err) != ENOTFOUND {
			return nil, err
		}
		id := max(next.Next, 1)
		if _, err := tx.Emit(ctx, actor, "policy.proposed", policyProposed{ID: id, Title: in.Title, Summary: in.Summary, Text: in.Text, Params: in.Params}); err != nil {
			return nil, err
		}
		c, err := CurrentCharter(ctx, tx)
		if err != nil {
			return nil, err
		}
		if err := advancePolicy(ctx, tx, c, id); err != nil {
			return nil, err
		}
		return LoadPolicy(ctx, tx, id)
	}
}

// policyCommand loads a policy and the charter, runs f, and advances the
// policy.
func policyCommand(id int64, f func(ctx context.Context, tx Tx, c *charter.Charter, p *Policy) (any, error)) Command {
	return func(ctx context.Context, tx Tx) (any, error) {
		p, err := LoadPolicy(ctx, tx, id)
		if err != nil {
			return nil, err
		}
		c, err := CurrentCharter(ctx, tx)
		if err != nil {
			return nil, err
		}
		v, err := f(ctx, tx, c, p)
		if err != nil {
			return nil, err
		}
		if _, refused := v.(*Refused); refused {
			return v, nil
		}
		if err := advancePolicy(ctx, tx, c, id); err != nil {
			return nil, err
		}
		return LoadPolicy(ctx, tx, id)
	}
}

// CommentPolicy returns the command by which a participant comments on a
// policy in discussion, review or last call.
func CommentPolicy(actor string, id int64, text string) Command {
	return policyCommand(id, func(ctx context.Context, tx Tx, c *charter.Charter, p *Policy) (any, error) {
		if _, err := LoadParticipant(ctx, tx, actor); err != nil {
			return nil, Errorf(EFORBIDDEN, "only registered participants may comment")
		}
		if err := checkText("the comment", text, true); err != nil {
			return nil, err
		}
		if p.State != PolicyDiscussion && p.State != PolicyReview && p.State != PolicyLastCall {
			return nil, Errorf(ECONFLICT, "policy %d is %s: comments are taken in discussion, review and last call", id, p.State)
		}
		if !tx.Now().Before(p.Deadline) {
			return nil, Errorf(ECONFLICT, "the %s of policy %d ended at %s", p.State, id, p.Deadline.Format(time.RFC3339))
		}
		_, err := tx.Emit(ctx, actor, "policy.commented", requestText{ID: id, Text: text})
		return nil, err
	})
}

// WithdrawPolicy returns the command by which the proposer withdraws a
// policy not yet in force.
func WithdrawPolicy(actor string, id int64, reason string) Command {
	return policyCommand(id, func(ctx context.Context, tx Tx, c *charter.Charter, p *Policy) (any, error) {
		if actor != p.Proposer {
			return refusePolicy(ctx, tx, actor, id, "withdraw", Errorf(EFORBIDDEN, "only the proposer, %s, may withdraw policy %d", p.Proposer, id))
		}
		if p.Final {
			return nil, Errorf(ECONFLICT, "policy %d is %s", id, p.State)
		}
		if err := checkText("the reason", reason, false); err != nil {
			return nil, err
		}
		_, err := tx.Emit(ctx, actor, "policy.state", requestState{ID: id, State: PolicyWithdrawn, Final: true, Note: reason})
		return nil, err
	})
}

func refusePolicy(ctx context.Context, tx Tx, actor string, id int64, action string, err *Error) (any, error) {
	if _, e := tx.Emit(ctx, actor, "request.refused", requestRefused{ID: id, Action: "policy " + action, Reason: err.Message}); e != nil {
		return nil, e
	}
	return &Refused{Err: err}, nil
}

// DetermineConsensus returns the command by which the chair of the
// charter's consensus body determines, with reasons, whether the last call
// showed consensus.
func DetermineConsensus(actor string, id int64, reached bool, reasons string) Command {
	return policyCommand(id, func(ctx context.Context, tx Tx, c *charter.Charter, p *Policy) (any, error) {
		body := c.PDPFor().ConsensusBy
		chair, err := Chair(ctx, tx, body)
		if err != nil {
			return nil, err
		}
		if chair == "" || actor != chair {
			return refusePolicy(ctx, tx, actor, id, "determine consensus", Errorf(EFORBIDDEN, "consensus is determined by the chair of %s", body))
		}
		if p.State != PolicyConsensus {
			return nil, Errorf(ECONFLICT, "policy %d is %s, not awaiting a consensus determination", id, p.State)
		}
		if err := checkText("the reasons", reasons, true); err != nil {
			return nil, err
		}
		if _, err := tx.Emit(ctx, actor, "policy.determined", policyDetermined{ID: id, Body: body, Reached: reached, Reasons: reasons}); err != nil {
			return nil, err
		}
		if reached {
			return nil, enterRatification(ctx, tx, c, p)
		}
		return nil, rejectPolicy(ctx, tx, c, p, body, "no consensus: "+reasons)
	})
}

// VotePolicy returns the command by which a voting member of the body
// whose ballot is open votes on a policy's ratification or appeal.
func VotePolicy(actor string, id int64, body string, vote charter.Vote, reason string) Command {
	return policyCommand(id, func(ctx context.Context, tx Tx, c *charter.Charter, p *Policy) (any, error) {
		if !vote.Valid() {
			return nil, Errorf(EINVALID, "%q is not a vote: want yes, no, abstain or object", vote)
		}
		if err := checkText("the reason", reason, vote == charter.VoteObject); err != nil {
			return nil, err
		}
		b := openBallot(p.Reviews)
		if b == nil || b.Body != body {
			return nil, Errorf(ECONFLICT, "no ballot of %s is open on policy %d", body, id)
		}
		m, err := LoadMember(ctx, tx, body, actor)
		if ErrorCode(err) == ENOTFOUND || (err == nil && m.Capacity != string(charter.CapacityVoting)) {
			return refusePolicy(ctx, tx, actor, id, "vote", Errorf(EFORBIDDEN, "%s holds no voting seat in %s", actor, body))
		} else if err != nil {
			return nil, err
		}
		if now := tx.Now(); now.Before(b.Opens) || !now.Before(b.Closes) {
			return nil, Errorf(ECONFLICT, "the ballot of %s on policy %d is open from %s to %s", body, id, b.Opens.Format(time.RFC3339), b.Closes.Format(time.RFC3339))
		}
		if slices.ContainsFunc(b.Votes, func(v Vote) bool { return v.Member == actor }) {
			return nil, Errorf(ECONFLICT, "%s has voted on policy %d already", actor, id)
		}
		_, err = tx.Emit(ctx, actor, "policy.voted", requestVoted{ID: id, Body: body, Member: actor, Group: m.Group, Region: m.Region, Vote: vote, Reason: reason})
		return nil, err
	})
}

// AppealPolicy returns the command by which the proposer appeals a
// rejection within the charter's window.
func AppealPolicy(actor string, id int64, grounds string) Command {
	return policyCommand(id, func(ctx context.Context, tx Tx, c *charter.Charter, p *Policy) (any, error) {
		if actor != p.Proposer {
			return refusePolicy(ctx, tx, actor, id, "appeal", Errorf(EFORBIDDEN, "only the proposer may appeal policy %d", id))
		}
		if err := checkText("the grounds of the appeal", grounds, true); err != nil {
			return nil, err
		}
		now := tx.Now()
		if p.State != PolicyRejected || p.Appeal == nil || !now.Before(p.Appeal.Until) {
			return nil, Errorf(ECONFLICT, "policy %d cannot be appealed", id)
		}
		vote := time.Duration(c.WindowsFor(charter.KindPolicyRatify).Vote)
		if _, err := tx.Emit(ctx, actor, "policy.state", requestState{ID: id, State: PolicyAppealed, Note: grounds, Deadline: now.Add(vote), Appeal: p.Appeal}); err != nil {
			return nil, err
		}
		_, err := tx.Emit(ctx, ActorRegistry, "policy.ballot-opened", requestBallot{ID: id, Body: p.Appeal.Body, Role: "appeal", Opens: now, Closes: now.Add(vote), Rule: ruleText(c.RuleFor(charter.KindPolicyRatify, p.Appeal.Body))})
		return nil, err
	})
}

// AdvancePolicies returns the command that moves open policies along the
// clock; the workflow runner runs it with AdvanceRequests.
func AdvancePolicies(limit int) Command {
	return func(ctx context.Context, tx Tx) (any, error) {
		kvs, err := tx.Scan(ctx, "pdp/open/", "", limit)
		if err != nil || len(kvs) == 0 {
			return 0, err
		}
		c, err := CurrentCharter(ctx, tx)
		if err != nil {
			return nil, err
		}
		for _, kv := range kvs {
			var id int64
			fmt.Sscanf(strings.TrimPrefix(kv.Key, "pdp/open/"), "%d", &id)
			if err := advancePolicy(ctx, tx, c, id); err != nil {
				return nil, fmt.Errorf("policy %d: %w", id, err)
			}
		}
		return len(kvs), nil
	}
}

func emitPolicy(ctx context.Context, tx Tx, id int64, state, note string, deadline time.Time, final bool) error {
	_, err := tx.Emit(ctx, ActorRegistry, "policy.state", requestState{ID: id, State: state, Note: note, Deadline: deadline, Final: final})
	return err
}

// advancePolicy takes the steps the clock allows.
func advancePolicy(ctx context.Context, tx Tx, c *charter.Charter, id int64) error {
	pdp := c.PDPFor()
	for range 16 {
		p, err := LoadPolicy(ctx, tx, id)
		if err != nil || p.Final {
			return err
		}
		now := tx.Now()
		due := !p.Deadline.IsZero() && !now.Before(p.Deadline)
		switch {
		case p.State == "proposed":
			err = emitPolicy(ctx, tx, id, PolicyDiscussion, "open for discussion", now.Add(time.Duration(pdp.Discussion)), false)
		case p.State == PolicyDiscussion && due:
			err = emitPolicy(ctx, tx, id, PolicyReview, "under review", now.Add(time.Duration(pdp.Review)), false)
		case p.State == PolicyReview && due:
			err = emitPolicy(ctx, tx, id, PolicyLastCall, "last call for comments", now.Add(time.Duration(pdp.LastCall)), false)
		case p.State == PolicyLastCall && due:
			err = emitPolicy(ctx, tx, id, PolicyConsensus, "the chair of "+pdp.ConsensusBy+" determines whether there is consensus", now.Add(time.Duration(c.Requests.HoldWindow)), false)
		case p.State == PolicyConsensus && due:
			err = emitPolicy(ctx, tx, id, PolicyExpired, "no consensus determination in time", time.Time{}, true)
		case p.State == PolicyRejected && p.Appeal != nil && due:
			err = emitPolicy(ctx, tx, id, PolicyRejected, "the time to appeal ended", time.Time{}, true)
		case p.State == PolicyRatification || p.State == PolicyAppealed:
			var moved bool
			if moved, err = policyBallot(ctx, tx, c, p); err == nil && !moved {
				return nil
			}
		default:
			return nil
		}
		if err != nil {
			return err
		}
	}
	return fmt.Errorf("policy %d does not settle", id)
}

// enterRatification opens the ballot of the first body that ratifies
// policies, or puts the policy in force if the charter names none.
func enterRatification(ctx context.Context, tx Tx, c *charter.Charter, p *Policy) error {
	d, ok := c.Decision(charter.KindPolicyRatify)
	if !ok || len(d.Approval) == 0 {
		return putInForce(ctx, tx, p, "the charter names no body to ratify policies")
	}
	now := tx.Now()
	opens := now.Add(time.Duration(d.Windows.Comment))
	closes := opens.Add(time.Duration(d.Windows.Vote))
	if err := emitPolicy(ctx, tx, p.ID, PolicyRatification, "ratification by "+strings.Join(d.Approval, ", "), closes, false); err != nil {
		return err
	}
	_, err := tx.Emit(ctx, ActorRegistry, "policy.ballot-opened", requestBallot{ID: p.ID, Body: d.Approval[0], Role: "approval", Opens: opens, Closes: closes, Rule: ruleText(c.RuleFor(charter.KindPolicyRatify, d.Approval[0]))})
	return err
}

func rejectPolicy(ctx context.Context, tx Tx, c *charter.Charter, p *Policy, body, note string) error {
	if a, ok := c.AppealFor(body); ok {
		until := tx.Now().Add(time.Duration(a.Window))
		_, err := tx.Emit(ctx, ActorRegistry, "policy.state", requestState{ID: p.ID, State: PolicyRejected, Note: note + "; the proposer may appeal to " + a.To, Deadline: until, Appeal: &AppealState{Body: a.To, Until: until}})
		return err
	}
	return emitPolicy(ctx, tx, p.ID, PolicyRejected, note, time.Time{}, true)
}

// policyBallot closes the running ballot when its time is up or every
// voting member has voted, and opens the next or puts the policy in force.
func policyBallot(ctx context.Context, tx Tx, c *charter.Charter, p *Policy) (bool, error) {
	d, _ := c.Decision(charter.KindPolicyRatify)
	b := openBallot(p.Reviews)
	if b == nil || d == nil {
		return false, nil
	}
	voters, err := votingMembers(ctx, tx, b.Body)
	if err != nil {
		return false, err
	}
	now := tx.Now()
	if now.Before(b.Closes) && (len(voters) == 0 || len(b.Votes) < len(voters) || now.Before(b.Opens.Add(time.Duration(d.Windows.Objection)))) {
		return false, nil
	}
	out, err := closeBallot(ctx, tx, c, charter.KindPolicyRatify, "policy.ballot-closed", p.ID, b, len(voters))
	if err != nil {
		return false, err
	}
	if !out.Passed {
		if b.Role == "appeal" {
			return true, emitPolicy(ctx, tx, p.ID, PolicyRejected, b.Body+" dismissed the appeal", time.Time{}, true)
		}
		return true, rejectPolicy(ctx, tx, c, p, b.Body, b.Body+" did not ratify it")
	}
	// An upheld appeal of a failed consensus sends the policy to
	// ratification; of a failed ratification, on to the next body.
	done := 0
	for _, rv := range p.Reviews {
		if rv.Role == "approval" && (rv.Closed || rv.Body == b.Body) {
			done++
		}
	}
	if b.Role == "appeal" && p.Consensus != nil && !p.Consensus.Reached && done == 0 {
		return true, enterRatification(ctx, tx, c, p)
	}
	if done < len(d.Approval) {
		next := d.Approval[done]
		_, err := tx.Emit(ctx, ActorRegistry, "policy.ballot-opened", requestBallot{ID: p.ID, Body: next, Role: "approval", Opens: now, Closes: now.Add(time.Duration(d.Windows.Vote)), Rule: ruleText(c.RuleFor(charter.KindPolicyRatify, next))})
		if err == nil && p.State == PolicyAppealed {
			err = emitPolicy(ctx, tx, p.ID, PolicyRatification, b.Body+" upheld the appeal", now.Add(time.Duration(d.Windows.Vote)), false)
		}
		return true, err
	}
	return true, putInForce(ctx, tx, p, "ratified")
}

// putInForce makes the registry enforce the policy's parameters, in the
// transaction that puts it in force.
func putInForce(ctx context.Context, tx Tx, p *Policy, note string) error {
	if n := p.Params.Numbers; n != nil {
		if _, err := tx.Emit(ctx, ActorRegistry, "block.policy-set", PolicySetPayload{Policies: *n, Reason: fmt.Sprintf("policy %d: %s", p.ID, p.Title)}); err != nil {
			return err
		}
	}
	if r := p.Params.TLDStrings; r != nil {
		if _, err := tx.Emit(ctx, ActorRegistry, "policy.tld-strings", tldStringsInForce{Policy: p.ID, Rules: *r}); err != nil {
			return err
		}
	}
	return emitPolicy(ctx, tx, p.ID, PolicyInForce, note+"; in force", time.Time{}, true)
}

// ParsePolicyParams reads policy parameters from JSON, strictly.
func ParsePolicyParams(b []byte) (PolicyParams, error) {
	var p PolicyParams
	if len(strings.TrimSpace(string(b))) == 0 {
		return p, nil
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return p, Errorf(EINVALID, "the parameters are not valid JSON of the form {\"numbers\": {…}, \"tld_strings\": {…}}: %v", err)
	}
	return p, nil
}
