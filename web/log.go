package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"golang.org/x/mod/sumdb/tlog"

	"steward"
	"steward/ledger"
)

// GET /log/checkpoint: the latest signed checkpoint (C2SP tlog-checkpoint).
func (s *Server) logCheckpoint(w http.ResponseWriter, r *http.Request) {
	cp, err := s.cfg.Store.LatestCheckpoint(r.Context())
	if err != nil {
		s.problem(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(cp)
}

// GET /log/key: the verifier key of the log, in note vkey format.
func (s *Server) logKey(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte(s.cfg.VerifierKey + "\n"))
}

// GET /log/tile/…: hash tiles and entry bundles (C2SP tlog-tiles). Full
// tiles never change and are cached forever; partial ones briefly.
func (s *Server) logTile(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimPrefix(r.URL.Path, "/log/")
	t, err := ledger.ParseTilePath(path)
	if err != nil {
		s.problem(w, r, steward.Errorf(steward.ENOTFOUND, "%v", err))
		return
	}
	data, err := s.cfg.Store.Tile(r.Context(), t)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	if t.W == 1<<ledger.TileHeight {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		w.Header().Set("Cache-Control", "public, max-age=1")
	}
	_, _ = w.Write(data)
}

// CheckpointInfo is the answer of GET /api/v1/log/checkpoint.
type CheckpointInfo struct {
	Origin string `json:"origin"`
	Size   int64  `json:"size"`
	Root   string `json:"root"`
	State  string `json:"state"`
	Note   string `json:"note"`
}

func (s *Server) checkpoint(r *http.Request) (*CheckpointInfo, error) {
	msg, err := s.cfg.Store.LatestCheckpoint(r.Context())
	if err != nil {
		return nil, err
	}
	text, _, _ := strings.Cut(string(msg), "\n\n")
	cp, err := ledger.ParseCheckpoint([]byte(text + "\n"))
	if err != nil {
		return nil, err
	}
	return &CheckpointInfo{Origin: cp.Origin, Size: cp.Size, Root: cp.Root.String(), State: b64(cp.State[:]), Note: string(msg)}, nil
}

func (s *Server) apiCheckpoint(r *http.Request) (any, error) { return s.checkpoint(r) }

// Entry is a decoded ledger entry.
type Entry struct {
	Seq     int64           `json:"seq"`
	Time    string          `json:"time"`
	Actor   string          `json:"actor"`
	Kind    string          `json:"kind"`
	Payload json.RawMessage `json:"payload"`
	Hash    string          `json:"hash"` // RFC 6962 leaf hash, base64
	Summary string          `json:"summary"`
}

// summarize says in a few words what an event did, for people reading the
// ledger.
func summarize(e *steward.Event) string {
	var p map[string]any
	if err := json.Unmarshal(e.Payload, &p); err != nil {
		return ""
	}
	str := func(k string) string { s, _ := p[k].(string); return s }
	switch e.Kind {
	case "instance.created":
		return "Instance " + str("name") + " created with origin " + str("origin")
	case "charter.adopted":
		return "Charter adopted: " + str("name")
	case "participant.registered":
		return str("handle") + " registered (" + str("group") + ", " + str("region") + ")"
	case "participant.updated":
		return str("handle") + " updated their profile"
	case "role.granted":
		return str("participant") + " granted the " + str("role") + " role" + scopeSuffix(str("scope"))
	case "role.revoked":
		return str("participant") + " lost the " + str("role") + " role" + scopeSuffix(str("scope"))
	case "body.seated":
		return str("participant") + " seated in " + str("body") + " (" + str("capacity") + ")"
	case "body.unseated":
		return str("participant") + " left " + str("body")
	case "body.chair-set":
		return str("participant") + " chairs " + str("body")
	case "token.issued":
		return str("participant") + " created an API token"
	case "token.revoked":
		return "API token " + str("id") + " revoked"
	case "tld.delegated":
		return "." + str("name") + " delegated"
	case "tld.changed":
		return "." + str("name") + "'s delegation changed"
	case "tld.removed":
		return "." + str("name") + " removed from the root zone"
	case "zone.apex-set":
		return "Root zone apex set"
	case "zone.published":
		if n, ok := p["serial"].(float64); ok {
			return fmt.Sprintf("Root zone serial %.0f published", n)
		}
	}
	return ""
}

func scopeSuffix(s string) string {
	if s == "" {
		return ""
	}
	return " for " + s
}

func entryOf(data []byte) (Entry, error) {
	e, err := steward.DecodeEvent(data)
	if err != nil {
		return Entry{}, err
	}
	return Entry{Seq: e.Seq, Time: e.Time.Format("2006-01-02T15:04:05.000Z07:00"), Actor: e.Actor, Kind: e.Kind,
		Payload: e.Payload, Hash: tlog.RecordHash(data).String(), Summary: summarize(e)}, nil
}

// entries returns up to limit entries ending before end (newest first when
// desc).
func (s *Server) entries(r *http.Request, start, end int64) ([]Entry, error) {
	raw, err := s.cfg.Store.Entries(r.Context(), start, end)
	if err != nil {
		return nil, err
	}
	out := make([]Entry, len(raw))
	for i, d := range raw {
		if out[i], err = entryOf(d); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (s *Server) apiEntries(r *http.Request) (any, error) {
	size, _, err := s.cfg.Store.Head(r.Context())
	if err != nil {
		return nil, err
	}
	after, limit, err := pageParams(r, 100, 1000)
	if err != nil {
		return nil, err
	}
	start := int64(0)
	if after != "" {
		if start, err = parseSeq(after); err != nil {
			return nil, err
		}
		start++
	}
	end := min(size, start+int64(limit))
	l := List[Entry]{Items: []Entry{}}
	if start < end {
		if l.Items, err = s.entries(r, start, end); err != nil {
			return nil, err
		}
	}
	if end < size {
		l.Next = itoa(end - 1)
	}
	return l, nil
}

// EntryProof is an entry with its inclusion proof in a tree.
type EntryProof struct {
	Entry
	Inclusion *InclusionProof `json:"inclusion,omitempty"`
}

// InclusionProof proves that the entry Index is in the tree of Size entries
// whose root is Root.
type InclusionProof struct {
	Index int64    `json:"index"`
	Size  int64    `json:"size"`
	Root  string   `json:"root"`
	Leaf  string   `json:"leaf"`
	Proof []string `json:"proof"`
}

// ConsistencyProof proves that the tree of Old entries is a prefix of the
// tree of New entries.
type ConsistencyProof struct {
	Old     int64    `json:"old"`
	New     int64    `json:"new"`
	OldRoot string   `json:"old_root"`
	NewRoot string   `json:"new_root"`
	Proof   []string `json:"proof"`
}

func (s *Server) apiEntry(r *http.Request) (any, error) {
	seq, err := intParam(r, "seq", 0)
	if err != nil {
		return nil, err
	}
	return s.entryProof(r, seq)
}

// entryProof returns an entry with its inclusion proof in the latest
// checkpoint, if the checkpoint covers it yet.
func (s *Server) entryProof(r *http.Request, seq int64) (*EntryProof, error) {
	size, _, err := s.cfg.Store.Head(r.Context())
	if err != nil {
		return nil, err
	}
	if seq >= size {
		return nil, steward.Errorf(steward.ENOTFOUND, "no ledger entry %d: the ledger has %d", seq, size)
	}
	es, err := s.entries(r, seq, seq+1)
	if err != nil {
		return nil, err
	}
	ep := &EntryProof{Entry: es[0]}
	if cp, err := s.checkpoint(r); err == nil && seq < cp.Size {
		if ep.Inclusion, err = s.inclusion(r, seq, cp.Size); err != nil {
			return nil, err
		}
	}
	return ep, nil
}

func (s *Server) inclusion(r *http.Request, index, size int64) (*InclusionProof, error) {
	hr := s.cfg.Store.HashReader(r.Context())
	p, err := tlog.ProveRecord(size, index, hr)
	if err != nil {
		return nil, err
	}
	root, err := tlog.TreeHash(size, hr)
	if err != nil {
		return nil, err
	}
	leaf, err := hr.ReadHashes([]int64{tlog.StoredHashIndex(0, index)})
	if err != nil {
		return nil, err
	}
	return &InclusionProof{Index: index, Size: size, Root: root.String(), Leaf: leaf[0].String(), Proof: hashStrings(p)}, nil
}

func (s *Server) apiInclusionProof(r *http.Request) (any, error) {
	index, err := intParam(r, "index", 0)
	if err != nil {
		return nil, err
	}
	size, err := intParam(r, "size", 1)
	if err != nil {
		return nil, err
	}
	if err := s.checkSize(r, size); err != nil {
		return nil, err
	}
	if index >= size {
		return nil, steward.Errorf(steward.EINVALID, "index %d is not in a tree of %d entries", index, size)
	}
	return s.inclusion(r, index, size)
}

func (s *Server) apiConsistencyProof(r *http.Request) (any, error) {
	old, err := intParam(r, "old", 1)
	if err != nil {
		return nil, err
	}
	n, err := intParam(r, "new", 1)
	if err != nil {
		return nil, err
	}
	if old > n {
		return nil, steward.Errorf(steward.EINVALID, "old size %d is larger than new size %d", old, n)
	}
	if err := s.checkSize(r, n); err != nil {
		return nil, err
	}
	hr := s.cfg.Store.HashReader(r.Context())
	p, err := tlog.ProveTree(n, old, hr)
	if err != nil {
		return nil, err
	}
	oldRoot, err := tlog.TreeHash(old, hr)
	if err != nil {
		return nil, err
	}
	newRoot, err := tlog.TreeHash(n, hr)
	if err != nil {
		return nil, err
	}
	return &ConsistencyProof{Old: old, New: n, OldRoot: oldRoot.String(), NewRoot: newRoot.String(), Proof: hashStrings(p)}, nil
}

func (s *Server) checkSize(r *http.Request, size int64) error {
	head, _, err := s.cfg.Store.Head(r.Context())
	if err != nil {
		return err
	}
	if size > head {
		return steward.Errorf(steward.EINVALID, "size %d is beyond the ledger's %d entries", size, head)
	}
	return nil
}

func hashStrings(hs []tlog.Hash) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = h.String()
	}
	return out
}
