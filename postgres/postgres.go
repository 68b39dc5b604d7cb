// Package postgres is steward's cluster store: PostgreSQL through
// github.com/jackc/pgx/v5. Several steward nodes may share one database:
// the ledger head row is locked in every write transaction, so entries are
// numbered in the database, and a lease lets one node sign checkpoints.
package postgres

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver

	"steward/sqlstore"
)

//go:embed migration/*.sql
var migrations embed.FS

// Dialect is the PostgreSQL dialect of sqlstore.
type Dialect struct{}

var _ sqlstore.Dialect = Dialect{}

// Name implements sqlstore.Dialect.
func (Dialect) Name() string { return "postgres" }

// Migrations implements sqlstore.Dialect.
func (Dialect) Migrations() fs.FS {
	sub, _ := fs.Sub(migrations, "migration")
	return sub
}

// LockHead implements sqlstore.Dialect.
func (Dialect) LockHead() string {
	return `SELECT size, digest FROM ledger_head WHERE id = 1 FOR UPDATE`
}

// Conflict implements sqlstore.Dialect.
func (Dialect) Conflict(err error) bool {
	var e *pgconn.PgError
	return errors.As(err, &e) && e.Code == "23505"
}

// Open connects to the database named by a postgres:// URL. The same pool
// serves reads and writes.
func Open(dsn string) (*sql.DB, error) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(16)
	db.SetMaxIdleConns(16)
	if err := db.PingContext(context.Background()); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	return db, nil
}
