package sqlite_test

import (
	"path/filepath"
	"testing"

	"steward/sqlite"
	"steward/sqlstore"
	"steward/storetest"
)

// openStore opens a store on a new database file in a temporary directory.
func openStore(t *testing.T) *sqlstore.Store {
	t.Helper()
	return openFile(t, filepath.Join(t.TempDir(), "steward.db"), "")
}

// openFile opens a store on the database file at path as the named node,
// closing it when t ends.
func openFile(t *testing.T, path, node string) *sqlstore.Store {
	t.Helper()
	w, r, err := sqlite.Open(path, false)
	if err != nil {
		t.Fatal(err)
	}
	cfg := storetest.Config(t)
	cfg.Node = node
	s, err := sqlstore.Open(t.Context(), w, r, sqlite.Dialect{}, cfg)
	if err != nil {
		w.Close()
		r.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.Close()
		w.Close()
		r.Close()
	})
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, openStore)
}

// TestShared runs two stores on one database file, as two processes would.
func TestShared(t *testing.T) {
	storetest.RunShared(t, func(t *testing.T) (a, b *sqlstore.Store) {
		path := filepath.Join(t.TempDir(), "steward.db")
		return openFile(t, path, "a"), openFile(t, path, "b")
	})
}

func TestReopen(t *testing.T) {
	storetest.RunReopen(t, func(t *testing.T) func(readOnly bool) *sqlstore.Store {
		path := filepath.Join(t.TempDir(), "steward.db")
		return func(readOnly bool) *sqlstore.Store {
			if !readOnly {
				return openFile(t, path, "")
			}
			w, r, err := sqlite.Open(path, true)
			if err != nil {
				t.Fatal(err)
			}
			cfg := storetest.Config(t)
			cfg.ReadOnly, cfg.Signer = true, nil
			s, err := sqlstore.Open(t.Context(), w, r, sqlite.Dialect{}, cfg)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				s.Close()
				r.Close()
			})
			return s
		}
	})
}
