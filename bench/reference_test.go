package bench

import (
	"context"
	"database/sql"
	"os"
	"testing"
)

// The raw commit rates of the databases under steward, on the same disk and
// server in the same run: one single-row INSERT per committed transaction,
// one client. They are the yardstick for the append figures: a store that
// committed every event on its own could not beat them, and group commit is
// what lets steward exceed them.

// BenchmarkRawSQLiteCommit commits one row per transaction through the same
// driver, file system and settings as the embedded store (sqlite.Open: WAL,
// synchronous=FULL, BEGIN IMMEDIATE).
func BenchmarkRawSQLiteCommit(b *testing.B) {
	w, _, _, drop := openSQLite(b)
	defer drop()
	if _, err := w.Exec(`CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB NOT NULL)`); err != nil {
		b.Fatal(err)
	}
	rawCommits(b, w)
}

// BenchmarkRawPostgresCommit commits one row per transaction on the server
// of STEWARD_TEST_POSTGRES (run.sh also measures the same with pgbench).
func BenchmarkRawPostgresCommit(b *testing.B) {
	dsn := os.Getenv("STEWARD_TEST_POSTGRES")
	if dsn == "" {
		b.Skip("STEWARD_TEST_POSTGRES is not set")
	}
	db, name := freshDatabase(b, dsn)
	defer dropDatabase(dsn, name)
	defer db.Close()
	if _, err := db.Exec(`CREATE TABLE t (id BIGINT PRIMARY KEY, v BYTEA NOT NULL)`); err != nil {
		b.Fatal(err)
	}
	rawCommits(b, db)
}

func rawCommits(b *testing.B, db *sql.DB) {
	ctx := context.Background()
	v := make([]byte, 100) // about an event's size
	i := int64(0)
	for b.Loop() {
		i++
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO t (id, v) VALUES ($1, $2)`, i, v); err != nil {
			b.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "commits/s")
}
