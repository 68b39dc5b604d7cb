package steward

import (
	"context"
	"fmt"
	"sort"
)

// An applier projects one kind of event onto the state. Appliers are pure:
// they read and write only the state they are given, so replaying the ledger
// rebuilds the state exactly. They check what they rely on and return an
// error for an event that cannot apply, which aborts the transaction (live)
// or fails the audit (replay).
type applier func(ctx context.Context, w StateWriter, e *Event) error

var appliers = map[string]applier{}

// register adds the applier for kind; it panics on a duplicate, a programmer
// error found at start-up.
func register(kind string, f applier) {
	if _, dup := appliers[kind]; dup {
		panic("steward: duplicate applier for " + kind)
	}
	appliers[kind] = f
}

// Apply applies e to the state.
func Apply(ctx context.Context, w StateWriter, e *Event) error {
	f, ok := appliers[e.Kind]
	if !ok {
		return fmt.Errorf("event %d: unknown kind %q", e.Seq, e.Kind)
	}
	if err := f(ctx, w, e); err != nil {
		return fmt.Errorf("event %d (%s): %w", e.Seq, e.Kind, err)
	}
	return nil
}

// EventKinds lists every kind of event the ledger may hold, sorted.
func EventKinds() []string {
	kinds := make([]string, 0, len(appliers))
	for k := range appliers {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	return kinds
}

// applyJSON is the common shape of an applier: decode the payload strictly
// into a T, then project it.
func applyJSON[T any](f func(ctx context.Context, w StateWriter, e *Event, p *T) error) applier {
	return func(ctx context.Context, w StateWriter, e *Event) error {
		p := new(T)
		if err := e.DecodePayload(p); err != nil {
			return err
		}
		return f(ctx, w, e, p)
	}
}

// mustNotExist returns an error if key is present.
func mustNotExist(ctx context.Context, r StateReader, key string) error {
	_, err := r.Get(ctx, key)
	switch {
	case err == nil:
		return fmt.Errorf("%s exists already", key)
	case ErrorCode(err) == ENOTFOUND:
		return nil
	default:
		return err
	}
}
