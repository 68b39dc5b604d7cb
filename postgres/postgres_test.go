package postgres_test

import (
	"testing"

	"steward/postgres"
	"steward/sqlstore"
	"steward/storetest"
)

// openStore opens a store on a new database of the test server.
func openStore(t *testing.T) *sqlstore.Store {
	t.Helper()
	return openDSN(t, storetest.PostgresDSN(t), "node", false)
}

// openDSN opens a store on the database at dsn as the named node (or
// read-only, without a signer), closing it when t ends.
func openDSN(t *testing.T, dsn, node string, readOnly bool) *sqlstore.Store {
	t.Helper()
	db, err := postgres.Open(dsn)
	if err != nil {
		t.Fatal(err)
	}
	cfg := storetest.Config(t)
	cfg.Node = node
	if readOnly {
		cfg.ReadOnly, cfg.Signer = true, nil
	}
	s, err := sqlstore.Open(t.Context(), db, db, postgres.Dialect{}, cfg)
	if err != nil {
		db.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.Close()
		db.Close()
	})
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, openStore)
}

// TestCluster runs two nodes on one database.
func TestCluster(t *testing.T) {
	storetest.RunShared(t, func(t *testing.T) (a, b *sqlstore.Store) {
		dsn := storetest.PostgresDSN(t)
		return openDSN(t, dsn, "a", false), openDSN(t, dsn, "b", false)
	})
}

func TestReopen(t *testing.T) {
	storetest.RunReopen(t, func(t *testing.T) func(readOnly bool) *sqlstore.Store {
		dsn := storetest.PostgresDSN(t)
		return func(readOnly bool) *sqlstore.Store {
			return openDSN(t, dsn, "node", readOnly)
		}
	})
}
