package forummail_test

import (
	"context"
	"log/slog"
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

func TestMentionsAndDigests(t *testing.T) {
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
	do := func(cmd steward.Command) any {
		t.Helper()
		v, err := st.Do(ctx, cmd)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	text, _ := charter.Preset("community")
	do(steward.CreateInstance(steward.Instance{Origin: "steward.example/mail", Name: "Mail"}, text))
	do(steward.SeedForum())
	hash, _ := steward.HashPassword("correct horse battery", steward.PasswordParams{Memory: 64, Time: 1, Threads: 1})
	for _, h := range []string{"alice", "bob", "carol"} {
		do(steward.Register(steward.ActorInit, steward.Registration{Participant: steward.Participant{Handle: h, Name: h, Group: "civil-society", Region: "europe", Languages: []string{"en"}},
			Email: h + "@example.org", PasswordHash: hash}))
	}
	do(steward.Subscribe("carol", "issue:spam", true))
	do(steward.Subscribe("bob", "issue:spam", true))

	smtp := testproc.NewSMTPSink(t)
	mailer, err := workflow.NewMailer(smtp.Addr, "forum@steward.example", "", "")
	if err != nil {
		t.Fatal(err)
	}
	n := forummail.New(forummail.Config{Source: st, Mail: mailer, BaseURL: "https://forum.example/", Clock: clock, DigestEvery: time.Hour})
	if err := n.Step(ctx); err != nil { // notes the head: no mail about the past
		t.Fatal(err)
	}
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
