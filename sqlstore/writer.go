package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"steward"
	"steward/ledger"
)

type request struct {
	ctx  context.Context
	cmd  steward.Command
	done chan result
}

type result struct {
	v   any
	err error
}

// Do runs cmd in a write transaction and returns its result once the
// transaction is durable. If cmd fails, nothing it did is kept.
func (s *Store) Do(ctx context.Context, cmd steward.Command) (any, error) {
	if s.cfg.ReadOnly {
		return nil, steward.Errorf(steward.EUNAVAILABLE, "the store is read-only")
	}
	req := &request{ctx: ctx, cmd: cmd, done: make(chan result, 1)}
	// Senders hold the read lock while they queue, so that once Close has
	// taken the write lock no request can be queued behind the writer's
	// final drain and wait forever.
	s.mu.RLock()
	if s.isClosed {
		s.mu.RUnlock()
		return nil, ErrClosed
	}
	select {
	case s.reqs <- req:
		s.mu.RUnlock()
	case <-ctx.Done():
		s.mu.RUnlock()
		return nil, ctx.Err()
	}
	// Once queued, wait for the outcome even if ctx ends: the command may
	// already be committed, and the caller must not be told otherwise.
	r := <-req.done
	return r.v, r.err
}

func (s *Store) writer() {
	defer s.wg.Done()
	batch := make([]*request, 0, MaxBatch)
	for {
		var first *request
		select {
		case first = <-s.reqs:
		case <-s.closed:
			// Drain what was queued before Close.
			for {
				select {
				case r := <-s.reqs:
					s.runBatch([]*request{r})
				default:
					return
				}
			}
		}
		batch = append(batch[:0], first)
	fill:
		for len(batch) < MaxBatch {
			select {
			case r := <-s.reqs:
				batch = append(batch, r)
			default:
				break fill
			}
		}
		s.runBatch(batch)
	}
}

// runBatch commits a batch of commands in one transaction and answers each.
func (s *Store) runBatch(batch []*request) {
	start := time.Now()
	results := make([]result, len(batch))
	n, err := s.commitBatch(batch, results)
	if err != nil {
		s.hashes, s.hashesSize = nil, -1
		s.log.Error("commit", "err", err, "commands", len(batch))
		for i := range results {
			if results[i].err == nil {
				results[i] = result{err: fmt.Errorf("commit: %w", err)}
			}
		}
	} else if m := s.cfg.Metrics; m != nil {
		m.observeBatch(len(batch), n, time.Since(start))
	}
	for i, r := range batch {
		r.done <- results[i]
	}
}

func (s *Store) commitBatch(batch []*request, results []result) (int, error) {
	// The batch's statements run without cancellation: a cancellable
	// context costs the driver a watcher goroutine per statement, and the
	// transaction must not be cut short once begun.
	ctx := context.WithoutCancel(s.ctx)
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer func() { _ = tx.Rollback() }()
	st, err := prepare(ctx, tx)
	if err != nil {
		return 0, err
	}
	defer st.close()
	t := &txn{s: s, tx: tx, ctx: ctx, st: st, now: s.cfg.Clock.Now(), cache: map[string]cached{}}
	var digest []byte
	if err := tx.QueryRowContext(ctx, s.dialect.LockHead()).Scan(&t.size, &digest); err != nil {
		return 0, fmt.Errorf("read ledger head: %w", err)
	}
	if len(digest) != len(t.digest) {
		return 0, fmt.Errorf("ledger head digest is %d bytes", len(digest))
	}
	copy(t.digest[:], digest)
	if t.size != s.hashesSize { // another node appended, or a failed commit
		s.hashes, s.hashesSize = make(map[int64]tlog.Hash), t.size
	}
	for i, req := range batch {
		if err := req.ctx.Err(); err != nil {
			results[i] = result{err: err}
			continue
		}
		v, err := t.run(req)
		if err != nil && !isCommandError(err) {
			return 0, err // the transaction itself is broken
		}
		results[i] = result{v: v, err: unwrapCommandError(err)}
	}
	if len(t.entries) == 0 {
		return 0, tx.Commit() // commands that only touched secrets, or all failed
	}
	if err := s.appendEntries(ctx, tx, t.size, t.entries); err != nil {
		return 0, err
	}
	newSize := t.size + int64(len(t.entries))
	if _, err := tx.ExecContext(ctx, `UPDATE ledger_head SET size = $1, digest = $2 WHERE id = 1`, newSize, t.digest[:]); err != nil {
		return 0, err
	}
	if err := tx.Commit(); err != nil {
		return 0, err
	}
	s.pruneHashes(newSize)
	return len(t.entries), nil
}

// commandError marks an error returned by a command (as opposed to one from
// the database that breaks the transaction).
type commandError struct{ err error }

func (e *commandError) Error() string { return e.err.Error() }
func isCommandError(err error) bool {
	var ce *commandError
	return errors.As(err, &ce)
}
func unwrapCommandError(err error) error {
	var ce *commandError
	if errors.As(err, &ce) {
		return ce.err
	}
	return err
}

// appendEntries stores the new entries and their Merkle hashes.
func (s *Store) appendEntries(ctx context.Context, tx *sql.Tx, size int64, entries [][]byte) error {
	read := tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(idx))
		for i, x := range idx {
			h, ok := s.hashes[x]
			if !ok {
				var b []byte
				if err := tx.QueryRowContext(ctx, `SELECT hash FROM ledger_hashes WHERE idx = $1`, x).Scan(&b); err != nil {
					return nil, fmt.Errorf("read hash %d: %w", x, err)
				}
				copy(h[:], b)
				s.hashes[x] = h
			}
			out[i] = h
		}
		return out, nil
	})
	var hashRows []any
	for i, e := range entries {
		n := size + int64(i)
		hs, err := tlog.StoredHashes(n, e, read)
		if err != nil {
			return err
		}
		base := tlog.StoredHashIndex(0, n)
		for j, h := range hs {
			s.hashes[base+int64(j)] = h
			hashRows = append(hashRows, base+int64(j), h[:])
		}
	}
	entryRows := make([]any, 0, 2*len(entries))
	for i, e := range entries {
		entryRows = append(entryRows, size+int64(i), e)
	}
	if err := insertRows(ctx, tx, "ledger_entries (seq, data)", entryRows); err != nil {
		return err
	}
	return insertRows(ctx, tx, "ledger_hashes (idx, hash)", hashRows)
}

// insertRows inserts pairs of values in chunks of multi-row INSERTs.
func insertRows(ctx context.Context, tx *sql.Tx, into string, vals []any) error {
	const chunk = 200 // rows per statement
	for len(vals) > 0 {
		n := min(len(vals)/2, chunk)
		var b strings.Builder
		b.WriteString("INSERT INTO " + into + " VALUES ")
		for i := 0; i < n; i++ {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, "($%d,$%d)", 2*i+1, 2*i+2)
		}
		if _, err := tx.ExecContext(ctx, b.String(), vals[:2*n]...); err != nil {
			return fmt.Errorf("insert into %s: %w", into, err)
		}
		vals = vals[2*n:]
	}
	return nil
}

// pruneHashes keeps only the frontier of a tree of size n in the cache.
func (s *Store) pruneHashes(n int64) {
	keep := make(map[int64]tlog.Hash)
	for _, x := range ledger.Frontier(n) {
		if h, ok := s.hashes[x]; ok {
			keep[x] = h
		}
	}
	s.hashes, s.hashesSize = keep, n
}

// txn is the steward.Tx of one batch.
type txn struct {
	s       *Store
	tx      *sql.Tx
	ctx     context.Context // for the batch's statements
	st      *stmts
	now     time.Time
	size    int64 // tree size when the batch began
	digest  ledger.Digest
	entries [][]byte

	// cache holds the state records read or written in this batch, so that
	// commands reading the same records (the charter, the actor) do not
	// query them again; journal undoes a failed command's changes to it.
	cache   map[string]cached
	journal []undo
}

// cached is a state record as the batch sees it; absent records are cached
// too.
type cached struct {
	v       []byte
	present bool
}

type undo struct {
	key  string
	prev cached
	had  bool
}

func (t *txn) remember(key string, c cached) {
	prev, had := t.cache[key]
	t.journal = append(t.journal, undo{key, prev, had})
	t.cache[key] = c
}

// rollbackCache undoes the cache changes made since the journal had n
// entries.
func (t *txn) rollbackCache(n int) {
	for i := len(t.journal) - 1; i >= n; i-- {
		u := t.journal[i]
		if u.had {
			t.cache[u.key] = u.prev
		} else {
			delete(t.cache, u.key)
		}
	}
	t.journal = t.journal[:n]
}

// stmts are the batch's prepared statements.
type stmts struct {
	getState, putState, delState, getSecret, putSecret, delSecret *sql.Stmt
	savepoint, release, rollbackTo                                *sql.Stmt
}

func prepare(ctx context.Context, tx *sql.Tx) (*stmts, error) {
	st := &stmts{}
	for _, p := range []struct {
		dst *(*sql.Stmt)
		q   string
	}{
		{&st.getState, `SELECT v FROM state WHERE k = $1`},
		{&st.putState, `INSERT INTO state (k, v) VALUES ($1, $2) ON CONFLICT (k) DO UPDATE SET v = excluded.v`},
		{&st.delState, `DELETE FROM state WHERE k = $1`},
		{&st.getSecret, `SELECT v FROM secrets WHERE k = $1`},
		{&st.putSecret, `INSERT INTO secrets (k, v) VALUES ($1, $2) ON CONFLICT (k) DO UPDATE SET v = excluded.v`},
		{&st.delSecret, `DELETE FROM secrets WHERE k = $1`},
		{&st.savepoint, `SAVEPOINT cmd`},
		{&st.release, `RELEASE SAVEPOINT cmd`},
		{&st.rollbackTo, `ROLLBACK TO SAVEPOINT cmd`},
	} {
		stmt, err := tx.PrepareContext(ctx, p.q)
		if err != nil {
			st.close()
			return nil, fmt.Errorf("prepare %q: %w", p.q, err)
		}
		*p.dst = stmt
	}
	return st, nil
}

func (st *stmts) close() {
	for _, s := range []*sql.Stmt{st.getState, st.putState, st.delState, st.getSecret, st.putSecret, st.delSecret, st.savepoint, st.release, st.rollbackTo} {
		if s != nil {
			_ = s.Close()
		}
	}
}

// get reads a state record through the batch's cache.
func (t *txn) get(key string) ([]byte, bool, error) {
	if c, ok := t.cache[key]; ok {
		return c.v, c.present, nil
	}
	var v []byte
	err := t.st.getState.QueryRowContext(t.ctx, key).Scan(&v)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		t.remember(key, cached{})
		return nil, false, nil
	case err != nil:
		return nil, false, fmt.Errorf("read state %s: %w", key, err)
	}
	t.remember(key, cached{v: v, present: true})
	return v, true, nil
}

// run runs one command inside a savepoint.
func (t *txn) run(req *request) (v any, err error) {
	// Database calls use the store's context: a caller that gives up must not
	// interrupt a statement of the shared transaction.
	ctx := t.ctx
	if _, err := t.st.savepoint.ExecContext(ctx); err != nil {
		return nil, err
	}
	mark, digest, journal := len(t.entries), t.digest, len(t.journal)
	defer func() {
		if p := recover(); p != nil {
			err = &commandError{fmt.Errorf("command panicked: %v", p)}
			t.s.log.Error("command panicked", "panic", p)
		}
		if err == nil {
			if _, e := t.st.release.ExecContext(ctx); e != nil {
				err = e
			}
			return
		}
		t.entries, t.digest = t.entries[:mark], digest
		t.rollbackCache(journal)
		if _, e := t.st.rollbackTo.ExecContext(ctx); e != nil {
			err = e
			return
		}
		if _, e := t.st.release.ExecContext(ctx); e != nil {
			err = e
			return
		}
		err = &commandError{err}
	}()
	return req.cmd(req.ctx, t)
}

func (t *txn) Now() time.Time { return t.now }

func (t *txn) Get(_ context.Context, key string) ([]byte, error) {
	v, ok, err := t.get(key)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, steward.ErrNotFound
	}
	return v, nil
}

func (t *txn) Scan(_ context.Context, prefix, after string, limit int) ([]steward.KV, error) {
	return scanState(t.ctx, t.tx, prefix, after, limit)
}

func (t *txn) Emit(ctx context.Context, actor, kind string, payload any) (*steward.Event, error) {
	e, err := steward.NewEvent(t.size+int64(len(t.entries)), t.now, actor, kind, payload)
	if err != nil {
		return nil, err
	}
	data, err := e.Encode()
	if err != nil {
		return nil, err
	}
	if err := steward.Apply(ctx, &stateWriter{t}, e); err != nil {
		return nil, err
	}
	t.entries = append(t.entries, data)
	return e, nil
}

func (t *txn) Secret(_ context.Context, key string) ([]byte, error) {
	var v []byte
	err := t.st.getSecret.QueryRowContext(t.ctx, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, steward.ErrNotFound
	}
	return v, err
}

func (t *txn) PutSecret(_ context.Context, key string, value []byte) error {
	if value == nil {
		_, err := t.st.delSecret.ExecContext(t.ctx, key)
		return err
	}
	_, err := t.st.putSecret.ExecContext(t.ctx, key, value)
	return err
}

// stateWriter is the StateWriter that appliers get: every write keeps the
// state digest current.
type stateWriter struct{ t *txn }

func (w *stateWriter) Get(ctx context.Context, key string) ([]byte, error) {
	return w.t.Get(ctx, key)
}

func (w *stateWriter) Scan(ctx context.Context, prefix, after string, limit int) ([]steward.KV, error) {
	return w.t.Scan(ctx, prefix, after, limit)
}

func (w *stateWriter) Put(_ context.Context, key string, value []byte) error {
	t := w.t
	if !steward.ValidKey(key) {
		return fmt.Errorf("invalid state key %q", key)
	}
	old, ok, err := t.get(key)
	if err != nil {
		return err
	}
	if ok {
		t.digest.Remove(key, old)
	}
	if _, err := t.st.putState.ExecContext(t.ctx, key, value); err != nil {
		return fmt.Errorf("write state %s: %w", key, err)
	}
	v := append([]byte(nil), value...)
	t.remember(key, cached{v: v, present: true})
	t.digest.Add(key, v)
	return nil
}

func (w *stateWriter) Delete(_ context.Context, key string) error {
	t := w.t
	old, ok, err := t.get(key)
	if err != nil || !ok {
		return err
	}
	if _, err := t.st.delState.ExecContext(t.ctx, key); err != nil {
		return fmt.Errorf("delete state %s: %w", key, err)
	}
	t.remember(key, cached{})
	t.digest.Remove(key, old)
	return nil
}
