package steward

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"
)

// The state of an instance is an ordered map from keys to canonical JSON
// values. Keys are printable ASCII paths such as "participant/alice" or
// "body/gic/member/alice"; the first segment names the kind of record.
// Only [Apply] writes the state, and only from events, so the state is a pure
// function of the ledger.

// KV is one record of the state.
type KV struct {
	Key   string
	Value []byte
}

// StateReader reads the state. Implementations are the SQL stores (inside a
// transaction or on a read-only snapshot) and the in-memory [MemState] that
// audit rebuilds.
type StateReader interface {
	// Get returns the value of key, or ErrNotFound.
	Get(ctx context.Context, key string) ([]byte, error)
	// Scan returns up to limit records whose keys start with prefix and sort
	// after the key after ("" for the first), in key order.
	Scan(ctx context.Context, prefix, after string, limit int) ([]KV, error)
}

// StateWriter changes the state. Only appliers receive one.
type StateWriter interface {
	StateReader
	Put(ctx context.Context, key string, value []byte) error
	Delete(ctx context.Context, key string) error
}

// Tx is what a command sees of the instance inside one write transaction.
// Everything it does is committed together or not at all.
type Tx interface {
	StateReader
	// Now is the transaction's time, fixed when it began.
	Now() time.Time
	// Emit appends an event to the ledger and applies it to the state.
	Emit(ctx context.Context, actor, kind string, payload any) (*Event, error)
	// Secret reads private, unlogged data (password hashes, token hashes,
	// e-mail addresses): ErrNotFound if absent.
	Secret(ctx context.Context, key string) ([]byte, error)
	// PutSecret writes private data; a nil value deletes it.
	PutSecret(ctx context.Context, key string, value []byte) error
}

// Command is one unit of work: it validates, authorizes and emits events.
// A store runs it in a transaction and commits only when it returns nil; the
// result is returned to the caller once the transaction is durable. A
// command may be run more than once if the store retries.
type Command func(ctx context.Context, tx Tx) (any, error)

// ValidKey reports whether key may name a state record: 1 to 512 printable
// ASCII characters without spaces.
func ValidKey(key string) bool {
	if len(key) == 0 || len(key) > 512 {
		return false
	}
	for i := 0; i < len(key); i++ {
		if key[i] <= ' ' || key[i] >= 0x7f {
			return false
		}
	}
	return true
}

// PrefixEnd returns the smallest key greater than every valid key that
// starts with prefix.
func PrefixEnd(prefix string) string { return prefix + "\x7f" }

// GetJSON reads key and decodes it into v.
func GetJSON(ctx context.Context, r StateReader, key string, v any) error {
	b, err := r.Get(ctx, key)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("state %s: %w", key, err)
	}
	return nil
}

// listJSON reads every JSON record under prefix, in key order.
func listJSON[T any](ctx context.Context, r StateReader, prefix string) ([]T, error) {
	kvs, err := ScanAll(ctx, r, prefix)
	if err != nil {
		return nil, err
	}
	return decodeAll[T](kvs)
}

// loadJSON reads the JSON record at key into a new T. A missing record is
// the error notFound makes, which names what was looked for.
func loadJSON[T any](ctx context.Context, r StateReader, key string, notFound func() error) (*T, error) {
	var v T
	if err := GetJSON(ctx, r, key, &v); err != nil {
		if ErrorCode(err) == ENOTFOUND {
			return nil, notFound()
		}
		return nil, err
	}
	return &v, nil
}

// PutJSON encodes v canonically and writes it at key.
func PutJSON(ctx context.Context, w StateWriter, key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	c, err := CanonicalJSON(b)
	if err != nil {
		return err
	}
	return w.Put(ctx, key, c)
}

// ScanAll returns every record under prefix. Use it only where the number of
// records is bounded (a body's members, a charter's versions).
func ScanAll(ctx context.Context, r StateReader, prefix string) ([]KV, error) {
	var all []KV
	after := ""
	for {
		kvs, err := r.Scan(ctx, prefix, after, 1000)
		if err != nil {
			return nil, err
		}
		all = append(all, kvs...)
		if len(kvs) < 1000 {
			return all, nil
		}
		after = kvs[len(kvs)-1].Key
	}
}

// MemState is an in-memory StateWriter, used by audit to rebuild the state
// from the ledger and by tests. It is safe for concurrent use.
type MemState struct {
	mu     sync.RWMutex
	m      map[string][]byte
	keys   []string // sorted keys, valid unless dirty
	dirty  bool
	sortMu sync.Mutex
}

// NewMemState returns an empty state.
func NewMemState() *MemState { return &MemState{m: make(map[string][]byte)} }

// Get implements StateReader.
func (s *MemState) Get(_ context.Context, key string) ([]byte, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	v, ok := s.m[key]
	if !ok {
		return nil, ErrNotFound
	}
	return v, nil
}

// sorted returns the keys in order, sorting them again only after keys
// were added or removed. The caller holds s.mu for reading.
func (s *MemState) sorted() []string {
	s.sortMu.Lock()
	defer s.sortMu.Unlock()
	if s.dirty || len(s.keys) != len(s.m) {
		s.keys = s.keys[:0]
		for k := range s.m {
			s.keys = append(s.keys, k)
		}
		sort.Strings(s.keys)
		s.dirty = false
	}
	return s.keys
}

// Scan implements StateReader.
func (s *MemState) Scan(_ context.Context, prefix, after string, limit int) ([]KV, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	keys := s.sorted()
	lo := prefix
	if after > lo {
		lo = after
	}
	i := sort.SearchStrings(keys, lo)
	var out []KV
	for ; i < len(keys) && (limit <= 0 || len(out) < limit); i++ {
		k := keys[i]
		if !strings.HasPrefix(k, prefix) {
			break
		}
		if k == after {
			continue
		}
		out = append(out, KV{Key: k, Value: s.m[k]})
	}
	return out, nil
}

// Put implements StateWriter.
func (s *MemState) Put(_ context.Context, key string, value []byte) error {
	if !ValidKey(key) {
		return fmt.Errorf("invalid state key %q", key)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.m[key]; !ok {
		s.dirty = true
	}
	s.m[key] = append([]byte(nil), value...)
	return nil
}

// Delete implements StateWriter.
func (s *MemState) Delete(_ context.Context, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.m[key]; ok {
		s.dirty = true
	}
	delete(s.m, key)
	return nil
}

// All returns every record in key order.
func (s *MemState) All() []KV {
	kvs, _ := s.Scan(context.Background(), "", "", 0)
	return kvs
}

// Len returns the number of records.
func (s *MemState) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.m)
}

func unmarshalStrict(b []byte, v any) error {
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// canonicalOf returns the canonical JSON of v.
func canonicalOf(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return CanonicalJSON(b)
}
