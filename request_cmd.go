package steward

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"steward/charter"
)

// RequestInput is what a requester submits.
type RequestInput struct {
	Kind   string `json:"kind"`
	TLD    string `json:"tld"`
	Reason string `json:"reason,omitempty"`
	Change Change `json:"change"`
}

// Refused is the result of a command that refused an action and recorded
// the refusal in the ledger, as a security event: the command commits (the
// record) and the caller reports Err. Use [Unrefuse] on every result of
// the request commands.
type Refused struct{ Err error }

// Unrefuse turns a *Refused result into its error.
func Unrefuse(v any, err error) (any, error) {
	if r, ok := v.(*Refused); ok {
		return nil, r.Err
	}
	return v, err
}

// refuse records that actor was refused action on a request and returns the
// refusal.
func refuse(ctx context.Context, tx Tx, actor string, id int64, tld, action string, err *Error) (any, error) {
	if _, e := tx.Emit(ctx, actor, "request.refused", requestRefused{ID: id, TLD: tld, Action: action, Reason: err.Message}); e != nil {
		return nil, e
	}
	return &Refused{Err: err}, nil
}

const (
	maxRequestText = 4000 // reasons, advice, answers, justifications
	maxContacts    = 10
)

func checkText(what, s string, required bool) error {
	switch {
	case required && strings.TrimSpace(s) == "":
		return Errorf(EINVALID, "%s is required", what)
	case len(s) > maxRequestText:
		return Errorf(ETOOLARGE, "%s is %d bytes; at most %d", what, len(s), maxRequestText)
	case !utf8.ValidString(s):
		return Errorf(EINVALID, "%s is not valid UTF-8", what)
	}
	return nil
}

// needsContacts reports whether a request of kind names new contacts.
func needsContacts(kind string) bool {
	return kind == charter.KindTLDDelegate || kind == charter.KindTLDTransfer || kind == charter.KindTLDUpdateContacts
}

// needsChecks reports whether a request of kind changes a delegation that
// the technical checks test.
func needsChecks(kind string) bool {
	return kind != charter.KindTLDRemove && kind != charter.KindTLDUpdateContacts
}

// proposedTLD returns the TLD as it would be after the change, or nil for a
// removal or a contacts change.
func proposedTLD(cur *TLD, name, kind string, ch Change) (*TLD, error) {
	var t TLD
	switch kind {
	case charter.KindTLDDelegate:
		if strings.TrimSpace(ch.Manager) == "" {
			return nil, Errorf(EINVALID, "a new delegation needs a manager (the organisation that will manage %s)", name)
		}
		t = TLD{Name: name, NS: slices.Clone(ch.NS), Glue: slices.Clone(ch.Glue), DS: slices.Clone(ch.DS), Manager: ch.Manager}
	case charter.KindTLDUpdateNS:
		t = *cur
		t.NS, t.Glue = slices.Clone(ch.NS), slices.Clone(ch.Glue)
	case charter.KindTLDUpdateDS:
		t = *cur
		t.DS = slices.Clone(ch.DS)
	case charter.KindTLDTransfer:
		if strings.TrimSpace(ch.Manager) == "" {
			return nil, Errorf(EINVALID, "a transfer needs the new manager")
		}
		if ch.Manager == cur.Manager {
			return nil, Errorf(EINVALID, "%s is managed by %s already", name, ch.Manager)
		}
		t = *cur
		t.Manager = ch.Manager
	default:
		return nil, nil
	}
	t.Updated = time.Time{}
	if len(t.Manager) > 200 || !utf8.ValidString(t.Manager) {
		return nil, Errorf(EINVALID, "the manager's name must be valid UTF-8 of at most 200 bytes")
	}
	if err := t.Normalize(); err != nil {
		return nil, err
	}
	return &t, nil
}

func normalizeContacts(ctx context.Context, r StateReader, in []string) ([]string, error) {
	if len(in) == 0 {
		return nil, Errorf(EINVALID, "name at least one contact (a participant's handle)")
	}
	if len(in) > maxContacts {
		return nil, Errorf(EINVALID, "at most %d contacts", maxContacts)
	}
	out := slices.Clone(in)
	slices.Sort(out)
	out = slices.Compact(out)
	for _, h := range out {
		if !ValidHandle(h) {
			return nil, Errorf(EINVALID, "contact %q is not a participant handle", h)
		}
		if _, err := LoadParticipant(ctx, r, h); err != nil {
			if ErrorCode(err) == ENOTFOUND {
				return nil, Errorf(EINVALID, "contact %s is not a registered participant", h)
			}
			return nil, err
		}
	}
	return out, nil
}

// openRequestFor returns the id of an open request for tld, or 0.
func openRequestFor(ctx context.Context, r StateReader, tld string) (int64, error) {
	kvs, err := ScanAll(ctx, r, "req/tld/"+tld+"/")
	if err != nil {
		return 0, err
	}
	for i := len(kvs) - 1; i >= 0; i-- {
		var id int64
		fmt.Sscanf(strings.TrimPrefix(kvs[i].Key, "req/tld/"+tld+"/"), "%d", &id)
		if _, err := r.Get(ctx, requestOpenKey(id)); err == nil {
			return id, nil
		} else if ErrorCode(err) != ENOTFOUND {
			return 0, err
		}
	}
	return 0, nil
}

// SubmitRequest returns the command by which a participant submits a
// change request. Only a TLD's contacts (or, for a removal, an operator)
// may request a change to it; any participant may ask for a new TLD.
func SubmitRequest(actor string, in RequestInput) Command {
	return func(ctx context.Context, tx Tx) (any, error) {
		if _, err := LoadParticipant(ctx, tx, actor); err != nil {
			if ErrorCode(err) == ENOTFOUND {
				return nil, Errorf(EFORBIDDEN, "only registered participants may submit change requests")
			}
			return nil, err
		}
		if !slices.Contains(RequestKinds, in.Kind) {
			return nil, Errorf(EINVALID, "unknown kind of change request %q: want one of %s", in.Kind, strings.Join(RequestKinds, ", "))
		}
		name := strings.TrimSuffix(strings.ToLower(in.TLD), ".")
		if !ValidTLDName(name) {
			return nil, Errorf(EINVALID, "%q is not a valid TLD name", in.TLD)
		}
		if err := checkText("the reason", in.Reason, false); err != nil {
			return nil, err
		}
		c, err := CurrentCharter(ctx, tx)
		if err != nil {
			return nil, err
		}
		rec, err := CurrentCharterRecord(ctx, tx)
		if err != nil {
			return nil, err
		}
		cur, err := LoadTLD(ctx, tx, name)
		switch {
		case in.Kind == charter.KindTLDDelegate && err == nil:
			return nil, Errorf(ECONFLICT, "%s is delegated already; ask for a change to it instead", name)
		case in.Kind != charter.KindTLDDelegate && ErrorCode(err) == ENOTFOUND:
			return nil, Errorf(ENOTFOUND, "%s is not delegated", name)
		case err != nil && ErrorCode(err) != ENOTFOUND:
			return nil, err
		}
		var current []string
		if cur != nil {
			if current, err = Contacts(ctx, tx, TLDScope(name)); err != nil {
				return nil, err
			}
			allowed := slices.Contains(current, actor)
			if !allowed && in.Kind == charter.KindTLDRemove {
				if allowed, err = IsOperator(ctx, tx, actor); err != nil {
					return nil, err
				}
			}
			if !allowed {
				return refuse(ctx, tx, actor, 0, name, "submit "+in.Kind, Errorf(EFORBIDDEN, "%s is not a contact of %s: only its contacts may request changes to it", actor, name))
			}
		}
		if in.Kind == charter.KindTLDDelegate {
			rules, policy, err := TLDStringsInForce(ctx, tx)
			if err != nil {
				return nil, err
			}
			if rules != nil {
				if err := rules.Check(name, policy); err != nil {
					return nil, err
				}
			}
		}
		if id, err := openRequestFor(ctx, tx, name); err != nil {
			return nil, err
		} else if id != 0 {
			return nil, Errorf(ECONFLICT, "change request %d for %s is still open; withdraw it or wait for it to close", id, name)
		}

		ch := Change{}
		t, err := proposedTLD(cur, name, in.Kind, in.Change)
		if err != nil {
			return nil, err
		}
		switch in.Kind {
		case charter.KindTLDDelegate:
			ch.NS, ch.Glue, ch.DS, ch.Manager = t.NS, t.Glue, t.DS, t.Manager
		case charter.KindTLDUpdateNS:
			ch.NS, ch.Glue = t.NS, t.Glue
			if slices.Equal(cur.NS, t.NS) && len(cur.Glue) == len(t.Glue) && (len(t.Glue) == 0 || equalJSON(cur.Glue, t.Glue)) {
				return nil, Errorf(EINVALID, "the name servers and glue given are those of %s already", name)
			}
		case charter.KindTLDUpdateDS:
			ch.DS = t.DS
			if len(cur.DS) == len(t.DS) && (len(t.DS) == 0 || equalJSON(cur.DS, t.DS)) {
				return nil, Errorf(EINVALID, "the DS records given are those of %s already", name)
			}
		case charter.KindTLDTransfer:
			ch.Manager = t.Manager
		}
		for _, ds := range ch.DS {
			if !c.Requests.AllowsDSAlgorithm(int(ds.Algorithm)) {
				return nil, Errorf(EINVALID, "DS %d uses DNSSEC algorithm %d, which the charter does not allow (allowed: %v)", ds.KeyTag, ds.Algorithm, c.Requests.DSAlgorithms)
			}
		}
		if needsContacts(in.Kind) {
			if ch.Contacts, err = normalizeContacts(ctx, tx, in.Change.Contacts); err != nil {
				return nil, err
			}
			if in.Kind == charter.KindTLDUpdateContacts && slices.Equal(ch.Contacts, current) {
				return nil, Errorf(EINVALID, "those are the contacts of %s already", name)
			}
		} else if len(in.Change.Contacts) > 0 {
			return nil, Errorf(EINVALID, "a %s request does not change contacts", in.Kind)
		}

		var confirms []string
		if c.Requests.Confirmation != charter.ConfirmNone {
			confirms = append(slices.Clone(current), ch.Contacts...)
			slices.Sort(confirms)
			confirms = slices.Compact(confirms)
		}
		var next struct {
			Next int64 `json:"next"`
		}
		if err := GetJSON(ctx, tx, keyRequestNext, &next); err != nil && ErrorCode(err) != ENOTFOUND {
			return nil, err
		}
		id := max(next.Next, 1)
		if _, err := tx.Emit(ctx, actor, "request.submitted", requestSubmitted{
			ID: id, Kind: in.Kind, TLD: name, Reason: in.Reason, Change: ch, Charter: rec.Version,
			Confirms: confirms, ConfirmRule: string(c.Requests.Confirmation),
		}); err != nil {
			return nil, err
		}
		if err := advance(ctx, tx, c, id); err != nil {
			return nil, err
		}
		return LoadRequest(ctx, tx, id)
	}
}

// mayAct reports whether actor is the submitter or a contact the request
// asks to confirm, who act for the requester.
func mayAct(r *Request, actor string) bool {
	if r.Submitter == actor {
		return true
	}
	for _, c := range r.Confirms {
		if c.Contact == actor {
			return true
		}
	}
	return false
}

// requestCommand loads the request and the charter for a command on an
// existing request, then runs f and advances the request.
func requestCommand(id int64, f func(ctx context.Context, tx Tx, c *charter.Charter, r *Request) (any, error)) Command {
	return func(ctx context.Context, tx Tx) (any, error) {
		r, err := LoadRequest(ctx, tx, id)
		if err != nil {
			return nil, err
		}
		c, err := CurrentCharter(ctx, tx)
		if err != nil {
			return nil, err
		}
		v, err := f(ctx, tx, c, r)
		if err != nil {
			return nil, err
		}
		if _, refused := v.(*Refused); refused {
			return v, nil
		}
		if err := advance(ctx, tx, c, id); err != nil {
			return nil, err
		}
		return LoadRequest(ctx, tx, id)
	}
}

// WithdrawRequest returns the command by which the requester withdraws a
// request that is not yet implemented.
func WithdrawRequest(actor string, id int64, reason string) Command {
	return requestCommand(id, func(ctx context.Context, tx Tx, c *charter.Charter, r *Request) (any, error) {
		if !mayAct(r, actor) {
			return refuse(ctx, tx, actor, id, r.TLD, "withdraw", Errorf(EFORBIDDEN, "only the requester or the TLD's contacts may withdraw request %d", id))
		}
		if r.Final || r.State == StateImplemented || r.State == StateApproved {
			return nil, Errorf(ECONFLICT, "request %d is %s and can no longer be withdrawn", id, r.State)
		}
		if err := checkText("the reason", reason, false); err != nil {
			return nil, err
		}
		_, err := tx.Emit(ctx, actor, "request.state", requestState{ID: id, State: StateWithdrawn, Final: true, Note: reason})
		return nil, err
	})
}

// ConfirmRequest returns the command by which a contact confirms a request.
// via is "web" or "email".
func ConfirmRequest(actor string, id int64, via string) Command {
	return requestCommand(id, func(ctx context.Context, tx Tx, c *charter.Charter, r *Request) (any, error) {
		if via != "web" && via != "email" {
			return nil, Errorf(EINVALID, "confirmation via %q: want web or email", via)
		}
		var me *Confirm
		for i := range r.Confirms {
			if r.Confirms[i].Contact == actor {
				me = &r.Confirms[i]
			}
		}
		if me == nil {
			return refuse(ctx, tx, actor, id, r.TLD, "confirm", Errorf(EFORBIDDEN, "%s is not a contact asked to confirm request %d", actor, id))
		}
		if !me.Confirmed.IsZero() {
			return nil, Errorf(ECONFLICT, "%s confirmed request %d already", actor, id)
		}
		if r.State != StateConfirmation {
			return nil, Errorf(ECONFLICT, "request %d is %s, not waiting for confirmation", id, r.State)
		}
		_, err := tx.Emit(ctx, actor, "request.confirmed", requestConfirmed{ID: id, Contact: actor, Via: via})
		return nil, err
	})
}

// CastVote returns the command by which a member of the body whose ballot
// is open votes on a request.
func CastVote(actor string, id int64, body string, vote charter.Vote, reason string) Command {
	return requestCommand(id, func(ctx context.Context, tx Tx, c *charter.Charter, r *Request) (any, error) {
		if !vote.Valid() {
			return nil, Errorf(EINVALID, "%q is not a vote: want yes, no, abstain or object", vote)
		}
		if err := checkText("the reason", reason, vote == charter.VoteObject); err != nil {
			return nil, err
		}
		b := r.OpenBallot()
		if b == nil || b.Body != body || (r.State != StateReview && r.State != StateAppealed) {
			return nil, Errorf(ECONFLICT, "no ballot of %s is open on request %d", body, id)
		}
		m, err := LoadMember(ctx, tx, body, actor)
		if ErrorCode(err) == ENOTFOUND || (err == nil && m.Capacity != string(charter.CapacityVoting)) {
			return refuse(ctx, tx, actor, id, r.TLD, "vote", Errorf(EFORBIDDEN, "%s holds no voting seat in %s", actor, body))
		} else if err != nil {
			return nil, err
		}
		if c.Roles.SeparationOfDuties && actor == r.Submitter {
			return refuse(ctx, tx, actor, id, r.TLD, "vote", Errorf(EFORBIDDEN, "the charter separates duties: %s submitted request %d and may not vote on it", actor, id))
		}
		now := tx.Now()
		if now.Before(b.Opens) {
			return nil, Errorf(ECONFLICT, "the ballot of %s on request %d opens at %s, after the comment period", body, id, b.Opens.Format(time.RFC3339))
		}
		if !now.Before(b.Closes) {
			return nil, Errorf(ECONFLICT, "the ballot of %s on request %d closed at %s", body, id, b.Closes.Format(time.RFC3339))
		}
		for _, v := range b.Votes {
			if v.Member == actor {
				return nil, Errorf(ECONFLICT, "%s has voted on request %d already (%s)", actor, id, v.Vote)
			}
		}
		_, err = tx.Emit(ctx, actor, "request.voted", requestVoted{ID: id, Body: body, Member: actor, Group: m.Group, Region: m.Region, Vote: vote, Reason: reason})
		return nil, err
	})
}

// GiveAdvice returns the command by which a member of an advisory body
// gives the body's advice on a request, while its advice is invited.
func GiveAdvice(actor string, id int64, body, text string) Command {
	return requestCommand(id, func(ctx context.Context, tx Tx, c *charter.Charter, r *Request) (any, error) {
		if err := checkText("the advice", text, true); err != nil {
			return nil, err
		}
		rv := r.Review(body, "advice")
		if rv == nil || r.Final {
			return nil, Errorf(ECONFLICT, "%s is not invited to advise on request %d", body, id)
		}
		if _, err := LoadMember(ctx, tx, body, actor); ErrorCode(err) == ENOTFOUND {
			return refuse(ctx, tx, actor, id, r.TLD, "advise", Errorf(EFORBIDDEN, "%s is not a member of %s", actor, body))
		} else if err != nil {
			return nil, err
		}
		if rv.Advice != "" {
			return nil, Errorf(ECONFLICT, "%s has advised on request %d already", body, id)
		}
		if !tx.Now().Before(rv.Closes) {
			return nil, Errorf(ECONFLICT, "the time for %s's advice on request %d ended at %s", body, id, rv.Closes.Format(time.RFC3339))
		}
		_, err := tx.Emit(ctx, actor, "request.advised", requestText{ID: id, Body: body, Text: text})
		return nil, err
	})
}

// AnswerAdvice returns the command by which a voting member of a deciding
// body answers an advisory body's advice, with reasons.
func AnswerAdvice(actor string, id int64, body, text string) Command {
	return requestCommand(id, func(ctx context.Context, tx Tx, c *charter.Charter, r *Request) (any, error) {
		if err := checkText("the answer", text, true); err != nil {
			return nil, err
		}
		rv := r.Review(body, "advice")
		if rv == nil || rv.Advice == "" || rv.Answer != "" {
			return nil, Errorf(ECONFLICT, "request %d has no unanswered advice of %s", id, body)
		}
		d, _ := c.Decision(r.Kind)
		ok := false
		for _, b := range d.Approval {
			if m, err := LoadMember(ctx, tx, b, actor); err == nil && m.Capacity == string(charter.CapacityVoting) {
				ok = true
			} else if err != nil && ErrorCode(err) != ENOTFOUND {
				return nil, err
			}
		}
		if !ok {
			return refuse(ctx, tx, actor, id, r.TLD, "answer advice", Errorf(EFORBIDDEN, "only voting members of the deciding bodies (%s) answer advice", strings.Join(d.Approval, ", ")))
		}
		_, err := tx.Emit(ctx, actor, "request.answered", requestText{ID: id, Body: body, Text: text})
		return nil, err
	})
}

// AppealRequest returns the command by which the requester appeals a
// rejection to the body the charter names, within the appeal window.
func AppealRequest(actor string, id int64, reason string) Command {
	return requestCommand(id, func(ctx context.Context, tx Tx, c *charter.Charter, r *Request) (any, error) {
		if !mayAct(r, actor) {
			return refuse(ctx, tx, actor, id, r.TLD, "appeal", Errorf(EFORBIDDEN, "only the requester or the TLD's contacts may appeal request %d", id))
		}
		if err := checkText("the grounds of the appeal", reason, true); err != nil {
			return nil, err
		}
		if r.State != StateRejected || r.Appealable == nil || r.Final {
			return nil, Errorf(ECONFLICT, "request %d is %s and cannot be appealed", id, r.State)
		}
		now := tx.Now()
		if !now.Before(r.Appealable.Until) {
			return nil, Errorf(ECONFLICT, "the time to appeal request %d ended at %s", id, r.Appealable.Until.Format(time.RFC3339))
		}
		to := r.Appealable.Body
		w := c.WindowsFor(r.Kind)
		if _, err := tx.Emit(ctx, actor, "request.state", requestState{ID: id, State: StateAppealed, Note: reason, Deadline: now.Add(time.Duration(w.Vote))}); err != nil {
			return nil, err
		}
		_, err := tx.Emit(ctx, ActorRegistry, "request.ballot-opened", requestBallot{ID: id, Body: to, Role: "appeal", Opens: now, Closes: now.Add(time.Duration(w.Vote)), Rule: ruleText(c.RuleFor(r.Kind, to))})
		return nil, err
	})
}

// EvaluateTransfer returns the command by which an operator records the
// evaluation of a transfer (the new manager's standing, the consent of
// those concerned) and lets it go on to its final checks.
func EvaluateTransfer(actor string, id int64, report string) Command {
	return requestCommand(id, func(ctx context.Context, tx Tx, c *charter.Charter, r *Request) (any, error) {
		if err := requireOperator(ctx, tx, actor, "evaluate transfers"); err != nil {
			return refuse(ctx, tx, actor, id, r.TLD, "evaluate", err.(*Error))
		}
		if err := checkText("the evaluation", report, true); err != nil {
			return nil, err
		}
		if r.State != StateEvaluation {
			return nil, Errorf(ECONFLICT, "request %d is %s, not in evaluation", id, r.State)
		}
		if _, err := tx.Emit(ctx, actor, "request.evaluated", requestText{ID: id, Text: report}); err != nil {
			return nil, err
		}
		return nil, enterRecheck(ctx, tx, c, r, "")
	})
}

// OverrideChecks returns the command by which an operator lets a request
// past its failed blocking checks, with a recorded justification.
func OverrideChecks(actor string, id int64, justification string) Command {
	return requestCommand(id, func(ctx context.Context, tx Tx, c *charter.Charter, r *Request) (any, error) {
		if err := requireOperator(ctx, tx, actor, "override checks"); err != nil {
			return refuse(ctx, tx, actor, id, r.TLD, "override checks", err.(*Error))
		}
		if err := checkText("the justification", justification, true); err != nil {
			return nil, err
		}
		run := lastRun(r)
		if run == nil || run.Passed || (r.State != StateChecks && r.State != StateRecheck) {
			return nil, Errorf(ECONFLICT, "request %d has no failed checks to override", id)
		}
		if c.Roles.SeparationOfDuties && actor == r.Submitter {
			return refuse(ctx, tx, actor, id, r.TLD, "override checks", Errorf(EFORBIDDEN, "the charter separates duties: %s may not override checks on its own request", actor))
		}
		_, err := tx.Emit(ctx, actor, "request.overridden", requestOverridden{ID: id, Cases: run.Blocking, Justification: justification})
		return nil, err
	})
}

// RetryChecks returns the command by which the requester asks for the
// checks to run again after fixing what failed.
func RetryChecks(actor string, id int64) Command {
	return requestCommand(id, func(ctx context.Context, tx Tx, c *charter.Charter, r *Request) (any, error) {
		if !mayAct(r, actor) {
			return refuse(ctx, tx, actor, id, r.TLD, "retry checks", Errorf(EFORBIDDEN, "only the requester or the TLD's contacts may ask for checks on request %d", id))
		}
		run := lastRun(r)
		if run == nil || run.Passed || (r.State != StateChecks && r.State != StateRecheck) {
			return nil, Errorf(ECONFLICT, "request %d is not waiting on failed checks", id)
		}
		_, err := tx.Emit(ctx, actor, "request.state", requestState{ID: id, State: r.State, Deadline: r.Deadline, Note: "checks asked for again"})
		return nil, err
	})
}

// RecordChecks returns the command by which the registry records a run of
// the technical checks on a request waiting for them. Failures in modules
// the charter lists as advisory for the kind are recorded only; every
// other failure blocks.
func RecordChecks(actor string, id int64, results []CheckResult) Command {
	return requestCommand(id, func(ctx context.Context, tx Tx, c *charter.Charter, r *Request) (any, error) {
		if actor != ActorRegistry {
			if err := requireOperator(ctx, tx, actor, "record checks"); err != nil {
				return nil, err
			}
		}
		if !NeedsChecks(r) {
			return nil, Errorf(ECONFLICT, "request %d is not waiting for checks", id)
		}
		phase := "submission"
		if r.State == StateRecheck {
			phase = "implementation"
		}
		p := requestChecked{ID: id, Phase: phase, Results: results, Passed: true}
		var advisory []string
		if d, ok := c.Decision(r.Kind); ok {
			advisory = d.Checks.Advisory
		}
		for _, res := range results {
			if !res.Failed() {
				continue
			}
			name := res.Case
			if name == "" {
				name = res.Module
			}
			if slices.Contains(advisory, res.Module) || slices.Contains(advisory, res.Case) {
				p.Advisory = append(p.Advisory, name)
			} else {
				p.Blocking = append(p.Blocking, name)
				p.Passed = false
			}
		}
		if _, err := tx.Emit(ctx, actor, "request.checked", p); err != nil {
			return nil, err
		}
		if !p.Passed {
			hold := fmt.Sprintf("blocking checks failed (%s): fix them and ask for the checks again, or an operator may override them with a justification", strings.Join(p.Blocking, ", "))
			_, err := tx.Emit(ctx, ActorRegistry, "request.held", requestHeld{ID: id, Hold: hold, Deadline: tx.Now().Add(time.Duration(c.Requests.HoldWindow))})
			return nil, err
		}
		return nil, nil
	})
}

// AdvanceRequests returns the command that moves every open request along
// the clock: ballots close at their deadlines, windows expire. The registry
// runs it periodically; it returns the number of requests examined.
func AdvanceRequests(limit int) Command {
	return func(ctx context.Context, tx Tx) (any, error) {
		ids, err := OpenRequests(ctx, tx, limit)
		if err != nil || len(ids) == 0 {
			return 0, err
		}
		c, err := CurrentCharter(ctx, tx)
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			if err := advance(ctx, tx, c, id); err != nil {
				return nil, fmt.Errorf("request %d: %w", id, err)
			}
		}
		return len(ids), nil
	}
}

// lastRun returns the request's last check run in its current state, or
// nil if none ran since it entered the state.
func lastRun(r *Request) *CheckRun {
	entered := stateEntered(r)
	for i := len(r.Checks) - 1; i >= 0; i-- {
		if r.Checks[i].Entry > entered {
			return &r.Checks[i]
		}
	}
	return nil
}

// stateEntered returns the ledger entry at which the request last entered
// (or re-entered) its state.
func stateEntered(r *Request) int64 {
	for i := len(r.Timeline) - 1; i >= 0; i-- {
		if k := r.Timeline[i].Kind; k == "request.state" || k == "request.submitted" {
			return r.Timeline[i].Entry
		}
	}
	return 0
}

// NeedsChecks reports whether the registry should run the technical checks
// for the request now.
func NeedsChecks(r *Request) bool {
	return !r.Final && (r.State == StateChecks || r.State == StateRecheck) && needsChecks(r.Kind) && lastRun(r) == nil
}

// ChecksTarget returns the delegation the checks of a request test: the
// proposed one for a request still in review, the one to implement at the
// re-check.
func ChecksTarget(ctx context.Context, rd StateReader, r *Request) (*TLD, error) {
	var cur *TLD
	if r.Kind != charter.KindTLDDelegate {
		t, err := LoadTLD(ctx, rd, r.TLD)
		if err != nil {
			return nil, err
		}
		cur = t
	}
	return proposedTLD(cur, r.TLD, r.Kind, r.Change)
}

func ruleText(r *charter.Rule) string {
	if r == nil {
		return ""
	}
	return r.String()
}
