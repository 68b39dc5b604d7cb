package web_test

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"steward"
	"steward/ledger"
	"steward/web"
)

// growLedger registers n participants at once, so the store commits them
// in batches.
func (f *fixture) growLedger(t testing.TB, prefix string, n int) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			h := fmt.Sprintf("%s-%d", prefix, i)
			_, err := f.store.Do(f.ctx, steward.Register(steward.ActorInit, steward.Registration{
				Participant: steward.Participant{Handle: h, Name: h, Group: "civil-society", Region: "europe", Languages: []string{"en"}},
				Email:       h + "@example.org", PasswordHash: f.hash,
			}))
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

// verifiedCheckpoint fetches the log's key and latest checkpoint over HTTP,
// as an outside auditor would, and verifies the checkpoint with the key.
func verifiedCheckpoint(t testing.TB, c *client) ledger.Checkpoint {
	t.Helper()
	resp := c.get("/log/key")
	vkey := strings.TrimSpace(readBody(t, resp))
	v, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatalf("/log/key %q: %v", vkey, err)
	}
	resp = c.get("/log/checkpoint")
	msg := readBody(t, resp)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("/log/checkpoint: %s %s", resp.Status, resp.Header.Get("Content-Type"))
	}
	n, err := note.Open([]byte(msg), note.VerifierList(v))
	if err != nil {
		t.Fatalf("checkpoint does not verify with the log's key: %v\n%s", err, msg)
	}
	cp, err := ledger.ParseCheckpoint([]byte(n.Text))
	if err != nil {
		t.Fatal(err)
	}
	if cp.Origin != testOrigin || !cp.HasState {
		t.Fatalf("checkpoint %+v", cp)
	}
	return cp
}

// tileReader fetches tiles over HTTP for tlog.TileHashReader, which checks
// every tile against the tree hash.
type tileReader struct {
	t       testing.TB
	c       *client
	fetched map[string]bool
}

func (r *tileReader) Height() int { return ledger.TileHeight }

func (r *tileReader) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, tile := range tiles {
		path := "/log/" + ledger.TilePath(tile)
		resp := r.c.get(path)
		body := readBody(r.t, resp)
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("GET %s: %s %s", path, resp.Status, body)
		}
		cc := resp.Header.Get("Cache-Control")
		if full := tile.W == 1<<ledger.TileHeight; full != strings.Contains(cc, "immutable") {
			r.t.Errorf("GET %s: Cache-Control %q", path, cc)
		}
		r.fetched[path] = true
		out[i] = []byte(body)
	}
	return out, nil
}

func (r *tileReader) SaveTiles([]tlog.Tile, [][]byte) {}

// TestLogProofs checks the log as an outside verifier would: the signed
// checkpoint, inclusion and consistency proofs against it, and the tiles
// and entry bundles.
func TestLogProofs(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	c := f.anon()
	old := verifiedCheckpoint(t, c)
	if old.Size != f.ledgerSize(t) {
		t.Fatalf("checkpoint size %d, ledger %d", old.Size, f.ledgerSize(t))
	}
	f.growLedger(t, "p", 1<<ledger.TileHeight+20) // a full tile and a partial one
	f.sign(t)
	cp := verifiedCheckpoint(t, c)
	size, digest, err := f.store.Head(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if cp.Size != size || cp.State != digest.Sum() {
		t.Fatalf("checkpoint %d entries, state %x; ledger %d, state %x", cp.Size, cp.State, size, digest.Sum())
	}

	// Every hash of the tree, read from tiles verified against the root.
	tr := &tileReader{t: t, c: c, fetched: map[string]bool{}}
	hr := tlog.TileHashReader(tlog.Tree{N: cp.Size, Hash: cp.Root}, tr)
	leaves := make([]int64, cp.Size)
	for i := range leaves {
		leaves[i] = tlog.StoredHashIndex(0, int64(i))
	}
	leafHashes, err := hr.ReadHashes(leaves)
	if err != nil {
		t.Fatalf("tiles: %v", err)
	}
	for _, p := range []string{"/log/tile/0/000", "/log/tile/0/001.p/" + strconv.FormatInt(cp.Size-256, 10)} {
		if !tr.fetched[p] {
			t.Errorf("tile %s was not needed; fetched %v", p, tr.fetched)
		}
	}

	// Entry bundles hold the entries whose hashes the tiles hold.
	var entries [][]byte
	for n := int64(0); n*256 < cp.Size; n++ {
		w := min(256, cp.Size-n*256)
		path := "/log/" + ledger.TilePath(tlog.Tile{H: ledger.TileHeight, L: -1, N: n, W: int(w)})
		resp := c.get(path)
		body := readBody(t, resp)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %s %s", path, resp.Status, body)
		}
		es, err := ledger.DecodeBundle([]byte(body))
		if err != nil || int64(len(es)) != w {
			t.Fatalf("bundle %s: %d entries, %v", path, len(es), err)
		}
		entries = append(entries, es...)
	}
	for i, e := range entries {
		if tlog.RecordHash(e) != leafHashes[i] {
			t.Fatalf("entry %d does not hash to its leaf", i)
		}
		if _, err := steward.DecodeEvent(e); err != nil {
			t.Fatalf("entry %d: %v", i, err)
		}
	}

	t.Run("inclusion", func(t *testing.T) {
		for _, idx := range []int64{0, 1, old.Size - 1, 255, 256, cp.Size / 2, cp.Size - 1} {
			for _, sz := range []int64{idx + 1, cp.Size} {
				p := decodeJSON[web.InclusionProof](t, c.get(fmt.Sprintf("/api/v1/log/proof/inclusion?index=%d&size=%d", idx, sz)), http.StatusOK)
				root := cp.Root
				if sz != cp.Size {
					// Check the root of the smaller tree with the verified tiles.
					if root, err = tlog.TreeHash(sz, hr); err != nil {
						t.Fatal(err)
					}
				}
				if p.Root != root.String() || p.Leaf != leafHashes[idx].String() || p.Index != idx || p.Size != sz {
					t.Fatalf("proof %d in %d: %+v", idx, sz, p)
				}
				if err := tlog.CheckRecord(parseHashes(t, p.Proof), sz, root, idx, tlog.RecordHash(entries[idx])); err != nil {
					t.Errorf("inclusion of %d in %d: %v", idx, sz, err)
				}
			}
		}
	})
	t.Run("consistency", func(t *testing.T) {
		p := decodeJSON[web.ConsistencyProof](t, c.get(fmt.Sprintf("/api/v1/log/proof/consistency?old=%d&new=%d", old.Size, cp.Size)), http.StatusOK)
		if p.OldRoot != old.Root.String() || p.NewRoot != cp.Root.String() {
			t.Fatalf("proof roots %s, %s; checkpoints %s, %s", p.OldRoot, p.NewRoot, old.Root, cp.Root)
		}
		if err := tlog.CheckTree(parseHashes(t, p.Proof), cp.Size, cp.Root, old.Size, old.Root); err != nil {
			t.Errorf("consistency %d → %d: %v", old.Size, cp.Size, err)
		}
		for _, o := range []int64{1, 2, 256, cp.Size} {
			p := decodeJSON[web.ConsistencyProof](t, c.get(fmt.Sprintf("/api/v1/log/proof/consistency?old=%d&new=%d", o, cp.Size)), http.StatusOK)
			oldRoot, err := tlog.TreeHash(o, hr)
			if err != nil {
				t.Fatal(err)
			}
			if err := tlog.CheckTree(parseHashes(t, p.Proof), cp.Size, cp.Root, o, oldRoot); err != nil {
				t.Errorf("consistency %d → %d: %v", o, cp.Size, err)
			}
		}
	})
	t.Run("entry-with-proof", func(t *testing.T) {
		for _, idx := range []int64{0, 300 % cp.Size, cp.Size - 1} {
			e := decodeJSON[web.EntryProof](t, c.get(fmt.Sprintf("/api/v1/log/entries/%d", idx)), http.StatusOK)
			if e.Inclusion == nil || e.Inclusion.Size != cp.Size || e.Inclusion.Root != cp.Root.String() {
				t.Fatalf("entry %d: inclusion %+v", idx, e.Inclusion)
			}
			if e.Hash != leafHashes[idx].String() {
				t.Errorf("entry %d hash %s, leaf %s", idx, e.Hash, leafHashes[idx])
			}
			if err := tlog.CheckRecord(parseHashes(t, e.Inclusion.Proof), cp.Size, cp.Root, idx, leafHashes[idx]); err != nil {
				t.Errorf("entry %d: %v", idx, err)
			}
		}
		// An entry after the latest checkpoint has no proof yet.
		f.register(t, "late", "government", "africa")
		e := decodeJSON[web.EntryProof](t, c.get(fmt.Sprintf("/api/v1/log/entries/%d", cp.Size)), http.StatusOK)
		if e.Inclusion != nil || e.Kind != "participant.registered" {
			t.Errorf("uncovered entry: %+v", e)
		}
	})
	t.Run("checkpoint-json", func(t *testing.T) {
		info := decodeJSON[web.CheckpointInfo](t, c.get("/api/v1/log/checkpoint"), http.StatusOK)
		if info.Origin != testOrigin || info.Size != cp.Size || info.Root != cp.Root.String() {
			t.Errorf("checkpoint info %+v, want %+v", info, cp)
		}
		if _, err := note.Open([]byte(info.Note), note.VerifierList(f.verifier)); err != nil {
			t.Errorf("note: %v", err)
		}
	})
	t.Run("bad-requests", func(t *testing.T) {
		size := f.ledgerSize(t)
		tests := []struct {
			path   string
			status int
			code   string
			detail string
		}{
			{"/api/v1/log/proof/inclusion?index=5&size=5", 400, steward.EINVALID, "index 5 is not in a tree of 5 entries"},
			{fmt.Sprintf("/api/v1/log/proof/inclusion?index=0&size=%d", size+1), 400, steward.EINVALID, "beyond the ledger"},
			{"/api/v1/log/proof/inclusion?size=5", 400, steward.EINVALID, "index"},
			{"/api/v1/log/proof/inclusion?index=0&size=0", 400, steward.EINVALID, "size"},
			{"/api/v1/log/proof/consistency?old=5&new=4", 400, steward.EINVALID, "old size 5 is larger than new size 4"},
			{fmt.Sprintf("/api/v1/log/proof/consistency?old=1&new=%d", size+1), 400, steward.EINVALID, "beyond the ledger"},
			{"/api/v1/log/proof/consistency?old=0&new=4", 400, steward.EINVALID, "old"},
			{"/log/tile/0/x", 404, steward.ENOTFOUND, "malformed tile path"},
			{"/log/tile/entries/999", 404, steward.ENOTFOUND, "beyond the tree"},
			{"/log/tile/0/999", 404, steward.ENOTFOUND, "beyond the tree"},
			{"/log/tile/1/000", 404, steward.ENOTFOUND, "beyond the tree"},
		}
		for _, tt := range tests {
			t.Run(tt.path, func(t *testing.T) {
				checkProblem(t, c.get(tt.path), tt.status, tt.code, tt.detail)
			})
		}
	})
}

func parseHashes(t testing.TB, ss []string) []tlog.Hash {
	t.Helper()
	out := make([]tlog.Hash, len(ss))
	for i, s := range ss {
		h, err := tlog.ParseHash(s)
		if err != nil {
			t.Fatalf("hash %q: %v", s, err)
		}
		out[i] = h
	}
	return out
}
