// Package sqlite is steward's embedded store: SQLite through the pure-Go
// modernc.org/sqlite driver, one database file in the instance's data
// directory, in WAL mode with full synchronous commits, so that a
// transaction acknowledged to a client survives a crash of the process or
// the machine.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"steward/sqlstore"
)

//go:embed migration/*.sql
var migrations embed.FS

// Dialect is the SQLite dialect of sqlstore.
type Dialect struct{}

var _ sqlstore.Dialect = Dialect{}

// Name implements sqlstore.Dialect.
func (Dialect) Name() string { return "sqlite" }

// Migrations implements sqlstore.Dialect.
func (Dialect) Migrations() fs.FS {
	sub, _ := fs.Sub(migrations, "migration")
	return sub
}

// LockHead implements sqlstore.Dialect. SQLite transactions here begin
// IMMEDIATE, which takes the database's write lock, so a plain read suffices.
func (Dialect) LockHead() string { return `SELECT size, digest FROM ledger_head WHERE id = 1` }

// Conflict implements sqlstore.Dialect.
func (Dialect) Conflict(err error) bool {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return false
	}
	return e.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY || e.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE
}

// Open opens the database file at path: a writer pool of one connection and
// a pool of read-only connections. With readOnly, both are read-only and the
// file must exist.
func Open(path string, readOnly bool) (w, r *sql.DB, err error) {
	base := "file:" + (&url.URL{Path: path}).EscapedPath()
	pragmas := "?_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=synchronous(FULL)"
	if readOnly {
		r, err = sql.Open("sqlite", base+pragmas+"&mode=ro&_pragma=query_only(1)")
		if err != nil {
			return nil, nil, err
		}
		if err := r.PingContext(context.Background()); err != nil {
			r.Close()
			return nil, nil, fmt.Errorf("open %s: %w", path, err)
		}
		return r, r, nil
	}
	w, err = sql.Open("sqlite", base+pragmas+"&_pragma=journal_mode(WAL)&_txlock=immediate")
	if err != nil {
		return nil, nil, err
	}
	w.SetMaxOpenConns(1)
	if err := w.PingContext(context.Background()); err != nil {
		w.Close()
		return nil, nil, fmt.Errorf("open %s: %w", path, err)
	}
	// Readers map the file (256 MiB at most) rather than reading pages
	// through system calls: proofs read scattered hashes.
	r, err = sql.Open("sqlite", base+pragmas+"&_pragma=query_only(1)&_pragma=mmap_size(268435456)")
	if err != nil {
		w.Close()
		return nil, nil, err
	}
	r.SetMaxOpenConns(8)
	r.SetMaxIdleConns(8)
	return w, r, nil
}
