package testproc

import (
	"bufio"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"
)

// Mail is one message an SMTPSink received.
type Mail struct {
	From string
	To   []string
	Raw  string        // the message as sent: header and body
	Msg  *mail.Message // the message parsed
	Body string        // the body, with \n line ends
}

// SMTPSink is an SMTP server on loopback that keeps every message it is
// given, for tests of e-mail.
type SMTPSink struct {
	Addr string
	mu   sync.Mutex
	got  []Mail
	ln   net.Listener
}

// NewSMTPSink starts a sink that stops when the test ends.
func NewSMTPSink(t testing.TB) *SMTPSink {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &SMTPSink{Addr: ln.Addr().String(), ln: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go s.session(c)
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return s
}

func (s *SMTPSink) session(c net.Conn) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	r := bufio.NewReader(c)
	say := func(line string) { _, _ = c.Write([]byte(line + "\r\n")) }
	say("220 sink ESMTP")
	var cur Mail
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		cmd := strings.ToUpper(strings.TrimSpace(line))
		switch {
		case strings.HasPrefix(cmd, "EHLO"), strings.HasPrefix(cmd, "HELO"):
			say("250 sink")
		case strings.HasPrefix(cmd, "MAIL FROM:"):
			cur = Mail{From: strings.Trim(strings.TrimSpace(line)[10:], "<> ")}
			say("250 ok")
		case strings.HasPrefix(cmd, "RCPT TO:"):
			cur.To = append(cur.To, strings.Trim(strings.TrimSpace(line)[8:], "<> "))
			say("250 ok")
		case cmd == "DATA":
			say("354 go on")
			var b strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" || l == ".\n" {
					break
				}
				b.WriteString(strings.TrimPrefix(l, "."))
			}
			cur.Raw = b.String()
			if m, err := mail.ReadMessage(strings.NewReader(b.String())); err == nil {
				cur.Msg = m
				body := new(strings.Builder)
				buf := make([]byte, 4096)
				for {
					n, err := m.Body.Read(buf)
					body.Write(buf[:n])
					if err != nil {
						break
					}
				}
				cur.Body = strings.ReplaceAll(body.String(), "\r\n", "\n")
			}
			s.mu.Lock()
			s.got = append(s.got, cur)
			s.mu.Unlock()
			say("250 queued")
		case cmd == "QUIT":
			say("221 bye")
			return
		case cmd == "RSET", cmd == "NOOP":
			say("250 ok")
		default:
			say("502 not here")
		}
	}
}

// Messages returns the messages received so far.
func (s *SMTPSink) Messages() []Mail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Mail(nil), s.got...)
}

// Take returns the messages received since the last Take, and forgets
// them.
func (s *SMTPSink) Take() []Mail {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.got
	s.got = nil
	return m
}

// Wait returns the first message for which ok is true, failing the test
// after timeout.
func (s *SMTPSink) Wait(t testing.TB, timeout time.Duration, ok func(Mail) bool) Mail {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		for _, m := range s.Messages() {
			if ok(m) {
				return m
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no such e-mail within %s; received %d", timeout, len(s.Messages()))
	return Mail{}
}
