// Package storetest is the conformance suite of steward's stores: one set
// of tests that every store must pass, in the manner of
// golang.org/x/mod/sumdb/storage's TestStorage. The sqlite and postgres
// packages call [Run] from their tests with a function that opens a fresh
// store, and the suite exercises it only through its public methods: the
// domain commands, reads of the state, the ledger's entries, hashes, tiles
// and checkpoints, and sessions.
//
// The suite checks what the rest of steward relies on: a command that fails
// or panics changes nothing while the others in its batch commit; entries
// are numbered without gaps however many callers write at once; the Merkle
// hashes, tiles and entry bundles are those that golang.org/x/mod/sumdb/tlog
// computes from the entries alone; and a signed checkpoint commits to the
// state that replaying the entries from empty rebuilds.
//
// [PostgresDSN] gives a test a fresh PostgreSQL database on the server that
// scripts/test.sh starts.
package storetest

import (
	"crypto/rand"
	"log/slog"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"steward"
	"steward/sqlstore"
)

// Origin is the origin of the logs the suite opens, and its key's name.
const Origin = "steward.example/test"

// Epoch is where the clock of every store the suite opens starts.
var Epoch = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// Password is the password of every participant the suite registers.
const Password = "correct horse battery staple"

// CheapPassword are argon2id costs cheap enough for tests.
var CheapPassword = steward.PasswordParams{Memory: 64, Time: 1, Threads: 1}

// env is what the suite knows of the stores opened in one test: they share
// a fake clock and a log key.
type env struct {
	clock    *steward.FakeClock
	signer   note.Signer
	verifier note.Verifier
	vkey     string
}

var envs sync.Map // testing.TB → *env

func envOf(t testing.TB) *env {
	if e, ok := envs.Load(t); ok {
		return e.(*env)
	}
	skey, vkey, err := note.GenerateKey(rand.Reader, Origin)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{clock: steward.NewFakeClock(Epoch), vkey: vkey}
	if e.signer, err = note.NewSigner(skey); err != nil {
		t.Fatal(err)
	}
	if e.verifier, err = note.NewVerifier(vkey); err != nil {
		t.Fatal(err)
	}
	if old, loaded := envs.LoadOrStore(t, e); loaded {
		return old.(*env)
	}
	t.Cleanup(func() { envs.Delete(t) })
	return e
}

// Config returns the configuration that the open function given to [Run]
// must use: a checkpoint signer for [Origin] with a key made for the test, a
// [steward.FakeClock] standing at [Epoch], no checkpoint loop (the suite
// calls SignCheckpoint itself), and a logger that writes warnings and
// errors to the test's output. Every store opened with the same t shares
// the key and the clock, as the nodes of a cluster do.
func Config(t testing.TB) sqlstore.Config {
	e := envOf(t)
	return sqlstore.Config{
		Signer:             e.signer,
		Clock:              e.clock,
		Logger:             slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn})),
		CheckpointInterval: -1,
	}
}

// Clock returns the clock of the stores opened with [Config] in t.
func Clock(t testing.TB) *steward.FakeClock { return envOf(t).clock }

// Verifier returns the verifier of the checkpoints that stores opened with
// [Config] in t sign.
func Verifier(t testing.TB) note.Verifier { return envOf(t).verifier }

var passwordHash = sync.OnceValues(func() (string, error) {
	return steward.HashPassword(Password, CheapPassword)
})

// PasswordHash returns the hash of [Password] with [CheapPassword] costs.
func PasswordHash(t testing.TB) string {
	h, err := passwordHash()
	if err != nil {
		t.Fatal(err)
	}
	return h
}
