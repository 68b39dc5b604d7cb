// Package workflow runs the steps of change requests that the registry
// takes by itself: it moves requests along the clock, runs the technical
// checks of requests waiting for them and records the results, sends the
// e-mails the process calls for (confirmation links to contacts, ballots
// to body members, outcomes to requesters), and wakes the zone publisher
// when a change is implemented.
//
// Everything it decides is done through the registry's commands, so every
// step is a ledger event; e-mails are side effects, marked as sent outside
// the ledger so that a restart does not send them twice.
package workflow

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"steward"
	"steward/charter"
)

// Store is what the runner needs of a store.
type Store interface {
	steward.StateReader
	Do(ctx context.Context, cmd steward.Command) (any, error)
	Secret(ctx context.Context, key string) ([]byte, error)
}

// Checker runs the technical checks of a delegation under the charter's
// request rules.
type Checker func(ctx context.Context, t steward.TLD, rules charter.Requests) []steward.CheckResult

// Config configures a Runner.
type Config struct {
	Store    Store
	Clock    steward.Clock
	Logger   *slog.Logger
	Check    Checker       // nil: requests wait for checks recorded by an operator
	Mail     *Mailer       // nil: no e-mail
	BaseURL  string        // public URL of the web UI, for links in e-mails
	Interval time.Duration // how often to advance requests; 1 s by default
	// Changed is called after a step implemented a change, to publish it
	// at once (the publisher's Kick).
	Changed func()
}

// Runner runs the registry's own steps.
type Runner struct {
	cfg  Config
	log  *slog.Logger
	wake chan struct{}
	mu   sync.Mutex // serializes Step
}

// New returns a runner.
func New(cfg Config) *Runner {
	if cfg.Clock == nil {
		cfg.Clock = steward.SystemClock{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Interval <= 0 {
		cfg.Interval = time.Second
	}
	return &Runner{cfg: cfg, log: cfg.Logger.With("component", "workflow"), wake: make(chan struct{}, 1)}
}

// SetBaseURL sets the public URL of the web UI for links in e-mail; call
// it before Run.
func (r *Runner) SetBaseURL(u string) { r.cfg.BaseURL = u }

// Wake asks Run to take a step now; it never blocks. The web server calls
// it after every action on a request.
func (r *Runner) Wake() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Run steps every interval, and when woken, until ctx ends.
func (r *Runner) Run(ctx context.Context) {
	t := time.NewTicker(r.cfg.Interval)
	defer t.Stop()
	for {
		if err := r.Step(ctx); err != nil && ctx.Err() == nil {
			r.log.Error("workflow step", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-r.wake:
		}
	}
}

// Step advances every open request once: clock transitions, checks, and
// the e-mails now due.
func (r *Runner) Step(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.cfg.Store
	if _, err := st.Do(ctx, steward.AdvanceRequests(1000)); err != nil {
		return fmt.Errorf("advance: %w", err)
	}
	if _, err := st.Do(ctx, steward.AdvancePolicies(1000)); err != nil {
		return fmt.Errorf("advance policies: %w", err)
	}
	ids, err := steward.OpenRequests(ctx, st, 1000)
	if err != nil {
		return err
	}
	c, err := steward.CurrentCharter(ctx, st)
	if err != nil {
		return err
	}
	changed := false
	for _, id := range ids {
		req, err := steward.LoadRequest(ctx, st, id)
		if err != nil {
			return err
		}
		if steward.NeedsChecks(req) && r.cfg.Check != nil {
			t, err := steward.ChecksTarget(ctx, st, req)
			if err != nil || t == nil {
				r.log.Warn("no delegation to check", "request", id, "err", err)
				continue
			}
			began := time.Now()
			results := r.cfg.Check(ctx, *t, c.Requests)
			took := time.Since(began)
			v, err := st.Do(ctx, steward.RecordChecks(steward.ActorRegistry, id, results))
			if err != nil {
				r.log.Warn("recording checks", "request", id, "err", err)
				continue
			}
			req = v.(*steward.Request)
			r.log.Info("checks recorded", "request", id, "state", req.State, "seconds", took.Seconds())
			if req.State == steward.StateImplemented && r.cfg.Changed != nil {
				r.cfg.Changed() // publish it now, not after the rest of this step
			}
		}
		if req.State == steward.StateImplemented {
			changed = true
		}
		if r.cfg.Mail != nil {
			r.mailFor(ctx, c, req)
		}
	}
	if r.cfg.Mail != nil {
		r.mailOutcomes(ctx)
	}
	if changed && r.cfg.Changed != nil {
		r.cfg.Changed()
	}
	return nil
}

// once sends a mail unless its marker says it was sent, then sets the
// marker.
func (r *Runner) once(ctx context.Context, key string, send func() error) {
	if _, err := r.cfg.Store.Secret(ctx, "done/"+key); err == nil {
		return
	}
	if err := send(); err != nil {
		r.log.Warn("mail not sent", "what", key, "err", err)
		return
	}
	if _, err := r.cfg.Store.Do(ctx, steward.MarkDone(key)); err != nil {
		r.log.Warn("marking mail sent", "what", key, "err", err)
	}
}

func (r *Runner) emailOf(ctx context.Context, handle string) string {
	b, err := r.cfg.Store.Secret(ctx, "email-of/"+handle)
	if err != nil {
		return ""
	}
	return string(b)
}

func (r *Runner) requestURL(id int64) string {
	return fmt.Sprintf("%s/requests/%d", strings.TrimSuffix(r.cfg.BaseURL, "/"), id)
}

// mailFor sends what an open request calls for now: confirmation links to
// contacts who have not confirmed, ballots to the voting members of the
// body whose ballot is open, invitations to advise.
func (r *Runner) mailFor(ctx context.Context, c *charter.Charter, req *steward.Request) {
	switch req.State {
	case steward.StateConfirmation:
		v, err := r.cfg.Store.Do(ctx, steward.LinkKey())
		if err != nil {
			r.log.Warn("link key", "err", err)
			return
		}
		key := v.([]byte)
		for _, cf := range req.Confirms {
			if !cf.Confirmed.IsZero() {
				continue
			}
			to := r.emailOf(ctx, cf.Contact)
			if to == "" {
				continue
			}
			link := r.requestURL(req.ID) + "/confirm?" + steward.ConfirmLinkQuery(key, req.ID, cf.Contact, req.Deadline)
			r.once(ctx, fmt.Sprintf("mail/confirm/%d/%s", req.ID, cf.Contact), func() error {
				return r.cfg.Mail.Send(to, fmt.Sprintf("Please confirm change request %d (%s %s)", req.ID, req.Kind, req.TLD), fmt.Sprintf(
					"%s asked for a change to %s (%s):\n\n  %s\n\nAs a contact of %s you are asked to confirm it. Open this link to review and confirm it\n(valid until %s):\n\n  %s\n\nIf you did not expect this request, do not confirm it; the request page is\n%s\n",
					req.Submitter, req.TLD, req.Kind, oneLine(req.Reason), req.TLD, req.Deadline.Format(time.RFC1123), link, r.requestURL(req.ID)))
			})
		}
	case steward.StateReview, steward.StateAppealed:
		for _, rv := range req.Reviews {
			if rv.Closed || (rv.Role == "advice" && rv.Advice != "") {
				continue
			}
			members, err := steward.Members(ctx, r.cfg.Store, rv.Body)
			if err != nil {
				return
			}
			for _, m := range members {
				if rv.Role != "advice" && m.Capacity != string(charter.CapacityVoting) {
					continue
				}
				to := r.emailOf(ctx, m.Participant)
				if to == "" {
					continue
				}
				what := "vote"
				if rv.Role == "advice" {
					what = "advise"
				}
				r.once(ctx, fmt.Sprintf("mail/%s/%d/%s/%s", rv.Role, req.ID, rv.Body, m.Participant), func() error {
					return r.cfg.Mail.Send(to, fmt.Sprintf("%s: change request %d (%s %s) needs you to %s", rv.Body, req.ID, req.Kind, req.TLD, what), fmt.Sprintf(
						"Change request %d asks for %s on %s:\n\n  %s\n\nAs a member of %s you may %s from %s until %s.\n\n  %s\n",
						req.ID, req.Kind, req.TLD, oneLine(req.Reason), rv.Body, what, rv.Opens.Format(time.RFC1123), rv.Closes.Format(time.RFC1123), r.requestURL(req.ID)))
				})
			}
		}
	}
}

// mailOutcomes tells the requesters of recently closed requests how they
// ended.
func (r *Runner) mailOutcomes(ctx context.Context) {
	reqs, err := steward.ListRequests(ctx, r.cfg.Store, "", 0, 50)
	if err != nil {
		return
	}
	for _, req := range reqs {
		if !req.Final {
			continue
		}
		to := r.emailOf(ctx, req.Submitter)
		if to == "" {
			continue
		}
		last := req.Timeline[len(req.Timeline)-1]
		r.once(ctx, fmt.Sprintf("mail/outcome/%d", req.ID), func() error {
			return r.cfg.Mail.Send(to, fmt.Sprintf("Change request %d (%s %s) is %s", req.ID, req.Kind, req.TLD, req.State), fmt.Sprintf(
				"Your change request %d for %s is %s: %s\n\nIts whole record, with every step and vote:\n\n  %s\n", req.ID, req.TLD, req.State, last.Note, r.requestURL(req.ID)))
		})
	}
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	if s == "" {
		s = "(no reason given)"
	}
	return s
}
