package web_test

// The fixture every test of the web package shares: a real SQLite store in
// a temporary directory, a fake clock, an instance under the community
// preset, three registered participants (one an operator) with API tokens,
// and the server's handler. Requests go straight to the handler through
// httptest; each gets its own client address so the per-address rate
// limiter only bites where a test means it to.

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"steward"
	"steward/charter"
	"steward/sqlite"
	"steward/sqlstore"
	"steward/web"
)

const (
	testOrigin   = "steward.example/test"
	testPassword = "correct horse battery staple"
	testHost     = "steward.test"
)

// testParams are argon2id costs cheap enough for tests.
var testParams = steward.PasswordParams{Memory: 64, Time: 1, Threads: 1}

// The participants every fixture has.
const (
	opHandle    = "operator" // technical-academic, europe; holds the operator role
	aliceHandle = "alice"    // civil-society, africa
	bobHandle   = "bob"      // technical-academic, asia-pacific
)

var discardLogger = slog.New(slog.DiscardHandler)

type fixture struct {
	t        testing.TB
	ctx      context.Context
	store    *sqlstore.Store
	clock    *steward.FakeClock
	server   *web.Server
	handler  http.Handler
	charter  *charter.Charter
	vkey     string
	verifier note.Verifier
	hash     string            // the hash of testPassword
	tokens   map[string]string // handle → bearer carrying every scope
	addrs    atomic.Uint64
}

// newFixture builds the shared fixture; opts adjust the server's Config.
func newFixture(t testing.TB, opts ...func(*web.Config)) *fixture {
	t.Helper()
	ctx := context.Background()
	skey, vkey, err := note.GenerateKey(rand.Reader, testOrigin)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	verifier, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	w, r, err := sqlite.Open(filepath.Join(t.TempDir(), "steward.db"), false)
	if err != nil {
		t.Fatal(err)
	}
	clock := steward.NewFakeClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	st, err := sqlstore.Open(ctx, w, r, sqlite.Dialect{}, sqlstore.Config{
		Signer: signer, Clock: clock, Logger: discardLogger, CheckpointInterval: -1,
	})
	if err != nil {
		w.Close()
		r.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		st.Close()
		w.Close()
		r.Close()
	})
	text, err := charter.Preset("community")
	if err != nil {
		t.Fatal(err)
	}
	c, err := charter.Parse("community", text)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, ctx: ctx, store: st, clock: clock, charter: c, vkey: vkey, verifier: verifier, tokens: map[string]string{}}
	f.do(t, steward.CreateInstance(steward.Instance{Origin: testOrigin, Name: "Test Network", Preset: "community"}, text))
	if f.hash, err = steward.HashPassword(testPassword, testParams); err != nil {
		t.Fatal(err)
	}
	f.register(t, opHandle, "technical-academic", "europe")
	f.register(t, aliceHandle, "civil-society", "africa")
	f.register(t, bobHandle, "technical-academic", "asia-pacific")
	f.do(t, steward.GrantRole(steward.ActorInit, steward.Grant{Participant: opHandle, Role: steward.RoleOperator}))
	for _, h := range []string{opHandle, aliceHandle, bobHandle} {
		_, f.tokens[h] = f.issueToken(t, h, steward.AllScopes...)
	}
	f.sign(t)

	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	cfg := web.Config{
		Store: st, Clock: clock, Logger: discardLogger, VerifierKey: vkey,
		SessionKey: key, PasswordParams: testParams,
	}
	for _, o := range opts {
		o(&cfg)
	}
	f.server = web.New(cfg)
	f.handler = f.server.Handler()
	return f
}

// do runs a command on the store, failing the test if it fails.
func (f *fixture) do(t testing.TB, cmd steward.Command) any {
	t.Helper()
	v, err := f.store.Do(f.ctx, cmd)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// register registers a participant directly in the store, with testPassword
// and the e-mail address HANDLE@example.org.
func (f *fixture) register(t testing.TB, handle, group, region string) {
	t.Helper()
	f.do(t, steward.Register(steward.ActorInit, steward.Registration{
		Participant: steward.Participant{Handle: handle, Name: "Test " + handle, Group: group, Region: region, Languages: []string{"en"}},
		Email:       handle + "@example.org", PasswordHash: f.hash,
	}))
}

// issueToken records an API token for handle with the scopes, valid for 30
// days, and returns its ID and bearer string.
func (f *fixture) issueToken(t testing.TB, handle string, scopes ...string) (id, bearer string) {
	t.Helper()
	id, bearer, err := steward.NewTokenSecret()
	if err != nil {
		t.Fatal(err)
	}
	f.do(t, steward.IssueToken(handle, id, bearer, "test "+strings.Join(scopes, "+"), scopes, 30*24*time.Hour))
	return id, bearer
}

// sign signs a checkpoint of the ledger as it is.
func (f *fixture) sign(t testing.TB) {
	t.Helper()
	if _, err := f.store.SignCheckpoint(f.ctx); err != nil {
		t.Fatal(err)
	}
}

// snapshot is what must not change when a request is refused.
type snapshot struct {
	size         int64
	state        [32]byte
	participants int
}

func (f *fixture) snapshot(t testing.TB) snapshot {
	t.Helper()
	size, d, err := f.store.Head(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	ps, err := steward.ScanAll(f.ctx, f.store, "participant/")
	if err != nil {
		t.Fatal(err)
	}
	return snapshot{size: size, state: d.Sum(), participants: len(ps)}
}

// unchanged fails t if the ledger, the state or the participants differ
// from before.
func (f *fixture) unchanged(t testing.TB, before snapshot) {
	t.Helper()
	now := f.snapshot(t)
	if now.size != before.size {
		t.Errorf("ledger grew from %d to %d entries", before.size, now.size)
	}
	if now.participants != before.participants {
		t.Errorf("participants went from %d to %d", before.participants, now.participants)
	}
	if now.state != before.state {
		t.Errorf("state digest changed")
	}
}

// ledgerSize returns the number of ledger entries.
func (f *fixture) ledgerSize(t testing.TB) int64 {
	t.Helper()
	n, _, err := f.store.Head(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// lastEntry returns the latest ledger entry, decoded.
func (f *fixture) lastEntry(t testing.TB) *steward.Event {
	t.Helper()
	n := f.ledgerSize(t)
	raw, err := f.store.Entries(f.ctx, n-1, n)
	if err != nil {
		t.Fatal(err)
	}
	e, err := steward.DecodeEvent(raw[0])
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// client sends requests to the fixture's handler, keeping cookies like a
// browser and adding a bearer token if it has one.
type client struct {
	f       *fixture
	t       testing.TB // the test to fail; the fixture's when nil
	bearer  string
	addr    string // RemoteAddr; "" for a new address per request
	cookies map[string]string
}

func (f *fixture) anon() *client { return &client{f: f, cookies: map[string]string{}} }

// tb returns the test that the client fails.
func (c *client) tb() testing.TB {
	if c.t != nil {
		return c.t
	}
	return c.f.t
}

// on returns a copy of the client that fails t, for subtests and fuzz
// targets; it shares the cookies.
func (c *client) on(t testing.TB) *client {
	d := *c
	d.t = t
	return &d
}

// as returns a client authenticated by handle's all-scopes token.
func (f *fixture) as(handle string) *client {
	c := f.anon()
	c.bearer = f.tokens[handle]
	if c.bearer == "" {
		f.t.Fatalf("no token for %s", handle)
	}
	return c
}

// withBearer returns a client authenticated by the bearer string.
func (f *fixture) withBearer(bearer string) *client {
	c := f.anon()
	c.bearer = bearer
	return c
}

// nextAddr returns a client address of its own, in the IPv6 documentation
// prefix; nothing is ever sent there.
func (f *fixture) nextAddr() string {
	return fmt.Sprintf("[2001:db8::%x]:40000", f.addrs.Add(1))
}

// do sends a request; hdr holds header names and values in turn.
func (c *client) do(method, path string, body io.Reader, hdr ...string) *http.Response {
	c.tb().Helper()
	req := httptest.NewRequest(method, "http://"+testHost+path, body)
	req.RemoteAddr = c.addr
	if req.RemoteAddr == "" {
		req.RemoteAddr = c.f.nextAddr()
	}
	if c.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+c.bearer)
	}
	for name, value := range c.cookies {
		req.AddCookie(&http.Cookie{Name: name, Value: value})
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	c.f.handler.ServeHTTP(rec, req)
	resp := rec.Result()
	for _, ck := range resp.Cookies() {
		if ck.MaxAge < 0 || ck.Value == "" {
			delete(c.cookies, ck.Name)
		} else {
			c.cookies[ck.Name] = ck.Value
		}
	}
	return resp
}

func (c *client) get(path string, hdr ...string) *http.Response {
	c.tb().Helper()
	return c.do(http.MethodGet, path, nil, hdr...)
}

// json sends body (a string taken as is, or a value to marshal) as JSON.
func (c *client) json(method, path string, body any, hdr ...string) *http.Response {
	c.tb().Helper()
	var s string
	switch b := body.(type) {
	case string:
		s = b
	case []byte:
		s = string(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			c.tb().Fatal(err)
		}
		s = string(j)
	}
	return c.do(method, path, strings.NewReader(s), append([]string{"Content-Type", "application/json"}, hdr...)...)
}

// form posts a form.
func (c *client) form(path string, v url.Values, hdr ...string) *http.Response {
	c.tb().Helper()
	return c.do(http.MethodPost, path, strings.NewReader(v.Encode()), append([]string{"Content-Type", "application/x-www-form-urlencoded"}, hdr...)...)
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf loads page and returns the CSRF token of its forms.
func (c *client) csrf(page string) string {
	c.tb().Helper()
	resp := c.get(page)
	body := readBody(c.tb(), resp)
	if resp.StatusCode != http.StatusOK {
		c.tb().Fatalf("GET %s: %s", page, resp.Status)
	}
	m := csrfRE.FindStringSubmatch(body)
	if m == nil {
		c.tb().Fatalf("GET %s: no CSRF field", page)
	}
	return m[1]
}

// login logs handle in through the form and returns the browser-like
// client holding the session cookie.
func (f *fixture) login(handle, password string) *client {
	f.t.Helper()
	c := f.anon()
	token := c.csrf("/login")
	resp := c.form("/login", url.Values{"csrf": {token}, "handle": {handle}, "password": {password}})
	readBody(f.t, resp)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/account" {
		f.t.Fatalf("login %s: %s to %q", handle, resp.Status, resp.Header.Get("Location"))
	}
	if c.cookies["steward_session"] == "" {
		f.t.Fatalf("login %s: no session cookie", handle)
	}
	return c
}

func readBody(t testing.TB, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// decodeJSON checks that resp is status with a JSON body and decodes it.
func decodeJSON[T any](t testing.TB, resp *http.Response, status int) T {
	t.Helper()
	var v T
	body := readBody(t, resp)
	if resp.StatusCode != status {
		t.Fatalf("status %d, want %d; body: %s", resp.StatusCode, status, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("Content-Type %q, want application/json", ct)
	}
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	return v
}

// checkProblem checks that resp is an RFC 9457 problem document with the
// status and code, whose detail contains every one of details.
func checkProblem(t testing.TB, resp *http.Response, status int, code string, details ...string) web.Problem {
	t.Helper()
	body := readBody(t, resp)
	if resp.StatusCode != status {
		t.Errorf("status %d, want %d; body: %s", resp.StatusCode, status, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type %q, want application/problem+json; body: %s", ct, body)
	}
	var p web.Problem
	if err := json.Unmarshal([]byte(body), &p); err != nil {
		t.Fatalf("problem does not decode: %v; body: %s", err, body)
	}
	if p.Status != status || p.Code != code || p.Type != "/problems/"+code || p.Title != http.StatusText(status) {
		t.Errorf("problem %+v, want status %d and code %s", p, status, code)
	}
	for _, d := range details {
		if !strings.Contains(p.Detail, d) {
			t.Errorf("detail %q does not name %q", p.Detail, d)
		}
	}
	if p.Instance == "" {
		t.Errorf("problem has no instance")
	}
	if status == http.StatusUnauthorized && resp.Header.Get("WWW-Authenticate") == "" {
		t.Errorf("401 without WWW-Authenticate")
	}
	return p
}
