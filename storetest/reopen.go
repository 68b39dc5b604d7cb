package storetest

import (
	"testing"

	"golang.org/x/mod/sumdb/tlog"

	"steward"
	"steward/sqlstore"
)

// Verify checks that a store's ledger, state and Merkle hashes agree: the
// entries are canonical events numbered from 0 without gaps, replaying them
// from an empty state gives exactly the stored state and head digest, and
// the stored hashes and tree hash are those the entries give. It also
// checks every stored checkpoint against the replayed ledger, with the
// verifier of [Config](t).
func Verify(t *testing.T, s *sqlstore.Store) {
	t.Helper()
	h := &harness{T: t, s: s, ctx: t.Context(), env: envOf(t)}
	r := h.replay()
	sizes, err := s.CheckpointSizes(h.ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, size := range sizes {
		msg, err := s.Checkpoint(h.ctx, size)
		if err != nil {
			t.Fatalf("Checkpoint(%d): %v", size, err)
		}
		h.checkCheckpoint(h.openCheckpoint(msg), r)
	}
}

// RunReopen checks that a store keeps everything across a close and a
// reopen, appends correctly after it (with nothing cached), and opens
// read-only. open prepares a fresh database for t and returns a function
// that opens a store on it, configured with [Config](t) (with ReadOnly set
// and no Signer when asked for a read-only store, as steward's read-only
// tools open it), and closed when t ends; it is called several times.
func RunReopen(t *testing.T, open func(t *testing.T) func(readOnly bool) *sqlstore.Store) {
	opener := open(t)
	env := envOf(t)
	h := &harness{T: t, s: opener(false), ctx: t.Context(), env: env}
	h.createInstance()
	h.register("ann")
	h.do(emitUpdates("ann", "one", "two", "three"))
	c1, _ := h.checkpoint()
	before := h.snapshot("password/ann", "email-of/ann")
	if err := h.s.Close(); err != nil {
		t.Fatal(err)
	}

	// Reopened, the store has everything and appends after it.
	h = &harness{T: t, s: opener(false), ctx: t.Context(), env: env}
	h.unchanged(before)
	if latest, err := h.s.LatestCheckpoint(h.ctx); err != nil || h.openCheckpoint(latest).Size != c1.Size {
		t.Fatalf("LatestCheckpoint after reopening: %v", err)
	}
	affs := make([]string, 300) // past the first tile, so appending reads stored hashes
	for i := range affs {
		affs[i] = string(rune('a'+i%26)) + "-reopened"
	}
	h.do(emitUpdates("ann", affs...))
	h.register("bob")
	c2, _ := h.checkpoint()
	proof, err := tlog.ProveTree(c2.Size, c1.Size, h.s.HashReader(h.ctx))
	if err != nil {
		t.Fatal(err)
	}
	if err := tlog.CheckTree(proof, c2.Size, c2.Root, c1.Size, c1.Root); err != nil {
		t.Fatalf("the checkpoint after reopening is not consistent with the one before: %v", err)
	}
	Verify(t, h.s)
	after := h.snapshot("password/bob")

	// Read-only, it reads everything and writes nothing.
	ro := &harness{T: t, s: opener(true), ctx: t.Context(), env: env}
	ro.unchanged(after)
	Verify(t, ro.s)
	if v, err := ro.s.Do(ro.ctx, emitUpdates("ann", "read-only")); steward.ErrorCode(err) != steward.EUNAVAILABLE {
		t.Errorf("Do on a read-only store = %v, %v; want EUNAVAILABLE", v, err)
	}
	if err := ro.s.Close(); err != nil {
		t.Errorf("Close of a read-only store: %v", err)
	}
	h.unchanged(after)
}
