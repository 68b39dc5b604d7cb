package forummail_test

import (
	"bufio"
	"context"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"steward"
	"steward/charter"
	"steward/forummail"
	"steward/sqlite"
	"steward/sqlstore"
	"steward/workflow"
)

// message is one e-mail the sink received.
type message struct {
	To   []string
	Data string
}

// sink is a minimal SMTP server on a loopback port that keeps every
// message it is sent.
type sink struct {
	ln   net.Listener
	mu   sync.Mutex
	msgs []message
}

func newSink(t *testing.T) *sink {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &sink{ln: ln}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go s.serve(c)
		}
	}()
	return s
}

func (s *sink) serve(c net.Conn) {
	defer c.Close()
	r := bufio.NewReader(c)
	say := func(l string) { _, _ = c.Write([]byte(l + "\r\n")) }
	say("220 sink ESMTP")
	var m message
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		cmd := strings.ToUpper(strings.TrimSpace(line))
		switch {
		case strings.HasPrefix(cmd, "EHLO"), strings.HasPrefix(cmd, "HELO"):
			say("250-sink")
			say("250 8BITMIME")
		case strings.HasPrefix(cmd, "MAIL FROM:"):
			m = message{}
			say("250 ok")
		case strings.HasPrefix(cmd, "RCPT TO:"):
			m.To = append(m.To, strings.Trim(strings.TrimSpace(line)[len("RCPT TO:"):], "<> "))
			say("250 ok")
		case cmd == "DATA":
			say("354 go ahead")
			var b strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				b.WriteString(strings.TrimPrefix(l, "."))
			}
			m.Data = b.String()
			s.mu.Lock()
			s.msgs = append(s.msgs, m)
			s.mu.Unlock()
			say("250 queued")
		case cmd == "QUIT":
			say("221 bye")
			return
		default:
			say("250 ok")
		}
	}
}

func (s *sink) take() []message {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.msgs
	s.msgs = nil
	return m
}

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

	smtp := newSink(t)
	mailer, err := workflow.NewMailer(smtp.ln.Addr().String(), "forum@steward.example", "", "")
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
	msgs := smtp.take()
	if len(msgs) != 1 || msgs[0].To[0] != "bob@example.org" || !strings.Contains(msgs[0].Data, "alice mentioned you") ||
		!strings.Contains(msgs[0].Data, "https://forum.example/forum/threads/1?page=1#p1") {
		t.Fatalf("after the mention, mail = %+v", msgs)
	}
	clock.Advance(61 * time.Minute)
	if err := n.Step(ctx); err != nil {
		t.Fatal(err)
	}
	msgs = smtp.take()
	byTo := map[string]string{}
	for _, m := range msgs {
		byTo[m.To[0]] = m.Data
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
	if msgs := smtp.take(); len(msgs) != 0 {
		t.Errorf("digests sent twice: %+v", msgs)
	}
}
