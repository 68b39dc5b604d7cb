package bench

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/mod/sumdb/note"

	"steward"
	"steward/charter"
	"steward/postgres"
	"steward/sqlite"
	"steward/sqlstore"
	"steward/web"
)

// Concurrencies are the numbers of concurrent clients each append
// benchmark runs with.
var concurrencies = []int{1, 16, 64, 256}

var quiet = slog.New(slog.DiscardHandler)

const handle = "bench"

// opener opens a fresh, empty store's database: writer and reader pools
// (the same pool for PostgreSQL), its dialect and a function that closes
// and removes it.
type opener func(b *testing.B) (w, r *sql.DB, d sqlstore.Dialect, drop func())

func openSQLite(b *testing.B) (w, r *sql.DB, d sqlstore.Dialect, drop func()) {
	// b.TempDir is on the same file system as os.TempDir, which run.sh
	// also uses for the raw reference.
	path := filepath.Join(b.TempDir(), "steward.db")
	w, r, err := sqlite.Open(path, false)
	if err != nil {
		b.Fatal(err)
	}
	return w, r, sqlite.Dialect{}, func() { r.Close(); w.Close() }
}

func openPostgres(b *testing.B) (w, r *sql.DB, d sqlstore.Dialect, drop func()) {
	dsn := os.Getenv("STEWARD_TEST_POSTGRES")
	if dsn == "" {
		b.Skip("STEWARD_TEST_POSTGRES is not set")
	}
	db, name := freshDatabase(b, dsn)
	return db, db, postgres.Dialect{}, func() {
		db.Close()
		dropDatabase(dsn, name)
	}
}

var dbSeq atomic.Int64

// freshDatabase creates an empty database on the server of dsn and opens it.
func freshDatabase(b *testing.B, dsn string) (*sql.DB, string) {
	admin, err := postgres.Open(dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer admin.Close()
	name := fmt.Sprintf("steward_bench_tp_%d_%d", os.Getpid(), dbSeq.Add(1))
	if _, err := admin.Exec(`DROP DATABASE IF EXISTS ` + name); err != nil {
		b.Fatal(err)
	}
	if _, err := admin.Exec(`CREATE DATABASE ` + name); err != nil {
		b.Fatal(err)
	}
	db, err := postgres.Open(withDatabase(dsn, name))
	if err != nil {
		b.Fatal(err)
	}
	return db, name
}

func dropDatabase(dsn, name string) {
	if admin, err := postgres.Open(dsn); err == nil {
		_, _ = admin.Exec(`DROP DATABASE IF EXISTS ` + name + ` WITH (FORCE)`)
		admin.Close()
	}
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

// fixture is a demo instance on a real store that signs checkpoints at the
// store's default interval (half a second), with one participant and an API token of its.
type fixture struct {
	store   *sqlstore.Store
	reg     *prometheus.Registry
	me      steward.Participant
	bearer  string
	closeDB func()
}

func newFixture(b *testing.B, open opener) *fixture {
	ctx := context.Background()
	w, r, d, drop := open(b)
	const origin = "steward.example/bench"
	skey, _, err := note.GenerateKey(rand.Reader, origin)
	if err != nil {
		b.Fatal(err)
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		b.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	s, err := sqlstore.Open(ctx, w, r, d, sqlstore.Config{Signer: signer, Logger: quiet, // the default checkpoint interval
		Metrics: sqlstore.NewMetrics(reg)})
	if err != nil {
		drop()
		b.Fatal(err)
	}
	f := &fixture{store: s, reg: reg, closeDB: drop}
	text, err := charter.Preset("community")
	if err != nil {
		b.Fatal(err)
	}
	c, err := charter.Parse("community", text)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := s.Do(ctx, steward.CreateInstance(steward.Instance{Origin: origin, Name: "Benchmark"}, text)); err != nil {
		f.close()
		b.Fatal(err)
	}
	hash, err := steward.HashPassword("bench-password", steward.PasswordParams{Memory: 64, Time: 1, Threads: 1})
	if err != nil {
		b.Fatal(err)
	}
	f.me = steward.Participant{Handle: handle, Name: "Benchmark Participant", Group: c.Groups[0].ID,
		Region: c.Regions[0], Languages: []string{"en"}}
	if _, err := s.Do(ctx, steward.Register(steward.ActorInit, steward.Registration{Participant: f.me,
		Email: "bench@example.org", PasswordHash: hash})); err != nil {
		f.close()
		b.Fatal(err)
	}
	id, bearer, err := steward.NewTokenSecret()
	if err != nil {
		b.Fatal(err)
	}
	if _, err := s.Do(ctx, steward.IssueToken(handle, id, bearer, "bench", []string{steward.ScopeWrite}, 24*time.Hour)); err != nil {
		f.close()
		b.Fatal(err)
	}
	f.bearer = bearer
	return f
}

func (f *fixture) close() {
	f.store.Close()
	f.closeDB()
}

func (f *fixture) size(b *testing.B) int64 {
	n, _, err := f.store.Head(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	return n
}

// commits returns the number of write transactions the store committed
// and the seconds they took, from its metrics.
func (f *fixture) commits(b *testing.B) (n uint64, seconds float64) {
	mfs, err := f.reg.Gather()
	if err != nil {
		b.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "steward_store_commit_seconds" {
			h := mf.GetMetric()[0].GetHistogram()
			return h.GetSampleCount(), h.GetSampleSum()
		}
	}
	return 0, 0
}

func (f *fixture) checkpoints(b *testing.B) int {
	sizes, err := f.store.CheckpointSizes(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	return len(sizes)
}

// drive runs b.N calls of op from c goroutines, each call one acknowledged
// event, and reports events/s and the calls' latency percentiles. op gets
// the call's number.
func drive(b *testing.B, f *fixture, c int, op func(i int64) error) {
	size0, cps0 := f.size(b), f.checkpoints(b)
	commits0, secs0 := f.commits(b)
	cpu0 := cpuTime(b)
	var next atomic.Int64
	lats := make([][]time.Duration, c)
	errs := make(chan error, c)
	var wg sync.WaitGroup
	b.ResetTimer()
	for g := range c {
		wg.Go(func() {
			for {
				i := next.Add(1)
				if i > int64(b.N) {
					return
				}
				t := time.Now()
				if err := op(i); err != nil {
					errs <- err
					return
				}
				lats[g] = append(lats[g], time.Since(t))
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	elapsed := b.Elapsed()
	cpu := cpuTime(b) - cpu0
	close(errs)
	if err := <-errs; err != nil {
		b.Fatal(err)
	}
	if got := f.size(b) - size0; got != int64(b.N) {
		b.Fatalf("the ledger grew by %d entries, want %d", got, b.N)
	}
	all := slices.Concat(lats...)
	slices.Sort(all)
	q := func(p float64) float64 { return float64(all[int(p*float64(len(all)-1))].Microseconds()) / 1e3 }
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
	b.ReportMetric(q(0.50), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
	// CPU spent by this process (clients, HTTP server, store; not the
	// PostgreSQL server) per event: unlike events/s it hardly depends on
	// what else the machine runs.
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/event")
	// Group commit at work: commands per transaction, and the time the
	// writer spent running and committing each batch.
	if commits, secs := f.commits(b); commits > commits0 {
		b.ReportMetric(float64(b.N)/float64(commits-commits0), "events/commit")
		b.ReportMetric(1e3*(secs-secs0)/float64(commits-commits0), "commit-ms")
	}
	if elapsed >= 3*time.Second { // checkpoints are signed on the default 0.5 s tick
		b.ReportMetric(float64(f.checkpoints(b)-cps0)/elapsed.Seconds(), "checkpoints/s")
	}
}

// benchAppend runs the direct (in-process) and HTTP append benchmarks at
// every concurrency.
func benchAppend(b *testing.B, open opener) {
	for _, c := range concurrencies {
		b.Run(fmt.Sprintf("direct/clients=%d", c), func(b *testing.B) {
			f := newFixture(b, open)
			defer f.close()
			ctx := context.Background()
			drive(b, f, c, func(i int64) error {
				p := f.me
				p.Affiliation = fmt.Sprintf("organisation %d", i)
				_, err := f.store.Do(ctx, steward.UpdateProfile(handle, p))
				return err
			})
		})
	}
	for _, c := range concurrencies {
		b.Run(fmt.Sprintf("http/clients=%d", c), func(b *testing.B) {
			f := newFixture(b, open)
			defer f.close()
			srv := httptest.NewServer(web.New(web.Config{Store: f.store, Logger: quiet}).Handler())
			defer srv.Close()
			tr := &http.Transport{MaxIdleConns: c, MaxIdleConnsPerHost: c}
			defer tr.CloseIdleConnections()
			client := &http.Client{Transport: tr, Timeout: time.Minute}
			u := srv.URL + "/api/v1/participants/" + handle
			drive(b, f, c, func(i int64) error {
				body := fmt.Appendf(nil, `{"affiliation":"organisation %d"}`, i)
				req, err := http.NewRequest(http.MethodPatch, u, bytes.NewReader(body))
				if err != nil {
					return err
				}
				req.Header.Set("Authorization", "Bearer "+f.bearer)
				req.Header.Set("Content-Type", "application/json")
				resp, err := client.Do(req)
				if err != nil {
					return err
				}
				defer resp.Body.Close()
				msg, err := io.ReadAll(resp.Body)
				if err != nil {
					return err
				}
				if resp.StatusCode != http.StatusOK {
					return fmt.Errorf("PATCH %s: %s: %s", u, resp.Status, msg)
				}
				return nil
			})
		})
	}
}

// BenchmarkAppendSQLite measures acknowledged events per second on the
// embedded store: SQLite in WAL mode with synchronous=FULL, a checkpoint
// signed every second.
func BenchmarkAppendSQLite(b *testing.B) { benchAppend(b, openSQLite) }

// BenchmarkAppendPostgres is BenchmarkAppendSQLite on the PostgreSQL server
// named by STEWARD_TEST_POSTGRES; it is skipped if that is not set.
func BenchmarkAppendPostgres(b *testing.B) { benchAppend(b, openPostgres) }

// cpuTime returns the user and system CPU time this process has used.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
