package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"steward"
	"steward/ledger"
)

// MaxBatch is the most commands committed in one transaction.
const MaxBatch = 512

// Config configures a Store. The zero value of every field but Signer is
// usable.
type Config struct {
	// Signer signs checkpoints; its name is the log's origin. Without one the
	// store writes no checkpoints (audit and read-only tools).
	Signer note.Signer
	// Clock gives transaction and checkpoint times; default the system clock.
	Clock steward.Clock
	// Logger receives the store's log lines; default slog.Default().
	Logger *slog.Logger
	// CheckpointInterval is how often a new checkpoint is signed while there
	// are new entries; default half a second, so that one is signed at least
	// every second while the writer is busy. Negative disables the loop (tests
	// then call SignCheckpoint).
	CheckpointInterval time.Duration
	// Node names this process in the checkpoint lease; default "node".
	Node string
	// ReadOnly opens the store without a writer: Do fails and nothing runs
	// in the background.
	ReadOnly bool
	// Metrics, if set, receives the store's measurements.
	Metrics *Metrics
}

// Store is a steward store over database/sql. It is safe for concurrent use.
type Store struct {
	w, r    *sql.DB // writer and reader pools; the same for PostgreSQL
	dialect Dialect
	cfg     Config
	log     *slog.Logger

	reqs   chan *request
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	// Owned by the writer goroutine.
	hashes     map[int64]tlog.Hash // frontier and recent hashes
	hashesSize int64               // tree size hashes is valid for; -1 unknown

	upperMu sync.RWMutex
	upper   map[int64]tlog.Hash // stored hashes of the upper levels; see ReadHashes

	mu        sync.RWMutex // guards isClosed; see Do
	isClosed  bool
	closeOnce sync.Once
	closed    chan struct{}
}

var (
	_ steward.StateReader  = (*Store)(nil)
	_ steward.SecretReader = (*Store)(nil)
	_ steward.Tx           = (*txn)(nil)
	_ steward.StateWriter  = (*stateWriter)(nil)
)

// ErrClosed is returned by Do after Close.
var ErrClosed = steward.Errorf(steward.EUNAVAILABLE, "the store is closed")

// Open migrates the schema and starts the store's writer and checkpoint
// loop. w and r may be the same pool.
func Open(ctx context.Context, w, r *sql.DB, d Dialect, cfg Config) (*Store, error) {
	if cfg.Clock == nil {
		cfg.Clock = steward.SystemClock{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.CheckpointInterval == 0 {
		cfg.CheckpointInterval = 500 * time.Millisecond
	}
	if cfg.Node == "" {
		cfg.Node = "node"
	}
	s := &Store{w: w, r: r, dialect: d, cfg: cfg, log: cfg.Logger.With("component", "store", "dialect", d.Name()),
		reqs: make(chan *request, 4*MaxBatch), hashesSize: -1, closed: make(chan struct{})}
	if !cfg.ReadOnly {
		if err := s.migrate(ctx); err != nil {
			return nil, err
		}
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	if !cfg.ReadOnly {
		s.wg.Add(1)
		go s.writer()
		if cfg.Signer != nil && cfg.CheckpointInterval > 0 {
			s.wg.Add(1)
			go s.checkpointer()
		}
	}
	return s, nil
}

// Close stops accepting commands, finishes those queued, signs a last
// checkpoint and waits for the background work to end. It does not close
// the database pools, which the caller owns.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.isClosed = true
		s.mu.Unlock()
		close(s.closed)
		s.wg.Wait()
		s.cancel()
		if s.cfg.Signer != nil && !s.cfg.ReadOnly {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			switch _, err := s.SignCheckpoint(ctx); {
			case errors.Is(err, errNotLeader):
				// Another node signs; it will cover our entries.
			case err != nil:
				s.log.Error("last checkpoint", "err", err)
			}
			if _, err := s.w.ExecContext(ctx, `DELETE FROM leases WHERE holder = $1`, s.cfg.Node); err != nil {
				s.log.Error("release lease", "err", err)
			}
		}
	})
	return nil
}

// Dialect returns the store's dialect.
func (s *Store) Dialect() Dialect { return s.dialect }

func (s *Store) migrate(ctx context.Context) error {
	if _, err := s.w.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY)`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	names, err := fs.Glob(s.dialect.Migrations(), "*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, name := range names {
		if err := s.migrateFile(ctx, name); err != nil {
			return fmt.Errorf("migration %s: %w", name, err)
		}
	}
	// The head row, with an empty tree and the digest of the empty state.
	var zero ledger.Digest
	_, err = s.w.ExecContext(ctx, `INSERT INTO ledger_head (id, size, digest) VALUES (1, 0, $1) ON CONFLICT (id) DO NOTHING`, zero[:])
	return err
}

func (s *Store) migrateFile(ctx context.Context, name string) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE name = $1`, name).Scan(&n); err != nil {
		return err
	} else if n > 0 {
		return nil
	}
	body, err := fs.ReadFile(s.dialect.Migrations(), name)
	if err != nil {
		return err
	}
	for _, stmt := range strings.Split(string(body), ";\n") {
		if strings.TrimSpace(stmt) == "" {
			continue
		}
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("%w in %q", err, strings.TrimSpace(stmt))
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (name) VALUES ($1)`, name); err != nil {
		return err
	}
	return tx.Commit()
}

// Get implements steward.StateReader on the latest committed state.
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	return getState(ctx, s.r, key)
}

// Scan implements steward.StateReader on the latest committed state.
func (s *Store) Scan(ctx context.Context, prefix, after string, limit int) ([]steward.KV, error) {
	return scanState(ctx, s.r, prefix, after, limit)
}

// Secret implements steward.SecretReader.
func (s *Store) Secret(ctx context.Context, key string) ([]byte, error) {
	var v []byte
	err := s.r.QueryRowContext(ctx, `SELECT v FROM secrets WHERE k = $1`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, steward.ErrNotFound
	}
	return v, err
}

// querier is what *sql.DB and *sql.Tx share.
type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func getState(ctx context.Context, q querier, key string) ([]byte, error) {
	var v []byte
	err := q.QueryRowContext(ctx, `SELECT v FROM state WHERE k = $1`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, steward.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read state %s: %w", key, err)
	}
	return v, nil
}

func scanState(ctx context.Context, q querier, prefix, after string, limit int) ([]steward.KV, error) {
	if limit <= 0 || limit > 10000 {
		limit = 10000
	}
	// One lower bound, so that the database seeks to it rather than
	// reading every record from the prefix on.
	q1 := `SELECT k, v FROM state WHERE k >= $1 AND k < $2 ORDER BY k LIMIT $3`
	lo := prefix
	if after >= prefix {
		q1 = `SELECT k, v FROM state WHERE k > $1 AND k < $2 ORDER BY k LIMIT $3`
		lo = after
	}
	rows, err := q.QueryContext(ctx, q1, lo, steward.PrefixEnd(prefix), limit)
	if err != nil {
		return nil, fmt.Errorf("scan state %s: %w", prefix, err)
	}
	defer rows.Close()
	var out []steward.KV
	for rows.Next() {
		var kv steward.KV
		if err := rows.Scan(&kv.Key, &kv.Value); err != nil {
			return nil, err
		}
		out = append(out, kv)
	}
	return out, rows.Err()
}
