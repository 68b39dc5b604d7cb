package forummail_test

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"steward"
	"steward/charter"
	"steward/forummail"
	"steward/internal/testproc"
	"steward/sqlite"
	"steward/sqlstore"
	"steward/workflow"
)

// forum is a store with the seeded forum and three participants, alice,
// bob and carol, and a notifier mailing to an SMTP sink.
type forum struct {
	ctx   context.Context
	st    *sqlstore.Store
	clock *steward.FakeClock
	smtp  *testproc.SMTPSink
	n     *forummail.Notifier
}

func newForum(t *testing.T) *forum {
	t.Helper()
	ctx := context.Background()
	w, r, err := sqlite.Open(filepath.Join(t.TempDir(), "steward.db"), false)
	if err != nil {
		t.Fatal(err)
	}
	clock := steward.NewFakeClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	st, err := sqlstore.Open(ctx, w, r, sqlite.Dialect{}, sqlstore.Config{Clock: clock, Logger: slog.New(slog.DiscardHandler), CheckpointInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close(); w.Close(); r.Close() })
	f := &forum{ctx: ctx, st: st, clock: clock}
	text, _ := charter.Preset("community")
	f.do(t, steward.CreateInstance(steward.Instance{Origin: "steward.example/mail", Name: "Mail"}, text))
	f.do(t, steward.SeedForum())
	hash, _ := steward.HashPassword("correct horse battery", steward.PasswordParams{Memory: 64, Time: 1, Threads: 1})
	for _, h := range []string{"alice", "bob", "carol"} {
		f.do(t, steward.Register(steward.ActorInit, steward.Registration{Participant: steward.Participant{Handle: h, Name: h, Group: "civil-society", Region: "europe", Languages: []string{"en"}},
			Email: h + "@example.org", PasswordHash: hash}))
	}
	f.smtp = testproc.NewSMTPSink(t)
	mailer, err := workflow.NewMailer(f.smtp.Addr, "forum@steward.example", "", "")
	if err != nil {
		t.Fatal(err)
	}
	f.n = forummail.New(forummail.Config{Source: st, Mail: mailer, BaseURL: "https://forum.example/", Clock: clock, DigestEvery: time.Hour})
	if err := f.n.Step(ctx); err != nil { // notes the head: no mail about the past
		t.Fatal(err)
	}
	return f
}

func (f *forum) do(t *testing.T, cmd steward.Command) any {
	t.Helper()
	v, err := f.st.Do(f.ctx, cmd)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// step runs the notifier once and returns the mail sent, by recipient.
func (f *forum) step(t *testing.T) map[string]string {
	t.Helper()
	if err := f.n.Step(f.ctx); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, m := range f.smtp.Take() {
		out[m.To[0]] += m.Raw
	}
	return out
}

func TestMentionsAndDigests(t *testing.T) {
	f := newForum(t)
	ctx, clock, smtp, n := f.ctx, f.clock, f.smtp, f.n
	do := func(cmd steward.Command) any { t.Helper(); return f.do(t, cmd) }
	do(steward.Subscribe("carol", "issue:spam", true))
	do(steward.Subscribe("bob", "issue:spam", true))

	do(steward.OpenThread("alice", "spam", "Spam by SMS", "What do you think, @bob?"))
	do(steward.Reply("bob", 1, 1, "It is spam."))
	if err := n.Step(ctx); err != nil {
		t.Fatal(err)
	}
	msgs := smtp.Take()
	if len(msgs) != 1 || msgs[0].To[0] != "bob@example.org" || !strings.Contains(msgs[0].Raw, "alice mentioned you") ||
		!strings.Contains(msgs[0].Raw, "https://forum.example/forum/threads/1?page=1#p1") {
		t.Fatalf("after the mention, mail = %+v", msgs)
	}
	clock.Advance(61 * time.Minute)
	if err := n.Step(ctx); err != nil {
		t.Fatal(err)
	}
	msgs = smtp.Take()
	byTo := map[string]string{}
	for _, m := range msgs {
		byTo[m.To[0]] = m.Raw
	}
	if len(msgs) != 1 {
		t.Fatalf("digests to %v, want carol only (bob was told of the mention at once and wrote the reply)", byTo)
	}
	carol := byTo["carol@example.org"]
	if !strings.Contains(carol, "Subject: Forum digest: 2 new items") || !strings.Contains(carol, "alice opened the thread \"Spam by SMS\"") ||
		!strings.Contains(carol, "bob posted in \"Spam by SMS\"") {
		t.Errorf("carol's digest:\n%s", carol)
	}
	if err := n.SendDigests(ctx); err != nil {
		t.Fatal(err)
	}
	if msgs := smtp.Take(); len(msgs) != 0 {
		t.Errorf("digests sent twice: %+v", msgs)
	}
}

// TestMailModes gives each participant a different forum e-mail mode and
// checks what each receives: carol follows at once, bob only mentions,
// dave nothing at all, erin the default digest.
func TestMailModes(t *testing.T) {
	f := newForum(t)
	hash, _ := steward.HashPassword("correct horse battery", steward.PasswordParams{Memory: 64, Time: 1, Threads: 1})
	for _, h := range []string{"dave", "erin"} {
		f.do(t, steward.Register(steward.ActorInit, steward.Registration{Participant: steward.Participant{Handle: h, Name: h, Group: "civil-society", Region: "europe", Languages: []string{"en"}},
			Email: h + "@example.org", PasswordHash: hash}))
	}
	for _, h := range []string{"bob", "carol", "dave", "erin"} {
		f.do(t, steward.Subscribe(h, "issue:spam", true))
	}
	f.do(t, steward.SetForumMail("carol", steward.MailImmediate))
	f.do(t, steward.SetForumMail("bob", steward.MailMentions))
	f.do(t, steward.SetForumMail("dave", steward.MailNone))
	f.do(t, steward.OpenThread("alice", "spam", "Spam by SMS", "What do you think, @bob and @dave?"))
	got := f.step(t)
	if len(got) != 2 || !strings.Contains(got["carol@example.org"], `Subject: Forum: alice opened the thread "Spam by SMS"`) ||
		!strings.Contains(got["carol@example.org"], "https://forum.example/forum/threads/1?page=1#p1") ||
		!strings.Contains(got["bob@example.org"], "alice mentioned you") {
		t.Fatalf("at once: %v", got)
	}
	f.clock.Advance(61 * time.Minute)
	got = f.step(t)
	if len(got) != 1 || !strings.Contains(got["erin@example.org"], "Subject: Forum digest: 1 new item") {
		t.Fatalf("digests: %v", got)
	}

	// Back to the default: carol's next news waits for the digest.
	f.do(t, steward.SetForumMail("carol", steward.MailDigest))
	f.do(t, steward.Reply("erin", 1, 1, "Spam it is."))
	if got := f.step(t); len(got) != 0 {
		t.Fatalf("after carol chose the digest: %v", got)
	}
	f.clock.Advance(61 * time.Minute)
	if got := f.step(t); len(got) != 1 || !strings.Contains(got["carol@example.org"], "erin posted in") {
		t.Fatalf("carol's digest: %v", got)
	}

	// A mode that does not exist is refused and records nothing.
	before, _ := steward.ForumMail(f.ctx, f.st, "bob")
	if _, err := f.st.Do(f.ctx, steward.SetForumMail("bob", "weekly")); steward.ErrorCode(err) != steward.EINVALID {
		t.Errorf("mode weekly: %v", err)
	}
	if _, err := f.st.Do(f.ctx, steward.SetForumMail("nobody", steward.MailNone)); steward.ErrorCode(err) != steward.EFORBIDDEN {
		t.Errorf("a stranger's mode: %v", err)
	}
	if after, _ := steward.ForumMail(f.ctx, f.st, "bob"); after != before || after != steward.MailMentions {
		t.Errorf("bob's mode %q after the refusals, want %q", after, before)
	}
}

// TestRestart stops a notifier with a state file and starts another on
// it: mentions appended while none ran are mailed once, the digest holds
// what happened before and after the restart, and nothing sent before is
// sent again.
func TestRestart(t *testing.T) {
	f := newForum(t)
	state := filepath.Join(t.TempDir(), "forummail.json")
	mailer, err := workflow.NewMailer(f.smtp.Addr, "forum@steward.example", "", "")
	if err != nil {
		t.Fatal(err)
	}
	start := func() *forummail.Notifier {
		n := forummail.New(forummail.Config{Source: f.st, Mail: mailer, BaseURL: "https://forum.example", Clock: f.clock, DigestEvery: time.Hour, StateFile: state})
		if err := n.Step(f.ctx); err != nil {
			t.Fatal(err)
		}
		return n
	}
	f.n = start()
	f.do(t, steward.Subscribe("carol", "issue:spam", true))
	f.do(t, steward.OpenThread("alice", "spam", "Spam by SMS", "What do you think, @bob?"))
	if got := f.step(t); len(got) != 1 || !strings.Contains(got["bob@example.org"], "alice mentioned you") {
		t.Fatalf("before the restart: %v", got)
	}
	// Down: a reply mentioning alice is appended while no notifier runs.
	f.do(t, steward.Reply("bob", 1, 1, "Yes, @alice, it is."))
	f.n = start()
	if got := f.step(t); len(got) != 1 || !strings.Contains(got["alice@example.org"], "bob mentioned you") {
		t.Fatalf("after the restart: %v", got)
	}
	f.clock.Advance(61 * time.Minute)
	got := f.step(t)
	carol := got["carol@example.org"]
	if len(got) != 1 || !strings.Contains(carol, "Forum digest: 2 new items") || !strings.Contains(carol, "alice opened the thread") || !strings.Contains(carol, "bob posted in") {
		t.Fatalf("the digest after the restart: %v", got)
	}
	// Another restart right after the digest: nothing is sent again.
	f.n = start()
	f.clock.Advance(61 * time.Minute)
	if got := f.step(t); len(got) != 0 {
		t.Fatalf("after the second restart: %v", got)
	}
	// A state file that does not fit this ledger is ignored, with a fresh start.
	if err := os.WriteFile(state, []byte(`{"next": 999999, "digest_from": 0}`), 0o600); err != nil {
		t.Fatal(err)
	}
	f.n = start()
	f.do(t, steward.Reply("alice", 1, 2, "@bob thanks."))
	if got := f.step(t); len(got) != 1 || !strings.Contains(got["bob@example.org"], "alice mentioned you") {
		t.Fatalf("after a bad state file: %v", got)
	}
}
