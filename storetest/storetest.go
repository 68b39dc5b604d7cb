package storetest

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/mod/sumdb/tlog"

	"steward"
	"steward/charter"
	"steward/ledger"
	"steward/sqlstore"
)

// Run runs the conformance suite. open must return a fresh, empty,
// migrated store configured with [Config](t), and arrange for it to be
// closed when t ends. The subtests run in parallel, each on its own store.
func Run(t *testing.T, open func(t *testing.T) *sqlstore.Store) {
	tests := []struct {
		name string
		f    func(h *harness)
	}{
		{"Empty", testEmpty},
		{"Instance", testInstance},
		{"Participants", testParticipants},
		{"RolesAndBodies", testRolesAndBodies},
		{"Tokens", testTokens},
		{"ScanAllPages", testScanAllPages},
		{"FailureChangesNothing", testFailureChangesNothing},
		{"FailureInBatch", testFailureInBatch},
		{"Panic", testPanic},
		{"TooLarge", testTooLarge},
		{"Concurrent", testConcurrent},
		{"Checkpoints", testCheckpoints},
		{"ConcurrentCheckpoints", testConcurrentCheckpoints},
		{"Tiles", testTiles},
		{"OutOfRange", testOutOfRange},
		{"Sessions", testSessions},
		{"Numbers", testNumbers},
		{"Close", testClose},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := open(t)
			e, ok := envs.Load(t)
			if !ok {
				t.Fatal("open must configure the store with storetest.Config(t)")
			}
			tt.f(&harness{T: t, s: s, ctx: t.Context(), env: e.(*env)})
		})
	}
}

// harness is one subtest's store and what the suite knows about it.
type harness struct {
	*testing.T
	s   *sqlstore.Store
	ctx context.Context
	env *env
}

// do runs cmd and fails the test if it fails.
func (h *harness) do(cmd steward.Command) any {
	h.Helper()
	v, err := h.s.Do(h.ctx, cmd)
	if err != nil {
		h.Fatalf("Do: %v", err)
	}
	return v
}

// doFail runs cmd, which must fail with the error code want.
func (h *harness) doFail(want string, cmd steward.Command) error {
	h.Helper()
	v, err := h.s.Do(h.ctx, cmd)
	if err == nil {
		h.Fatalf("Do = %v, nil; want a %s error", v, want)
	}
	if got := steward.ErrorCode(err); got != want {
		h.Fatalf("Do: %v (code %s); want code %s", err, got, want)
	}
	return err
}

// doErr runs cmd, which must fail.
func (h *harness) doErr(cmd steward.Command) error {
	h.Helper()
	v, err := h.s.Do(h.ctx, cmd)
	if err == nil {
		h.Fatalf("Do = %v, nil; want an error", v)
	}
	return err
}

func (h *harness) head() (int64, ledger.Digest) {
	h.Helper()
	n, d, err := h.s.Head(h.ctx)
	if err != nil {
		h.Fatalf("Head: %v", err)
	}
	return n, d
}

func (h *harness) entries(start, end int64) [][]byte {
	h.Helper()
	es, err := h.s.Entries(h.ctx, start, end)
	if err != nil {
		h.Fatalf("Entries(%d, %d): %v", start, end, err)
	}
	return es
}

func (h *harness) events(start, end int64) []*steward.Event {
	h.Helper()
	var out []*steward.Event
	for i, data := range h.entries(start, end) {
		e, err := steward.DecodeEvent(data)
		if err != nil {
			h.Fatalf("entry %d: %v", start+int64(i), err)
		}
		if e.Seq != start+int64(i) {
			h.Fatalf("entry %d has seq %d", start+int64(i), e.Seq)
		}
		out = append(out, e)
	}
	return out
}

func (h *harness) state() []steward.KV {
	h.Helper()
	kvs, err := steward.ScanAll(h.ctx, h.s, "")
	if err != nil {
		h.Fatalf("ScanAll: %v", err)
	}
	return kvs
}

func (h *harness) get(key string) []byte {
	h.Helper()
	v, err := h.s.Get(h.ctx, key)
	if err != nil {
		h.Fatalf("Get(%q): %v", key, err)
	}
	return v
}

func (h *harness) mustNotFind(key string) {
	h.Helper()
	if v, err := h.s.Get(h.ctx, key); steward.ErrorCode(err) != steward.ENOTFOUND {
		h.Fatalf("Get(%q) = %q, %v; want ENOTFOUND", key, v, err)
	}
}

func (h *harness) secret(key string) []byte {
	h.Helper()
	v, err := h.s.Secret(h.ctx, key)
	if err != nil {
		h.Fatalf("Secret(%q): %v", key, err)
	}
	return v
}

func (h *harness) mustNotFindSecret(key string) {
	h.Helper()
	if v, err := h.s.Secret(h.ctx, key); steward.ErrorCode(err) != steward.ENOTFOUND {
		h.Fatalf("Secret(%q) = %q, %v; want ENOTFOUND", key, v, err)
	}
}

// snapshot is everything a command could change.
type snapshot struct {
	size    int64
	digest  [32]byte
	state   []steward.KV
	entries [][]byte
	secrets map[string]string // of the keys asked for; "" if absent
}

func (h *harness) snapshot(secretKeys ...string) snapshot {
	h.Helper()
	size, d := h.head()
	sn := snapshot{size: size, digest: d.Sum(), state: h.state(), entries: h.entries(0, size), secrets: map[string]string{}}
	for _, k := range secretKeys {
		v, err := h.s.Secret(h.ctx, k)
		if err != nil && steward.ErrorCode(err) != steward.ENOTFOUND {
			h.Fatalf("Secret(%q): %v", k, err)
		}
		sn.secrets[k] = string(v)
	}
	return sn
}

// unchanged fails the test if the store differs from before.
func (h *harness) unchanged(before snapshot) {
	h.Helper()
	keys := make([]string, 0, len(before.secrets))
	for k := range before.secrets {
		keys = append(keys, k)
	}
	after := h.snapshot(keys...)
	if after.size != before.size {
		h.Errorf("ledger size changed from %d to %d", before.size, after.size)
	}
	if after.digest != before.digest {
		h.Errorf("state digest changed")
	}
	if diff := cmp.Diff(kvStrings(before.state), kvStrings(after.state)); diff != "" {
		h.Errorf("state changed (-before +after):\n%s", diff)
	}
	if diff := cmp.Diff(before.secrets, after.secrets); diff != "" {
		h.Errorf("secrets changed (-before +after):\n%s", diff)
	}
	for i := range min(len(before.entries), len(after.entries)) {
		if !bytes.Equal(before.entries[i], after.entries[i]) {
			h.Errorf("entry %d changed:\nbefore %s\nafter  %s", i, before.entries[i], after.entries[i])
		}
	}
	if h.Failed() {
		h.FailNow()
	}
}

func kvStrings(kvs []steward.KV) []string {
	out := make([]string, len(kvs))
	for i, kv := range kvs {
		out[i] = kv.Key + " = " + string(kv.Value)
	}
	return out
}

// memHashes is a tlog.HashReader over the stored hashes of a tree computed
// in memory from the entries alone.
type memHashes []tlog.Hash

func (m memHashes) ReadHashes(idx []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(idx))
	for i, x := range idx {
		if x < 0 || x >= int64(len(m)) {
			return nil, fmt.Errorf("no hash %d in memory", x)
		}
		out[i] = m[x]
	}
	return out, nil
}

// treeOf computes the stored hashes and root of the tree of entries.
func treeOf(entries [][]byte) (memHashes, tlog.Hash, error) {
	var m memHashes
	for i, e := range entries {
		hs, err := tlog.StoredHashes(int64(i), e, m)
		if err != nil {
			return nil, tlog.Hash{}, err
		}
		m = append(m, hs...)
	}
	root, err := tlog.TreeHash(int64(len(entries)), m)
	return m, root, err
}

// replay is the result of rebuilding the state from the ledger.
type replay struct {
	size    int64
	entries [][]byte
	events  []*steward.Event
	hashes  memHashes
	root    tlog.Hash
	state   *steward.MemState
	// digests[k] is the state digest's sum after the first k entries.
	digests [][32]byte
}

// replay reads the whole ledger, rebuilds the state by applying every entry
// to an empty MemState, and checks that the store agrees: entries decode
// canonically and are numbered from 0 without gaps, the stored state rows
// and the head digest equal the rebuilt ones, and the stored Merkle hashes
// and tree hash equal those computed in memory from the entries.
func (h *harness) replay() *replay {
	h.Helper()
	size, headDigest := h.head()
	r := &replay{size: size, entries: h.entries(0, size), state: steward.NewMemState()}
	var d ledger.Digest
	r.digests = append(r.digests, d.Sum())
	for i, data := range r.entries {
		e, err := steward.DecodeEvent(data)
		if err != nil {
			h.Fatalf("entry %d: %v", i, err)
		}
		if e.Seq != int64(i) {
			h.Fatalf("entry %d has seq %d", i, e.Seq)
		}
		before := map[string][]byte{}
		rec := &recorder{MemState: r.state, before: before}
		if err := steward.Apply(h.ctx, rec, e); err != nil {
			h.Fatalf("replay entry %d: %v", i, err)
		}
		for k, old := range before {
			if old != nil {
				d.Remove(k, old)
			}
			if v, err := r.state.Get(h.ctx, k); err == nil {
				d.Add(k, v)
			}
		}
		r.events = append(r.events, e)
		r.digests = append(r.digests, d.Sum())
	}
	var full ledger.Digest
	for _, kv := range r.state.All() {
		full.Add(kv.Key, kv.Value)
	}
	if full != d {
		h.Fatal("incremental and full digests of the replayed state differ")
	}
	if diff := cmp.Diff(kvStrings(r.state.All()), kvStrings(h.state())); diff != "" {
		h.Fatalf("stored state differs from the state replayed from the ledger (-replayed +stored):\n%s", diff)
	}
	if headDigest != d {
		h.Fatalf("head digest differs from the digest of the replayed state")
	}
	var err error
	if r.hashes, r.root, err = treeOf(r.entries); err != nil {
		h.Fatal(err)
	}
	idx := make([]int64, len(r.hashes))
	for i := range idx {
		idx[i] = int64(i)
	}
	stored, err := h.s.ReadHashes(h.ctx, idx)
	if err != nil {
		h.Fatalf("ReadHashes(0..%d): %v", len(idx), err)
	}
	for i := range stored {
		if stored[i] != r.hashes[i] {
			h.Fatalf("stored hash %d is %v, computed from the entries %v", i, stored[i], r.hashes[i])
		}
	}
	if x, err := h.s.ReadHashes(h.ctx, []int64{int64(len(idx))}); err == nil {
		h.Fatalf("ReadHashes(%d), past the tree of %d entries = %v, want an error", len(idx), size, x)
	}
	root, err := tlog.TreeHash(size, h.s.HashReader(h.ctx))
	if err != nil {
		h.Fatalf("TreeHash over the store: %v", err)
	}
	if root != r.root {
		h.Fatalf("tree hash over the store is %v, computed from the entries %v", root, r.root)
	}
	return r
}

// recorder is a StateWriter that remembers the value each key had before
// its first change, so the replay can keep a digest incrementally.
type recorder struct {
	*steward.MemState
	before map[string][]byte
}

func (r *recorder) note(ctx context.Context, key string) {
	if _, ok := r.before[key]; ok {
		return
	}
	v, _ := r.MemState.Get(ctx, key)
	r.before[key] = v
}

func (r *recorder) Put(ctx context.Context, key string, value []byte) error {
	r.note(ctx, key)
	return r.MemState.Put(ctx, key, value)
}

func (r *recorder) Delete(ctx context.Context, key string) error {
	r.note(ctx, key)
	return r.MemState.Delete(ctx, key)
}

// checkpoint signs a checkpoint and checks it against the replayed ledger.
func (h *harness) checkpoint() (ledger.Checkpoint, []byte) {
	h.Helper()
	msg, err := h.s.SignCheckpoint(h.ctx)
	if err != nil {
		h.Fatalf("SignCheckpoint: %v", err)
	}
	c := h.openCheckpoint(msg)
	r := h.replay()
	if c.Size != r.size {
		h.Fatalf("checkpoint size %d, head size %d", c.Size, r.size)
	}
	h.checkCheckpoint(c, r)
	return c, msg
}

func (h *harness) openCheckpoint(msg []byte) ledger.Checkpoint {
	h.Helper()
	c, err := ledger.Open(msg, h.env.verifier)
	if err != nil {
		h.Fatalf("ledger.Open(%q): %v", msg, err)
	}
	if c.Origin != Origin {
		h.Fatalf("checkpoint origin %q, want %q", c.Origin, Origin)
	}
	return c
}

// checkCheckpoint checks a checkpoint of a prefix of the replayed ledger.
func (h *harness) checkCheckpoint(c ledger.Checkpoint, r *replay) {
	h.Helper()
	if c.Size > r.size {
		h.Fatalf("checkpoint of %d entries, but the ledger has %d", c.Size, r.size)
	}
	root, err := tlog.TreeHash(c.Size, r.hashes)
	if err != nil {
		h.Fatal(err)
	}
	if c.Root != root {
		h.Fatalf("checkpoint of %d entries has root %v, computed from the entries %v", c.Size, c.Root, root)
	}
	if c.State != r.digests[c.Size] {
		h.Fatalf("checkpoint of %d entries has a state line that is not the digest of the replayed state", c.Size)
	}
}

// --- fixtures ---

func communityCharter(t testing.TB) []byte {
	b, err := charter.Preset("community")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// createInstance starts the ledger with the community charter.
func (h *harness) createInstance() {
	h.Helper()
	h.do(steward.CreateInstance(steward.Instance{Origin: Origin, Name: "Conformance"}, communityCharter(h)))
}

func participant(handle, group, region string) steward.Participant {
	return steward.Participant{Handle: handle, Name: "Participant " + strings.ToUpper(handle),
		Group: group, Affiliation: "Example " + handle, Region: region, Languages: []string{"en"}}
}

// register registers a participant of the technical community in Europe
// (or of group in region) with the e-mail address handle@example.org.
func (h *harness) register(handle string, groupRegion ...string) *steward.Participant {
	h.Helper()
	g, r := "technical-academic", "europe"
	if len(groupRegion) == 2 {
		g, r = groupRegion[0], groupRegion[1]
	}
	v := h.do(steward.Register(steward.ActorInit, steward.Registration{
		Participant: participant(handle, g, r), Email: handle + "@example.org", PasswordHash: PasswordHash(h)}))
	return v.(*steward.Participant)
}

// update is the payload of participant.updated.
type update struct {
	Handle      string   `json:"handle"`
	Name        string   `json:"name"`
	Affiliation string   `json:"affiliation,omitempty"`
	Languages   []string `json:"languages"`
}

// emitUpdates returns a command that emits one participant.updated event
// per affiliation, as handle.
func emitUpdates(handle string, affiliations ...string) steward.Command {
	return func(ctx context.Context, tx steward.Tx) (any, error) {
		var evs []*steward.Event
		for _, a := range affiliations {
			e, err := tx.Emit(ctx, handle, "participant.updated", update{Handle: handle, Name: "Participant " + strings.ToUpper(handle), Affiliation: a, Languages: []string{"en"}})
			if err != nil {
				return nil, err
			}
			evs = append(evs, e)
		}
		return evs, nil
	}
}

// batchProbe records the transactions that commands ran in, to tell
// whether they shared a batch.
type batchProbe struct {
	mu  sync.Mutex
	txs map[string]steward.Tx
}

func (p *batchProbe) wrap(name string, cmd steward.Command) steward.Command {
	return func(ctx context.Context, tx steward.Tx) (any, error) {
		p.mu.Lock()
		if p.txs == nil {
			p.txs = map[string]steward.Tx{}
		}
		p.txs[name] = tx
		p.mu.Unlock()
		return cmd(ctx, tx)
	}
}

func (p *batchProbe) shared() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	var first steward.Tx
	for _, tx := range p.txs {
		if first == nil {
			first = tx
		} else if tx != first {
			return false
		}
	}
	return true
}

// holdWriter runs a command that blocks the store's writer until the
// returned function is called, so that commands sent meanwhile queue up and
// run together in the next batch.
func (h *harness) holdWriter() (release func()) {
	h.Helper()
	started, done := make(chan struct{}), make(chan struct{})
	unblock := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = h.s.Do(context.Background(), func(ctx context.Context, tx steward.Tx) (any, error) {
			close(started)
			<-unblock
			return nil, nil
		})
	}()
	<-started
	var once sync.Once
	release = func() {
		once.Do(func() { close(unblock); <-done })
	}
	h.Cleanup(release)
	return release
}

// inOneBatch runs the commands that mk returns concurrently while the
// writer is held, so that they share one batch, and returns their results
// in order. If they did not share a batch (a goroutine was slow to queue its
// command), it tries again with the commands mk makes for the next attempt,
// which must not collide with those of earlier attempts.
func (h *harness) inOneBatch(mk func(attempt int) []steward.Command) ([]any, []error) {
	h.Helper()
	for attempt := 1; ; attempt++ {
		cmds := mk(attempt)
		var probe batchProbe
		release := h.holdWriter()
		vals, errs := make([]any, len(cmds)), make([]error, len(cmds))
		var wg sync.WaitGroup
		for i, cmd := range cmds {
			wg.Go(func() {
				vals[i], errs[i] = h.s.Do(h.ctx, probe.wrap(fmt.Sprint(i), cmd))
			})
		}
		time.Sleep(time.Duration(attempt) * 100 * time.Millisecond)
		release()
		wg.Wait()
		if probe.shared() {
			return vals, errs
		}
		if attempt == 5 {
			h.Fatal("the commands never ran in one batch")
		}
		h.Logf("attempt %d: the commands did not share a batch; trying again", attempt)
	}
}

func errCode(err error) string { return steward.ErrorCode(err) }
