package steward

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"steward/charter"
)

// advance takes every step the request can take by itself now: automatic
// transitions, ballots whose time has come, expiries. It is called after
// every action on a request and by [AdvanceRequests].
func advance(ctx context.Context, tx Tx, c *charter.Charter, id int64) error {
	for range 32 { // every pass takes one step; a request has fewer
		r, err := LoadRequest(ctx, tx, id)
		if err != nil {
			return err
		}
		moved, err := step(ctx, tx, c, r)
		if err != nil || !moved {
			return err
		}
	}
	return fmt.Errorf("request %d does not settle", id)
}

func emitState(ctx context.Context, tx Tx, r *Request, state, note string, deadline time.Time, final bool) error {
	_, err := tx.Emit(ctx, ActorRegistry, "request.state", requestState{ID: r.ID, State: state, Note: note, Deadline: deadline, Final: final})
	return err
}

func expired(tx Tx, r *Request) bool { return !r.Deadline.IsZero() && !tx.Now().Before(r.Deadline) }

// step takes at most one step and reports whether it did.
func step(ctx context.Context, tx Tx, c *charter.Charter, r *Request) (bool, error) {
	if r.Final {
		return false, nil
	}
	now := tx.Now()
	switch r.State {
	case StateSubmitted:
		return true, emitState(ctx, tx, r, StatePreReview, "the request is complete and well formed", time.Time{}, false)
	case StatePreReview:
		if !needsChecks(r.Kind) {
			return true, enterConfirmation(ctx, tx, c, r, "no delegation to check for a "+r.Kind+" request")
		}
		return true, emitState(ctx, tx, r, StateChecks, "waiting for the technical checks", now.Add(time.Duration(c.Requests.HoldWindow)), false)
	case StateChecks, StateRecheck:
		if needsChecks(r.Kind) {
			run := lastRun(r)
			switch {
			case run == nil && expired(tx, r):
				return true, emitState(ctx, tx, r, StateExpired, "the checks did not run in time", time.Time{}, true)
			case run == nil:
				return false, nil
			case !run.Passed && !overriddenSince(r, run.Entry):
				if expired(tx, r) {
					return true, emitState(ctx, tx, r, StateExpired, "the failed checks were neither fixed nor overridden in time", time.Time{}, true)
				}
				return false, nil
			}
		}
		if r.State == StateChecks {
			return true, enterConfirmation(ctx, tx, c, r, "")
		}
		if err := emitState(ctx, tx, r, StateApproved, "approved; the registry implements it", time.Time{}, false); err != nil {
			return false, err
		}
		return true, implement(ctx, tx, r)
	case StateConfirmation:
		if confirmed(r) {
			return true, enterReview(ctx, tx, c, r)
		}
		if expired(tx, r) {
			return true, emitState(ctx, tx, r, StateExpired, "the contacts did not confirm in time", time.Time{}, true)
		}
		return false, nil
	case StateReview, StateAppealed:
		return review(ctx, tx, c, r)
	case StateRejected:
		if r.Appealable != nil && !now.Before(r.Appealable.Until) {
			return true, emitState(ctx, tx, r, StateRejected, "the time to appeal ended", time.Time{}, true)
		}
		return false, nil
	case StateEvaluation:
		if expired(tx, r) {
			return true, emitState(ctx, tx, r, StateExpired, "the transfer was not evaluated in time", time.Time{}, true)
		}
		return false, nil
	case StateApproved:
		return true, implement(ctx, tx, r)
	case StateImplemented:
		if r.Kind == charter.KindTLDUpdateContacts {
			_, err := tx.Emit(ctx, ActorRegistry, "request.published", requestPublished{ID: r.ID})
			return true, err
		}
	}
	return false, nil
}

func overriddenSince(r *Request, entry int64) bool {
	for i := len(r.Timeline) - 1; i >= 0 && r.Timeline[i].Entry > entry; i-- {
		if r.Timeline[i].Kind == "request.overridden" {
			return true
		}
	}
	return false
}

// confirmed reports whether the contacts' confirmations satisfy the rule
// the request was submitted under.
func confirmed(r *Request) bool {
	n := 0
	for _, c := range r.Confirms {
		if !c.Confirmed.IsZero() {
			n++
		}
	}
	if r.ConfirmRule == string(charter.ConfirmAny) {
		return n > 0 || len(r.Confirms) == 0
	}
	return n == len(r.Confirms)
}

func enterConfirmation(ctx context.Context, tx Tx, c *charter.Charter, r *Request, note string) error {
	if len(r.Confirms) == 0 {
		if note == "" {
			note = "the charter asks no contact to confirm"
		}
		return enterReview(ctx, tx, c, r)
	}
	if note == "" {
		names := make([]string, len(r.Confirms))
		for i, cf := range r.Confirms {
			names[i] = cf.Contact
		}
		note = "waiting for " + strings.Join(names, ", ") + " to confirm"
	}
	return emitState(ctx, tx, r, StateConfirmation, note, tx.Now().Add(time.Duration(c.Requests.ConfirmationWindow)), false)
}

// enterReview opens the review the charter asks for: the advice of the
// advisory bodies and the ballot of the first approving body, after the
// comment period. Without approving bodies the request goes on at once.
func enterReview(ctx context.Context, tx Tx, c *charter.Charter, r *Request) error {
	d, ok := c.Decision(r.Kind)
	if !ok || len(d.Approval) == 0 {
		return afterReview(ctx, tx, c, r, "the charter names no body to approve "+r.Kind+" requests")
	}
	now := tx.Now()
	w := d.Windows
	opens := now.Add(time.Duration(w.Comment))
	closes := opens.Add(time.Duration(w.Vote))
	note := fmt.Sprintf("review by %s", strings.Join(d.Approval, ", "))
	if len(d.Advice) > 0 {
		note += fmt.Sprintf("; advice invited from %s", strings.Join(d.Advice, ", "))
	}
	if err := emitState(ctx, tx, r, StateReview, note, closes, false); err != nil {
		return err
	}
	for _, b := range d.Advice {
		if _, err := tx.Emit(ctx, ActorRegistry, "request.ballot-opened", requestBallot{ID: r.ID, Body: b, Role: "advice", Opens: now, Closes: now.Add(time.Duration(w.AdviceAnswer))}); err != nil {
			return err
		}
	}
	_, err := tx.Emit(ctx, ActorRegistry, "request.ballot-opened", requestBallot{ID: r.ID, Body: d.Approval[0], Role: "approval", Opens: opens, Closes: closes, Rule: ruleText(c.RuleFor(r.Kind, d.Approval[0]))})
	return err
}

// afterReview moves an approved request on: a transfer to its evaluation,
// anything else to the final checks.
func afterReview(ctx context.Context, tx Tx, c *charter.Charter, r *Request, note string) error {
	if r.Kind == charter.KindTLDTransfer {
		return emitState(ctx, tx, r, StateEvaluation, note+"; the operator evaluates the transfer", tx.Now().Add(time.Duration(c.Requests.HoldWindow)), false)
	}
	return enterRecheck(ctx, tx, c, r, note)
}

// enterRecheck puts the request to its final checks before implementation.
func enterRecheck(ctx context.Context, tx Tx, c *charter.Charter, r *Request, note string) error {
	if note != "" {
		note += "; "
	}
	return emitState(ctx, tx, r, StateRecheck, note+"final checks before implementation", tx.Now().Add(time.Duration(c.Requests.HoldWindow)), false)
}

// review manages the running ballot: it closes when its time is up, or
// early once every seated voting member has voted and the objection window
// has passed; never while advice awaits an answer.
func review(ctx context.Context, tx Tx, c *charter.Charter, r *Request) (bool, error) {
	d, _ := c.Decision(r.Kind)
	if d == nil {
		d = &charter.Decision{Kind: r.Kind, Windows: c.Windows}
	}
	b := r.OpenBallot()
	if b == nil {
		return true, afterReview(ctx, tx, c, r, "review complete")
	}
	now := tx.Now()
	voters, err := votingMembers(ctx, tx, b.Body)
	if err != nil {
		return false, err
	}
	due := !now.Before(b.Closes)
	allVoted := len(voters) > 0 && len(b.Votes) >= len(voters)
	early := allVoted && !now.Before(b.Opens.Add(time.Duration(d.Windows.Objection)))
	if !due && !early {
		return false, nil
	}
	// Advice must be answered before the deciding body closes; advice
	// still invited holds an early close.
	for _, rv := range r.Reviews {
		if rv.Role != "advice" {
			continue
		}
		if rv.Advice != "" && rv.Answer == "" {
			hold := fmt.Sprintf("the advice of %s awaits an answer with reasons before %s may close", rv.Body, b.Body)
			if r.Hold != hold {
				_, err := tx.Emit(ctx, ActorRegistry, "request.held", requestHeld{ID: r.ID, Hold: hold, Deadline: r.Deadline})
				return true, err
			}
			return false, nil
		}
		if rv.Advice == "" && now.Before(rv.Closes) && !due {
			return false, nil
		}
	}
	out, err := closeBallot(ctx, tx, c, r.Kind, "request.ballot-closed", r.ID, b, len(voters))
	if err != nil {
		return false, err
	}
	if !out.Passed {
		if b.Role == "approval" {
			if a, ok := c.AppealFor(b.Body); ok {
				until := now.Add(time.Duration(a.Window))
				_, err := tx.Emit(ctx, ActorRegistry, "request.state", requestState{ID: r.ID, State: StateRejected, Note: fmt.Sprintf("%s did not approve; the requester may appeal to %s", b.Body, a.To), Deadline: until, Appeal: &AppealState{Body: a.To, Until: until}})
				return true, err
			}
		}
		return true, emitState(ctx, tx, r, StateRejected, b.Body+" did not approve", time.Time{}, true)
	}
	// Open the next approving body's ballot, if any.
	done := 0
	for _, rv := range r.Reviews {
		if rv.Role == "approval" {
			done++
		}
	}
	if b.Role == "appeal" && r.State == StateAppealed {
		if err := emitState(ctx, tx, r, StateReview, b.Body+" upheld the appeal", r.Deadline, false); err != nil {
			return false, err
		}
	}
	if done < len(d.Approval) {
		next := d.Approval[done]
		closes := now.Add(time.Duration(d.Windows.Vote))
		_, err := tx.Emit(ctx, ActorRegistry, "request.ballot-opened", requestBallot{ID: r.ID, Body: next, Role: "approval", Opens: now, Closes: closes, Rule: ruleText(c.RuleFor(r.Kind, next))})
		return true, err
	}
	return true, nil
}

// votingMembers lists the members seated with a vote in body.
func votingMembers(ctx context.Context, r StateReader, body string) ([]Member, error) {
	ms, err := Members(ctx, r, body)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(ms, func(m Member) bool { return m.Capacity != string(charter.CapacityVoting) }), nil
}

// implement applies an approved request to the registry, in the same
// transaction as its approval.
func implement(ctx context.Context, tx Tx, r *Request) error {
	cur, err := LoadTLD(ctx, tx, r.TLD)
	if err != nil && ErrorCode(err) != ENOTFOUND {
		return err
	}
	if cur == nil && r.Kind != charter.KindTLDDelegate || cur != nil && r.Kind == charter.KindTLDDelegate {
		return emitState(ctx, tx, r, StateRejected, "the registry changed meanwhile: "+r.TLD+" is no longer as the request assumed", time.Time{}, true)
	}
	scope := TLDScope(r.TLD)
	old, err := Contacts(ctx, tx, scope)
	if err != nil {
		return err
	}
	setContacts := func(want []string) error {
		for _, h := range old {
			if !slices.Contains(want, h) {
				if _, err := tx.Emit(ctx, ActorRegistry, "role.revoked", Grant{Participant: h, Role: RoleResourceContact, Scope: scope}); err != nil {
					return err
				}
			}
		}
		for _, h := range want {
			if !slices.Contains(old, h) {
				if _, err := tx.Emit(ctx, ActorRegistry, "role.granted", Grant{Participant: h, Role: RoleResourceContact, Scope: scope}); err != nil {
					return err
				}
			}
		}
		return nil
	}
	switch r.Kind {
	case charter.KindTLDRemove:
		if _, err := tx.Emit(ctx, ActorRegistry, "tld.removed", tldRemoved{Name: r.TLD, Reason: fmt.Sprintf("change request %d", r.ID)}); err != nil {
			return err
		}
		if err := setContacts(nil); err != nil {
			return err
		}
	case charter.KindTLDUpdateContacts:
		if err := setContacts(r.Change.Contacts); err != nil {
			return err
		}
	default:
		t, err := proposedTLD(cur, r.TLD, r.Kind, r.Change)
		if err != nil {
			return emitState(ctx, tx, r, StateRejected, "the change no longer applies: "+ErrorMessage(err), time.Time{}, true)
		}
		kind := "tld.changed"
		if cur == nil {
			kind = "tld.delegated"
		}
		if _, err := tx.Emit(ctx, ActorRegistry, kind, t); err != nil {
			return err
		}
		if needsContacts(r.Kind) {
			if err := setContacts(r.Change.Contacts); err != nil {
				return err
			}
		}
	}
	if _, err := tx.Emit(ctx, ActorRegistry, "request.implemented", requestText{ID: r.ID, Text: "the registry holds the change"}); err != nil {
		return err
	}
	note := "implemented; waiting for the next zone publication"
	if r.Kind == charter.KindTLDUpdateContacts {
		note = "implemented"
	}
	return emitState(ctx, tx, r, StateImplemented, note, time.Time{}, false)
}

// markPublished records, in the transaction of a zone publication, that
// every implemented request is carried by its serial.
func markPublished(ctx context.Context, tx Tx, p Publication) error {
	ids, err := OpenRequests(ctx, tx, 10000)
	if err != nil {
		return err
	}
	for _, id := range ids {
		r, err := LoadRequest(ctx, tx, id)
		if err != nil {
			return err
		}
		if r.State == StateImplemented && r.Implemented < p.Entry {
			if _, err := tx.Emit(ctx, ActorRegistry, "request.published", requestPublished{ID: id, Serial: p.Serial, Entry: p.Entry}); err != nil {
				return err
			}
		}
	}
	return nil
}

// closeBallot applies the rule of decisions of kind to ballot b, with
// seated voting members, and records the outcome as an eventKind entry
// about record id.
func closeBallot(ctx context.Context, tx Tx, c *charter.Charter, kind, eventKind string, id int64, b *Review, seated int) (charter.Outcome, error) {
	rule := c.RuleFor(kind, b.Body)
	if rule == nil {
		return charter.Outcome{}, fmt.Errorf("body %s has no decision rule", b.Body)
	}
	ballots := make([]charter.Ballot, len(b.Votes))
	for i, v := range b.Votes {
		ballots[i] = charter.Ballot{Member: v.Member, Group: v.Group, Region: v.Region, Vote: v.Vote}
	}
	out := rule.Evaluate(seated, ballots)
	_, err := tx.Emit(ctx, ActorRegistry, eventKind, requestBallot{ID: id, Body: b.Body, Role: b.Role, Passed: out.Passed, Reasons: out.Reasons})
	return out, err
}
