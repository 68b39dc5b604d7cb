package main

import (
	"bytes"
	"context"
	"database/sql"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"steward"
)

// run runs the steward command in-process and returns its output.
func run(t testing.TB, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	m := &Main{Stdout: &out, Stderr: &out, Clock: steward.SystemClock{}, PasswordParams: steward.PasswordParams{Memory: 64, Time: 1, Threads: 1}}
	err := m.Run(context.Background(), args)
	return out.String(), err
}

func mustRun(t testing.TB, args ...string) string {
	t.Helper()
	out, err := run(t, args...)
	if err != nil {
		t.Fatalf("steward %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// demo makes a demo instance once per test binary and returns a fresh copy.
var demoDir string

func freshDemo(t *testing.T) string {
	t.Helper()
	if demoDir == "" {
		dir := filepath.Join(os.TempDir(), "steward-test-demo-"+strings.ReplaceAll(time.Now().Format("150405.000000"), ".", ""))
		mustRun(t, "init", "--demo", "--preset", "wgig-model-1", "--origin", "steward.example/t", dir)
		demoDir = dir
		t.Cleanup(func() {}) // removed by TestMain
	}
	dst := t.TempDir()
	copyDir(t, demoDir, dst)
	return dst
}

func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.Walk(src, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		to := filepath.Join(dst, rel)
		if fi.IsDir() {
			return os.MkdirAll(to, 0o700)
		}
		in, err := os.Open(p)
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, fi.Mode())
		if err != nil {
			return err
		}
		_, err = io.Copy(out, in)
		if cerr := out.Close(); err == nil {
			err = cerr
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestMain(m *testing.M) {
	code := m.Run()
	if demoDir != "" {
		os.RemoveAll(demoDir)
	}
	os.Exit(code)
}

func exec(t *testing.T, dir, query string, args ...any) {
	t.Helper()
	db, err := sql.Open("sqlite", filepath.Join(dir, "steward.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	res, err := db.Exec(query, args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		t.Fatalf("%s changed %d rows, want 1", query, n)
	}
}

// TestAuditTamper tampers with each kind of stored data and checks that
// audit fails naming it.
func TestAuditTamper(t *testing.T) {
	dir := freshDemo(t)
	out := mustRun(t, "audit", "--state", filepath.Join(t.TempDir(), "a.json"), dir)
	if !strings.Contains(out, "audit passed") || !strings.Contains(out, "stored state rows equal the rebuilt state") {
		t.Fatalf("audit of an untouched instance:\n%s", out)
	}
	for _, tc := range []struct {
		name   string
		tamper string
		args   []any
		want   string
	}{
		{"entry", `UPDATE ledger_entries SET data = CAST(replace(CAST(data AS TEXT), 'Instance operator', 'Instance 0perator') AS BLOB) WHERE seq = 2`, nil,
			"differs from the hashes of the entries at the hash of entry 2: entry 2 or the stored hash was altered"},
		{"tile hash", `UPDATE ledger_hashes SET hash = zeroblob(32) WHERE idx = 4`, nil, // the leaf hash of entry 3
			"differs from the hashes of the entries at the hash of entry 3"},
		{"checkpoint", `UPDATE checkpoints SET note = CAST(replace(CAST(note AS TEXT), 'steward.example/t' || char(10), 'steward.example/T' || char(10)) AS BLOB) WHERE size = (SELECT MAX(size) FROM checkpoints)`, nil,
			"checkpoint"},
		{"state row changed", `UPDATE state SET v = CAST(replace(CAST(v AS TEXT), 'Instance operator', 'Someone else') AS BLOB) WHERE k = 'participant/operator'`, nil,
			"state record participant/operator differs from what the ledger gives"},
		{"state row removed", `DELETE FROM state WHERE k = 'role/operator/operator'`, nil,
			"state record role/operator/operator is missing from the store"},
		{"state row added", `INSERT INTO state (k, v) VALUES ('role/mallory/operator', '{}')`, nil,
			"state record role/mallory/operator is in the store, but no ledger entry made it"},
		{"state digest", `UPDATE ledger_head SET digest = zeroblob(2048) WHERE id = 1`, nil,
			"the stored state digest does not match the stored state records"},
		{"entry removed", `DELETE FROM ledger_entries WHERE seq = 7`, nil,
			"ledger entry 7 is missing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := freshDemo(t)
			exec(t, dir, tc.tamper, tc.args...)
			out, err := run(t, "audit", "--state", filepath.Join(t.TempDir(), "a.json"), dir)
			if err == nil {
				t.Fatalf("audit passed after tampering:\n%s", out)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("audit error %q does not name %q", err, tc.want)
			}
			if exitCode(err) != 1 {
				t.Errorf("exit code %d, want 1", exitCode(err))
			}
		})
	}
}
