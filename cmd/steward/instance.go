package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
	"golang.org/x/mod/sumdb/note"

	"steward"
	"steward/ledger"
	"steward/postgres"
	"steward/sqlite"
	"steward/sqlstore"
)

// Config is an instance's steward.yaml.
type Config struct {
	// Origin names the log: its checkpoints' first line and its key's name.
	Origin string `yaml:"origin"`
	// Store is "sqlite" (the file steward.db in the data directory),
	// "sqlite:PATH", or a postgres:// URL.
	Store string `yaml:"store"`
	// HTTP is the address serve listens on unless --http says otherwise.
	HTTP string `yaml:"http"`
}

const (
	configFile     = "steward.yaml"
	logKeyFile     = "keys/log.skey"
	sessionKeyFile = "keys/session.key"
	defaultHTTP    = "127.0.0.1:8080"
)

// defaultDataDir is where the demo instance lives unless --data says
// otherwise: $STEWARD_DATA, or $XDG_DATA_HOME/steward/demo, or
// ~/.local/share/steward/demo.
func defaultDataDir() string {
	if d := os.Getenv("STEWARD_DATA"); d != "" {
		return d
	}
	base := os.Getenv("XDG_DATA_HOME")
	if base == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "steward-demo"
		}
		base = filepath.Join(home, ".local", "share")
	}
	return filepath.Join(base, "steward", "demo")
}

func loadConfig(dir string) (*Config, error) {
	b, err := os.ReadFile(filepath.Join(dir, configFile))
	if err != nil {
		return nil, err
	}
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, configFile), err)
	}
	if c.Origin == "" {
		return nil, fmt.Errorf("%s: origin is missing", filepath.Join(dir, configFile))
	}
	if c.Store == "" {
		c.Store = "sqlite"
	}
	return &c, nil
}

func writeConfig(dir string, c *Config) error {
	b, err := yaml.Marshal(c)
	if err != nil {
		return err
	}
	head := "# Steward instance configuration (steward init wrote it).\n# origin names the log; store is sqlite, sqlite:PATH or a postgres:// URL.\n"
	return os.WriteFile(filepath.Join(dir, configFile), append([]byte(head), b...), 0o644)
}

// instance is an open instance: its configuration, keys and store.
type instance struct {
	dir        string
	cfg        *Config
	signer     note.Signer
	vkey       string
	sessionKey []byte
	store      *sqlstore.Store
	dbs        []*sql.DB
}

// openOptions tune openInstance.
type openOptions struct {
	readOnly           bool
	clock              steward.Clock
	logger             *slog.Logger
	checkpointInterval time.Duration
	metrics            *sqlstore.Metrics
}

// isInstance reports whether dir holds an instance.
func isInstance(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, configFile))
	return err == nil
}

func openInstance(ctx context.Context, dir string, o openOptions) (*instance, error) {
	cfg, err := loadConfig(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s is not a steward instance (no %s): create one with steward init", dir, configFile)
		}
		return nil, err
	}
	in := &instance{dir: dir, cfg: cfg}
	skey, err := os.ReadFile(filepath.Join(dir, logKeyFile))
	if err != nil {
		return nil, fmt.Errorf("read the log key: %w", err)
	}
	if in.signer, err = note.NewSigner(strings.TrimSpace(string(skey))); err != nil {
		return nil, fmt.Errorf("%s: %w", logKeyFile, err)
	}
	if in.signer.Name() != cfg.Origin {
		return nil, fmt.Errorf("%s signs for %q, but the origin is %q", logKeyFile, in.signer.Name(), cfg.Origin)
	}
	if in.vkey, err = vkeyOf(strings.TrimSpace(string(skey))); err != nil {
		return nil, err
	}
	if in.sessionKey, err = os.ReadFile(filepath.Join(dir, sessionKeyFile)); err != nil && !o.readOnly {
		return nil, fmt.Errorf("read the session key: %w", err)
	}
	w, r, d, err := openDB(dir, cfg.Store, o.readOnly)
	if err != nil {
		return nil, err
	}
	in.dbs = []*sql.DB{w}
	if r != w {
		in.dbs = append(in.dbs, r)
	}
	scfg := sqlstore.Config{Signer: in.signer, Clock: o.clock, Logger: o.logger, CheckpointInterval: o.checkpointInterval, ReadOnly: o.readOnly, Metrics: o.metrics}
	if o.readOnly {
		scfg.Signer = nil
	}
	// The node's name stays the same across restarts, so that a node that
	// crashed takes its own checkpoint lease back at once.
	host, _ := os.Hostname()
	abs, _ := filepath.Abs(dir)
	scfg.Node = host + ":" + abs
	if in.store, err = sqlstore.Open(ctx, w, r, d, scfg); err != nil {
		in.closeDBs()
		return nil, err
	}
	return in, nil
}

func openDB(dir, dsn string, readOnly bool) (w, r *sql.DB, d sqlstore.Dialect, err error) {
	switch {
	case dsn == "sqlite" || strings.HasPrefix(dsn, "sqlite:"):
		path := strings.TrimPrefix(strings.TrimPrefix(dsn, "sqlite"), ":")
		path = strings.TrimPrefix(path, "//")
		if path == "" {
			path = "steward.db"
		}
		if !filepath.IsAbs(path) {
			path = filepath.Join(dir, path)
		}
		w, r, err = sqlite.Open(path, readOnly)
		return w, r, sqlite.Dialect{}, err
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		db, err := postgres.Open(dsn)
		return db, db, postgres.Dialect{}, err
	default:
		return nil, nil, nil, fmt.Errorf("store %q: want sqlite, sqlite:PATH or a postgres:// URL", dsn)
	}
}

func (in *instance) closeDBs() {
	for _, db := range in.dbs {
		_ = db.Close()
	}
}

// Close closes the store (signing a last checkpoint) and the databases.
func (in *instance) Close() error {
	err := in.store.Close()
	in.closeDBs()
	return err
}

// vkeyOf derives the verifier key from a note signer key.
func vkeyOf(skey string) (string, error) { return ledger.VerifierKey(skey) }

// createInstance makes a new instance directory with its keys and config
// and records the instance and its charter as the first ledger entries. On
// any failure it leaves nothing behind.
func createInstance(ctx context.Context, dir string, cfg *Config, name, preset string, charterText []byte, o openOptions) (in *instance, err error) {
	meta := steward.Instance{Origin: cfg.Origin, Name: name, Preset: preset}
	if err := meta.Validate(); err != nil {
		return nil, err
	}
	if isInstance(dir) {
		return nil, fmt.Errorf("%s holds an instance already", dir)
	}
	_, statErr := os.Stat(dir)
	existed := statErr == nil
	defer func() {
		if err == nil {
			return
		}
		if in != nil {
			in.Close()
			in = nil
		}
		if !existed {
			_ = os.RemoveAll(dir)
			return
		}
		for _, f := range []string{configFile, "keys", "steward.db", "steward.db-wal", "steward.db-shm"} {
			_ = os.RemoveAll(filepath.Join(dir, f))
		}
	}()
	if err := os.MkdirAll(filepath.Join(dir, "keys"), 0o700); err != nil {
		return nil, err
	}
	skey, _, err := note.GenerateKey(rand.Reader, cfg.Origin)
	if err != nil {
		return nil, fmt.Errorf("origin %q cannot name a key: %w", cfg.Origin, err)
	}
	if err := os.WriteFile(filepath.Join(dir, logKeyFile), []byte(skey+"\n"), 0o600); err != nil {
		return nil, err
	}
	sk := make([]byte, 32)
	if _, err := rand.Read(sk); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, sessionKeyFile), sk, 0o600); err != nil {
		return nil, err
	}
	if err := writeConfig(dir, cfg); err != nil {
		return nil, err
	}
	if in, err = openInstance(ctx, dir, o); err != nil {
		return nil, err
	}
	if _, err = in.store.Do(ctx, steward.CreateInstance(meta, charterText)); err != nil {
		return in, err
	}
	return in, nil
}
