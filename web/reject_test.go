package web_test

import (
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"steward"
	"steward/charter"
	"steward/web"
)

// carol is a valid registration that no fixture holds yet.
func carol(mod ...func(*web.RegisterRequest)) web.RegisterRequest {
	r := web.RegisterRequest{Handle: "carol", Name: "Carol Example", Group: "civil-society", Affiliation: "Example Org",
		Region: "europe", Languages: []string{"en", "fr"}, Email: "carol@example.org", Password: testPassword}
	for _, m := range mod {
		m(&r)
	}
	return r
}

func mustJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestAPIRejectsBadJSON sends bodies that are not one JSON object of the
// right shape to every JSON-decoding write: each is a 4xx problem that says
// what is wrong, and nothing is written.
func TestAPIRejectsBadJSON(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	valid := mustJSON(t, carol())
	validPatch := `{"name":"Alice Liddell"}`
	big := `{"name":"` + strings.Repeat("a", 1<<20+10) + `"}`
	tests := []struct {
		name        string
		body        func(valid string) string
		contentType string
		status      int
		code        string
		detail      []string
	}{
		{"malformed/truncated", func(v string) string { return v[:len(v)/2] }, "", 400, steward.EINVALID, []string{"malformed JSON"}},
		{"malformed/syntax", func(string) string { return `{handle: "carol"}` }, "", 400, steward.EINVALID, []string{"malformed JSON at byte 2", "invalid character"}},
		{"malformed/not-json", func(string) string { return `handle=carol` }, "", 400, steward.EINVALID, []string{"malformed JSON"}},
		{"unknown-field", func(v string) string { return `{"nickname":"caz",` + v[1:] }, "", 400, steward.EINVALID, []string{`unknown field "nickname"`}},
		{"wrong-type/list", func(string) string { return `{"languages":"en"}` }, "", 400, steward.EINVALID, []string{`field "languages"`, "string"}},
		{"wrong-type/number", func(string) string { return `{"name":42}` }, "", 400, steward.EINVALID, []string{`field "name"`, "number"}},
		{"wrong-type/array", func(string) string { return `[]` }, "", 400, steward.EINVALID, []string{"array"}},
		{"empty", func(string) string { return "" }, "", 400, steward.EINVALID, []string{"the request body is empty"}},
		{"whitespace", func(string) string { return " \n\t " }, "", 400, steward.EINVALID, []string{"the request body is empty"}},
		{"trailing/object", func(v string) string { return v + ` {}` }, "", 400, steward.EINVALID, []string{"trailing data"}},
		{"trailing/garbage", func(v string) string { return v + `x` }, "", 400, steward.EINVALID, []string{"trailing data"}},
		{"trailing/brace", func(v string) string { return v + `}` }, "", 400, steward.EINVALID, []string{"trailing data"}},
		{"trailing/bracket", func(v string) string { return v + `]` }, "", 400, steward.EINVALID, []string{"trailing data"}},
		{"too-large/value", func(string) string { return big }, "", 413, steward.ETOOLARGE, []string{"larger than 1048576 bytes"}},
		{"too-large/padding", func(v string) string { return v + strings.Repeat(" ", 1<<20) }, "", 413, steward.ETOOLARGE, []string{"larger than 1048576 bytes"}},
		{"content-type/text", func(v string) string { return v }, "text/plain", 415, "unsupported_media_type", []string{"Content-Type: application/json", "text/plain"}},
		{"content-type/form", func(v string) string { return v }, "application/x-www-form-urlencoded", 415, "unsupported_media_type", []string{"Content-Type: application/json"}},
	}
	endpoints := []struct {
		name, method, path string
		c                  *client
		valid              string
	}{
		{"register", http.MethodPost, "/api/v1/participants", f.anon(), valid},
		{"patch", http.MethodPatch, "/api/v1/participants/" + aliceHandle, f.as(aliceHandle), validPatch},
	}
	for _, ep := range endpoints {
		for _, tt := range tests {
			t.Run(ep.name+"/"+tt.name, func(t *testing.T) {
				before := f.snapshot(t)
				ct := tt.contentType
				if ct == "" {
					ct = "application/json"
				}
				resp := ep.c.do(ep.method, ep.path, strings.NewReader(tt.body(ep.valid)), "Content-Type", ct)
				checkProblem(t, resp, tt.status, tt.code, tt.detail...)
				f.unchanged(t, before)
			})
		}
	}
}

// TestRegisterRejects sends well-formed registrations that break a rule.
func TestRegisterRejects(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tests := []struct {
		name   string
		req    web.RegisterRequest
		status int
		code   string
		detail []string
	}{
		{"duplicate-handle", carol(func(r *web.RegisterRequest) { r.Handle = aliceHandle }), 409, steward.ECONFLICT, []string{`the handle "alice" is taken`}},
		{"duplicate-email", carol(func(r *web.RegisterRequest) { r.Email = "alice@example.org" }), 409, steward.ECONFLICT, []string{"e-mail address exists already"}},
		{"duplicate-email/case", carol(func(r *web.RegisterRequest) { r.Email = "ALICE@Example.ORG" }), 409, steward.ECONFLICT, []string{"e-mail address exists already"}},
		{"unknown-group", carol(func(r *web.RegisterRequest) { r.Group = "martians" }), 400, steward.EINVALID, []string{`stakeholder group "martians"`, "civil-society"}},
		{"unknown-region", carol(func(r *web.RegisterRequest) { r.Region = "mars" }), 400, steward.EINVALID, []string{`region "mars"`, "europe"}},
		{"bad-handle/case", carol(func(r *web.RegisterRequest) { r.Handle = "Carol" }), 400, steward.EINVALID, []string{`handle "Carol"`}},
		{"bad-handle/punctuation", carol(func(r *web.RegisterRequest) { r.Handle = "carol!" }), 400, steward.EINVALID, []string{`handle "carol!"`}},
		{"bad-handle/short", carol(func(r *web.RegisterRequest) { r.Handle = "c" }), 400, steward.EINVALID, []string{`handle "c"`}},
		{"bad-handle/empty", carol(func(r *web.RegisterRequest) { r.Handle = "" }), 400, steward.EINVALID, []string{`handle ""`}},
		{"short-password", carol(func(r *web.RegisterRequest) { r.Password = "short" }), 400, steward.EINVALID, []string{"password", "at least 10 characters"}},
		{"bad-language", carol(func(r *web.RegisterRequest) { r.Languages = []string{"en", "12"} }), 400, steward.EINVALID, []string{`language "12"`, "BCP 47"}},
		{"no-language", carol(func(r *web.RegisterRequest) { r.Languages = nil }), 400, steward.EINVALID, []string{"languages"}},
		{"bad-email", carol(func(r *web.RegisterRequest) { r.Email = "carol at example" }), 400, steward.EINVALID, []string{`e-mail address "carol at example"`}},
		{"empty-name", carol(func(r *web.RegisterRequest) { r.Name = "" }), 400, steward.EINVALID, []string{"name"}},
		{"long-affiliation", carol(func(r *web.RegisterRequest) { r.Affiliation = strings.Repeat("x", 201) }), 400, steward.EINVALID, []string{"affiliation"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := f.snapshot(t)
			checkProblem(t, f.anon().json(http.MethodPost, "/api/v1/participants", tt.req), tt.status, tt.code, tt.detail...)
			f.unchanged(t, before)
		})
	}
}

// TestSeatBeyondCharter fills every counted seat of every body of the
// community preset, as charter.Parse reads them, and checks that one more
// member of the same group is refused.
func TestSeatBeyondCharter(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	op := f.as(opHandle)
	// Enough participants of each group, spread over the regions: seats for
	// "any" region are shared by all.
	pool := map[string][]string{}
	need := func(t *testing.T, group string, n int) []string {
		for i := len(pool[group]); i < n; i++ {
			h := fmt.Sprintf("%s-%d", group[:4], i+1)
			f.register(t, h, group, f.charter.Regions[i%len(f.charter.Regions)])
			pool[group] = append(pool[group], h)
		}
		return pool[group][:n]
	}
	tested := 0
	for i := range f.charter.Bodies {
		b := &f.charter.Bodies[i]
		if b.Open {
			continue
		}
		groups := map[string]bool{}
		for _, s := range b.Seats {
			groups[s.Group] = true
		}
		for g := range groups {
			limit := b.SeatLimit(g, f.charter.Regions[0])
			if limit == 0 || limit == charter.Unlimited {
				continue
			}
			tested++
			t.Run(b.ID+"/"+g, func(t *testing.T) {
				hs := need(t, g, limit+1)
				for _, h := range hs[:limit] {
					resp := op.json(http.MethodPost, "/api/v1/bodies/"+b.ID+"/members", web.SeatRequest{Participant: h})
					m := decodeJSON[steward.Member](t, resp, http.StatusCreated)
					if m.Body != b.ID || m.Participant != h || m.Group != g {
						t.Fatalf("seated %+v", m)
					}
				}
				before := f.snapshot(t)
				resp := op.json(http.MethodPost, "/api/v1/bodies/"+b.ID+"/members", web.SeatRequest{Participant: hs[limit]})
				checkProblem(t, resp, http.StatusConflict, steward.ECONFLICT, "every seat of "+b.ID, "the "+g+" group", "the charter allows no more")
				f.unchanged(t, before)
				info := decodeJSON[web.BodyInfo](t, f.anon().get("/api/v1/bodies/"+b.ID), http.StatusOK)
				n := 0
				for _, m := range info.Members {
					if m.Group == g {
						n++
					}
				}
				if n != limit {
					t.Errorf("%d members of %s in %s, want %d", n, g, b.ID, limit)
				}
			})
		}
	}
	if tested < 3 {
		t.Fatalf("only %d limited seats in the community preset; the test needs its bodies", tested)
	}
}

// TestSeatRejects covers the other refusals to seat a member.
func TestSeatRejects(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.register(t, "igo", "intergovernmental", "europe")
	_, writeOnly := f.issueToken(t, opHandle, steward.ScopeWrite)
	f.do(t, steward.SeatMember(steward.ActorInit, "noc", bobHandle, ""))
	tests := []struct {
		name   string
		c      *client
		body   string
		req    web.SeatRequest
		status int
		code   string
		detail []string
	}{
		{"non-operator/appointed", f.as(aliceHandle), "maintainers", web.SeatRequest{Participant: aliceHandle}, 403, steward.EFORBIDDEN, []string{"appointed by members", "only its chair or an operator"}},
		{"non-operator/noc", f.as(aliceHandle), "noc", web.SeatRequest{Participant: aliceHandle}, 403, steward.EFORBIDDEN, []string{"only an operator may change the members of noc"}},
		{"anonymous", f.anon(), "maintainers", web.SeatRequest{Participant: aliceHandle}, 401, steward.EUNAUTHORIZED, []string{"log in"}},
		{"scope", f.withBearer(writeOnly), "maintainers", web.SeatRequest{Participant: aliceHandle}, 403, steward.EFORBIDDEN, []string{`"admin" scope`}},
		{"unknown-participant", f.as(opHandle), "maintainers", web.SeatRequest{Participant: "ghost"}, 404, steward.ENOTFOUND, []string{`no participant "ghost"`}},
		{"unknown-body", f.as(opHandle), "senate", web.SeatRequest{Participant: aliceHandle}, 404, steward.ENOTFOUND, []string{`no body "senate"`}},
		{"no-seat-for-group", f.as(opHandle), "maintainers", web.SeatRequest{Participant: "igo"}, 400, steward.EINVALID, []string{"no seat for the intergovernmental group"}},
		{"no-such-capacity", f.as(opHandle), "maintainers", web.SeatRequest{Participant: aliceHandle, Capacity: "observer"}, 400, steward.EINVALID, []string{"no observer seat"}},
		{"already-seated", f.as(opHandle), "noc", web.SeatRequest{Participant: bobHandle}, 409, steward.ECONFLICT, []string{"bob sits in noc already"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := f.snapshot(t)
			checkProblem(t, tt.c.json(http.MethodPost, "/api/v1/bodies/"+tt.body+"/members", tt.req), tt.status, tt.code, tt.detail...)
			f.unchanged(t, before)
		})
	}
}

// TestAuthRejects covers credentials that are forged, expired, revoked or
// too weak: none of them reads private data or writes anything.
func TestAuthRejects(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	_, readOnly := f.issueToken(t, aliceHandle, steward.ScopeRead)
	_, writeOnly := f.issueToken(t, aliceHandle, steward.ScopeWrite)
	revokedID, revoked := f.issueToken(t, aliceHandle, steward.ScopeRead)
	if resp := f.as(aliceHandle).do(http.MethodDelete, "/api/v1/tokens/"+revokedID, nil); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("revoke: %s", readBody(t, resp))
	}
	// A bearer of the right shape whose secret is wrong.
	forged := revoked[:len("stw_")+16] + "_" + strings.Repeat("A", 43)
	ownID, _, _ := strings.Cut(strings.TrimPrefix(f.tokens[aliceHandle], "stw_"), "_")
	forgedLive := "stw_" + ownID + "_" + strings.Repeat("B", 43)

	anonWithCookie := f.anon()
	anonWithCookie.cookies["steward_session"] = "forged-session-value-that-no-one-was-given"

	tests := []struct {
		name   string
		c      *client
		method string
		path   string
		body   any
		hdr    []string
		status int
		code   string
		detail []string
	}{
		{"forged-session", anonWithCookie, "GET", "/api/v1/me", nil, nil, 401, steward.EUNAUTHORIZED, []string{"log in, or send an API token"}},
		{"no-credentials", f.anon(), "GET", "/api/v1/me", nil, nil, 401, steward.EUNAUTHORIZED, []string{"log in"}},
		{"bearer/garbage", f.withBearer("garbage"), "GET", "/api/v1/me", nil, nil, 401, steward.EUNAUTHORIZED, []string{"invalid or expired token"}},
		{"bearer/forged", f.withBearer(forged), "GET", "/api/v1/me", nil, nil, 401, steward.EUNAUTHORIZED, []string{"invalid or expired token"}},
		{"bearer/forged-secret", f.withBearer(forgedLive), "GET", "/api/v1/me", nil, nil, 401, steward.EUNAUTHORIZED, []string{"invalid or expired token"}},
		{"bearer/revoked", f.withBearer(revoked), "GET", "/api/v1/me", nil, nil, 401, steward.EUNAUTHORIZED, []string{"invalid or expired token"}},
		{"bearer/revoked-write", f.withBearer(revoked), "PATCH", "/api/v1/participants/alice", `{"name":"Mallory"}`, nil, 401, steward.EUNAUTHORIZED, []string{"invalid or expired token"}},
		{"basic-auth", f.anon(), "GET", "/api/v1/me", nil, []string{"Authorization", "Basic YWxpY2U6cGFzc3dvcmQ="}, 401, steward.EUNAUTHORIZED, []string{"Bearer"}},
		{"bad-bearer-on-public-read", f.withBearer("garbage"), "GET", "/api/v1/tokens", nil, nil, 401, steward.EUNAUTHORIZED, []string{"invalid or expired token"}},
		{"scope/write", f.withBearer(readOnly), "PATCH", "/api/v1/participants/alice", `{"name":"Mallory"}`, nil, 403, steward.EFORBIDDEN, []string{`lacks the "write" scope`}},
		{"scope/read", f.withBearer(writeOnly), "GET", "/api/v1/me", nil, nil, 403, steward.EFORBIDDEN, []string{`lacks the "read" scope`}},
		{"scope/admin", f.withBearer(readOnly), "POST", "/api/v1/participants/bob/roles", `{"role":"moderator"}`, nil, 403, steward.EFORBIDDEN, []string{`lacks the "admin" scope`}},
		{"scope/escalate", f.withBearer(readOnly), "POST", "/api/v1/tokens", `{"name":"more","scopes":["write"]}`, nil, 403, steward.EFORBIDDEN, []string{`cannot grant the "write" scope`}},
		{"other-profile", f.as(bobHandle), "PATCH", "/api/v1/participants/alice", `{"name":"Mallory"}`, nil, 403, steward.EFORBIDDEN, []string{"only alice may change its profile"}},
		{"grant/non-operator", f.as(aliceHandle), "POST", "/api/v1/participants/alice/roles", `{"role":"operator"}`, nil, 403, steward.EFORBIDDEN, []string{"only an operator may grant roles"}},
		{"revoke/own-operator", f.as(opHandle), "DELETE", "/api/v1/participants/operator/roles/operator", nil, nil, 403, steward.EFORBIDDEN, []string{"may not revoke its own operator role"}},
		{"token/wrong-password", f.anon(), "POST", "/api/v1/tokens", `{"handle":"alice","password":"wrong password!","name":"x","scopes":["read"]}`, nil, 401, steward.EUNAUTHORIZED, []string{"unknown handle or wrong password"}},
		{"token/unknown-handle", f.anon(), "POST", "/api/v1/tokens", `{"handle":"ghost","password":"` + testPassword + `","name":"x","scopes":["read"]}`, nil, 401, steward.EUNAUTHORIZED, []string{"unknown handle or wrong password"}},
		{"token/other-participant", f.as(bobHandle), "DELETE", "/api/v1/tokens/" + ownID, nil, nil, 403, steward.EFORBIDDEN, []string{"only an operator may revoke another participant's token"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := f.snapshot(t)
			var resp *http.Response
			if tt.body != nil {
				resp = tt.c.json(tt.method, tt.path, tt.body, tt.hdr...)
			} else {
				resp = tt.c.do(tt.method, tt.path, nil, tt.hdr...)
			}
			checkProblem(t, resp, tt.status, tt.code, tt.detail...)
			f.unchanged(t, before)
		})
	}
}

// TestExpiry moves the clock past a session's and a token's lifetime.
func TestExpiry(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	browser := f.login(aliceHandle, testPassword)
	_, short := f.issueToken(t, aliceHandle, steward.ScopeRead) // 30 days
	for _, c := range []*client{browser, f.withBearer(short)} {
		me := decodeJSON[web.Me](t, c.get("/api/v1/me"), http.StatusOK)
		if me.Handle != aliceHandle {
			t.Fatalf("me is %s", me.Handle)
		}
	}
	f.clock.Advance(14*24*time.Hour - time.Second)
	decodeJSON[web.Me](t, browser.get("/api/v1/me"), http.StatusOK)
	f.clock.Advance(time.Second)
	checkProblem(t, browser.get("/api/v1/me"), http.StatusUnauthorized, steward.EUNAUTHORIZED, "log in")
	if resp := browser.get("/account"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("account page with an expired session: %s", resp.Status)
	}
	decodeJSON[web.Me](t, f.withBearer(short).get("/api/v1/me"), http.StatusOK)
	f.clock.Advance(16 * 24 * time.Hour)
	checkProblem(t, f.withBearer(short).get("/api/v1/me"), http.StatusUnauthorized, steward.EUNAUTHORIZED, "invalid or expired token")
}

// checkHTMLError checks an HTML error page with the status that says msg.
func checkHTMLError(t testing.TB, resp *http.Response, status int, msg string) {
	t.Helper()
	body := html.UnescapeString(readBody(t, resp))
	if resp.StatusCode != status {
		t.Errorf("status %d, want %d", resp.StatusCode, status)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("Content-Type %q, want HTML", ct)
	}
	if !strings.Contains(body, msg) {
		t.Errorf("page does not say %q:\n%s", msg, body)
	}
}

// TestCSRF posts forms and API writes from a browser session without the
// right CSRF token: each is refused and changes nothing; with it, the same
// request succeeds.
func TestCSRF(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	alice := f.login(aliceHandle, testPassword)
	aliceToken := alice.csrf("/account")
	bob := f.login(bobHandle, testPassword)
	bobToken := bob.csrf("/account")
	anon := f.anon()
	anonToken := anon.csrf("/register")
	otherAnonToken := f.anon().csrf("/register")
	profile := func(csrf ...string) url.Values {
		v := url.Values{"name": {"Alice Changed"}, "affiliation": {""}, "languages": {"en"}}
		if len(csrf) > 0 {
			v.Set("csrf", csrf[0])
		}
		return v
	}
	reg := func(csrf string) url.Values {
		r := carol()
		return url.Values{"csrf": {csrf}, "handle": {r.Handle}, "name": {r.Name}, "group": {r.Group}, "region": {r.Region},
			"languages": {"en"}, "email": {r.Email}, "password": {r.Password}}
	}
	forms := []struct {
		name string
		c    *client
		path string
		form url.Values
		msg  string
	}{
		{"profile/missing", alice, "/account/profile", profile(), "invalid CSRF token"},
		{"profile/wrong", alice, "/account/profile", profile("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"), "invalid CSRF token"},
		{"profile/other-session", alice, "/account/profile", profile(bobToken), "invalid CSRF token"},
		{"profile/anonymous-token", alice, "/account/profile", profile(anonToken), "invalid CSRF token"},
		{"token/missing", alice, "/account/tokens", url.Values{"name": {"x"}, "scopes": {"read"}, "ttl_days": {"1"}}, "invalid CSRF token"},
		{"logout/other-session", alice, "/logout", url.Values{"csrf": {bobToken}}, "invalid CSRF token"},
		{"register/missing", anon, "/register", reg(""), "invalid CSRF token"},
		{"register/other-visitor", anon, "/register", reg(otherAnonToken), "invalid CSRF token"},
		{"register/no-cookie", f.anon(), "/register", reg(anonToken), "missing CSRF cookie"},
	}
	for _, tt := range forms {
		t.Run(tt.name, func(t *testing.T) {
			before := f.snapshot(t)
			checkHTMLError(t, tt.c.form(tt.path, tt.form), http.StatusForbidden, tt.msg)
			f.unchanged(t, before)
		})
	}
	t.Run("logout-kept-session", func(t *testing.T) {
		decodeJSON[web.Me](t, alice.get("/api/v1/me"), http.StatusOK)
	})
	t.Run("api/no-header", func(t *testing.T) {
		before := f.snapshot(t)
		checkProblem(t, alice.json(http.MethodPatch, "/api/v1/participants/alice", `{"name":"Alice Changed"}`), 403, steward.EFORBIDDEN, "invalid CSRF token")
		f.unchanged(t, before)
	})
	t.Run("api/other-session-header", func(t *testing.T) {
		before := f.snapshot(t)
		checkProblem(t, alice.json(http.MethodPatch, "/api/v1/participants/alice", `{"name":"Alice Changed"}`, "X-CSRF-Token", bobToken), 403, steward.EFORBIDDEN, "invalid CSRF token")
		f.unchanged(t, before)
	})
	t.Run("api/delete-no-header", func(t *testing.T) {
		before := f.snapshot(t)
		id, _, _ := strings.Cut(strings.TrimPrefix(f.tokens[aliceHandle], "stw_"), "_")
		checkProblem(t, alice.do(http.MethodDelete, "/api/v1/tokens/"+id, nil), 403, steward.EFORBIDDEN, "invalid CSRF token")
		f.unchanged(t, before)
	})
	// The controls: the same requests with the right token go through.
	t.Run("api/with-header", func(t *testing.T) {
		n := f.ledgerSize(t)
		p := decodeJSON[steward.Participant](t, alice.json(http.MethodPatch, "/api/v1/participants/alice", `{"name":"Alice Changed"}`, "X-CSRF-Token", aliceToken), http.StatusOK)
		if p.Name != "Alice Changed" || f.ledgerSize(t) != n+1 {
			t.Errorf("patch: %+v, ledger %d → %d", p, n, f.ledgerSize(t))
		}
	})
	t.Run("form/with-token", func(t *testing.T) {
		n := f.ledgerSize(t)
		resp := alice.form("/account/profile", profile(aliceToken))
		if resp.StatusCode != http.StatusSeeOther || f.ledgerSize(t) != n+1 {
			t.Errorf("profile form: %s, ledger %d → %d", resp.Status, n, f.ledgerSize(t))
		}
		resp = anon.form("/register", reg(anonToken))
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/account?flash=welcome" {
			t.Errorf("register form: %s to %s", resp.Status, resp.Header.Get("Location"))
		}
		if f.lastEntry(t).Kind != "participant.registered" {
			t.Errorf("last entry is %s", f.lastEntry(t).Kind)
		}
	})
}

// TestCrossOrigin sends unsafe requests that a browser marks as coming from
// another site: http.CrossOriginProtection refuses them before any handler.
func TestCrossOrigin(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	alice := f.login(aliceHandle, testPassword)
	token := alice.csrf("/account")
	tests := []struct {
		name string
		do   func(hdr ...string) *http.Response
		api  bool
	}{
		{"api/register", func(h ...string) *http.Response {
			return f.anon().json(http.MethodPost, "/api/v1/participants", carol(), h...)
		}, true},
		{"api/patch-with-session", func(h ...string) *http.Response {
			return alice.json(http.MethodPatch, "/api/v1/participants/alice", `{"name":"Evil"}`, append(h, "X-CSRF-Token", token)...)
		}, true},
		{"form/profile", func(h ...string) *http.Response {
			return alice.form("/account/profile", url.Values{"csrf": {token}, "name": {"Evil"}, "languages": {"en"}}, h...)
		}, false},
	}
	for _, tt := range tests {
		for _, hdr := range [][]string{
			{"Sec-Fetch-Site", "cross-site"},
			{"Origin", "https://evil.example"},
		} {
			t.Run(tt.name+"/"+hdr[0], func(t *testing.T) {
				before := f.snapshot(t)
				resp := tt.do(hdr...)
				if tt.api {
					checkProblem(t, resp, http.StatusForbidden, steward.EFORBIDDEN, "cross-origin")
				} else {
					checkHTMLError(t, resp, http.StatusForbidden, "cross-origin request refused")
				}
				f.unchanged(t, before)
			})
		}
	}
	t.Run("same-origin-passes", func(t *testing.T) {
		resp := alice.json(http.MethodPatch, "/api/v1/participants/alice", `{"name":"Alice Again"}`, "Sec-Fetch-Site", "same-origin", "X-CSRF-Token", token)
		decodeJSON[steward.Participant](t, resp, http.StatusOK)
	})
}

// TestCookies checks the attributes of the cookies the server sets.
func TestCookies(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	c := f.anon()
	resp := c.get("/login")
	readBody(t, resp)
	csrfCookie := cookieNamed(t, resp, "steward_csrf")
	resp = c.form("/login", url.Values{"csrf": {c.csrf("/login")}, "handle": {aliceHandle}, "password": {testPassword}})
	readBody(t, resp)
	session := cookieNamed(t, resp, "steward_session")
	for _, ck := range []*http.Cookie{csrfCookie, session} {
		t.Run(ck.Name, func(t *testing.T) {
			if !ck.HttpOnly || !ck.Secure || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" {
				t.Errorf("cookie %s: HttpOnly %v, Secure %v, SameSite %v, Path %q; want HttpOnly, Secure, Lax, /", ck.Name, ck.HttpOnly, ck.Secure, ck.SameSite, ck.Path)
			}
			if len(ck.Value) < 43 {
				t.Errorf("cookie %s value has %d characters, want ≥ 43 (256 bits)", ck.Name, len(ck.Value))
			}
		})
	}
	if session.MaxAge != int((14 * 24 * time.Hour).Seconds()) {
		t.Errorf("session Max-Age %d, want 14 days", session.MaxAge)
	}
	t.Run("logout-ends-session", func(t *testing.T) {
		value := c.cookies["steward_session"]
		resp := c.form("/logout", url.Values{"csrf": {c.csrf("/account")}})
		readBody(t, resp)
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("logout: %s", resp.Status)
		}
		cleared := cookieNamed(t, resp, "steward_session")
		if cleared.MaxAge >= 0 || cleared.Value != "" {
			t.Errorf("logout cookie %+v does not clear the session", cleared)
		}
		replay := f.anon()
		replay.cookies["steward_session"] = value
		checkProblem(t, replay.get("/api/v1/me"), http.StatusUnauthorized, steward.EUNAUTHORIZED, "log in")
	})
	t.Run("insecure-cookies", func(t *testing.T) {
		g := newFixture(t, func(c *web.Config) { c.InsecureCookies = true })
		resp := g.anon().get("/login")
		readBody(t, resp)
		if ck := cookieNamed(t, resp, "steward_csrf"); ck.Secure || !ck.HttpOnly {
			t.Errorf("with InsecureCookies: Secure %v HttpOnly %v", ck.Secure, ck.HttpOnly)
		}
	})
}

// cookieNamed returns the last cookie of that name the response sets: a
// login clears the old session cookie before it sets the new one.
func cookieNamed(t testing.TB, resp *http.Response, name string) *http.Cookie {
	t.Helper()
	cks := resp.Cookies()
	for i := len(cks) - 1; i >= 0; i-- {
		if cks[i].Name == name {
			return cks[i]
		}
	}
	t.Fatalf("no %s cookie in %v", name, resp.Header["Set-Cookie"])
	return nil
}

// TestRateLimit sends more password-checking requests from one address than
// the limiter allows.
func TestRateLimit(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	c := f.anon()
	c.addr = "[2001:db8:1::1]:5555"
	body := `{"handle":"alice","password":"wrong password!","name":"x","scopes":["read"]}`
	for i := 0; i < 10; i++ {
		if resp := c.json(http.MethodPost, "/api/v1/tokens", body); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %s", i+1, resp.Status)
		}
	}
	resp := c.json(http.MethodPost, "/api/v1/tokens", body)
	if resp.Header.Get("Retry-After") == "" {
		t.Errorf("429 without Retry-After")
	}
	checkProblem(t, resp, http.StatusTooManyRequests, "rate_limited", "too many requests")
	// Another address is not affected; time refills the bucket.
	if resp := f.anon().json(http.MethodPost, "/api/v1/tokens", body); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("other address: %s", resp.Status)
	}
	f.clock.Advance(3 * time.Second)
	if resp := c.json(http.MethodPost, "/api/v1/tokens", body); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("after 3 s: %s", resp.Status)
	}
}
