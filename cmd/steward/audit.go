package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"steward"
	"steward/audit"
	"steward/ledger"
	"steward/sqlstore"
)

func defaultAuditState() string {
	base := os.Getenv("XDG_STATE_HOME")
	if base == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "steward-audit.json"
		}
		base = filepath.Join(home, ".local", "state")
	}
	return filepath.Join(base, "steward", "audit.json")
}

func (m *Main) audit(ctx context.Context, args []string) error {
	fs := m.flags("audit", "[flags] URL|DIR")
	key := fs.String("key", "", "pin the log's verifier key (note vkey format)")
	statePath := fs.String("state", defaultAuditState(), "file remembering the last checkpoint seen of each log")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("audit takes one source: the URL of a running instance or a data directory")
	}
	seen, err := audit.LoadSeen(*statePath)
	if err != nil {
		return err
	}
	src, closeSrc, err := openLogSource(ctx, pos[0])
	if err != nil {
		return err
	}
	defer closeSrc()
	rep, err := audit.Audit(ctx, src, audit.Options{Key: *key, Seen: seen})
	if err != nil {
		var f *audit.Failure
		if *asJSON && errors.As(err, &f) {
			_ = json.NewEncoder(m.Stdout).Encode(map[string]any{"ok": false, "failure": f.What})
		}
		return err
	}
	if err := seen.Save(*statePath); err != nil {
		return fmt.Errorf("save the audit state: %w", err)
	}
	if *asJSON {
		enc := json.NewEncoder(m.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"ok": true, "report": rep})
	}
	fmt.Fprintf(m.Stdout, "audit passed: %s\n  origin %s, %d entries, root %s\n  replayed every entry: %d state records, digest %s matches the checkpoint\n",
		rep.Source, rep.Origin, rep.Size, rep.Root, rep.StateRecords, rep.State)
	fmt.Fprintf(m.Stdout, "  %d tiles recomputed and equal\n", rep.Tiles)
	if rep.PreviousSize > 0 {
		fmt.Fprintf(m.Stdout, "  consistent with the checkpoint of size %d seen before\n", rep.PreviousSize)
	}
	if rep.StoredRows {
		fmt.Fprintln(m.Stdout, "  stored state rows equal the rebuilt state")
	}
	if !rep.KeyPinned {
		fmt.Fprintf(m.Stdout, "  first audit of this log: its key is now pinned in %s\n", *statePath)
	}
	return nil
}

// openLogSource opens the log at arg: the URL of a running instance, or a
// data directory (read-only). The caller calls the returned close.
func openLogSource(ctx context.Context, arg string) (audit.Source, func(), error) {
	if strings.HasPrefix(arg, "http://") || strings.HasPrefix(arg, "https://") {
		return &audit.HTTPSource{BaseURL: arg, Client: &http.Client{Timeout: 60 * time.Second}}, func() {}, nil
	}
	ds, err := openDirSource(ctx, arg)
	if err != nil {
		return nil, nil, err
	}
	return ds, func() { ds.in.Close() }, nil
}

// dirSource audits a data directory through its store, read-only.
type dirSource struct {
	dir  string
	in   *instance
	vkey string
}

var _ audit.StateSource = (*dirSource)(nil)

func openDirSource(ctx context.Context, dir string) (*dirSource, error) {
	vkey, err := readVKey(dir)
	if err != nil {
		return nil, err
	}
	in, err := openInstance(ctx, dir, openOptions{readOnly: true})
	if err != nil {
		return nil, err
	}
	return &dirSource{dir: dir, in: in, vkey: vkey}, nil
}

func (d *dirSource) Name() string                        { return d.dir }
func (d *dirSource) Key(context.Context) (string, error) { return d.vkey, nil }
func (d *dirSource) store() *sqlstore.Store              { return d.in.store }
func (d *dirSource) Checkpoint(ctx context.Context) ([]byte, error) {
	return d.store().LatestCheckpoint(ctx)
}

func (d *dirSource) Tile(ctx context.Context, t tlog.Tile) ([]byte, error) {
	return d.store().Tile(ctx, t)
}

func (d *dirSource) StoredState(ctx context.Context) (int64, ledger.Digest, []steward.KV, error) {
	size, digest, err := d.store().Head(ctx)
	if err != nil {
		return 0, digest, nil, err
	}
	rows, err := steward.ScanAll(ctx, d.store(), "")
	return size, digest, rows, err
}
