package rdap

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"steward"
	"steward/ledger"
)

// Source is what a Follower reads: the ledger.
type Source interface {
	// Head returns the number of entries in the ledger.
	Head(ctx context.Context) (int64, ledger.Digest, error)
	// Entries returns the encoded entries start to end-1.
	Entries(ctx context.Context, start, end int64) ([][]byte, error)
}

// Follower keeps an RDAP snapshot current with the ledger. It replays every
// new ledger entry into its own copy of the state, as steward audit does,
// noting which entry created and which last changed each record, and
// rebuilds only the parts of the snapshot whose records changed. It never
// writes to the store.
//
// A Follower is safe for concurrent use: Current never blocks, and Update
// calls are serialized.
type Follower struct {
	src      Source
	clock    steward.Clock
	log      *slog.Logger
	interval time.Duration

	mu    sync.Mutex // serializes Update; guards the fields below
	state *steward.MemState
	meta  map[string]Events // tracked state key → its events (values: fewer objects for the GC)
	head  int64
	last  Stamp
	m     *model

	cur atomic.Pointer[Snapshot]
}

// FollowerConfig configures a Follower.
type FollowerConfig struct {
	Source   Source
	Clock    steward.Clock
	Logger   *slog.Logger
	Interval time.Duration // how often Run looks for new entries; default 250ms
}

// NewFollower returns a Follower that has read nothing yet; it does no I/O.
func NewFollower(cfg FollowerConfig) *Follower {
	if cfg.Clock == nil {
		cfg.Clock = steward.SystemClock{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Interval == 0 {
		cfg.Interval = 250 * time.Millisecond
	}
	return &Follower{
		src: cfg.Source, clock: cfg.Clock, log: cfg.Logger.With("component", "rdap"), interval: cfg.Interval,
		state: steward.NewMemState(), meta: map[string]Events{}, m: newModel(),
	}
}

// Current returns the latest snapshot, or nil before the first Update.
func (f *Follower) Current() *Snapshot { return f.cur.Load() }

// Run updates the snapshot every interval until ctx ends.
func (f *Follower) Run(ctx context.Context) {
	t := time.NewTicker(f.interval)
	defer t.Stop()
	for {
		if _, err := f.Update(ctx); err != nil && ctx.Err() == nil {
			f.log.Error("rdap update", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// batch is how many ledger entries Update reads at a time.
const batch = 2000

// Update reads the entries appended since the last update and returns the
// snapshot that reflects them: the same snapshot as before if none of them
// changed a record RDAP shows.
func (f *Follower) Update(ctx context.Context) (*Snapshot, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	head, _, err := f.src.Head(ctx)
	if err != nil {
		return nil, err
	}
	cur := f.cur.Load()
	if cur != nil && head == f.head {
		return cur, nil
	}
	changed := map[string]bool{}
	tr := &tracker{MemState: f.state, meta: f.meta, changed: changed, touched: f.last, blocks: map[string]*steward.Block{}}
	for f.head < head {
		end := min(head, f.head+batch)
		entries, err := f.src.Entries(ctx, f.head, end)
		if err != nil {
			return nil, err
		}
		for _, b := range entries {
			e, err := steward.DecodeEvent(b)
			if err != nil {
				return nil, err
			}
			tr.stamp = Stamp{Seq: e.Seq, Time: e.Time, Actor: e.Actor}
			if err := steward.Apply(ctx, tr, e); err != nil {
				return nil, err
			}
			if err := tr.settle(); err != nil {
				return nil, err
			}
		}
		f.head = end
	}
	if cur != nil && len(changed) == 0 {
		// Nothing RDAP shows changed: the snapshot, and the responses
		// rendered from it, stay.
		return cur, nil
	}
	f.last = tr.touched
	return f.rebuild(ctx, changed, tr.blocks)
}

// rebuild applies the changed records to the model and publishes a new
// snapshot.
func (f *Follower) rebuild(ctx context.Context, changed map[string]bool, blocks map[string]*steward.Block) (*Snapshot, error) {
	keys := make([]string, 0, len(changed))
	for k := range changed {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var dirty dirtySet
	for _, k := range keys {
		ev := Events{}
		if m, ok := f.meta[k]; ok {
			ev = m
		}
		if b, ok := blocks[k]; ok {
			if err := projectBlock(f.m, k, b, ev, &dirty); err != nil {
				return nil, err
			}
			continue
		}
		v, err := f.state.Get(ctx, k)
		if err != nil {
			v = nil
		}
		if err := f.m.project(ctx, f.state, k, v, ev, &dirty); err != nil {
			return nil, err
		}
	}
	s := f.m.snapshot(f.cur.Load(), dirty)
	s.Head, s.Updated, s.Built = f.head, f.last, f.clock.Now()
	f.cur.Store(s)
	return s, nil
}

// tracked reports whether RDAP follows the state record at key.
func tracked(key string) bool {
	for _, p := range projections {
		if strings.HasPrefix(key, p.prefix) {
			return true
		}
	}
	return false
}

// tracker applies events to the follower's state and notes, for each
// record RDAP follows, the entries that created and last changed it.
type tracker struct {
	*steward.MemState
	meta    map[string]Events
	changed map[string]bool
	stamp   Stamp
	touched Stamp // the last entry that changed a followed record

	// Number blocks are stored in chunks (see steward.ChunkKeyPrefix), but
	// followed one by one, by block key: the blocks an entry's chunk
	// writes removed and added (by steward.BlockText), settled after each
	// entry so that a block moved to another chunk is not a change, and
	// the changed blocks (nil if removed) for rebuild.
	gone, came map[string]int
	texts      map[string]*steward.Block
	blocks     map[string]*steward.Block
}

// stampKey notes that the current entry changed the record at key.
func (t *tracker) stampKey(key string) {
	if m, ok := t.meta[key]; ok {
		m.Changed = t.stamp
		t.meta[key] = m
	} else {
		t.meta[key] = Events{Registered: t.stamp, Changed: t.stamp}
	}
}

func isChunk(key string) bool { return strings.HasPrefix(key, "num/blocks/") }

// noteChunk notes the blocks a chunk write removes and adds.
func (t *tracker) noteChunk(key string, old, value []byte) error {
	if t.gone == nil {
		t.gone, t.came, t.texts = map[string]int{}, map[string]int{}, map[string]*steward.Block{}
	}
	for _, c := range []struct {
		v []byte
		n map[string]int
	}{{old, t.gone}, {value, t.came}} {
		if c.v == nil {
			continue
		}
		bs, err := steward.ChunkBlocks(key, c.v)
		if err != nil {
			return fmt.Errorf("rdap: %w", err)
		}
		for _, b := range bs {
			text := steward.BlockText(b)
			c.n[text]++
			t.texts[text] = b
		}
	}
	return nil
}

// settle turns the chunk writes of one entry into block changes.
func (t *tracker) settle() error {
	if len(t.gone) == 0 && len(t.came) == 0 {
		return nil
	}
	added := map[string]bool{}
	for text, n := range t.came {
		if n <= t.gone[text] {
			continue
		}
		b := t.texts[text]
		key := b.Key()
		added[key] = true
		t.blocks[key] = b
		t.stampKey(key)
		t.changed[key] = true
		t.touched = t.stamp
	}
	for text, n := range t.gone {
		if n <= t.came[text] {
			continue
		}
		key := t.texts[text].Key()
		if added[key] {
			continue
		}
		t.blocks[key] = nil
		delete(t.meta, key)
		t.changed[key] = true
		t.touched = t.stamp
	}
	clear(t.gone)
	clear(t.came)
	clear(t.texts)
	return nil
}

func (t *tracker) Put(ctx context.Context, key string, value []byte) error {
	if isChunk(key) {
		old, _ := t.MemState.Get(ctx, key)
		if err := t.noteChunk(key, old, value); err != nil {
			return err
		}
		return t.MemState.Put(ctx, key, value)
	}
	if !tracked(key) {
		return t.MemState.Put(ctx, key, value)
	}
	old, err := t.MemState.Get(ctx, key)
	if err == nil && bytes.Equal(old, value) {
		return nil
	}
	if err := t.MemState.Put(ctx, key, value); err != nil {
		return err
	}
	t.stampKey(key)
	t.changed[key] = true
	t.touched = t.stamp
	return nil
}

func (t *tracker) Delete(ctx context.Context, key string) error {
	if isChunk(key) {
		old, _ := t.MemState.Get(ctx, key)
		if err := t.noteChunk(key, old, nil); err != nil {
			return err
		}
	}
	if tracked(key) {
		delete(t.meta, key)
		t.changed[key] = true
		t.touched = t.stamp
	}
	return t.MemState.Delete(ctx, key)
}
