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
	ctx := s.ctx
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer func() { _ = tx.Rollback() }()
	t := &txn{s: s, tx: tx, now: s.cfg.Clock.Now()}
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
	now     time.Time
	size    int64 // tree size when the batch began
	digest  ledger.Digest
	entries [][]byte
	ctx     context.Context // the running command's context
}

// run runs one command inside a savepoint.
func (t *txn) run(req *request) (v any, err error) {
	// Database calls use the store's context: a caller that gives up must not
	// interrupt a statement of the shared transaction.
	ctx := t.s.ctx
	if _, err := t.tx.ExecContext(ctx, "SAVEPOINT cmd"); err != nil {
		return nil, err
	}
	mark, digest := len(t.entries), t.digest
	defer func() {
		if p := recover(); p != nil {
			err = &commandError{fmt.Errorf("command panicked: %v", p)}
			t.s.log.Error("command panicked", "panic", p)
		}
		if err == nil {
			if _, e := t.tx.ExecContext(ctx, "RELEASE SAVEPOINT cmd"); e != nil {
				err = e
			}
			return
		}
		t.entries, t.digest = t.entries[:mark], digest
		if _, e := t.tx.ExecContext(t.s.ctx, "ROLLBACK TO SAVEPOINT cmd"); e != nil {
			err = e
			return
		}
		if _, e := t.tx.ExecContext(t.s.ctx, "RELEASE SAVEPOINT cmd"); e != nil {
			err = e
			return
		}
		err = &commandError{err}
	}()
	return req.cmd(req.ctx, t)
}

func (t *txn) Now() time.Time { return t.now }

func (t *txn) Get(ctx context.Context, key string) ([]byte, error) {
	ctx = t.s.ctx
	return getState(ctx, t.tx, key)
}

func (t *txn) Scan(ctx context.Context, prefix, after string, limit int) ([]steward.KV, error) {
	ctx = t.s.ctx
	return scanState(ctx, t.tx, prefix, after, limit)
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

func (t *txn) Secret(ctx context.Context, key string) ([]byte, error) {
	ctx = t.s.ctx
	var v []byte
	err := t.tx.QueryRowContext(ctx, `SELECT v FROM secrets WHERE k = $1`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, steward.ErrNotFound
	}
	return v, err
}

func (t *txn) PutSecret(ctx context.Context, key string, value []byte) error {
	ctx = t.s.ctx
	if value == nil {
		_, err := t.tx.ExecContext(ctx, `DELETE FROM secrets WHERE k = $1`, key)
		return err
	}
	_, err := t.tx.ExecContext(ctx, `INSERT INTO secrets (k, v) VALUES ($1, $2) ON CONFLICT (k) DO UPDATE SET v = excluded.v`, key, value)
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

func (w *stateWriter) Put(ctx context.Context, key string, value []byte) error {
	ctx = w.t.s.ctx
	if !steward.ValidKey(key) {
		return fmt.Errorf("invalid state key %q", key)
	}
	old, err := getState(ctx, w.t.tx, key)
	switch {
	case err == nil:
		w.t.digest.Remove(key, old)
	case steward.ErrorCode(err) != steward.ENOTFOUND:
		return err
	}
	if _, err := w.t.tx.ExecContext(ctx, `INSERT INTO state (k, v) VALUES ($1, $2) ON CONFLICT (k) DO UPDATE SET v = excluded.v`, key, value); err != nil {
		return fmt.Errorf("write state %s: %w", key, err)
	}
	w.t.digest.Add(key, value)
	return nil
}

func (w *stateWriter) Delete(ctx context.Context, key string) error {
	ctx = w.t.s.ctx
	old, err := getState(ctx, w.t.tx, key)
	switch {
	case err == nil:
	case steward.ErrorCode(err) == steward.ENOTFOUND:
		return nil
	default:
		return err
	}
	if _, err := w.t.tx.ExecContext(ctx, `DELETE FROM state WHERE k = $1`, key); err != nil {
		return fmt.Errorf("delete state %s: %w", key, err)
	}
	w.t.digest.Remove(key, old)
	return nil
}
