package ledger

import (
	"bytes"
	"crypto/rand"
	"errors"
	"math/big"
	"os"
	"steward/internal/testdata"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

func vector(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(testdata.Shared("c2sp-vectors", name))
	if err != nil {
		t.Fatalf("signed-note vectors: %v", err)
	}
	return b
}

func trim(b []byte) string { return strings.TrimSpace(string(b)) }

// TestSignedNoteVectors checks the note code steward relies on against the
// published signed-note vectors.
func TestSignedNoteVectors(t *testing.T) {
	vkey := trim(vector(t, "peterneumann.vkey"))
	skey := trim(vector(t, "peterneumann.skey"))
	msg := vector(t, "peterneumann.note")
	v, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	n, err := note.Open(msg, note.VerifierList(v))
	if err != nil {
		t.Fatalf("open the vector note: %v", err)
	}
	if len(n.Sigs) != 1 || n.Sigs[0].Name != "PeterNeumann" || n.Sigs[0].Hash != 0xc74f20a3 {
		t.Errorf("signatures = %+v", n.Sigs)
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	again, err := note.Sign(&note.Note{Text: n.Text}, s)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again, msg) {
		t.Errorf("signing the vector text gives\n%s\nwant\n%s", again, msg)
	}
	// Our key derivation agrees with the published verifier key.
	if got, err := VerifierKey(skey); err != nil || got != vkey {
		t.Errorf("VerifierKey(skey) = %q, %v; want %q", got, err, vkey)
	}

	// Two signatures, both known.
	v2, err := note.NewVerifier(trim(vector(t, "enochroot.vkey")))
	if err != nil {
		t.Fatal(err)
	}
	n2, err := note.Open(vector(t, "peterneumann-enochroot.note"), note.VerifierList(v, v2))
	if err != nil || len(n2.Sigs) != 2 {
		t.Fatalf("open the two-signature note: %v, %d signatures", err, len(n2.Sigs))
	}

	// A flipped bit in the text fails.
	bad := bytes.Replace(msg, []byte("cryptography"), []byte("cryptographY"), 1)
	if _, err := note.Open(bad, note.VerifierList(v)); err == nil {
		t.Error("a tampered note verified")
	}

	// The spec example, whose key is not published: readable, unverifiable.
	_, err = note.Open(vector(t, "c2sp-signed-note-spec-example.note"), note.VerifierList(v))
	var unv *note.UnverifiedNoteError
	if !errors.As(err, &unv) || len(unv.Note.UnverifiedSigs) != 1 || unv.Note.UnverifiedSigs[0].Name != "quasimodo.example/salvatore" {
		t.Errorf("spec example: %v", err)
	}
	if !strings.Contains(unv.Note.Text, "ed è subito sera.") {
		t.Errorf("spec example text = %q", unv.Note.Text)
	}
}

// TestCheckpointSpecExample parses the C2SP tlog-checkpoint example, whose
// signature is by another key and must not verify.
func TestCheckpointSpecExample(t *testing.T) {
	msg := vector(t, "c2sp-tlog-checkpoint-spec-example.note")
	text, _, _ := bytes.Cut(msg, []byte("\n\n"))
	c, err := ParseCheckpoint(append(text, '\n'))
	if err != nil {
		t.Fatal(err)
	}
	if c.Origin != "example.com/behind-the-sofa" || c.Size != 20852163 || c.HasState {
		t.Errorf("parsed %+v", c)
	}
	if got := c.Text(); !bytes.Equal(got, append(text, '\n')) {
		t.Errorf("Text() = %q, want %q", got, text)
	}
	skey, vkey, err := note.GenerateKey(rand.Reader, "example.com/behind-the-sofa")
	if err != nil {
		t.Fatal(err)
	}
	_ = skey
	v, _ := note.NewVerifier(vkey)
	if _, err := Open(msg, v); err == nil {
		t.Error("the spec example verified with a fresh key")
	}
}

func newKey(t *testing.T, origin string) (note.Signer, note.Verifier) {
	t.Helper()
	skey, vkey, err := note.GenerateKey(rand.Reader, origin)
	if err != nil {
		t.Fatal(err)
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	return s, v
}

func TestCheckpointRoundTrip(t *testing.T) {
	s, v := newKey(t, "steward.example/test")
	cp := Checkpoint{Origin: "steward.example/test", Size: 1234, Root: tlog.RecordHash([]byte("x")), HasState: true}
	cp.State[0] = 7
	msg, err := Sign(cp, s)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Open(msg, v)
	if err != nil {
		t.Fatal(err)
	}
	if got.Size != cp.Size || got.Root != cp.Root || got.State != cp.State || got.Origin != cp.Origin {
		t.Errorf("round trip: %+v, want %+v", got, cp)
	}
	// Any change to the signed text fails.
	for _, tamper := range []func([]byte) []byte{
		func(b []byte) []byte { return bytes.Replace(b, []byte("1234"), []byte("1235"), 1) },
		func(b []byte) []byte { return bytes.Replace(b, []byte("state "), []byte("state  "), 1) },
		func(b []byte) []byte {
			return bytes.Replace(b, []byte("steward.example/test\n"), []byte("steward.example/tesT\n"), 1)
		},
	} {
		if _, err := Open(tamper(append([]byte(nil), msg...)), v); err == nil {
			t.Error("a tampered checkpoint verified")
		}
	}
	// Another log's key fails, and so does signing for another origin.
	_, v2 := newKey(t, "steward.example/other")
	if _, err := Open(msg, v2); err == nil {
		t.Error("checkpoint verified with another log's key")
	}
	s3, _ := newKey(t, "steward.example/other")
	if _, err := Sign(cp, s3); err == nil {
		t.Error("signed a checkpoint of another origin")
	}
	// A checkpoint without the state line is not a steward checkpoint.
	cp.HasState = false
	msg, _ = Sign(cp, s)
	if _, err := Open(msg, v); err == nil {
		t.Error("a checkpoint without a state line was accepted")
	}
}

func TestParseCheckpointErrors(t *testing.T) {
	root := "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I="
	for _, text := range []string{
		"",
		"origin\n",
		"origin\n12\n" + root,
		"\n12\n" + root + "\n",
		"origin\n012\n" + root + "\n",
		"origin\n-1\n" + root + "\n",
		"origin\n12\nnot base64\n",
		"origin\n12\nAAAA\n",
		"origin\n12\n" + root + "\n\n",
		"origin\n12\n" + root + "\nstate AAAA\n",
		"origin\n12\n" + root + "\nstate " + root + "\nstate " + root + "\n",
	} {
		if _, err := ParseCheckpoint([]byte(text)); err == nil {
			t.Errorf("ParseCheckpoint(%q) succeeded", text)
		}
	}
}

func TestTilePaths(t *testing.T) {
	for _, tc := range []struct {
		tile tlog.Tile
		path string
	}{
		{tlog.Tile{H: 8, L: 0, N: 0, W: 256}, "tile/0/000"},
		{tlog.Tile{H: 8, L: 0, N: 1234, W: 256}, "tile/0/x001/234"},
		{tlog.Tile{H: 8, L: 1, N: 0, W: 5}, "tile/1/000.p/5"},
		{tlog.Tile{H: 8, L: 2, N: 1234067, W: 256}, "tile/2/x001/x234/067"},
		{tlog.Tile{H: 8, L: -1, N: 1234, W: 17}, "tile/entries/x001/234.p/17"},
		{tlog.Tile{H: 8, L: -1, N: 0, W: 256}, "tile/entries/000"},
	} {
		if got := TilePath(tc.tile); got != tc.path {
			t.Errorf("TilePath(%+v) = %q, want %q", tc.tile, got, tc.path)
		}
		got, err := ParseTilePath(tc.path)
		if err != nil || got != tc.tile {
			t.Errorf("ParseTilePath(%q) = %+v, %v; want %+v", tc.path, got, err, tc.tile)
		}
	}
	for _, bad := range []string{"", "tile/", "tile/0", "tile/0/1", "tile/0/0001", "tile/8/0/000", "tile/0/000.p/256",
		"tile/0/000.p/0", "tile/entries/", "tile/data/000", "tile/0/x000/001", "log/tile/0/000", "tile/-1/000", "tile/0/000/"} {
		if tl, err := ParseTilePath(bad); err == nil {
			t.Errorf("ParseTilePath(%q) = %+v, want an error", bad, tl)
		}
	}
}

func FuzzParseTilePath(f *testing.F) {
	for _, s := range []string{"tile/0/000", "tile/entries/x001/234.p/17", "tile/1/000.p/5", "tile/9/x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, path string) {
		tl, err := ParseTilePath(path)
		if err != nil {
			return
		}
		if TilePath(tl) != path {
			t.Errorf("ParseTilePath(%q) = %+v, which formats as %q", path, tl, TilePath(tl))
		}
	})
}

func TestBundles(t *testing.T) {
	entries := [][]byte{[]byte("a"), {}, bytes.Repeat([]byte("x"), 65535), []byte("last")}
	b, err := EncodeBundle(entries)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeBundle(b)
	if err != nil || len(got) != len(entries) {
		t.Fatalf("DecodeBundle: %d entries, %v", len(got), err)
	}
	for i := range entries {
		if !bytes.Equal(got[i], entries[i]) {
			t.Errorf("entry %d differs", i)
		}
	}
	if _, err := EncodeBundle([][]byte{make([]byte, 65536)}); err == nil {
		t.Error("encoded an entry longer than 65535 bytes")
	}
	for _, bad := range [][]byte{{0}, {0, 5, 'a'}, append(b, 0)} {
		if _, err := DecodeBundle(bad); err == nil {
			t.Errorf("DecodeBundle(%q) succeeded", bad)
		}
	}
}

func FuzzDecodeBundle(f *testing.F) {
	b, _ := EncodeBundle([][]byte{[]byte("one"), []byte("two")})
	f.Add(b)
	f.Add([]byte{0, 1})
	f.Fuzz(func(t *testing.T, data []byte) {
		entries, err := DecodeBundle(data)
		if err != nil {
			return
		}
		again, err := EncodeBundle(entries)
		if err != nil || !bytes.Equal(again, data) {
			t.Errorf("bundle does not round-trip")
		}
	})
}

func TestDigest(t *testing.T) {
	var a, b, empty Digest
	a.Add("k1", []byte("v1"))
	a.Add("k2", []byte("v2"))
	b.Add("k2", []byte("v2"))
	b.Add("k1", []byte("v1"))
	if a != b {
		t.Error("the digest depends on the order of additions")
	}
	a.Remove("k1", []byte("v1"))
	a.Remove("k2", []byte("v2"))
	if a != empty {
		t.Error("removing what was added does not give the empty digest")
	}
	var c, d Digest
	c.Add("k", []byte("v1"))
	d.Add("k", []byte("v2"))
	if c.Sum() == d.Sum() {
		t.Error("different values give the same digest")
	}
	var e, f Digest
	e.Add("ab", []byte("c"))
	f.Add("a", []byte("bc"))
	if e == f {
		t.Error("the key/value boundary is ambiguous")
	}
}

// TestFrontier checks that appending record n reads only frontier hashes of
// the tree of n records.
func TestFrontier(t *testing.T) {
	var hashes []tlog.Hash
	for n := int64(0); n < 1100; n++ {
		frontier := map[int64]bool{}
		for _, x := range Frontier(n) {
			frontier[x] = true
		}
		r := tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
			out := make([]tlog.Hash, len(idx))
			for i, x := range idx {
				if !frontier[x] {
					t.Fatalf("record %d reads hash %d, not in the frontier %v", n, x, Frontier(n))
				}
				out[i] = hashes[x]
			}
			return out, nil
		})
		hs, err := tlog.StoredHashes(n, []byte{byte(n)}, r)
		if err != nil {
			t.Fatal(err)
		}
		hashes = append(hashes, hs...)
	}
	nBig, _ := rand.Int(rand.Reader, big.NewInt(1<<40))
	if len(Frontier(nBig.Int64())) > 40 {
		t.Error("frontier longer than the bits of n")
	}
}
