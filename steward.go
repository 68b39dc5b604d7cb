// Package steward holds the domain of a governed Internet: its events, its
// state, and the commands that change it.
//
// Every change to an instance goes through one path: a [Command] validates
// its input and checks the actor's authority against the charter in force,
// then emits one or more [Event]s. Each event is appended to the ledger and
// applied to the state in the same database transaction, so the state is
// always exactly what replaying the ledger from empty produces (see [Apply]).
//
// The package imports no driver, HTTP or DNS package: adapters (sqlstore,
// sqlite, postgres, web, audit) import it, never the reverse. A test enforces
// this dependency rule.
package steward

import (
	"sync"
	"time"
)

// Clock tells the time. Domain code never calls time.Now: it asks the clock
// it was given, so tests control expiry, deadlines and log timestamps.
type Clock interface {
	Now() time.Time
}

// SystemClock is the real wall clock, in UTC.
type SystemClock struct{}

// Now returns the current time in UTC.
func (SystemClock) Now() time.Time { return time.Now().UTC() }

// FakeClock is a clock that only moves when told to. It is safe for
// concurrent use.
type FakeClock struct {
	mu  sync.Mutex
	now time.Time
}

// NewFakeClock returns a FakeClock set to t.
func NewFakeClock(t time.Time) *FakeClock { return &FakeClock{now: t.UTC()} }

// Now returns the clock's current time.
func (c *FakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *FakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Set moves the clock to t.
func (c *FakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t.UTC()
}
