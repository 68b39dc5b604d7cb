package steward_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"steward"
	"steward/charter"
)

// memTx runs commands against an in-memory state, keeping the encoded
// events, so domain rules can be tested without a database. A failed
// command is rolled back by working on a copy.
type memTx struct {
	st      *steward.MemState
	secrets map[string][]byte
	entries [][]byte
	now     time.Time
}

func newMemTx() *memTx {
	return &memTx{st: steward.NewMemState(), secrets: map[string][]byte{}, now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func (m *memTx) Get(ctx context.Context, k string) ([]byte, error) { return m.st.Get(ctx, k) }
func (m *memTx) Scan(ctx context.Context, p, a string, l int) ([]steward.KV, error) {
	return m.st.Scan(ctx, p, a, l)
}
func (m *memTx) Now() time.Time { return m.now }
func (m *memTx) Emit(ctx context.Context, actor, kind string, payload any) (*steward.Event, error) {
	e, err := steward.NewEvent(int64(len(m.entries)), m.now, actor, kind, payload)
	if err != nil {
		return nil, err
	}
	b, err := e.Encode()
	if err != nil {
		return nil, err
	}
	if err := steward.Apply(ctx, m.st, e); err != nil {
		return nil, err
	}
	m.entries = append(m.entries, b)
	return e, nil
}
func (m *memTx) Secret(_ context.Context, k string) ([]byte, error) {
	v, ok := m.secrets[k]
	if !ok {
		return nil, steward.ErrNotFound
	}
	return v, nil
}
func (m *memTx) PutSecret(_ context.Context, k string, v []byte) error {
	if v == nil {
		delete(m.secrets, k)
	} else {
		m.secrets[k] = v
	}
	return nil
}

// do runs a command atomically: on error, state, secrets and entries are
// restored.
func (m *memTx) do(t *testing.T, cmd steward.Command) (any, error) {
	t.Helper()
	ctx := context.Background()
	saved := steward.NewMemState()
	for _, kv := range m.st.All() {
		_ = saved.Put(ctx, kv.Key, kv.Value)
	}
	secrets := map[string][]byte{}
	for k, v := range m.secrets {
		secrets[k] = v
	}
	n := len(m.entries)
	v, err := cmd(ctx, m)
	if err != nil {
		m.st, m.secrets, m.entries = saved, secrets, m.entries[:n]
	}
	return v, err
}

func (m *memTx) must(t *testing.T, cmd steward.Command) any {
	t.Helper()
	v, err := m.do(t, cmd)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

var cheap = steward.PasswordParams{Memory: 64, Time: 1, Threads: 1}

func hash(t *testing.T) string {
	t.Helper()
	h, err := steward.HashPassword("correct horse battery", cheap)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// newInstance makes an instance under a preset with an operator "op".
func newInstance(t *testing.T, preset string) (*memTx, *charter.Charter) {
	t.Helper()
	text, err := charter.Preset(preset)
	if err != nil {
		t.Fatal(err)
	}
	c, err := charter.Parse(preset, text)
	if err != nil {
		t.Fatal(err)
	}
	m := newMemTx()
	m.must(t, steward.CreateInstance(steward.Instance{Origin: "steward.example/test", Name: "Test"}, text))
	register(t, m, "op", c.Groups[0].ID, c.Regions[0])
	m.must(t, steward.GrantRole(steward.ActorInit, steward.Grant{Participant: "op", Role: steward.RoleOperator}))
	return m, c
}

func register(t *testing.T, m *memTx, handle, group, region string) {
	t.Helper()
	_, err := m.do(t, steward.Register(handle, steward.Registration{
		Participant: steward.Participant{Handle: handle, Name: "Name of " + handle, Group: group, Region: region, Languages: []string{"en"}},
		Email:       handle + "@example.org", PasswordHash: hash(t),
	}))
	if err != nil {
		t.Fatalf("register %s: %v", handle, err)
	}
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if steward.ErrorCode(err) != code {
		t.Fatalf("error = %v, want code %s", err, code)
	}
}

var errAny = errors.New("any")

func label(format string, args ...any) string { return fmt.Sprintf(format, args...) }
