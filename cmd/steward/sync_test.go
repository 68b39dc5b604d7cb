package main

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"steward"
)

type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(b)
}

// served is a steward serve running in process for a test.
type served struct {
	HTTP string      // host:port of the web server
	DNS  string      // host:port of the DNS server, if --dns was given
	mu   *sync.Mutex // guards out, shared with the syncWriter
	out  *strings.Builder
	stop context.CancelFunc
	done chan error
}

// serveInProcess runs "steward serve ARGS" until the test ends or Stop.
func serveInProcess(t testing.TB, args ...string) *served {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	w := &syncWriter{w: &strings.Builder{}}
	s := &served{mu: &w.mu, out: w.w.(*strings.Builder), stop: cancel, done: make(chan error, 1)}
	ready := make(chan string, 1)
	m := &Main{Stdout: w, Stderr: w, Clock: steward.SystemClock{}, Ready: ready,
		PasswordParams: steward.PasswordParams{Memory: 64, Time: 1, Threads: 1}}
	go func() { s.done <- m.Run(ctx, append([]string{"serve"}, args...)) }()
	t.Cleanup(func() { _ = s.Stop() })
	select {
	case s.HTTP = <-ready:
	case err := <-s.done:
		t.Fatalf("serve ended: %v", err)
	case <-time.After(60 * time.Second):
		t.Fatal("serve did not start")
	}
	for _, line := range strings.Split(s.Output(), "\n") {
		if a, ok := strings.CutPrefix(line, "Steward is serving the root zone over DNS at "); ok {
			s.DNS = a
		}
	}
	return s
}

// Output returns what serve printed so far.
func (s *served) Output() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.out.String()
}

// Stop shuts serve down as SIGTERM would and returns its error.
func (s *served) Stop() error {
	if s.stop == nil {
		return nil
	}
	s.stop()
	s.stop = nil
	select {
	case err := <-s.done:
		return err
	case <-time.After(15 * time.Second):
		return errors.New("serve did not shut down")
	}
}
