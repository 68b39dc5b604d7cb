package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"steward/sqlstore"
)

// RunShared checks two stores on one database, as the nodes of a cluster
// share one PostgreSQL database: open returns two stores configured with
// [Config](t), with different Node names, on the same fresh database.
//
// Both take writes at once, and the ledger they share is numbered without
// gaps, holds every acknowledged event once, and has the Merkle hashes its
// entries give (so neither node appends from a stale view of the tree);
// only the node holding the lease signs checkpoints, until the lease
// expires.
func RunShared(t *testing.T, open func(t *testing.T) (a, b *sqlstore.Store)) {
	a, b := open(t)
	e, ok := envs.Load(t)
	if !ok {
		t.Fatal("open must configure the stores with storetest.Config(t)")
	}
	ha := &harness{T: t, s: a, ctx: t.Context(), env: e.(*env)}
	hb := &harness{T: t, s: b, ctx: t.Context(), env: e.(*env)}
	ha.createInstance()
	for _, hd := range []string{"ann", "bob"} {
		ha.register(hd)
	}

	// Both nodes write at once.
	start, _ := ha.head()
	const workers, per = 6, 30
	acked := make([][]string, 2*workers)
	var wg sync.WaitGroup
	for w := range 2 * workers {
		h, handle := ha, "ann"
		if w%2 == 1 {
			h, handle = hb, "bob"
		}
		wg.Go(func() {
			for n := range per {
				aff := fmt.Sprintf("%d-%d", w, n)
				if _, err := h.s.Do(h.ctx, emitUpdates(handle, aff)); err != nil {
					h.Errorf("node %s: %v", handle, err)
					return
				}
				acked[w] = append(acked[w], aff)
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	ra, rb := ha.replay(), hb.replay()
	if ra.size != rb.size || ra.root != rb.root {
		t.Fatalf("the nodes see different ledgers: %d entries, root %v and %d entries, root %v", ra.size, ra.root, rb.size, rb.root)
	}
	if want := start + 2*workers*per; ra.size != want {
		t.Fatalf("the ledger has %d entries, want %d", ra.size, want)
	}
	got := make([][]string, 2*workers)
	for _, e := range ra.events[start:] {
		var u update
		if err := e.DecodePayload(&u); err != nil {
			t.Fatal(err)
		}
		var w, n int
		if _, err := fmt.Sscanf(u.Affiliation, "%d-%d", &w, &n); err != nil || w < 0 || w >= len(got) {
			t.Fatalf("entry %d: affiliation %q", e.Seq, u.Affiliation)
		}
		got[w] = append(got[w], u.Affiliation)
	}
	if diff := cmp.Diff(acked, got); diff != "" {
		t.Fatalf("events in the ledger (-acknowledged +ledger):\n%s", diff)
	}

	// The lease: a signs, and b may not until the lease expires.
	ca, _ := ha.checkpoint()
	if msg, err := b.SignCheckpoint(t.Context()); err != nil {
		t.Fatalf("b.SignCheckpoint with nothing new: %v", err)
	} else if c := hb.openCheckpoint(msg); c.Size != ca.Size {
		t.Fatalf("b.SignCheckpoint with nothing new returned a checkpoint of %d entries, want a's of %d", c.Size, ca.Size)
	}
	hb.do(emitUpdates("bob", "after a's checkpoint"))
	if msg, err := b.SignCheckpoint(t.Context()); err == nil {
		t.Fatalf("b signed %q while a holds the lease", msg)
	}
	e.(*env).clock.Advance(time.Minute)
	cb, _ := hb.checkpoint()
	if cb.Size != ca.Size+1 {
		t.Fatalf("b's checkpoint is of %d entries, want %d", cb.Size, ca.Size+1)
	}
	ha.do(emitUpdates("ann", "after b's checkpoint"))
	if msg, err := a.SignCheckpoint(t.Context()); err == nil {
		t.Fatalf("a signed %q while b holds the lease", msg)
	}
	for _, s := range []*sqlstore.Store{a, b} {
		latest, err := s.LatestCheckpoint(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if c := ha.openCheckpoint(latest); c.Size != cb.Size {
			t.Errorf("LatestCheckpoint is of %d entries, want b's of %d", c.Size, cb.Size)
		}
	}
	ha.replay()
}
