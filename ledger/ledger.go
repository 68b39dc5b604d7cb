// Package ledger holds the pure algorithms of steward's append-only log:
// the C2SP tlog-checkpoint format with the state digest extension, C2SP
// tlog-tiles paths and entry bundles, the state digest itself, and the
// frontier of the Merkle tree. It does no I/O; stores and servers call it.
//
// The Merkle tree is RFC 6962's, computed with golang.org/x/mod/sumdb/tlog,
// and checkpoints are signed notes (golang.org/x/mod/sumdb/note) with an
// Ed25519 key whose name is the log's origin. Any C2SP tlog client can
// therefore verify a steward log; the state line is an extension line that
// such clients ignore.
package ledger

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// TileHeight is the height of every tile, as C2SP tlog-tiles fixes it.
const TileHeight = 8

// Checkpoint is the body of a C2SP tlog-checkpoint: the log's origin, the
// size of the tree, its root hash, and steward's extension line: the digest
// of the state after applying the first Size entries.
type Checkpoint struct {
	Origin string
	Size   int64
	Root   tlog.Hash
	// State is the state digest; HasState says whether the checkpoint
	// carried a state line. Steward always writes one.
	State    [32]byte
	HasState bool
	// Extensions are other extension lines, kept in order.
	Extensions []string
}

const stateLinePrefix = "state "

// Text returns the checkpoint body, ending in a newline.
func (c Checkpoint) Text() []byte {
	b := fmt.Appendf(nil, "%s\n%d\n%s\n", c.Origin, c.Size, base64.StdEncoding.EncodeToString(c.Root[:]))
	if c.HasState {
		b = fmt.Appendf(b, "%s%s\n", stateLinePrefix, base64.StdEncoding.EncodeToString(c.State[:]))
	}
	for _, e := range c.Extensions {
		b = append(append(b, e...), '\n')
	}
	return b
}

// ParseCheckpoint parses a checkpoint body: origin, size, root hash and
// any extension lines, of which steward reads the state line.
func ParseCheckpoint(text []byte) (Checkpoint, error) {
	var c Checkpoint
	if !bytes.HasSuffix(text, []byte("\n")) {
		return c, errors.New("checkpoint does not end in a newline")
	}
	lines := strings.Split(string(text[:len(text)-1]), "\n")
	if len(lines) < 3 {
		return c, fmt.Errorf("checkpoint has %d lines, want at least 3 (origin, size, root hash)", len(lines))
	}
	c.Origin = lines[0]
	if c.Origin == "" {
		return c, errors.New("checkpoint has an empty origin")
	}
	n, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || n < 0 || strconv.FormatInt(n, 10) != lines[1] {
		return c, fmt.Errorf("checkpoint size %q is not a decimal number", lines[1])
	}
	c.Size = n
	h, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(h) != tlog.HashSize {
		return c, fmt.Errorf("checkpoint root hash %q is not 32 bytes of base64", lines[2])
	}
	copy(c.Root[:], h)
	for _, l := range lines[3:] {
		if l == "" {
			return c, errors.New("checkpoint has an empty extension line")
		}
		s, ok := strings.CutPrefix(l, stateLinePrefix)
		if !ok {
			c.Extensions = append(c.Extensions, l)
			continue
		}
		d, err := base64.StdEncoding.DecodeString(s)
		if err != nil || len(d) != 32 || c.HasState {
			return c, fmt.Errorf("checkpoint state line %q is not \"state\" and 32 bytes of base64, once", l)
		}
		copy(c.State[:], d)
		c.HasState = true
	}
	return c, nil
}

// Sign signs the checkpoint as a note.
func Sign(c Checkpoint, s note.Signer) ([]byte, error) {
	if s.Name() != c.Origin {
		return nil, fmt.Errorf("key %q cannot sign checkpoints of origin %q", s.Name(), c.Origin)
	}
	return note.Sign(&note.Note{Text: string(c.Text())}, s)
}

// Open verifies a signed checkpoint with the log's key and parses it.
func Open(msg []byte, v note.Verifier) (Checkpoint, error) {
	n, err := note.Open(msg, note.VerifierList(v))
	if err != nil {
		return Checkpoint{}, fmt.Errorf("checkpoint signature: %w", err)
	}
	c, err := ParseCheckpoint([]byte(n.Text))
	if err != nil {
		return c, err
	}
	if c.Origin != v.Name() {
		return c, fmt.Errorf("checkpoint origin %q is not the key's name %q", c.Origin, v.Name())
	}
	if !c.HasState {
		return c, errors.New("checkpoint lacks the state line that steward logs carry")
	}
	return c, nil
}

// TilePath returns the C2SP tlog-tiles path of a tile of height TileHeight:
// tile/<L>/<N>[.p/<W>] for hashes, tile/entries/<N>[.p/<W>] for entry bundles
// (L = -1).
func TilePath(t tlog.Tile) string {
	p := t.Path() // tile/8/<L or data>/<N>…, the sumdb layout
	p = strings.TrimPrefix(p, "tile/"+strconv.Itoa(TileHeight)+"/")
	if rest, ok := strings.CutPrefix(p, "data/"); ok {
		return "tile/entries/" + rest
	}
	return "tile/" + p
}

// ParseTilePath parses a C2SP tlog-tiles path.
func ParseTilePath(path string) (tlog.Tile, error) {
	rest, ok := strings.CutPrefix(path, "tile/")
	if !ok || strings.HasPrefix(rest, "data/") {
		return tlog.Tile{}, fmt.Errorf("malformed tile path %q", path)
	}
	if r, ok := strings.CutPrefix(rest, "entries/"); ok {
		rest = "data/" + r
	}
	t, err := tlog.ParseTilePath("tile/" + strconv.Itoa(TileHeight) + "/" + rest)
	if err != nil || t.H != TileHeight {
		return tlog.Tile{}, fmt.Errorf("malformed tile path %q", path)
	}
	return t, nil
}

// EncodeBundle returns an entry bundle: each entry prefixed by its length as
// a big-endian 16-bit number.
func EncodeBundle(entries [][]byte) ([]byte, error) {
	var b []byte
	for i, e := range entries {
		if len(e) > 0xffff {
			return nil, fmt.Errorf("entry %d is %d bytes, too large for a bundle", i, len(e))
		}
		b = append(b, byte(len(e)>>8), byte(len(e)))
		b = append(b, e...)
	}
	return b, nil
}

// DecodeBundle splits an entry bundle into its entries.
func DecodeBundle(b []byte) ([][]byte, error) {
	var entries [][]byte
	for len(b) > 0 {
		if len(b) < 2 {
			return nil, fmt.Errorf("entry bundle truncated after %d entries", len(entries))
		}
		n := int(b[0])<<8 | int(b[1])
		if len(b) < 2+n {
			return nil, fmt.Errorf("entry bundle truncated in entry %d", len(entries))
		}
		entries = append(entries, b[2:2+n])
		b = b[2+n:]
	}
	return entries, nil
}

// Frontier returns the stored-hash indexes of the roots of the complete
// subtrees that make up a tree of n records, from left to right. They are
// the only stored hashes that appending more records reads.
func Frontier(n int64) []int64 {
	var idx []int64
	for l := 62; l >= 0; l-- {
		if n>>uint(l)&1 == 1 {
			idx = append(idx, tlog.StoredHashIndex(l, n>>uint(l)-1))
		}
	}
	return idx
}

// VerifierKey derives a note verifier key from a note signer key
// ("PRIVATE+KEY+name+hash+key") for an Ed25519 key.
func VerifierKey(skey string) (string, error) {
	f := strings.SplitN(skey, "+", 5)
	if len(f) != 5 || f[0] != "PRIVATE" || f[1] != "KEY" {
		return "", errors.New("malformed note signer key")
	}
	key, err := base64.StdEncoding.DecodeString(f[4])
	if err != nil || len(key) != 1+ed25519.SeedSize || key[0] != 1 {
		return "", errors.New("malformed note signer key: want an Ed25519 key")
	}
	pub := ed25519.NewKeyFromSeed(key[1:]).Public().(ed25519.PublicKey)
	return note.NewEd25519VerifierKey(f[2], pub)
}
