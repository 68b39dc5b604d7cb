// Package sqlstore is steward's store over database/sql: the ledger (entries,
// Merkle hashes, signed checkpoints), the state it projects, private data and
// sessions, all written in one transaction per batch of commands.
//
// The sqlite and postgres packages supply a [Dialect] and the connections;
// everything else is shared, and the storetest package holds the
// conformance suite that both must pass.
//
// # Writes
//
// One goroutine per Store runs commands. It takes as many queued commands as
// are waiting (up to MaxBatch), runs each in a savepoint of one transaction,
// appends the events they emit, computes the new Merkle hashes, and commits
// once: group commit, so that durability costs one fsync per batch rather
// than per event. A command that fails is rolled back to its savepoint and
// changes nothing; the others commit. Each caller gets its result only after
// the commit is durable.
//
// In a cluster several stores share one PostgreSQL database; the head row of
// the ledger is locked at the start of every transaction, so entry numbers
// are assigned in the database and never collide, and a lease lets one node
// at a time sign checkpoints.
package sqlstore

import (
	"io/fs"
)

// Dialect is what differs between SQL databases.
type Dialect interface {
	// Name is "sqlite" or "postgres".
	Name() string
	// Migrations holds the schema, as files applied in lexical order.
	Migrations() fs.FS
	// LockHead is the query that reads (size, digest) of the ledger head and
	// locks it until the transaction ends.
	LockHead() string
	// Conflict reports whether err is a unique-constraint violation.
	Conflict(err error) bool
}
