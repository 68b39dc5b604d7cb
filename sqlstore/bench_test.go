package sqlstore_test

// Proof benchmarks on a large ledger. The ledger is built once, straight
// into the tables (not through commands, which would take hours at 10^7
// entries), and cached between runs:
//
//   - SQLite: $TMPDIR/steward-bench-<N>.db
//   - PostgreSQL: the database steward_bench_<N> of the server named by
//     STEWARD_TEST_POSTGRES
//
// N is STEWARD_BENCH_ENTRIES (default 1,000,000). A build that was
// interrupted resumes where it stopped: every chunk commits its entries,
// their hashes and the new ledger head together.
//
// The file is package sqlstore_test rather than package sqlstore because it
// opens real stores through the sqlite and postgres packages, which import
// sqlstore (an internal test importing them would be an import cycle). It
// needs nothing unexported: the bulk loader writes through the *sql.DB that
// the caller owns anyway.
//
// The fixture's entries are canonical events of a kind no applier knows
// ("bench.entry"), and its state is empty: it is a ledger for proofs, not
// an instance to audit.

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"golang.org/x/mod/sumdb/tlog"

	"steward"
	"steward/ledger"
	"steward/postgres"
	"steward/sqlite"
	"steward/sqlstore"
	"steward/web"
)

// benchEntries is the size of the proof benchmarks' ledger.
func benchEntries(b *testing.B) int64 {
	v := os.Getenv("STEWARD_BENCH_ENTRIES")
	if v == "" {
		return 1_000_000
	}
	n, err := strconv.ParseInt(strings.ReplaceAll(v, "_", ""), 10, 64)
	if err != nil || n < 2 {
		b.Fatalf("STEWARD_BENCH_ENTRIES=%q: want a whole number of at least 2", v)
	}
	return n
}

// benchEntry is the canonical encoding of the fixture's entry seq.
func benchEntry(seq int64) []byte {
	return fmt.Appendf(nil, `{"seq":%d,"time":"2026-01-01T00:00:00Z","actor":"system:import","kind":"bench.entry","payload":{"n":%d}}`, seq, seq)
}

// loader writes one chunk of the fixture: entries [first, first+len(entries))
// with their stored hashes, and the ledger head set to the new size, in one
// transaction.
type loader func(ctx context.Context, first int64, entries [][]byte, hashIdx []int64, hashes []tlog.Hash) error

// chunk is a slice of the fixture, computed ahead of the loader.
type chunk struct {
	first   int64
	entries [][]byte
	hashIdx []int64
	hashes  []tlog.Hash
	err     error
}

const fixtureChunk = 1 << 16 // entries per transaction

// buildLedger extends the store's ledger with fixture entries until it has
// n. Hashing runs in one goroutine and loading in this one.
func buildLedger(b *testing.B, s *sqlstore.Store, n int64, load loader) {
	ctx := context.Background()
	size, _, err := s.Head(ctx)
	if err != nil {
		b.Fatal(err)
	}
	switch {
	case size == n:
		return
	case size > n:
		b.Fatalf("the cached ledger has %d entries, more than %d: delete it", size, n)
	}
	b.Logf("building a ledger of %d entries (from %d); this is done once and cached", n, size)
	start := time.Now()

	// The hashes that appending reads are those of the frontier.
	known := make(map[int64]tlog.Hash)
	if size > 0 {
		fr := ledger.Frontier(size)
		hs, err := s.ReadHashes(ctx, fr)
		if err != nil {
			b.Fatalf("read the frontier of the cached ledger: %v", err)
		}
		for i, x := range fr {
			known[x] = hs[i]
		}
	}
	read := tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(idx))
		for i, x := range idx {
			h, ok := known[x]
			if !ok {
				return nil, fmt.Errorf("hash %d is not in the frontier", x)
			}
			out[i] = h
		}
		return out, nil
	})

	chunks := make(chan chunk, 2)
	go func() {
		defer close(chunks)
		for first := size; first < n; first += fixtureChunk {
			c := chunk{first: first}
			for i := first; i < min(first+fixtureChunk, n); i++ {
				data := benchEntry(i)
				hs, err := tlog.StoredHashes(i, data, read)
				if err != nil {
					chunks <- chunk{err: err}
					return
				}
				base := tlog.StoredHashIndex(0, i)
				for j, h := range hs {
					known[base+int64(j)] = h
					c.hashIdx = append(c.hashIdx, base+int64(j))
					c.hashes = append(c.hashes, h)
				}
				c.entries = append(c.entries, data)
			}
			keep := make(map[int64]tlog.Hash)
			for _, x := range ledger.Frontier(first + int64(len(c.entries))) {
				keep[x] = known[x]
			}
			known = keep
			chunks <- c
		}
	}()
	last := time.Now()
	for c := range chunks {
		if c.err != nil {
			b.Fatal(c.err)
		}
		if err := load(ctx, c.first, c.entries, c.hashIdx, c.hashes); err != nil {
			b.Fatalf("load entries from %d: %v", c.first, err)
		}
		if done := c.first + int64(len(c.entries)); time.Since(last) > 30*time.Second || done == n {
			last = time.Now()
			b.Logf("  %d entries (%.0f%%) after %v", done, 100*float64(done)/float64(n), time.Since(start).Round(time.Second))
		}
	}
	b.Logf("built in %v", time.Since(start).Round(time.Second))
}

// sqlLoader loads chunks with prepared multi-row INSERTs.
func sqlLoader(db *sql.DB) loader {
	return func(ctx context.Context, first int64, entries [][]byte, hashIdx []int64, hashes []tlog.Hash) error {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer func() { _ = tx.Rollback() }()
		ev := make([]any, 0, 2*len(entries))
		for i, e := range entries {
			ev = append(ev, first+int64(i), e)
		}
		hv := make([]any, 0, 2*len(hashes))
		for i := range hashes {
			hv = append(hv, hashIdx[i], hashes[i][:])
		}
		if err := bulkInsert(ctx, tx, "ledger_entries (seq, data)", ev); err != nil {
			return err
		}
		if err := bulkInsert(ctx, tx, "ledger_hashes (idx, hash)", hv); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE ledger_head SET size = $1 WHERE id = 1`, first+int64(len(entries))); err != nil {
			return err
		}
		return tx.Commit()
	}
}

// bulkInsert inserts pairs of values, 500 rows per statement.
func bulkInsert(ctx context.Context, tx *sql.Tx, into string, vals []any) error {
	const rows = 500
	stmts := map[int]*sql.Stmt{}
	defer func() {
		for _, st := range stmts {
			st.Close()
		}
	}()
	for len(vals) > 0 {
		n := min(len(vals)/2, rows)
		st, ok := stmts[n]
		if !ok {
			var q strings.Builder
			q.WriteString("INSERT INTO " + into + " VALUES ")
			for i := range n {
				if i > 0 {
					q.WriteByte(',')
				}
				fmt.Fprintf(&q, "($%d,$%d)", 2*i+1, 2*i+2)
			}
			var err error
			if st, err = tx.PrepareContext(ctx, q.String()); err != nil {
				return err
			}
			stmts[n] = st
		}
		if _, err := st.ExecContext(ctx, vals[:2*n]...); err != nil {
			return fmt.Errorf("insert into %s: %w", into, err)
		}
		vals = vals[2*n:]
	}
	return nil
}

// copyLoader loads chunks into PostgreSQL with COPY, its bulk path, through
// the pgx connection under database/sql.
func copyLoader(db *sql.DB) loader {
	return func(ctx context.Context, first int64, entries [][]byte, hashIdx []int64, hashes []tlog.Hash) error {
		conn, err := db.Conn(ctx)
		if err != nil {
			return err
		}
		defer conn.Close()
		return conn.Raw(func(dc any) error {
			pc := dc.(*stdlib.Conn).Conn()
			tx, err := pc.Begin(ctx)
			if err != nil {
				return err
			}
			defer func() { _ = tx.Rollback(ctx) }()
			if _, err := tx.Exec(ctx, `SET LOCAL synchronous_commit = off`); err != nil {
				return err
			}
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{"ledger_entries"}, []string{"seq", "data"},
				pgx.CopyFromSlice(len(entries), func(i int) ([]any, error) { return []any{first + int64(i), entries[i]}, nil })); err != nil {
				return err
			}
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{"ledger_hashes"}, []string{"idx", "hash"},
				pgx.CopyFromSlice(len(hashes), func(i int) ([]any, error) { return []any{hashIdx[i], hashes[i][:]}, nil })); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `UPDATE ledger_head SET size = $1 WHERE id = 1`, first+int64(len(entries))); err != nil {
				return err
			}
			return tx.Commit(ctx)
		})
	}
}

var quiet = slog.New(slog.DiscardHandler)

func BenchmarkProofsSQLite(b *testing.B) {
	n := benchEntries(b)
	path := filepath.Join(os.TempDir(), fmt.Sprintf("steward-bench-%d.db", n))
	w, r, err := sqlite.Open(path, false)
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	defer r.Close()
	s, err := sqlstore.Open(context.Background(), w, r, sqlite.Dialect{}, sqlstore.Config{CheckpointInterval: -1, Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	buildLedger(b, s, n, sqlLoader(w))
	// Serving a ledger means having its hashes in memory: read the file
	// once, so that the OS page cache holds it as it would on a server
	// that has been up for a while (SQLite reads pages through it).
	if f, err := os.Open(path); err != nil {
		b.Fatal(err)
	} else {
		_, err = io.Copy(io.Discard, f)
		f.Close()
		if err != nil {
			b.Fatal(err)
		}
	}
	benchProofs(b, s, n)
}

func BenchmarkProofsPostgres(b *testing.B) {
	dsn := os.Getenv("STEWARD_TEST_POSTGRES")
	if dsn == "" {
		b.Skip("STEWARD_TEST_POSTGRES is not set")
	}
	n := benchEntries(b)
	ctx := context.Background()
	name := fmt.Sprintf("steward_bench_%d", n)
	admin, err := postgres.Open(dsn)
	if err != nil {
		b.Fatal(err)
	}
	var exists bool
	if err := admin.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		b.Fatal(err)
	}
	if !exists {
		if _, err := admin.ExecContext(ctx, `CREATE DATABASE `+name); err != nil {
			b.Fatal(err)
		}
	}
	admin.Close()
	db, err := postgres.Open(withDatabase(dsn, name))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	s, err := sqlstore.Open(ctx, db, db, postgres.Dialect{}, sqlstore.Config{CheckpointInterval: -1, Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if size, _, err := s.Head(ctx); err != nil {
		b.Fatal(err)
	} else if size < n {
		buildLedger(b, s, n, copyLoader(db))
		// What autovacuum would do by and by: statistics and the
		// visibility map, for index-only scans of the hashes.
		if _, err := db.ExecContext(ctx, `VACUUM (ANALYZE) ledger_hashes, ledger_entries`); err != nil {
			b.Fatal(err)
		}
	}
	// Serving a ledger means having its hashes in memory: read the table
	// and its index once into the OS page cache, as a server that has been
	// up for a while would have them (shared_buffers is smaller).
	if _, err := db.ExecContext(ctx, `CREATE EXTENSION IF NOT EXISTS pg_prewarm`); err == nil {
		for _, rel := range []string{"ledger_hashes", "ledger_hashes_pkey"} {
			if _, err := db.ExecContext(ctx, `SELECT pg_prewarm($1, 'read')`, rel); err != nil {
				b.Fatal(err)
			}
		}
	} else if _, err := db.ExecContext(ctx, `SELECT count(hash) FROM ledger_hashes`); err != nil {
		b.Fatal(err)
	}
	benchProofs(b, s, n)
}

// withDatabase returns dsn (a URL or a key=value string) naming database
// name instead of its own.
func withDatabase(dsn, name string) string {
	if u, err := url.Parse(dsn); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		u.Path = "/" + name
		return u.String()
	}
	return dsn + " dbname=" + name
}

// benchProofs measures inclusion and consistency proofs of a tree of n
// entries, directly on the store's hash reader and through the web server's
// JSON endpoints, after checking one of each.
func benchProofs(b *testing.B, s *sqlstore.Store, n int64) {
	ctx := context.Background()
	hr := s.HashReader(ctx)
	root, err := tlog.TreeHash(n, hr)
	if err != nil {
		b.Fatal(err)
	}
	// The fixture is what it claims to be: canonical events, hashed as stored.
	for _, seq := range []int64{0, n / 2, n - 1} {
		es, err := s.Entries(ctx, seq, seq+1)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := steward.DecodeEvent(es[0]); err != nil {
			b.Fatalf("entry %d: %v", seq, err)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	index := func() int64 { return rng.Int64N(n) }
	older := func() int64 { return 1 + rng.Int64N(n-1) }

	{ // Check one proof of each kind before timing any.
		i := index()
		p, err := tlog.ProveRecord(n, i, hr)
		if err != nil {
			b.Fatal(err)
		}
		if err := tlog.CheckRecord(p, n, root, i, tlog.RecordHash(benchEntry(i))); err != nil {
			b.Fatalf("inclusion proof of %d: %v", i, err)
		}
		old := older()
		q, err := tlog.ProveTree(n, old, hr)
		if err != nil {
			b.Fatal(err)
		}
		oldRoot, err := tlog.TreeHash(old, hr)
		if err != nil {
			b.Fatal(err)
		}
		if err := tlog.CheckTree(q, n, root, old, oldRoot); err != nil {
			b.Fatalf("consistency proof %d→%d: %v", old, n, err)
		}
	}

	b.Run("Inclusion", func(b *testing.B) {
		for b.Loop() {
			if _, err := tlog.ProveRecord(n, index(), hr); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Consistency", func(b *testing.B) {
		for b.Loop() {
			if _, err := tlog.ProveTree(n, older(), hr); err != nil {
				b.Fatal(err)
			}
		}
	})

	srv := httptest.NewServer(web.New(web.Config{Store: s, Logger: quiet}).Handler())
	defer srv.Close()
	client := srv.Client()
	get := func(b *testing.B, path string, v any) {
		resp, err := client.Get(srv.URL + path)
		if err != nil {
			b.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			msg, _ := io.ReadAll(resp.Body)
			b.Fatalf("GET %s: %s: %s", path, resp.Status, msg)
		}
		if v == nil {
			_, err = io.Copy(io.Discard, resp.Body)
		} else {
			err = json.NewDecoder(resp.Body).Decode(v)
		}
		if err != nil {
			b.Fatal(err)
		}
	}
	{ // Check one answer of each endpoint.
		i := index()
		var ip web.InclusionProof
		get(b, fmt.Sprintf("/api/v1/log/proof/inclusion?index=%d&size=%d", i, n), &ip)
		p, err := parseHashes(ip.Proof)
		if err != nil {
			b.Fatal(err)
		}
		if ip.Root != root.String() || ip.Leaf != tlog.RecordHash(benchEntry(i)).String() {
			b.Fatalf("inclusion answer names root %s and leaf %s", ip.Root, ip.Leaf)
		}
		if err := tlog.CheckRecord(p, n, root, i, tlog.RecordHash(benchEntry(i))); err != nil {
			b.Fatalf("served inclusion proof of %d: %v", i, err)
		}
		old := older()
		var cp web.ConsistencyProof
		get(b, fmt.Sprintf("/api/v1/log/proof/consistency?old=%d&new=%d", old, n), &cp)
		q, err := parseHashes(cp.Proof)
		if err != nil {
			b.Fatal(err)
		}
		oldRoot, err := tlog.ParseHash(cp.OldRoot)
		if err != nil {
			b.Fatal(err)
		}
		if want, _ := tlog.TreeHash(old, hr); oldRoot != want || cp.NewRoot != root.String() {
			b.Fatalf("consistency answer names roots %s and %s", cp.OldRoot, cp.NewRoot)
		}
		if err := tlog.CheckTree(q, n, root, old, oldRoot); err != nil {
			b.Fatalf("served consistency proof %d→%d: %v", old, n, err)
		}
	}
	served := func(b *testing.B, path func() string) {
		var lat []time.Duration
		for b.Loop() {
			t := time.Now()
			get(b, path(), nil)
			lat = append(lat, time.Since(t))
		}
		reportLatency(b, lat)
	}
	b.Run("InclusionHTTP", func(b *testing.B) {
		served(b, func() string { return fmt.Sprintf("/api/v1/log/proof/inclusion?index=%d&size=%d", index(), n) })
	})
	b.Run("ConsistencyHTTP", func(b *testing.B) {
		served(b, func() string { return fmt.Sprintf("/api/v1/log/proof/consistency?old=%d&new=%d", older(), n) })
	})
}

func parseHashes(ss []string) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(ss))
	for i, s := range ss {
		h, err := tlog.ParseHash(s)
		if err != nil {
			return nil, err
		}
		out[i] = h
	}
	return out, nil
}

// reportLatency reports the median and 99th percentile of lat, in µs.
func reportLatency(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Nanoseconds()) / 1e3 }
	b.ReportMetric(q(0.50), "p50-µs")
	b.ReportMetric(q(0.99), "p99-µs")
}
