package audit_test

import (
	"context"
	"crypto/rand"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"steward"
	"steward/audit"
	"steward/charter"
	"steward/ledger"
)

// memLog is a log held in memory and served as an audit.Source. Tests build
// honest logs and logs that a dishonest operator, holding the key, could
// sign.
type memLog struct {
	origin  string
	signer  note.Signer
	vkey    string
	entries [][]byte
	hashes  []tlog.Hash
	state   *[32]byte // overrides the honest state digest
}

func newMemLog(t *testing.T) *memLog {
	t.Helper()
	skey, vkey, err := note.GenerateKey(rand.Reader, "steward.example/audit")
	if err != nil {
		t.Fatal(err)
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	return &memLog{origin: "steward.example/audit", signer: s, vkey: vkey}
}

func (l *memLog) reader() tlog.HashReader {
	return tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(idx))
		for i, x := range idx {
			out[i] = l.hashes[x]
		}
		return out, nil
	})
}

func (l *memLog) appendRaw(t *testing.T, data []byte) {
	t.Helper()
	hs, err := tlog.StoredHashes(int64(len(l.entries)), data, l.reader())
	if err != nil {
		t.Fatal(err)
	}
	l.hashes = append(l.hashes, hs...)
	l.entries = append(l.entries, data)
}

func (l *memLog) emit(t *testing.T, actor, kind string, payload any) {
	t.Helper()
	e, err := steward.NewEvent(int64(len(l.entries)), time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), actor, kind, payload)
	if err != nil {
		t.Fatal(err)
	}
	b, err := e.Encode()
	if err != nil {
		t.Fatal(err)
	}
	l.appendRaw(t, b)
}

func (l *memLog) Name() string                        { return "memory" }
func (l *memLog) Key(context.Context) (string, error) { return l.vkey, nil }
func (l *memLog) Tile(_ context.Context, t tlog.Tile) ([]byte, error) {
	if t.L < 0 {
		start := t.N << ledger.TileHeight
		return ledger.EncodeBundle(l.entries[start : start+int64(t.W)])
	}
	return tlog.ReadTileData(t, l.reader())
}

func (l *memLog) Checkpoint(context.Context) ([]byte, error) {
	n := int64(len(l.entries))
	root, err := tlog.TreeHash(n, l.reader())
	if err != nil {
		return nil, err
	}
	st := steward.NewMemState()
	for _, b := range l.entries {
		if e, err := steward.DecodeEvent(b); err == nil {
			_ = steward.Apply(context.Background(), st, e)
		}
	}
	var d ledger.Digest
	for _, kv := range st.All() {
		d.Add(kv.Key, kv.Value)
	}
	cp := ledger.Checkpoint{Origin: l.origin, Size: n, Root: root, State: d.Sum(), HasState: true}
	if l.state != nil {
		cp.State = *l.state
	}
	return ledger.Sign(cp, l.signer)
}

func honest(t *testing.T) *memLog {
	t.Helper()
	l := newMemLog(t)
	text, err := charter.Preset("community")
	if err != nil {
		t.Fatal(err)
	}
	c, err := charter.Parse("community", text)
	if err != nil {
		t.Fatal(err)
	}
	l.emit(t, steward.ActorInit, "instance.created", steward.Instance{Origin: l.origin, Name: "Audit test", Created: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)})
	l.emit(t, steward.ActorInit, "charter.adopted", map[string]any{"version": 1, "hash": c.Hash, "name": c.Name, "text": string(text)})
	for i := 0; i < 300; i++ {
		h := "p" + strings.Repeat("x", i%5) + string(rune('a'+i%26)) + strings.Repeat("0", i/26)
		l.emit(t, h, "participant.registered", steward.Participant{Handle: h, Name: h, Group: "civil-society", Region: "europe", Languages: []string{"en"}})
	}
	return l
}

func mustFail(t *testing.T, err error, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("audit passed, want a failure naming %q", want)
	}
	if _, ok := err.(*audit.Failure); !ok {
		t.Fatalf("error %v is not an audit failure", err)
	}
	if !strings.Contains(err.Error(), want) {
		t.Fatalf("audit failure %q does not name %q", err, want)
	}
}

func TestHonestLog(t *testing.T) {
	l := honest(t)
	seen := &audit.Seen{Logs: map[string]*audit.SeenLog{}}
	rep, err := audit.Audit(context.Background(), l, audit.Options{Seen: seen})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Size != 302 || rep.Tiles < 3 || rep.StateRecords != 303 {
		t.Errorf("report %+v", rep)
	}
	// The log grows; the next audit proves consistency with the first.
	l.emit(t, "newcomer", "participant.registered", steward.Participant{Handle: "newcomer", Name: "newcomer", Group: "government", Region: "africa", Languages: []string{"en"}})
	rep, err = audit.Audit(context.Background(), l, audit.Options{Seen: seen})
	if err != nil || rep.PreviousSize != 302 || rep.Size != 303 {
		t.Fatalf("second audit: %+v %v", rep, err)
	}
}

func TestDishonestLogs(t *testing.T) {
	ctx := context.Background()
	t.Run("entry that does not replay", func(t *testing.T) {
		l := honest(t)
		l.emit(t, "ghost", "body.seated", steward.Member{Body: "members", Participant: "ghost"})
		_, err := audit.Audit(ctx, l, audit.Options{})
		mustFail(t, err, "entry 302 does not replay")
	})
	t.Run("unknown kind", func(t *testing.T) {
		l := honest(t)
		l.emit(t, "x", "registry.teleported", map[string]int{"n": 1})
		_, err := audit.Audit(ctx, l, audit.Options{})
		mustFail(t, err, `unknown kind "registry.teleported"`)
	})
	t.Run("non-canonical entry", func(t *testing.T) {
		l := honest(t)
		l.appendRaw(t, []byte(`{"seq":302, "time":"2026-01-01T00:00:00Z","actor":"a","kind":"k","payload":{}}`))
		_, err := audit.Audit(ctx, l, audit.Options{})
		mustFail(t, err, "entry 302")
	})
	t.Run("wrong sequence number", func(t *testing.T) {
		l := honest(t)
		e, _ := steward.NewEvent(5, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), "q", "participant.registered",
			steward.Participant{Handle: "qq", Name: "q", Group: "government", Region: "africa", Languages: []string{"en"}})
		b, _ := e.Encode()
		l.appendRaw(t, b)
		_, err := audit.Audit(ctx, l, audit.Options{})
		mustFail(t, err, "entry 302 says it is entry 5")
	})
	t.Run("state digest that lies", func(t *testing.T) {
		l := honest(t)
		l.state = &[32]byte{1, 2, 3}
		_, err := audit.Audit(ctx, l, audit.Options{})
		mustFail(t, err, "but the checkpoint commits to")
	})
	t.Run("fork", func(t *testing.T) {
		l := honest(t)
		seen := &audit.Seen{Logs: map[string]*audit.SeenLog{}}
		if _, err := audit.Audit(ctx, l, audit.Options{Seen: seen}); err != nil {
			t.Fatal(err)
		}
		// The operator rewrites history: same key, another entry 5.
		fork := &memLog{origin: l.origin, signer: l.signer, vkey: l.vkey}
		for i, b := range l.entries {
			if i == 5 {
				b = []byte(strings.Replace(string(b), `"name":"`, `"name":"X`, 1))
			}
			fork.appendRaw(t, b)
		}
		fork.emit(t, "late", "participant.registered", steward.Participant{Handle: "late", Name: "late", Group: "government", Region: "africa", Languages: []string{"en"}})
		_, err := audit.Audit(ctx, fork, audit.Options{Seen: seen})
		mustFail(t, err, "not consistent with the checkpoint of size 302")
	})
	t.Run("rollback", func(t *testing.T) {
		l := honest(t)
		seen := &audit.Seen{Logs: map[string]*audit.SeenLog{}}
		if _, err := audit.Audit(ctx, l, audit.Options{Seen: seen}); err != nil {
			t.Fatal(err)
		}
		short := &memLog{origin: l.origin, signer: l.signer, vkey: l.vkey}
		for _, b := range l.entries[:100] {
			short.appendRaw(t, b)
		}
		_, err := audit.Audit(ctx, short, audit.Options{Seen: seen})
		mustFail(t, err, "the log shrank")
	})
	t.Run("key changed", func(t *testing.T) {
		l := honest(t)
		seen := &audit.Seen{Logs: map[string]*audit.SeenLog{}}
		if _, err := audit.Audit(ctx, l, audit.Options{Seen: seen}); err != nil {
			t.Fatal(err)
		}
		other := newMemLog(t)
		other.entries, other.hashes = l.entries, l.hashes
		_, err := audit.Audit(ctx, other, audit.Options{Seen: seen})
		mustFail(t, err, "key of log steward.example/audit changed")
	})
	t.Run("pinned key", func(t *testing.T) {
		l := honest(t)
		other := newMemLog(t)
		_, err := audit.Audit(ctx, l, audit.Options{Key: other.vkey})
		mustFail(t, err, "not the pinned key")
	})
}

// TestTamperedFullTile alters an entry under a full tile after its hashes
// were stored: the audit names the entry.
func TestTamperedFullTile(t *testing.T) {
	l := honest(t)
	l.entries[10] = []byte(strings.Replace(string(l.entries[10]), `"region":"europe"`, `"region":"africa"`, 1))
	_, err := audit.Audit(context.Background(), l, audit.Options{})
	mustFail(t, err, "tile/0/000 differs from the hashes of the entries at the hash of entry 10")
}
