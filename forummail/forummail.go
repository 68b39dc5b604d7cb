// Package forummail e-mails the forum's participants about what they
// follow: a message at once when someone mentions them (@handle), and a
// digest of new threads, posts, submissions, syntheses and answers on the
// issues, threads and consultations they subscribe to, sent every
// DigestEvery. It follows the ledger, reading the entries appended since
// it started, and sends through an SMTP server (net/smtp, by way of a
// Sender such as workflow.Mailer).
//
// Without a state file a notifier starts at the ledger's head, so it never
// mails about the past, and pending digest lines live in memory only. With
// Config.StateFile it records how far it has read and where the current
// digest began: after a restart it mails what was appended while it was
// down and rebuilds the pending digests from the ledger, so nothing is
// lost and nothing already sent is sent again (except what a crash in the
// middle of a step had sent).
package forummail

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"steward"
	"steward/ledger"
)

// Sender sends one plain-text message.
type Sender interface {
	Send(to, subject, body string) error
}

// Source is what the notifier reads: the state, the private e-mail
// addresses and the ledger.
type Source interface {
	steward.StateReader
	steward.SecretReader
	Head(ctx context.Context) (int64, ledger.Digest, error)
	Entries(ctx context.Context, start, end int64) ([][]byte, error)
}

// Config configures a Notifier.
type Config struct {
	Source  Source
	Mail    Sender
	BaseURL string // the web UI's public URL, for links
	Clock   steward.Clock
	Logger  *slog.Logger
	// DigestEvery is how often digests go out; default 24 hours.
	DigestEvery time.Duration
	// Poll is how often the ledger is read; default 2 seconds.
	Poll time.Duration
	// StateFile, if set, keeps the notifier's place across restarts.
	StateFile string
}

// savedState is what StateFile holds.
type savedState struct {
	Next       int64     `json:"next"`        // the next entry to read
	DigestFrom int64     `json:"digest_from"` // the first entry of the pending digests
	LastDigest time.Time `json:"last_digest"`
}

// Notifier follows the ledger and sends the forum's e-mail. Its methods
// are safe for concurrent use.
type Notifier struct {
	cfg        Config
	mu         sync.Mutex
	next       int64
	started    bool
	lastDigest time.Time
	digestFrom int64
	quiet      bool                // rebuilding digests: send nothing
	pending    map[string][]string // handle → digest lines
}

// New returns a notifier; it does no I/O.
func New(cfg Config) *Notifier {
	if cfg.Clock == nil {
		cfg.Clock = steward.SystemClock{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.DigestEvery == 0 {
		cfg.DigestEvery = 24 * time.Hour
	}
	if cfg.Poll == 0 {
		cfg.Poll = 2 * time.Second
	}
	cfg.BaseURL = strings.TrimSuffix(cfg.BaseURL, "/")
	return &Notifier{cfg: cfg, pending: map[string][]string{}}
}

// Run steps until ctx ends.
func (n *Notifier) Run(ctx context.Context) {
	t := time.NewTicker(n.cfg.Poll)
	defer t.Stop()
	for {
		if err := n.Step(ctx); err != nil && ctx.Err() == nil {
			n.cfg.Logger.Error("forum mail", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Step reads the entries appended since the last step, sends the
// mentions among them, and sends the digests when they are due. The first
// step only notes the ledger's head.
func (n *Notifier) Step(ctx context.Context) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	head, _, err := n.cfg.Source.Head(ctx)
	if err != nil {
		return err
	}
	if !n.started {
		return n.start(ctx, head)
	}
	from := n.next
	if err := n.read(ctx, head); err != nil {
		return err
	}
	if n.cfg.Clock.Now().Sub(n.lastDigest) >= n.cfg.DigestEvery {
		n.lastDigest = n.cfg.Clock.Now()
		err := n.sendDigests(ctx)
		n.digestFrom = n.next
		return errors.Join(err, n.save())
	}
	if n.next != from {
		return n.save()
	}
	return nil
}

// start begins at the ledger's head, or where the state file says the
// notifier stopped, rebuilding the pending digests from the ledger.
func (n *Notifier) start(ctx context.Context, head int64) error {
	n.started, n.next, n.digestFrom, n.lastDigest = true, head, head, n.cfg.Clock.Now()
	if n.cfg.StateFile == "" {
		return nil
	}
	b, err := os.ReadFile(n.cfg.StateFile)
	if errors.Is(err, fs.ErrNotExist) {
		return n.save()
	}
	if err != nil {
		return err
	}
	var st savedState
	if err := json.Unmarshal(b, &st); err != nil || st.Next < 0 || st.DigestFrom < 0 || st.DigestFrom > st.Next || st.Next > head {
		n.cfg.Logger.Warn("forum mail: state file unusable, starting at the ledger's head", "file", n.cfg.StateFile, "err", err)
		return n.save()
	}
	// Rebuild the pending digests without sending anything, then go on
	// from where the last run stopped.
	n.next, n.quiet = st.DigestFrom, true
	err = n.read(ctx, st.Next)
	n.quiet = false
	n.digestFrom, n.lastDigest = st.DigestFrom, st.LastDigest
	return err
}

// read handles the entries from n.next up to end.
func (n *Notifier) read(ctx context.Context, end int64) error {
	for n.next < end {
		stop := min(end, n.next+1000)
		raw, err := n.cfg.Source.Entries(ctx, n.next, stop)
		if err != nil {
			return err
		}
		for _, b := range raw {
			e, err := steward.DecodeEvent(b)
			if err != nil {
				return err
			}
			if err := n.handle(ctx, e); err != nil {
				n.cfg.Logger.Error("forum mail", "entry", e.Seq, "err", err)
			}
			n.next = e.Seq + 1
		}
	}
	return nil
}

// save writes the state file, if any, atomically.
func (n *Notifier) save() error {
	if n.cfg.StateFile == "" {
		return nil
	}
	b, err := json.Marshal(savedState{Next: n.next, DigestFrom: n.digestFrom, LastDigest: n.lastDigest})
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(n.cfg.StateFile), ".forummail-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), n.cfg.StateFile)
}

// SendDigests sends the pending digests now.
func (n *Notifier) SendDigests(ctx context.Context) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.lastDigest = n.cfg.Clock.Now()
	err := n.sendDigests(ctx)
	n.digestFrom = n.next
	return errors.Join(err, n.save())
}

type eventRef struct {
	ID           int64  `json:"id"`
	Thread       int64  `json:"thread"`
	N            int    `json:"n"`
	Consultation int64  `json:"consultation"`
	Issue        string `json:"issue"`
	Title        string `json:"title"`
	Decision     string `json:"decision"`
}

func (n *Notifier) handle(ctx context.Context, e *steward.Event) error {
	if !strings.HasPrefix(e.Kind, "forum.") {
		return nil
	}
	var p eventRef
	if err := json.Unmarshal(e.Payload, &p); err != nil {
		return err
	}
	src := n.cfg.Source
	switch e.Kind {
	case "forum.thread-opened", "forum.post-added":
		tid, num := p.Thread, p.N
		if e.Kind == "forum.thread-opened" {
			tid, num = p.ID, 1
		}
		t, err := steward.LoadThread(ctx, src, tid)
		if err != nil {
			return err
		}
		post, err := steward.LoadPost(ctx, src, tid, num)
		if err != nil {
			return err
		}
		link := fmt.Sprintf("%s/forum/threads/%d?page=%d#p%d", n.cfg.BaseURL, tid, (num-1)/steward.PageSize+1, num)
		mentioned := map[string]bool{}
		for i, h := range steward.Mentions(post.Body) {
			if i == steward.MaxMentions || h == e.Actor {
				break
			}
			if _, err := steward.LoadParticipant(ctx, src, h); err != nil {
				continue
			}
			mentioned[h] = true
			if mode, err := steward.ForumMail(ctx, src, h); err != nil || mode == steward.MailNone {
				continue
			}
			n.mail(ctx, h, fmt.Sprintf("%s mentioned you in %q", e.Actor, t.Title),
				fmt.Sprintf("%s mentioned you in the forum thread %q:\n\n%s\n\nRead and reply: %s\n", e.Actor, t.Title, post.Body, link))
		}
		line := fmt.Sprintf("%s posted in %q: %s", e.Actor, t.Title, link)
		if num == 1 {
			line = fmt.Sprintf("%s opened the thread %q: %s", e.Actor, t.Title, link)
		}
		return n.queue(ctx, e, line, mentioned, "thread:"+fmt.Sprint(tid), "issue:"+t.Issue)
	case "forum.submission-made":
		c, err := steward.LoadConsultation(ctx, src, p.Consultation)
		if err != nil {
			return err
		}
		return n.queue(ctx, e, fmt.Sprintf("%s made submission %d to the consultation %q: %s/forum/consultations/%d#s%d",
			e.Actor, p.N, c.Title, n.cfg.BaseURL, c.ID, p.N), nil, fmt.Sprintf("consultation:%d", c.ID))
	case "forum.synthesis-published":
		c, err := steward.LoadConsultation(ctx, src, p.Consultation)
		if err != nil {
			return err
		}
		return n.queue(ctx, e, fmt.Sprintf("The synthesis of the consultation %q is published: %s/forum/consultations/%d#synthesis",
			c.Title, n.cfg.BaseURL, c.ID), nil, fmt.Sprintf("consultation:%d", c.ID))
	case "forum.consultation-opened":
		if p.Issue == "" {
			return nil
		}
		return n.queue(ctx, e, fmt.Sprintf("A consultation is open: %q: %s/forum/consultations/%d", p.Title, n.cfg.BaseURL, p.ID), nil, "issue:"+p.Issue)
	case "forum.recommendation-answered":
		r, err := steward.LoadRecommendation(ctx, src, p.ID)
		if err != nil || r.Issue == "" {
			return err
		}
		return n.queue(ctx, e, fmt.Sprintf("%s answered the recommendation %q: %s. %s/forum/recommendations/%d",
			r.To, r.Title, p.Decision, n.cfg.BaseURL, r.ID), nil, "issue:"+r.Issue)
	}
	return nil
}

// queue adds a digest line for every subscriber of the targets but the
// actor and those told already.
func (n *Notifier) queue(ctx context.Context, e *steward.Event, line string, skip map[string]bool, targets ...string) error {
	done := map[string]bool{}
	for _, t := range targets {
		subs, err := steward.Subscribers(ctx, n.cfg.Source, t)
		if err != nil {
			return err
		}
		for _, h := range subs {
			if h == e.Actor || skip[h] || done[h] {
				continue
			}
			done[h] = true
			mode, err := steward.ForumMail(ctx, n.cfg.Source, h)
			if err != nil {
				return err
			}
			switch mode {
			case steward.MailImmediate:
				subject := line
				if i := strings.LastIndex(line, ": "+n.cfg.BaseURL+"/"); i > 0 {
					subject = line[:i]
				}
				n.mail(ctx, h, "Forum: "+subject, line+"\n\nYour subscriptions and e-mail settings: "+n.cfg.BaseURL+"/forum/notifications\n")
			case steward.MailDigest:
				if len(n.pending[h]) < 500 {
					n.pending[h] = append(n.pending[h], line)
				}
			}
		}
	}
	return nil
}

func (n *Notifier) sendDigests(ctx context.Context) error {
	for _, h := range slices.Sorted(maps.Keys(n.pending)) {
		lines := n.pending[h]
		var b strings.Builder
		fmt.Fprintf(&b, "What happened in the forum on what you follow:\n\n")
		for _, l := range lines {
			fmt.Fprintf(&b, "- %s\n", l)
		}
		fmt.Fprintf(&b, "\nYour subscriptions and e-mail settings: %s/forum/notifications\n", n.cfg.BaseURL)
		n.mail(ctx, h, fmt.Sprintf("Forum digest: %d new item%s", len(lines), map[bool]string{true: "", false: "s"}[len(lines) == 1]), b.String())
		delete(n.pending, h)
	}
	return nil
}

func (n *Notifier) mail(ctx context.Context, handle, subject, body string) {
	if n.quiet {
		return
	}
	to, err := steward.Email(ctx, n.cfg.Source, handle)
	if err != nil {
		n.cfg.Logger.Warn("forum mail: no address", "participant", handle, "err", err)
		return
	}
	subject = strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' {
			return ' '
		}
		return r
	}, subject)
	if err := n.cfg.Mail.Send(to, subject, body); err != nil {
		n.cfg.Logger.Error("forum mail", "participant", handle, "err", err)
	}
}
