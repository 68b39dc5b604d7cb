// Package audit verifies a steward instance from its public log alone: it
// checks the signed checkpoint, its consistency with the last checkpoint the
// auditor saw, every tile and entry against the checkpoint's root, replays
// every entry from an empty state, and compares the rebuilt state with the
// digest the checkpoint commits to (and, for a data directory, with the
// stored state rows themselves).
//
// Any difference is a failure whose message names the entry, tile,
// checkpoint or state record at fault; there are no warnings.
package audit

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"steward"
	"steward/ledger"
)

// Source is where the log comes from: a running instance over HTTP, or a
// data directory.
type Source interface {
	// Name describes the source in messages.
	Name() string
	// Key returns the log's verifier key in note vkey format.
	Key(ctx context.Context) (string, error)
	// Checkpoint returns the latest signed checkpoint.
	Checkpoint(ctx context.Context) ([]byte, error)
	// Tile returns a tile's contents: hashes, or an entry bundle for L = -1.
	Tile(ctx context.Context, t tlog.Tile) ([]byte, error)
}

// StateSource is a Source that also exposes the stored state: the records,
// the size of the ledger they reflect and the digest kept with them.
type StateSource interface {
	Source
	StoredState(ctx context.Context) (size int64, digest ledger.Digest, rows []steward.KV, err error)
}

// Options tune an audit.
type Options struct {
	// Key pins the log's verifier key. If empty, the key remembered in the
	// state file is used, or on the first audit of a log the source's key.
	Key string
	// Seen is the state file's memory of logs already audited; Audit
	// updates it on success. Nil means no memory.
	Seen *Seen
	// Observe, if set, is called with every entry as it is replayed, and
	// the state just after it: a way to compute over a verified ledger
	// (steward simulate does). An error stops the audit.
	Observe func(e *steward.Event, st steward.StateReader) error
}

// Report describes a successful audit.
type Report struct {
	Source       string `json:"source"`
	Origin       string `json:"origin"`
	Size         int64  `json:"size"`
	Root         string `json:"root"`
	State        string `json:"state"`
	PreviousSize int64  `json:"previous_size"`
	Tiles        int    `json:"tiles"`
	StateRecords int    `json:"state_records"`
	StoredRows   bool   `json:"stored_rows_checked"`
	KeyPinned    bool   `json:"key_pinned"`
}

// Failure is an audit that found something wrong.
type Failure struct {
	What string // what is wrong, naming the entry, tile, checkpoint or record
}

func (f *Failure) Error() string { return "audit failed: " + f.What }

func fail(format string, args ...any) error { return &Failure{What: fmt.Sprintf(format, args...)} }

// Audit verifies the log at src.
func Audit(ctx context.Context, src Source, opt Options) (*Report, error) {
	rep := &Report{Source: src.Name()}

	// 1. The key and the checkpoint.
	vkey := opt.Key
	rep.KeyPinned = vkey != ""
	srcKey, err := src.Key(ctx)
	if err != nil {
		return nil, fmt.Errorf("fetch the log's key: %w", err)
	}
	if vkey == "" {
		vkey = srcKey
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return nil, fail("the log's key %q is not a note verifier key: %v", vkey, err)
	}
	var prev *SeenLog
	if opt.Seen != nil {
		prev = opt.Seen.Logs[v.Name()]
		if prev != nil && prev.Key != vkey {
			return nil, fail("the key of log %s changed: the state file has %s, the source gives %s", v.Name(), prev.Key, vkey)
		}
		rep.KeyPinned = rep.KeyPinned || prev != nil
	}
	if srcKey != vkey {
		return nil, fail("the source serves key %s, not the pinned key %s", srcKey, vkey)
	}
	msg, err := src.Checkpoint(ctx)
	if err != nil {
		return nil, fmt.Errorf("fetch the checkpoint: %w", err)
	}
	cp, err := ledger.Open(msg, v)
	if err != nil {
		return nil, fail("checkpoint: %v", err)
	}
	rep.Origin, rep.Size = cp.Origin, cp.Size
	rep.Root = base64.StdEncoding.EncodeToString(cp.Root[:])
	rep.State = base64.StdEncoding.EncodeToString(cp.State[:])
	tree := tlog.Tree{N: cp.Size, Hash: cp.Root}

	// 2. Consistency with the last checkpoint seen.
	if prev != nil {
		rep.PreviousSize = prev.Size
		if err := checkConsistency(ctx, src, tree, prev); err != nil {
			return nil, err
		}
	}

	// 3. Entries, replayed; tiles recomputed and compared. Each full
	// level-0 tile is compared as soon as its 256 entries are hashed, and
	// their lower hashes are then dropped: memory grows with the number of
	// entries divided by 255, not with the entries.
	st := steward.NewMemState()
	hashes := memHashes{}
	read := tlog.HashReaderFunc(hashes.ReadHashes)
	compare := func(t tlog.Tile) error {
		want, err := tlog.ReadTileData(t, read)
		if err != nil {
			return err
		}
		got, err := src.Tile(ctx, t)
		if err != nil {
			return fmt.Errorf("fetch %s: %w", ledger.TilePath(t), err)
		}
		if !bytes.Equal(got, want) {
			return fail("%s differs from the hashes of the entries%s", ledger.TilePath(t), firstDiff(t, got, want))
		}
		rep.Tiles++
		return nil
	}
	for start := int64(0); start < cp.Size; start += 1 << ledger.TileHeight {
		w := int(min(cp.Size-start, 1<<ledger.TileHeight))
		bt := tlog.Tile{H: ledger.TileHeight, L: -1, N: start >> ledger.TileHeight, W: w}
		bundle, err := src.Tile(ctx, bt)
		if err != nil {
			return nil, fmt.Errorf("fetch %s: %w", ledger.TilePath(bt), err)
		}
		entries, err := ledger.DecodeBundle(bundle)
		if err != nil {
			return nil, fail("%s: %v", ledger.TilePath(bt), err)
		}
		if len(entries) != w {
			return nil, fail("%s holds %d entries, want %d", ledger.TilePath(bt), len(entries), w)
		}
		for i, data := range entries {
			n := start + int64(i)
			hs, err := tlog.StoredHashes(n, data, read)
			if err != nil {
				return nil, err
			}
			base := tlog.StoredHashIndex(0, n)
			for j, h := range hs {
				hashes[base+int64(j)] = h
			}
			e, err := steward.DecodeEvent(data)
			if err != nil {
				return nil, fail("entry %d: %v", n, err)
			}
			if e.Seq != n {
				return nil, fail("entry %d says it is entry %d", n, e.Seq)
			}
			if err := steward.Apply(ctx, st, e); err != nil {
				return nil, fail("entry %d does not replay: %v", n, err)
			}
			if opt.Observe != nil {
				if err := opt.Observe(e, st); err != nil {
					return nil, err
				}
			}
		}
		if w == 1<<ledger.TileHeight {
			if err := compare(tlog.Tile{H: ledger.TileHeight, L: 0, N: bt.N, W: w}); err != nil {
				return nil, err
			}
			hashes.dropBelowTile(bt.N)
		}
	}
	root, err := tlog.TreeHash(cp.Size, read)
	if err != nil {
		return nil, err
	}
	for _, t := range tlog.NewTiles(ledger.TileHeight, 0, cp.Size) {
		if t.L == 0 && t.W == 1<<ledger.TileHeight {
			continue // compared above
		}
		if err := compare(t); err != nil {
			return nil, err
		}
	}
	if root != cp.Root {
		return nil, fail("the entries hash to root %s, but the checkpoint of size %d says %s: the log was rewritten", root, cp.Size, cp.Root)
	}

	// 4. The rebuilt state against the checkpoint's digest.
	var d ledger.Digest
	all := st.All()
	for _, kv := range all {
		d.Add(kv.Key, kv.Value)
	}
	rep.StateRecords = len(all)
	if d.Sum() != cp.State {
		return nil, fail("the state rebuilt from %d entries has digest %s, but the checkpoint commits to %s",
			cp.Size, base64.StdEncoding.EncodeToString(sum(d)), rep.State)
	}

	// 5. The stored state, where the source has it.
	if ss, ok := src.(StateSource); ok {
		if err := checkStoredState(ctx, ss, cp.Size, st, &d); err != nil {
			return nil, err
		}
		rep.StoredRows = true
	}

	if opt.Seen != nil {
		opt.Seen.Logs[cp.Origin] = &SeenLog{Key: vkey, Size: cp.Size, Root: cp.Root}
	}
	return rep, nil
}

func sum(d ledger.Digest) []byte { s := d.Sum(); return s[:] }

// checkConsistency proves that the checkpoint extends the one seen before.
func checkConsistency(ctx context.Context, src Source, tree tlog.Tree, prev *SeenLog) error {
	if tree.N < prev.Size {
		return fail("the log shrank: checkpoint size %d, but size %d was seen before", tree.N, prev.Size)
	}
	tr := tlog.TileHashReader(tree, &tileReader{ctx: ctx, src: src})
	p, err := tlog.ProveTree(tree.N, prev.Size, tr)
	if err != nil {
		return fail("cannot prove checkpoint %d consistent with the size %d seen before: %v", tree.N, prev.Size, err)
	}
	if err := tlog.CheckTree(p, tree.N, tree.Hash, prev.Size, prev.Root); err != nil {
		return fail("checkpoint %d is not consistent with the checkpoint of size %d seen before: %v (a fork or a rewritten log)", tree.N, prev.Size, err)
	}
	return nil
}

// checkStoredState replays entries past the checkpoint up to the stored
// state's size and compares the stored rows and digest with the rebuilt ones.
func checkStoredState(ctx context.Context, src StateSource, from int64, st *steward.MemState, d *ledger.Digest) error {
	size, storedDigest, rows, err := src.StoredState(ctx)
	if err != nil {
		return fmt.Errorf("read the stored state: %w", err)
	}
	if size < from {
		return fail("the stored ledger head (%d entries) is behind the checkpoint (%d)", size, from)
	}
	for start := from; start < size; {
		end := min(size, (start>>ledger.TileHeight+1)<<ledger.TileHeight)
		bt := tlog.Tile{H: ledger.TileHeight, L: -1, N: start >> ledger.TileHeight, W: int(end - (start>>ledger.TileHeight)<<ledger.TileHeight)}
		bundle, err := src.Tile(ctx, bt)
		if err != nil {
			return fmt.Errorf("fetch %s: %w", ledger.TilePath(bt), err)
		}
		entries, err := ledger.DecodeBundle(bundle)
		if err != nil {
			return fail("%s: %v", ledger.TilePath(bt), err)
		}
		for n := start; n < end; n++ {
			e, err := steward.DecodeEvent(entries[n-(start>>ledger.TileHeight)<<ledger.TileHeight])
			if err != nil {
				return fail("entry %d (after the checkpoint): %v", n, err)
			}
			if err := steward.Apply(ctx, st, e); err != nil {
				return fail("entry %d (after the checkpoint) does not replay: %v", n, err)
			}
		}
		start = end
	}
	want := st.All()
	i, j := 0, 0
	for i < len(want) || j < len(rows) {
		switch {
		case j == len(rows) || (i < len(want) && want[i].Key < rows[j].Key):
			return fail("state record %s is missing from the store", want[i].Key)
		case i == len(want) || rows[j].Key < want[i].Key:
			return fail("state record %s is in the store, but no ledger entry made it", rows[j].Key)
		case !bytes.Equal(want[i].Value, rows[j].Value):
			return fail("state record %s differs from what the ledger gives", want[i].Key)
		}
		i++
		j++
	}
	var rebuilt ledger.Digest
	for _, kv := range want {
		rebuilt.Add(kv.Key, kv.Value)
	}
	if rebuilt != storedDigest {
		return fail("the stored state digest does not match the stored state records")
	}
	return nil
}

// firstDiff names the first hash where two tiles differ and, for a level-0
// tile, the entry whose hash it is.
func firstDiff(t tlog.Tile, got, want []byte) string {
	if len(got) != len(want) {
		return fmt.Sprintf(" (%d bytes, want %d)", len(got), len(want))
	}
	for i := 0; i < len(want); i += tlog.HashSize {
		if !bytes.Equal(got[i:i+tlog.HashSize], want[i:i+tlog.HashSize]) {
			k := int64(i / tlog.HashSize)
			if t.L == 0 {
				n := t.N<<ledger.TileHeight + k
				return fmt.Sprintf(" at the hash of entry %d: entry %d or the stored hash was altered", n, n)
			}
			return fmt.Sprintf(" at hash %d", k)
		}
	}
	return ""
}

// memHashes holds the stored hashes of the tree being rebuilt, by index:
// those of levels 8 and above, and the lower ones of the tile being built.
type memHashes map[int64]tlog.Hash

func (m memHashes) ReadHashes(idx []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(idx))
	for i, x := range idx {
		h, ok := m[x]
		if !ok {
			return nil, errors.New("hash not yet computed")
		}
		out[i] = h
	}
	return out, nil
}

// dropBelowTile forgets the hashes of levels 0 to 7 under the level-0 tile
// n, once its level-8 hash is stored and the tile compared.
func (m memHashes) dropBelowTile(n int64) {
	for l := 0; l < ledger.TileHeight; l++ {
		lo, hi := n<<(ledger.TileHeight-l), (n+1)<<(ledger.TileHeight-l)
		for k := lo; k < hi; k++ {
			delete(m, tlog.StoredHashIndex(l, k))
		}
	}
}

// tileReader adapts a Source to tlog.TileReader, which checks every tile it
// reads against the tree's root hash.
type tileReader struct {
	ctx context.Context
	src Source
}

func (r *tileReader) Height() int { return ledger.TileHeight }

func (r *tileReader) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		b, err := r.src.Tile(r.ctx, t)
		if err != nil {
			return nil, fmt.Errorf("fetch %s: %w", ledger.TilePath(t), err)
		}
		out[i] = b
	}
	return out, nil
}

func (r *tileReader) SaveTiles([]tlog.Tile, [][]byte) {}
