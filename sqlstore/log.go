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

const leaseTTL = 10 * time.Second

func (s *Store) checkpointer() {
	defer s.wg.Done()
	t := time.NewTicker(s.cfg.CheckpointInterval)
	defer t.Stop()
	for {
		select {
		case <-s.closed:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(s.ctx, 30*time.Second)
			if _, err := s.SignCheckpoint(ctx); err != nil && !errors.Is(err, errNotLeader) {
				s.log.Error("checkpoint", "err", err)
			}
			cancel()
		}
	}
}

var errNotLeader = errors.New("another node holds the checkpoint lease")

// Head returns the size of the committed tree and the state digest after it.
func (s *Store) Head(ctx context.Context) (int64, ledger.Digest, error) {
	var size int64
	var b []byte
	var d ledger.Digest
	if err := s.r.QueryRowContext(ctx, `SELECT size, digest FROM ledger_head WHERE id = 1`).Scan(&size, &b); err != nil {
		return 0, d, fmt.Errorf("read ledger head: %w", err)
	}
	if len(b) != len(d) {
		return 0, d, fmt.Errorf("ledger head digest is %d bytes", len(b))
	}
	copy(d[:], b)
	return size, d, nil
}

// SignCheckpoint signs and stores a checkpoint of the committed tree if it
// has grown since the last one, and returns the latest signed checkpoint.
// In a cluster only the node holding the lease signs.
func (s *Store) SignCheckpoint(ctx context.Context) ([]byte, error) {
	if s.cfg.Signer == nil {
		return nil, errors.New("no checkpoint signer configured")
	}
	latest, latestSize, err := s.latestCheckpoint(ctx)
	if err != nil && steward.ErrorCode(err) != steward.ENOTFOUND {
		return nil, err
	}
	size, digest, err := s.Head(ctx)
	if err != nil {
		return nil, err
	}
	if latest != nil && latestSize >= size {
		return latest, nil // nothing new: no lease, no write
	}
	if err := s.holdLease(ctx, "checkpoint"); err != nil {
		return nil, err
	}
	root, err := tlog.TreeHash(size, s.HashReader(ctx))
	if err != nil {
		return nil, fmt.Errorf("tree hash at %d: %w", size, err)
	}
	cp := ledger.Checkpoint{Origin: s.cfg.Signer.Name(), Size: size, Root: root, State: digest.Sum(), HasState: true}
	signed, err := ledger.Sign(cp, s.cfg.Signer)
	if err != nil {
		return nil, err
	}
	// Never store a checkpoint smaller than one already stored: with the
	// lease this cannot happen, and without it this is the last guard. Two
	// signers of the same size race in PostgreSQL, where neither sees the
	// other's uncommitted row: the loser inserts nothing.
	res, err := s.w.ExecContext(ctx, `INSERT INTO checkpoints (size, note, created) SELECT $1, $2, $3 WHERE NOT EXISTS (SELECT 1 FROM checkpoints WHERE size >= $4) ON CONFLICT (size) DO NOTHING`,
		size, signed, s.cfg.Clock.Now().UnixMilli(), size)
	if err != nil {
		return nil, fmt.Errorf("store checkpoint: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		latest, _, err := s.latestCheckpoint(ctx)
		return latest, err
	}
	if m := s.cfg.Metrics; m != nil {
		m.checkpointSize.Set(float64(size))
	}
	return signed, nil
}

// holdLease takes or renews a named lease for this node.
func (s *Store) holdLease(ctx context.Context, name string) error {
	now := s.cfg.Clock.Now().UnixMilli()
	exp := now + leaseTTL.Milliseconds()
	if _, err := s.w.ExecContext(ctx, `INSERT INTO leases (name, holder, expires) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING`, name, s.cfg.Node, exp); err != nil {
		return fmt.Errorf("lease: %w", err)
	}
	res, err := s.w.ExecContext(ctx, `UPDATE leases SET holder = $1, expires = $2 WHERE name = $3 AND (holder = $4 OR expires < $5)`, s.cfg.Node, exp, name, s.cfg.Node, now)
	if err != nil {
		return fmt.Errorf("lease: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errNotLeader
	}
	return nil
}

// LatestCheckpoint returns the latest signed checkpoint, or ENOTFOUND before
// the first.
func (s *Store) LatestCheckpoint(ctx context.Context) ([]byte, error) {
	b, _, err := s.latestCheckpoint(ctx)
	return b, err
}

func (s *Store) latestCheckpoint(ctx context.Context) ([]byte, int64, error) {
	var b []byte
	var size int64
	err := s.r.QueryRowContext(ctx, `SELECT note, size FROM checkpoints ORDER BY size DESC LIMIT 1`).Scan(&b, &size)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, 0, steward.Errorf(steward.ENOTFOUND, "no checkpoint yet")
	}
	return b, size, err
}

// Checkpoint returns the stored checkpoint of exactly size entries.
func (s *Store) Checkpoint(ctx context.Context, size int64) ([]byte, error) {
	var b []byte
	err := s.r.QueryRowContext(ctx, `SELECT note FROM checkpoints WHERE size = $1`, size).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, steward.Errorf(steward.ENOTFOUND, "no checkpoint of size %d", size)
	}
	return b, err
}

// CheckpointSizes lists the sizes of stored checkpoints, ascending.
func (s *Store) CheckpointSizes(ctx context.Context) ([]int64, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT size FROM checkpoints ORDER BY size`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var n int64
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// HashReader reads stored Merkle hashes of the committed tree.
func (s *Store) HashReader(ctx context.Context) tlog.HashReader {
	return tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		return s.ReadHashes(ctx, idx)
	})
}

// upperLevel is the lowest level of stored hashes that ReadHashes keeps in
// memory: a hash at level 8 or above covers 256 or more entries, never
// changes once stored, and is read by nearly every proof. A ledger of n
// entries has about n/255 of them.
const (
	upperLevel     = 8
	maxUpperHashes = 1 << 20
)

// ReadHashes returns the stored hashes at the given indexes, in order.
func (s *Store) ReadHashes(ctx context.Context, idx []int64) ([]tlog.Hash, error) {
	if len(idx) == 0 {
		return nil, nil
	}
	found := make(map[int64]tlog.Hash, len(idx))
	var missing []int64
	s.upperMu.RLock()
	for _, x := range idx {
		if h, ok := s.upper[x]; ok {
			found[x] = h
		} else {
			missing = append(missing, x)
		}
	}
	s.upperMu.RUnlock()
	if err := s.readStoredHashes(ctx, missing, found); err != nil {
		return nil, err
	}
	out := make([]tlog.Hash, len(idx))
	for i, x := range idx {
		h, ok := found[x]
		if !ok {
			return nil, steward.Errorf(steward.ENOTFOUND, "no stored hash %d", x)
		}
		out[i] = h
	}
	return out, nil
}

// readStoredHashes reads hashes from the database into found, keeping those
// of the upper levels in memory.
func (s *Store) readStoredHashes(ctx context.Context, idx []int64, found map[int64]tlog.Hash) error {
	if len(idx) == 0 {
		return nil
	}
	var upper []int64
	defer func() {
		if len(upper) == 0 {
			return
		}
		s.upperMu.Lock()
		defer s.upperMu.Unlock()
		if s.upper == nil {
			s.upper = map[int64]tlog.Hash{}
		}
		for _, x := range upper {
			if len(s.upper) < maxUpperHashes {
				s.upper[x] = found[x]
			}
		}
	}()
	for start := 0; start < len(idx); start += 500 {
		part := idx[start:min(start+500, len(idx))]
		var q strings.Builder
		q.WriteString(`SELECT idx, hash FROM ledger_hashes WHERE idx IN (`)
		args := make([]any, len(part))
		for i, x := range part {
			if i > 0 {
				q.WriteByte(',')
			}
			fmt.Fprintf(&q, "$%d", i+1)
			args[i] = x
		}
		q.WriteByte(')')
		rows, err := s.r.QueryContext(ctx, q.String(), args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var x int64
			var b []byte
			if err := rows.Scan(&x, &b); err != nil {
				rows.Close()
				return err
			}
			if len(b) != tlog.HashSize {
				rows.Close()
				return fmt.Errorf("stored hash %d is %d bytes", x, len(b))
			}
			var h tlog.Hash
			copy(h[:], b)
			found[x] = h
			if level, _ := tlog.SplitStoredHashIndex(x); level >= upperLevel {
				upper = append(upper, x)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	return nil
}

// Entries returns the entries [start, end) of the committed log.
func (s *Store) Entries(ctx context.Context, start, end int64) ([][]byte, error) {
	if start < 0 || end < start {
		return nil, steward.Errorf(steward.EINVALID, "no ledger entries from %d to before %d", start, end)
	}
	rows, err := s.r.QueryContext(ctx, `SELECT seq, data FROM ledger_entries WHERE seq >= $1 AND seq < $2 ORDER BY seq`, start, end)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make([][]byte, 0, end-start)
	for rows.Next() {
		var seq int64
		var b []byte
		if err := rows.Scan(&seq, &b); err != nil {
			return nil, err
		}
		if seq != start+int64(len(out)) {
			return nil, fmt.Errorf("ledger entry %d is missing", start+int64(len(out)))
		}
		out = append(out, b)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if int64(len(out)) != end-start {
		return nil, steward.Errorf(steward.ENOTFOUND, "ledger entries %d to %d are not all committed", start, end-1)
	}
	return out, nil
}

// Tile returns the contents of a C2SP tile of the committed tree: hashes for
// L ≥ 0, an entry bundle for L = -1.
func (s *Store) Tile(ctx context.Context, t tlog.Tile) ([]byte, error) {
	size, _, err := s.Head(ctx)
	if err != nil {
		return nil, err
	}
	if t.L < 0 {
		start := t.N << ledger.TileHeight
		if start+int64(t.W) > size {
			return nil, steward.Errorf(steward.ENOTFOUND, "entry bundle beyond the tree")
		}
		entries, err := s.Entries(ctx, start, start+int64(t.W))
		if err != nil {
			return nil, err
		}
		return ledger.EncodeBundle(entries)
	}
	// The last record a tile covers must be committed.
	last := (t.N<<ledger.TileHeight + int64(t.W)) << (uint(t.L) * ledger.TileHeight)
	if last > size {
		return nil, steward.Errorf(steward.ENOTFOUND, "tile beyond the tree")
	}
	return tlog.ReadTileData(t, s.HashReader(ctx))
}
