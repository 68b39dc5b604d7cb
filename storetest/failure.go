package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"steward"
	"steward/ledger"
	"steward/sqlstore"
)

// failing returns a command that does everything a command can (reads,
// emits events, writes and deletes secrets) and then fails with err.
func failing(handle string, err error) steward.Command {
	return func(ctx context.Context, tx steward.Tx) (any, error) {
		if _, e := tx.Get(ctx, "participant/ann"); e != nil {
			return nil, e
		}
		if _, e := tx.Emit(ctx, steward.ActorInit, "participant.registered", participant(handle, "civil-society", "africa")); e != nil {
			return nil, e
		}
		if _, e := tx.Emit(ctx, handle, "participant.updated", update{Handle: handle, Name: "Changed", Languages: []string{"fr"}}); e != nil {
			return nil, e
		}
		if e := tx.PutSecret(ctx, "secret/"+handle, []byte("kept?")); e != nil {
			return nil, e
		}
		if e := tx.PutSecret(ctx, "password/ann", []byte("overwritten?")); e != nil {
			return nil, e
		}
		if e := tx.PutSecret(ctx, "email-of/ann", nil); e != nil {
			return nil, e
		}
		return nil, err
	}
}

// panicking is like failing but panics with v.
func panicking(handle string, v any) steward.Command {
	return func(ctx context.Context, tx steward.Tx) (any, error) {
		if _, err := failing(handle, nil)(ctx, tx); err != nil {
			return nil, err
		}
		panic(v)
	}
}

func testFailureChangesNothing(h *harness) {
	h.createInstance()
	h.register("ann")
	secrets := []string{"secret/zed", "password/ann", "email-of/ann"}
	before := h.snapshot(secrets...)

	err := h.doFail(steward.EINVALID, failing("zed", steward.Errorf(steward.EINVALID, "no, thanks")))
	if steward.ErrorMessage(err) != "no, thanks" {
		h.Errorf("error message %q, want the command's", steward.ErrorMessage(err))
	}
	h.doFail(steward.EINTERNAL, failing("zed", errors.New("plain error")))
	wrapped := h.doFail(steward.ECONFLICT, failing("zed", fmt.Errorf("context: %w", steward.Errorf(steward.ECONFLICT, "taken"))))
	if !strings.Contains(wrapped.Error(), "context: ") {
		h.Errorf("the command's error %q lost its wrapping", wrapped)
	}
	h.unchanged(before)

	// An event that does not apply fails its command.
	h.doErr(emitUpdates("zed", "nobody"))
	h.doErr(func(ctx context.Context, tx steward.Tx) (any, error) {
		if _, err := tx.Emit(ctx, "ann", "participant.updated", update{Handle: "ann", Name: "Ann", Languages: []string{"en"}}); err != nil {
			return nil, err
		}
		return tx.Emit(ctx, "ann", "no.such.kind", map[string]string{})
	})
	h.doErr(func(ctx context.Context, tx steward.Tx) (any, error) {
		return tx.Emit(ctx, "ann", "participant.updated", "not an object")
	})
	// A second registration of the same handle is refused by the applier.
	h.doErr(func(ctx context.Context, tx steward.Tx) (any, error) {
		return tx.Emit(ctx, steward.ActorInit, "participant.registered", participant("ann", "civil-society", "africa"))
	})
	// A command whose context ends before it runs does not run.
	ctx, cancel := context.WithCancel(h.ctx)
	cancel()
	if _, err := h.s.Do(ctx, emitUpdates("ann", "cancelled")); err == nil {
		h.Error("Do with a cancelled context succeeded")
	}
	h.unchanged(before)

	// The store works on.
	evs := h.do(emitUpdates("ann", "after")).([]*steward.Event)
	if evs[0].Seq != before.size {
		h.Errorf("the next event is entry %d, want %d", evs[0].Seq, before.size)
	}
	h.replay()
}

func testFailureInBatch(h *harness) {
	h.createInstance()
	h.register("ann")
	var before snapshot
	vals, errs := h.inOneBatch(func(attempt int) []steward.Command {
		before = h.snapshot("secret/zed", "password/ann", "email-of/ann")
		return []steward.Command{
			emitUpdates("ann", fmt.Sprint("first ", attempt)),
			failing("zed", steward.Errorf(steward.EINVALID, "refused")),
			steward.Register(steward.ActorInit, steward.Registration{Participant: participant(fmt.Sprint("bob", attempt), "civil-society", "asia-pacific"),
				Email: fmt.Sprintf("bob%d@example.org", attempt), PasswordHash: PasswordHash(h)}),
			panicking("zed", "boom"),
			emitUpdates("ann", fmt.Sprint("second ", attempt), fmt.Sprint("third ", attempt)),
			steward.SeatMember(steward.ActorInit, "maintainers", "nobody", ""),
		}
	})
	wantCodes := []string{"", steward.EINVALID, "", steward.EINTERNAL, "", steward.ENOTFOUND}
	for i, want := range wantCodes {
		if got := errCode(errs[i]); got != want {
			h.Errorf("command %d: error %v (code %q), want code %q", i, errs[i], got, want)
		}
	}
	if h.Failed() {
		h.FailNow()
	}
	// Exactly the events of the commands that succeeded were appended, each
	// under the number its Emit returned.
	var want []*steward.Event
	want = append(want, vals[0].([]*steward.Event)...)
	want = append(want, vals[4].([]*steward.Event)...)
	size, _ := h.head()
	if size != before.size+4 {
		h.Fatalf("the batch appended %d entries, want 4", size-before.size)
	}
	got := h.events(before.size, size)
	kinds := map[string]int{}
	for _, e := range got {
		kinds[e.Kind]++
	}
	if kinds["participant.updated"] != 3 || kinds["participant.registered"] != 1 {
		h.Errorf("the batch appended %v", kinds)
	}
	for _, w := range want {
		g := got[w.Seq-before.size]
		if g.Kind != w.Kind || string(g.Payload) != string(w.Payload) {
			h.Errorf("entry %d is %s %s; the command was told %s %s", w.Seq, g.Kind, g.Payload, w.Kind, w.Payload)
		}
	}
	if v, ok := vals[2].(*steward.Participant); !ok || !strings.HasPrefix(v.Handle, "bob") {
		h.Errorf("Register returned %#v", vals[2])
	}
	for k, v := range before.secrets {
		got, err := h.s.Secret(h.ctx, k)
		if err != nil && errCode(err) != steward.ENOTFOUND {
			h.Fatal(err)
		}
		if string(got) != v {
			h.Errorf("secret %s changed from %q to %q", k, v, got)
		}
	}
	h.mustNotFind("participant/zed")
	h.replay()
}

func testPanic(h *harness) {
	h.createInstance()
	h.register("ann")
	before := h.snapshot("secret/zed", "password/ann", "email-of/ann")
	for _, v := range []any{"boom", errors.New("an error value"), steward.Errorf(steward.EINVALID, "a steward error"), 42} {
		err := h.doFail(steward.EINTERNAL, panicking("zed", v))
		if !strings.Contains(err.Error(), "panic") {
			h.Errorf("panic(%v) gave the error %q, which does not say it panicked", v, err)
		}
	}
	// A command that panics before doing anything, and one that panics with nil.
	h.doFail(steward.EINTERNAL, func(context.Context, steward.Tx) (any, error) { panic("early") })
	h.unchanged(before)
	evs := h.do(emitUpdates("ann", "after the panics")).([]*steward.Event)
	if evs[0].Seq != before.size {
		h.Errorf("the next event is entry %d, want %d", evs[0].Seq, before.size)
	}
	h.replay()
}

func testTooLarge(h *harness) {
	h.createInstance()
	h.register("ann")
	size, _ := h.head()
	// fill returns a command that emits a participant.updated event whose
	// encoding is exactly n bytes long.
	fill := func(seq int64, n int) steward.Command {
		return func(ctx context.Context, tx steward.Tx) (any, error) {
			u := update{Handle: "ann", Name: "x", Languages: []string{"en"}}
			e, err := steward.NewEvent(seq, tx.Now(), "ann", "participant.updated", u)
			if err != nil {
				return nil, err
			}
			b, err := e.Encode()
			if err != nil {
				return nil, err
			}
			u.Name += strings.Repeat("x", n-len(b))
			return tx.Emit(ctx, "ann", "participant.updated", u)
		}
	}
	before := h.snapshot()
	err := h.doFail(steward.ETOOLARGE, fill(size, steward.MaxEventSize+1))
	if !strings.Contains(steward.ErrorMessage(err), fmt.Sprint(steward.MaxEventSize)) {
		h.Errorf("ETOOLARGE message %q does not name the limit", steward.ErrorMessage(err))
	}
	h.doFail(steward.ETOOLARGE, fill(size, 1<<20))
	// Events before the large one in the same command are undone too.
	h.doFail(steward.ETOOLARGE, func(ctx context.Context, tx steward.Tx) (any, error) {
		if _, err := emitUpdates("ann", "small")(ctx, tx); err != nil {
			return nil, err
		}
		return fill(size+1, steward.MaxEventSize+1)(ctx, tx)
	})
	h.unchanged(before)

	// The largest event fits, and its entry bundle can be served.
	e := h.do(fill(size, steward.MaxEventSize)).(*steward.Event)
	if e.Seq != size {
		h.Fatalf("the event is entry %d, want %d", e.Seq, size)
	}
	data := h.entries(size, size+1)[0]
	if len(data) != steward.MaxEventSize {
		h.Fatalf("entry %d is %d bytes, want %d", size, len(data), steward.MaxEventSize)
	}
	bundle, err := h.s.Tile(h.ctx, tlog.Tile{H: ledger.TileHeight, L: -1, N: size / 256, W: int(size%256) + 1})
	if err != nil {
		h.Fatalf("entry bundle: %v", err)
	}
	es, err := ledger.DecodeBundle(bundle)
	if err != nil || !bytes.Equal(es[len(es)-1], data) {
		h.Fatalf("the entry bundle does not end with the largest entry (%v)", err)
	}
	h.replay()
	h.checkpoint()
}

func testClose(h *harness) {
	h.createInstance()
	h.register("ann")
	start, _ := h.head()
	release := h.holdWriter()
	const n = 40
	type outcome struct {
		evs []*steward.Event
		err error
	}
	out := make([]outcome, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			v, err := h.s.Do(h.ctx, emitUpdates("ann", fmt.Sprint("queued ", i)))
			out[i].err = err
			if err == nil {
				out[i].evs = v.([]*steward.Event)
			}
		})
	}
	time.Sleep(200 * time.Millisecond) // let them queue behind the held writer
	closed := make(chan error)
	go func() { closed <- h.s.Close() }()
	time.Sleep(50 * time.Millisecond)
	select {
	case err := <-closed:
		h.Fatalf("Close returned (%v) while a command was running", err)
	default:
	}
	release()
	select {
	case err := <-closed:
		if err != nil {
			h.Fatalf("Close: %v", err)
		}
	case <-time.After(time.Minute):
		h.Fatal("Close did not return")
	}
	wg.Wait()

	// Every command queued before Close ran; any that came too late was
	// refused, and none is left hanging.
	acked := map[string]bool{}
	for i, o := range out {
		switch {
		case o.err == nil:
			acked[fmt.Sprint("queued ", i)] = true
		case errors.Is(o.err, sqlstore.ErrClosed):
		default:
			h.Errorf("command %d: %v", i, o.err)
		}
	}
	if len(acked) == 0 {
		h.Error("Close ran none of the queued commands")
	}
	size, _ := h.head()
	seen := map[string]bool{}
	for _, e := range h.events(start, size) {
		var u update
		if err := e.DecodePayload(&u); err != nil {
			h.Fatal(err)
		}
		if !acked[u.Affiliation] || seen[u.Affiliation] {
			h.Errorf("entry %d (%q) is not the event of exactly one acknowledged command", e.Seq, u.Affiliation)
		}
		seen[u.Affiliation] = true
	}
	if len(seen) != len(acked) {
		h.Errorf("%d commands acknowledged, %d in the ledger", len(acked), len(seen))
	}

	// Close signed a last checkpoint of everything.
	cp, err := h.s.LatestCheckpoint(h.ctx)
	if err != nil {
		h.Fatalf("LatestCheckpoint after Close: %v", err)
	}
	if c := h.openCheckpoint(cp); c.Size != size {
		h.Errorf("the last checkpoint covers %d entries, the ledger has %d", c.Size, size)
	}
	h.checkCheckpoint(h.openCheckpoint(cp), h.replay())

	// Closed is closed.
	for range 2 {
		if v, err := h.s.Do(h.ctx, emitUpdates("ann", "too late")); !errors.Is(err, sqlstore.ErrClosed) || errCode(err) != steward.EUNAVAILABLE {
			h.Errorf("Do after Close = %v, %v; want ErrClosed (EUNAVAILABLE)", v, err)
		}
	}
	if err := h.s.Close(); err != nil {
		h.Errorf("second Close: %v", err)
	}
	if after, _ := h.head(); after != size {
		h.Errorf("the ledger grew after Close: %d → %d", size, after)
	}
}
