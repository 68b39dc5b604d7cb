package storetest

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/mod/sumdb/tlog"

	"steward"
	"steward/ledger"
)

// testConcurrent sends 32 × 50 commands from 32 goroutines, some emitting
// two events and some failing, and checks that the ledger holds the events
// of exactly the acknowledged commands, once each, in each sender's order,
// numbered without gaps, with the Merkle tree that the entries alone give.
func testConcurrent(h *harness) {
	h.createInstance()
	const workers, perWorker = 32, 50
	handle := func(w int) string { return fmt.Sprintf("w%02d", w) }
	for w := range workers {
		h.register(handle(w))
	}
	start, _ := h.head()
	acked := make([][]string, workers) // affiliations, in the order acknowledged
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for n := range perWorker {
				aff := fmt.Sprintf("%s-%02d", handle(w), n)
				p := participant(handle(w), "technical-academic", "europe")
				var cmd steward.Command
				var want []string
				switch n % 10 {
				case 9: // refused: too long an affiliation
					p.Affiliation = strings.Repeat("x", 201)
					cmd = steward.UpdateProfile(handle(w), p)
				case 4: // two events
					want = []string{aff + "a", aff + "b"}
					cmd = emitUpdates(handle(w), want...)
				default:
					p.Affiliation = aff
					want = []string{aff}
					cmd = steward.UpdateProfile(handle(w), p)
				}
				v, err := h.s.Do(h.ctx, cmd)
				if n%10 == 9 {
					if errCode(err) != steward.EINVALID {
						h.Errorf("%s: refused command: %v, %v; want EINVALID", aff, v, err)
					}
					continue
				}
				if err != nil {
					h.Errorf("%s: %v", aff, err)
					return
				}
				acked[w] = append(acked[w], want...)
			}
		})
	}
	wg.Wait()
	if h.Failed() {
		h.FailNow()
	}
	r := h.replay()
	got := make(map[string][]string)
	for _, e := range r.events[start:] {
		var u update
		if e.Kind != "participant.updated" || e.DecodePayload(&u) != nil || e.Actor != u.Handle {
			h.Fatalf("entry %d is %s by %s: %s", e.Seq, e.Kind, e.Actor, e.Payload)
		}
		got[u.Handle] = append(got[u.Handle], u.Affiliation)
	}
	total := 0
	for w := range workers {
		total += len(acked[w])
		if diff := cmp.Diff(acked[w], got[handle(w)]); diff != "" {
			h.Errorf("events of %s (-acknowledged +ledger):\n%s", handle(w), diff)
		}
		p, err := steward.LoadParticipant(h.ctx, h.s, handle(w))
		if err != nil || p.Affiliation != acked[w][len(acked[w])-1] {
			h.Errorf("%s: affiliation %q, %v; want the last acknowledged, %q", handle(w), p.Affiliation, err, acked[w][len(acked[w])-1])
		}
	}
	// Per worker: 40 commands of one event, 5 of two, 5 refused.
	if want := workers * 50; total != want {
		h.Errorf("%d events acknowledged, want %d", total, want)
	}
	if n := r.size - start; n != int64(total) {
		h.Errorf("the ledger grew by %d entries for %d acknowledged events", n, total)
	}
	h.checkpoint()
}

func testCheckpoints(h *harness) {
	h.createInstance()
	c1, m1 := h.checkpoint()
	if c1.Size != 2 {
		h.Fatalf("checkpoint size %d, want 2", c1.Size)
	}
	again, err := h.s.SignCheckpoint(h.ctx)
	if err != nil || !bytes.Equal(again, m1) {
		h.Fatalf("a second SignCheckpoint with no new entries = %q, %v; want the same checkpoint %q", again, err, m1)
	}
	h.env.clock.Advance(time.Hour)
	if again, err := h.s.SignCheckpoint(h.ctx); err != nil || !bytes.Equal(again, m1) {
		h.Fatalf("SignCheckpoint an hour later with no new entries = %q, %v; want the same checkpoint", again, err)
	}
	if latest, err := h.s.LatestCheckpoint(h.ctx); err != nil || !bytes.Equal(latest, m1) {
		h.Fatalf("LatestCheckpoint = %q, %v; want %q", latest, err, m1)
	}

	h.register("ann")
	h.do(emitUpdates("ann", "a", "b", "c"))
	c2, m2 := h.checkpoint()
	if c2.Size != c1.Size+4 {
		h.Fatalf("checkpoint size %d, want %d", c2.Size, c1.Size+4)
	}
	if sizes, err := h.s.CheckpointSizes(h.ctx); err != nil || !slices.Equal(sizes, []int64{c1.Size, c2.Size}) {
		h.Fatalf("CheckpointSizes = %v, %v; want [%d %d]", sizes, err, c1.Size, c2.Size)
	}
	for size, want := range map[int64][]byte{c1.Size: m1, c2.Size: m2} {
		if got, err := h.s.Checkpoint(h.ctx, size); err != nil || !bytes.Equal(got, want) {
			h.Errorf("Checkpoint(%d) = %q, %v; want %q", size, got, err, want)
		}
	}
	if got, err := h.s.Checkpoint(h.ctx, c1.Size+1); errCode(err) != steward.ENOTFOUND {
		h.Errorf("Checkpoint(%d), never signed = %q, %v; want ENOTFOUND", c1.Size+1, got, err)
	}
	r := h.replay()
	h.checkCheckpoint(h.openCheckpoint(m1), r)

	// The later checkpoint extends the earlier, and proves its entries.
	hr := h.s.HashReader(h.ctx)
	proof, err := tlog.ProveTree(c2.Size, c1.Size, hr)
	if err != nil {
		h.Fatal(err)
	}
	if err := tlog.CheckTree(proof, c2.Size, c2.Root, c1.Size, c1.Root); err != nil {
		h.Errorf("checkpoint %d is not consistent with checkpoint %d: %v", c2.Size, c1.Size, err)
	}
	for i := range c2.Size {
		p, err := tlog.ProveRecord(c2.Size, i, hr)
		if err != nil {
			h.Fatal(err)
		}
		if err := tlog.CheckRecord(p, c2.Size, c2.Root, i, tlog.RecordHash(r.entries[i])); err != nil {
			h.Errorf("entry %d is not proved in checkpoint %d: %v", i, c2.Size, err)
		}
	}
}

// testConcurrentCheckpoints signs checkpoints while commands commit: every
// checkpoint verifies against the ledger, and the latest never shrinks.
func testConcurrentCheckpoints(h *harness) {
	h.createInstance()
	h.register("ann")
	var writers, signers sync.WaitGroup
	for w := range 4 {
		writers.Go(func() {
			for n := range 60 {
				if _, err := h.s.Do(h.ctx, emitUpdates("ann", fmt.Sprintf("%d-%d", w, n))); err != nil {
					h.Error(err)
					return
				}
			}
		})
	}
	done := make(chan struct{})
	for range 4 {
		signers.Go(func() {
			var last int64
			for {
				msg, err := h.s.SignCheckpoint(h.ctx)
				if err != nil {
					h.Errorf("SignCheckpoint: %v", err)
					return
				}
				c, err := ledger.Open(msg, h.env.verifier)
				if err != nil {
					h.Errorf("ledger.Open: %v", err)
					return
				}
				if c.Size < last {
					h.Errorf("SignCheckpoint returned a checkpoint of %d entries after one of %d", c.Size, last)
				}
				last = c.Size
				latest, err := h.s.LatestCheckpoint(h.ctx)
				if err != nil {
					h.Errorf("LatestCheckpoint: %v", err)
					return
				}
				if lc, err := ledger.Open(latest, h.env.verifier); err != nil || lc.Size < last {
					h.Errorf("LatestCheckpoint is of %d entries (%v) after SignCheckpoint returned one of %d", lc.Size, err, last)
				}
				select {
				case <-done:
					return
				default:
				}
			}
		})
	}
	writers.Wait()
	close(done)
	signers.Wait()
	if h.Failed() {
		h.FailNow()
	}
	c, _ := h.checkpoint()
	r := h.replay()
	sizes, err := h.s.CheckpointSizes(h.ctx)
	if err != nil {
		h.Fatal(err)
	}
	if !slices.IsSorted(sizes) || len(slices.Compact(slices.Clone(sizes))) != len(sizes) || sizes[len(sizes)-1] != c.Size {
		h.Fatalf("CheckpointSizes = %v", sizes)
	}
	for _, size := range sizes {
		msg, err := h.s.Checkpoint(h.ctx, size)
		if err != nil {
			h.Fatalf("Checkpoint(%d): %v", size, err)
		}
		ci := h.openCheckpoint(msg)
		if ci.Size != size {
			h.Fatalf("Checkpoint(%d) is of %d entries", size, ci.Size)
		}
		h.checkCheckpoint(ci, r)
	}
	h.Logf("%d checkpoints of up to %d entries", len(sizes), c.Size)
}

// testTiles checks hash tiles and entry bundles, full and partial, against
// those computed from the entries alone, at sizes around tile boundaries.
func testTiles(h *harness) {
	// The first entry alone: an instance without a charter.
	h.do(func(ctx context.Context, tx steward.Tx) (any, error) {
		return tx.Emit(ctx, steward.ActorInit, "instance.created", steward.Instance{Origin: Origin, Name: "Tiles", Created: tx.Now()})
	})
	h.checkTiles(1)
	h.do(func(ctx context.Context, tx steward.Tx) (any, error) {
		return tx.Emit(ctx, steward.ActorInit, "participant.registered", participant("ann", "civil-society", "africa"))
	})
	n := int64(2)
	grow := func(to int64, perCommand int) {
		for n < to {
			k := min(int64(perCommand), to-n)
			affs := make([]string, k)
			for i := range affs {
				affs[i] = fmt.Sprint("entry ", n+int64(i))
			}
			h.do(emitUpdates("ann", affs...))
			n += k
		}
	}
	for _, step := range []struct {
		size       int64
		perCommand int
	}{{255, 1000}, {256, 1}, {257, 1}, {600, 37}} {
		grow(step.size, step.perCommand)
		h.checkTiles(step.size)
	}
	h.checkpoint()
}

func (h *harness) checkTiles(n int64) {
	h.Helper()
	if size, _ := h.head(); size != n {
		h.Fatalf("the ledger has %d entries, want %d", size, n)
	}
	entries := h.entries(0, n)
	hashes, root, err := treeOf(entries)
	if err != nil {
		h.Fatal(err)
	}
	tiles := tlog.NewTiles(ledger.TileHeight, 0, n)
	if len(tiles) == 0 {
		h.Fatalf("no tiles for %d entries", n)
	}
	for _, t := range tiles {
		got, err := h.s.Tile(h.ctx, t)
		if err != nil {
			h.Fatalf("size %d: Tile(%s): %v", n, ledger.TilePath(t), err)
		}
		want, err := tlog.ReadTileData(t, hashes)
		if err != nil {
			h.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			h.Fatalf("size %d: Tile(%s) differs from the tile computed from the entries", n, ledger.TilePath(t))
		}
		if t.L != 0 {
			continue
		}
		b := t
		b.L = -1
		data, err := h.s.Tile(h.ctx, b)
		if err != nil {
			h.Fatalf("size %d: Tile(%s): %v", n, ledger.TilePath(b), err)
		}
		bundle, err := ledger.DecodeBundle(data)
		if err != nil {
			h.Fatalf("size %d: %s: %v", n, ledger.TilePath(b), err)
		}
		first := t.N << ledger.TileHeight
		if diff := cmp.Diff(entries[first:first+int64(t.W)], bundle); diff != "" {
			h.Fatalf("size %d: %s holds other entries (-want +got):\n%s", n, ledger.TilePath(b), diff)
		}
	}
	// A client that trusts only the root reads every stored hash through
	// the tiles, each verified against the root.
	thr := tlog.TileHashReader(tlog.Tree{N: n, Hash: root}, &tileSource{h: h})
	idx := make([]int64, len(hashes))
	for i := range idx {
		idx[i] = int64(i)
	}
	if _, err := thr.ReadHashes(idx); err != nil {
		h.Fatalf("size %d: reading the hashes through verified tiles: %v", n, err)
	}
	// Tiles past the tree are not found.
	beyond := []tlog.Tile{
		{H: 8, L: 0, N: n / 256, W: int(n%256) + 1},
		{H: 8, L: -1, N: n / 256, W: int(n%256) + 1},
		{H: 8, L: 0, N: n/256 + 1, W: 256},
		{H: 8, L: -1, N: n/256 + 1, W: 1},
		{H: 8, L: 1, N: 0, W: int(n/256) + 1},
		{H: 8, L: 2, N: 0, W: 1},
	}
	for _, t := range beyond {
		if t.W > 256 {
			continue
		}
		if b, err := h.s.Tile(h.ctx, t); errCode(err) != steward.ENOTFOUND {
			h.Fatalf("size %d: Tile(%s), beyond the tree = %d bytes, %v; want ENOTFOUND", n, ledger.TilePath(t), len(b), err)
		}
	}
}

// tileSource is the tlog.TileReader of a store.
type tileSource struct{ h *harness }

func (s *tileSource) Height() int { return ledger.TileHeight }

func (s *tileSource) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		b, err := s.h.s.Tile(s.h.ctx, t)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", ledger.TilePath(t), err)
		}
		out[i] = b
	}
	return out, nil
}

func (s *tileSource) SaveTiles([]tlog.Tile, [][]byte) {}

func testOutOfRange(h *harness) {
	h.createInstance()
	h.register("ann")
	affs := make([]string, 600)
	for i := range affs {
		affs[i] = fmt.Sprint(i)
	}
	h.do(emitUpdates("ann", affs...))
	n, _ := h.head()
	count := tlog.StoredHashCount(n)

	// More indexes than one query reads, in any order.
	idx := make([]int64, count)
	for i := range idx {
		idx[i] = count - 1 - int64(i)
	}
	got, err := h.s.ReadHashes(h.ctx, idx)
	if err != nil || int64(len(got)) != count {
		h.Fatalf("ReadHashes of all %d = %d hashes, %v", count, len(got), err)
	}
	r := h.replay()
	for i, x := range idx {
		if got[i] != r.hashes[x] {
			h.Fatalf("ReadHashes: hash %d differs", x)
		}
	}
	if x, err := h.s.ReadHashes(h.ctx, nil); err != nil || len(x) != 0 {
		h.Errorf("ReadHashes(nil) = %v, %v", x, err)
	}
	for _, bad := range [][]int64{{count}, {-1}, {0, count + 1000, 1}, {1 << 40}} {
		if x, err := h.s.ReadHashes(h.ctx, bad); errCode(err) != steward.ENOTFOUND {
			h.Errorf("ReadHashes(%v) = %v, %v; want ENOTFOUND", bad, x, err)
		}
	}

	if es := h.entries(n, n); len(es) != 0 {
		h.Errorf("Entries(%d, %d) = %d entries", n, n, len(es))
	}
	if es := h.entries(n-1, n); len(es) != 1 || !bytes.Equal(es[0], r.entries[n-1]) {
		h.Errorf("Entries(%d, %d) is not the last entry", n-1, n)
	}
	for _, rg := range [][2]int64{{n, n + 1}, {0, n + 1}, {n - 1, n + 5}, {1 << 40, 1<<40 + 1}} {
		if es, err := h.s.Entries(h.ctx, rg[0], rg[1]); errCode(err) != steward.ENOTFOUND {
			h.Errorf("Entries(%d, %d) = %d entries, %v; want ENOTFOUND", rg[0], rg[1], len(es), err)
		}
	}
	for _, rg := range [][2]int64{{-1, 1}, {5, 3}, {-5, -3}} {
		if es, err := h.s.Entries(h.ctx, rg[0], rg[1]); err == nil {
			h.Errorf("Entries(%d, %d) = %d entries, nil; want an error", rg[0], rg[1], len(es))
		}
	}
}

func testSessions(h *harness) {
	h.createInstance()
	h.register("ann")
	before := h.snapshot()
	ms := time.Millisecond
	s1 := steward.Session{ID: strings.Repeat("a1", 32), Participant: "ann", Created: Epoch, Expires: Epoch.Add(time.Hour)}
	s2 := steward.Session{ID: strings.Repeat("b2", 32), Participant: "ann", Created: Epoch.Add(ms), Expires: Epoch.Add(time.Minute)}
	for _, s := range []steward.Session{s1, s2} {
		if err := h.s.CreateSession(h.ctx, s); err != nil {
			h.Fatalf("CreateSession: %v", err)
		}
	}
	if err := h.s.CreateSession(h.ctx, s1); err == nil {
		h.Error("a second CreateSession with the same ID succeeded")
	}
	got, err := h.s.Session(h.ctx, s1.ID, Epoch.Add(time.Hour-ms))
	if err != nil {
		h.Fatalf("Session: %v", err)
	}
	if diff := cmp.Diff(&s1, got); diff != "" {
		h.Errorf("Session (-want +got):\n%s", diff)
	}
	if got, err := h.s.Session(h.ctx, s1.ID, Epoch.Add(time.Hour)); errCode(err) != steward.ENOTFOUND {
		h.Errorf("Session when it expires = %+v, %v; want ENOTFOUND", got, err)
	}
	if got, err := h.s.Session(h.ctx, "nope", Epoch); errCode(err) != steward.ENOTFOUND {
		h.Errorf("Session(nope) = %+v, %v; want ENOTFOUND", got, err)
	}
	// Deleting one session sweeps away the expired ones too.
	if err := h.s.DeleteSession(h.ctx, s1.ID, Epoch.Add(2*time.Minute)); err != nil {
		h.Fatalf("DeleteSession: %v", err)
	}
	for _, s := range []steward.Session{s1, s2} {
		if got, err := h.s.Session(h.ctx, s.ID, Epoch); errCode(err) != steward.ENOTFOUND {
			h.Errorf("Session(%s…) after DeleteSession = %+v, %v; want ENOTFOUND", s.ID[:4], got, err)
		}
	}
	if err := h.s.DeleteSession(h.ctx, "nope", Epoch); err != nil {
		h.Errorf("DeleteSession of no session: %v", err)
	}
	// Sessions are not part of the ledger or the state.
	h.unchanged(before)
}
