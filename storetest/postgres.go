package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"steward/postgres"
)

// PostgresEnv names the environment variable that tells tests where a
// PostgreSQL server is: a postgres:// URL of a database on it from which
// they may create and drop databases. scripts/test.sh starts a throwaway
// server and sets it.
const PostgresEnv = "STEWARD_TEST_POSTGRES"

// PostgresDSN returns the URL of a new, empty database on the server that
// $STEWARD_TEST_POSTGRES names, for t alone; it is dropped when t ends.
//
// Without the variable the test is skipped, except under CI (the variable
// CI is set), where it fails: scripts/test.sh always provides a server, so
// PostgreSQL is never silently left untested.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	base := os.Getenv(PostgresEnv)
	if base == "" {
		if os.Getenv("CI") != "" {
			t.Fatal(PostgresEnv + " is not set: run scripts/test.sh")
		}
		t.Skip(PostgresEnv + " is not set: run scripts/test.sh to test against PostgreSQL")
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		t.Fatalf("%s=%q: want a postgres:// URL", PostgresEnv, base)
	}
	admin, err := postgres.Open(base)
	if err != nil {
		t.Fatalf("%s: %v", PostgresEnv, err)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "steward_test_" + hex.EncodeToString(b)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// The database's default collation is ICU's English, not byte order,
	// so that a query or a column that forgets COLLATE "C" sorts keys
	// wrongly and fails the suite. Without ICU, the server's default.
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name+" TEMPLATE template0 ENCODING 'UTF8' LOCALE_PROVIDER icu ICU_LOCALE 'en-US'"); err != nil {
		t.Logf("create a test database with an ICU collation: %v", err)
		if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
			admin.Close()
			t.Fatalf("create a test database: %v", err)
		}
	}
	t.Cleanup(func() {
		defer admin.Close()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop the test database %s: %v", name, err)
		}
	})
	u.Path = "/" + name
	return u.String()
}
