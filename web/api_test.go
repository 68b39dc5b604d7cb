package web_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"steward"
	"steward/web"
)

// TestRegisterAPI registers through the API: 201, one participant.registered
// entry in the ledger, and the participant readable back.
func TestRegisterAPI(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	before := f.snapshot(t)
	req := carol()
	p := decodeJSON[steward.Participant](t, f.anon().json(http.MethodPost, "/api/v1/participants", req), http.StatusCreated)
	if p.Handle != req.Handle || p.Name != req.Name || p.Group != req.Group || p.Region != req.Region || !slices.Equal(p.Languages, req.Languages) {
		t.Errorf("registered %+v from %+v", p, req)
	}
	if !p.Registered.Equal(f.clock.Now()) {
		t.Errorf("registered at %v, want %v", p.Registered, f.clock.Now())
	}
	after := f.snapshot(t)
	if after.size != before.size+1 || after.participants != before.participants+1 {
		t.Fatalf("ledger %d → %d, participants %d → %d; want one more of each", before.size, after.size, before.participants, after.participants)
	}
	e := decodeJSON[web.EntryProof](t, f.anon().get("/api/v1/log/entries/"+strconv.FormatInt(before.size, 10)), http.StatusOK)
	if e.Kind != "participant.registered" || e.Actor != req.Handle || e.Seq != before.size {
		t.Errorf("entry %d is %s by %s", e.Seq, e.Kind, e.Actor)
	}
	var payload steward.Participant
	if err := json.Unmarshal(e.Payload, &payload); err != nil || payload.Handle != req.Handle {
		t.Errorf("payload %s: %v", e.Payload, err)
	}
	if strings.Contains(string(e.Payload), req.Email) || strings.Contains(string(e.Payload), req.Password) {
		t.Errorf("the public ledger entry holds private data: %s", e.Payload)
	}
	info := decodeJSON[web.ParticipantInfo](t, f.anon().get("/api/v1/participants/carol"), http.StatusOK)
	if info.Handle != "carol" || info.Roles == nil || info.Seats == nil {
		t.Errorf("participant %+v", info)
	}
	// The new account logs in with its password.
	tok := decodeJSON[web.IssuedToken](t, f.anon().json(http.MethodPost, "/api/v1/tokens",
		web.TokenRequest{Handle: "carol", Password: req.Password, Name: "laptop", Scopes: []string{"read"}}), http.StatusCreated)
	me := decodeJSON[web.Me](t, f.withBearer(tok.Bearer).get("/api/v1/me"), http.StatusOK)
	if me.Email != req.Email {
		t.Errorf("me.email %q, want %q", me.Email, req.Email)
	}
}

// TestTokens issues a token with handle and password, uses it, lists and
// revokes it.
func TestTokens(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	n := f.ledgerSize(t)
	tok := decodeJSON[web.IssuedToken](t, f.anon().json(http.MethodPost, "/api/v1/tokens",
		web.TokenRequest{Handle: aliceHandle, Password: testPassword, Name: "script", Scopes: []string{"write", "read"}, TTLDays: 7}), http.StatusCreated)
	if tok.Participant != aliceHandle || !slices.Equal(tok.Scopes, []string{"read", "write"}) || tok.Bearer == "" {
		t.Fatalf("token %+v", tok)
	}
	if want := f.clock.Now().AddDate(0, 0, 7); !tok.Expires.Equal(want) {
		t.Errorf("expires %v, want %v", tok.Expires, want)
	}
	if f.ledgerSize(t) != n+1 || f.lastEntry(t).Kind != "token.issued" {
		t.Errorf("ledger after issuing: %d entries, last %s", f.ledgerSize(t), f.lastEntry(t).Kind)
	}
	if strings.Contains(string(f.lastEntry(t).Payload), tok.Bearer[len(tok.Bearer)-43:]) {
		t.Errorf("the ledger holds the token's secret")
	}
	c := f.withBearer(tok.Bearer)
	me := decodeJSON[web.Me](t, c.get("/api/v1/me"), http.StatusOK)
	if me.Handle != aliceHandle || me.Via != "token" || !slices.Equal(me.Scopes, []string{"read", "write"}) || me.Email != "alice@example.org" {
		t.Errorf("me %+v", me)
	}
	list := decodeJSON[[]steward.Token](t, c.get("/api/v1/tokens"), http.StatusOK)
	if !slices.ContainsFunc(list, func(x steward.Token) bool { return x.ID == tok.ID }) {
		t.Errorf("token list %+v lacks %s", list, tok.ID)
	}
	// A token may mint a narrower one, never a wider one.
	narrow := decodeJSON[web.IssuedToken](t, c.json(http.MethodPost, "/api/v1/tokens", web.TokenRequest{Name: "narrow", Scopes: []string{"read"}}), http.StatusCreated)
	if narrow.Participant != aliceHandle || !slices.Equal(narrow.Scopes, []string{"read"}) {
		t.Errorf("narrow token %+v", narrow)
	}
	if resp := c.do(http.MethodDelete, "/api/v1/tokens/"+tok.ID, nil); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("revoke: %s %s", resp.Status, readBody(t, resp))
	}
	checkProblem(t, c.get("/api/v1/me"), http.StatusUnauthorized, steward.EUNAUTHORIZED, "invalid or expired token")
	decodeJSON[web.Me](t, f.withBearer(narrow.Bearer).get("/api/v1/me"), http.StatusOK)
}

// TestMeViaSession reads /api/v1/me with a browser session.
func TestMeViaSession(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	me := decodeJSON[web.Me](t, f.login(bobHandle, testPassword).get("/api/v1/me"), http.StatusOK)
	if me.Handle != bobHandle || me.Via != "session" || !slices.Equal(me.Scopes, steward.AllScopes) {
		t.Errorf("me %+v", me)
	}
}

// TestPatchProfile changes a profile field by field.
func TestPatchProfile(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	c := f.as(aliceHandle)
	steps := []struct {
		body string
		want steward.Participant
	}{
		{`{"name":"Alice Liddell"}`, steward.Participant{Name: "Alice Liddell", Languages: []string{"en"}}},
		{`{"affiliation":"Wonderland CN"}`, steward.Participant{Name: "Alice Liddell", Affiliation: "Wonderland CN", Languages: []string{"en"}}},
		{`{"languages":["fr","sw","EN-gb"]}`, steward.Participant{Name: "Alice Liddell", Affiliation: "Wonderland CN", Languages: []string{"fr", "sw", "en-GB"}}},
		{`{}`, steward.Participant{Name: "Alice Liddell", Affiliation: "Wonderland CN", Languages: []string{"fr", "sw", "en-GB"}}},
	}
	for i, s := range steps {
		n := f.ledgerSize(t)
		p := decodeJSON[steward.Participant](t, c.json(http.MethodPatch, "/api/v1/participants/alice", s.body), http.StatusOK)
		if p.Name != s.want.Name || p.Affiliation != s.want.Affiliation || !slices.Equal(p.Languages, s.want.Languages) {
			t.Errorf("step %d %s: got %+v", i, s.body, p)
		}
		if f.ledgerSize(t) != n+1 || f.lastEntry(t).Kind != "participant.updated" || f.lastEntry(t).Actor != aliceHandle {
			t.Errorf("step %d: ledger %d → %d, last %s", i, n, f.ledgerSize(t), f.lastEntry(t).Kind)
		}
		got := decodeJSON[web.ParticipantInfo](t, f.anon().get("/api/v1/participants/alice"), http.StatusOK)
		if got.Name != s.want.Name || !slices.Equal(got.Languages, s.want.Languages) || got.Group != "civil-society" {
			t.Errorf("step %d: read back %+v", i, got)
		}
	}
	checkProblem(t, c.json(http.MethodPatch, "/api/v1/participants/ghost", `{"name":"x"}`), http.StatusNotFound, steward.ENOTFOUND, `no participant "ghost"`)
}

// TestRoles grants and revokes roles as the operator.
func TestRoles(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	op := f.as(opHandle)
	grants := []web.RoleRequest{
		{Role: steward.RoleModerator},
		{Role: steward.RoleResourceContact, Scope: "tld:example"},
	}
	for _, g := range grants {
		n := f.ledgerSize(t)
		got := decodeJSON[steward.Grant](t, op.json(http.MethodPost, "/api/v1/participants/alice/roles", g), http.StatusCreated)
		if got.Participant != aliceHandle || got.Role != g.Role || got.Scope != g.Scope {
			t.Errorf("granted %+v, want %+v", got, g)
		}
		if f.ledgerSize(t) != n+1 || f.lastEntry(t).Kind != "role.granted" || f.lastEntry(t).Actor != opHandle {
			t.Errorf("grant %s: last entry %s by %s", g.Role, f.lastEntry(t).Kind, f.lastEntry(t).Actor)
		}
	}
	roles := decodeJSON[[]steward.Grant](t, f.anon().get("/api/v1/participants/alice/roles"), http.StatusOK)
	if len(roles) != 2 || roles[0].By != opHandle {
		t.Errorf("roles %+v", roles)
	}
	checkProblem(t, op.json(http.MethodPost, "/api/v1/participants/alice/roles", grants[0]), http.StatusConflict, steward.ECONFLICT, "holds the role moderator already")
	checkProblem(t, op.json(http.MethodPost, "/api/v1/participants/alice/roles", `{"role":"king"}`), http.StatusBadRequest, steward.EINVALID, `unknown role "king"`)
	checkProblem(t, op.json(http.MethodPost, "/api/v1/participants/ghost/roles", grants[0]), http.StatusNotFound, steward.ENOTFOUND, `no participant "ghost"`)

	for _, g := range grants {
		path := "/api/v1/participants/alice/roles/" + g.Role
		if g.Scope != "" {
			path += "?scope=" + url.QueryEscape(g.Scope)
		}
		n := f.ledgerSize(t)
		if resp := op.do(http.MethodDelete, path, nil); resp.StatusCode != http.StatusNoContent {
			t.Fatalf("revoke %s: %s %s", g.Role, resp.Status, readBody(t, resp))
		}
		if f.ledgerSize(t) != n+1 || f.lastEntry(t).Kind != "role.revoked" {
			t.Errorf("revoke %s: last entry %s", g.Role, f.lastEntry(t).Kind)
		}
	}
	roles = decodeJSON[[]steward.Grant](t, f.anon().get("/api/v1/participants/alice/roles"), http.StatusOK)
	if len(roles) != 0 {
		t.Errorf("roles after revoking: %+v", roles)
	}
	checkProblem(t, op.do(http.MethodDelete, "/api/v1/participants/alice/roles/moderator", nil), http.StatusNotFound, steward.ENOTFOUND, "does not hold the role moderator")
	// A new operator can act as one.
	decodeJSON[steward.Grant](t, op.json(http.MethodPost, "/api/v1/participants/bob/roles", web.RoleRequest{Role: "operator"}), http.StatusCreated)
	decodeJSON[steward.Grant](t, f.as(bobHandle).json(http.MethodPost, "/api/v1/participants/alice/roles", web.RoleRequest{Role: "moderator"}), http.StatusCreated)
}

// TestSeatUnseatChair seats members, makes one chair, and unseats.
func TestSeatUnseatChair(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	op := f.as(opHandle)
	for _, h := range []string{bobHandle, aliceHandle} {
		m := decodeJSON[steward.Member](t, op.json(http.MethodPost, "/api/v1/bodies/maintainers/members", web.SeatRequest{Participant: h}), http.StatusCreated)
		if m.Capacity != "voting" || !m.Seated.Equal(f.clock.Now()) {
			t.Errorf("seat %s: %+v", h, m)
		}
		if f.lastEntry(t).Kind != "body.seated" {
			t.Errorf("last entry %s", f.lastEntry(t).Kind)
		}
	}
	checkProblem(t, op.json(http.MethodPut, "/api/v1/bodies/maintainers/chair", web.ChairRequest{Participant: opHandle}), http.StatusBadRequest, steward.EINVALID, "operator does not sit in maintainers")
	ch := decodeJSON[web.ChairRequest](t, op.json(http.MethodPut, "/api/v1/bodies/maintainers/chair", web.ChairRequest{Participant: bobHandle}), http.StatusOK)
	if ch.Participant != bobHandle || f.lastEntry(t).Kind != "body.chair-set" {
		t.Errorf("chair %+v, last entry %s", ch, f.lastEntry(t).Kind)
	}
	b := decodeJSON[web.BodyInfo](t, f.anon().get("/api/v1/bodies/maintainers"), http.StatusOK)
	if b.Chair != bobHandle || len(b.Members) != 2 || b.SeatCount != 5 || b.Kind != "committee" {
		t.Errorf("body %+v", b)
	}
	info := decodeJSON[web.ParticipantInfo](t, f.anon().get("/api/v1/participants/bob"), http.StatusOK)
	if len(info.Seats) != 1 || info.Seats[0].Body != "maintainers" || !slices.Equal(info.Chair, []string{"maintainers"}) {
		t.Errorf("bob %+v", info)
	}
	// The chair of members appoints maintainers (appointed_by: members).
	decodeJSON[steward.Member](t, op.json(http.MethodPost, "/api/v1/bodies/members/members", web.SeatRequest{Participant: aliceHandle}), http.StatusCreated)
	decodeJSON[web.ChairRequest](t, op.json(http.MethodPut, "/api/v1/bodies/members/chair", web.ChairRequest{Participant: aliceHandle}), http.StatusOK)
	decodeJSON[steward.Member](t, f.as(aliceHandle).json(http.MethodPost, "/api/v1/bodies/maintainers/members", web.SeatRequest{Participant: opHandle}), http.StatusCreated)

	// Unseating the chair clears the chair.
	if resp := op.do(http.MethodDelete, "/api/v1/bodies/maintainers/members/bob?reason=term+ended", nil); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("unseat: %s %s", resp.Status, readBody(t, resp))
	}
	e := f.lastEntry(t)
	if e.Kind != "body.unseated" || !strings.Contains(string(e.Payload), "term ended") {
		t.Errorf("last entry %s %s", e.Kind, e.Payload)
	}
	b = decodeJSON[web.BodyInfo](t, f.anon().get("/api/v1/bodies/maintainers"), http.StatusOK)
	if b.Chair != "" || len(b.Members) != 2 {
		t.Errorf("after unseating the chair: %+v", b)
	}
	// A member may resign with a write-scoped token; others may not unseat.
	_, write := f.issueToken(t, aliceHandle, steward.ScopeWrite)
	before := f.snapshot(t)
	checkProblem(t, f.withBearer(write).do(http.MethodDelete, "/api/v1/bodies/maintainers/members/operator", nil), http.StatusForbidden, steward.EFORBIDDEN, `"admin" scope`)
	f.unchanged(t, before)
	if resp := f.withBearer(write).do(http.MethodDelete, "/api/v1/bodies/maintainers/members/alice", nil); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("resign: %s %s", resp.Status, readBody(t, resp))
	}
	checkProblem(t, op.do(http.MethodDelete, "/api/v1/bodies/maintainers/members/alice", nil), http.StatusNotFound, steward.ENOTFOUND, "alice does not sit in maintainers")
}

// TestETag checks that every JSON read carries an ETag, answers 304 to
// If-None-Match with it, and changes when the data does.
func TestETag(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	paths := []string{
		"/api/v1/instance", "/api/v1/charter", "/api/v1/charter/versions/1",
		"/api/v1/participants", "/api/v1/participants/alice", "/api/v1/participants/alice/roles",
		"/api/v1/bodies", "/api/v1/bodies/maintainers", "/api/v1/me", "/api/v1/tokens",
		"/api/v1/log/checkpoint", "/api/v1/log/entries", "/api/v1/log/entries/0",
		"/api/v1/log/proof/inclusion?index=0&size=2", "/api/v1/log/proof/consistency?old=1&new=2",
		"/api/v1/state?prefix=participant/",
	}
	c := f.as(aliceHandle)
	for _, p := range paths {
		t.Run(p, func(t *testing.T) {
			resp := c.get(p)
			body := readBody(t, resp)
			etag := resp.Header.Get("ETag")
			if resp.StatusCode != http.StatusOK || etag == "" || etag[0] != '"' {
				t.Fatalf("%s, ETag %q: %s", resp.Status, etag, body)
			}
			resp = c.get(p, "If-None-Match", etag)
			if b := readBody(t, resp); resp.StatusCode != http.StatusNotModified || b != "" {
				t.Errorf("with If-None-Match: %s %q", resp.Status, b)
			}
			if resp.Header.Get("ETag") != etag {
				t.Errorf("304 ETag %q, want %q", resp.Header.Get("ETag"), etag)
			}
			resp = c.get(p, "If-None-Match", `"something-else", `+etag)
			readBody(t, resp)
			if resp.StatusCode != http.StatusNotModified {
				t.Errorf("with a list holding the ETag: %s", resp.Status)
			}
			resp = c.get(p, "If-None-Match", `"stale"`)
			readBody(t, resp)
			if resp.StatusCode != http.StatusOK {
				t.Errorf("with a stale ETag: %s", resp.Status)
			}
		})
	}
	t.Run("changes-with-data", func(t *testing.T) {
		resp := c.get("/api/v1/participants/alice")
		readBody(t, resp)
		old := resp.Header.Get("ETag")
		decodeJSON[steward.Participant](t, c.json(http.MethodPatch, "/api/v1/participants/alice", `{"name":"Alice New"}`), http.StatusOK)
		resp = c.get("/api/v1/participants/alice", "If-None-Match", old)
		readBody(t, resp)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("ETag") == old {
			t.Errorf("after a change: %s, ETag %q (was %q)", resp.Status, resp.Header.Get("ETag"), old)
		}
	})
}

// TestPagination walks /api/v1/participants and /api/v1/log/entries page
// by page and checks that the pages join up to the whole list.
func TestPagination(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for _, h := range []string{"dan", "eve", "fay", "gus", "hal", "ivy", "jon"} {
		f.register(t, h, "private-sector", "north-america")
	}
	c := f.anon()
	t.Run("participants", func(t *testing.T) {
		all := decodeJSON[web.List[steward.Participant]](t, c.get("/api/v1/participants"), http.StatusOK)
		if len(all.Items) != 10 || all.Next != "" {
			t.Fatalf("one page: %d items, next %q", len(all.Items), all.Next)
		}
		for _, limit := range []int{1, 3, 4, 10} {
			var got []string
			after := ""
			for pages := 0; ; pages++ {
				if pages > 20 {
					t.Fatal("pagination does not end")
				}
				q := url.Values{"limit": {strconv.Itoa(limit)}}
				if after != "" {
					q.Set("after", after)
				}
				l := decodeJSON[web.List[steward.Participant]](t, c.get("/api/v1/participants?"+q.Encode()), http.StatusOK)
				if len(l.Items) > limit {
					t.Fatalf("limit %d: page of %d", limit, len(l.Items))
				}
				for _, p := range l.Items {
					got = append(got, p.Handle)
				}
				if l.Next == "" {
					break
				}
				after = l.Next
			}
			var want []string
			for _, p := range all.Items {
				want = append(want, p.Handle)
			}
			if !slices.Equal(got, want) || !slices.IsSorted(got) {
				t.Errorf("limit %d: %v, want %v", limit, got, want)
			}
		}
	})
	t.Run("entries", func(t *testing.T) {
		size := f.ledgerSize(t)
		for _, limit := range []int{1, 4, int(size), 1000} {
			var seqs []int64
			after := ""
			for pages := 0; ; pages++ {
				if pages > int(size)+1 {
					t.Fatal("pagination does not end")
				}
				q := url.Values{"limit": {strconv.Itoa(limit)}}
				if after != "" {
					q.Set("after", after)
				}
				l := decodeJSON[web.List[web.Entry]](t, c.get("/api/v1/log/entries?"+q.Encode()), http.StatusOK)
				for _, e := range l.Items {
					seqs = append(seqs, e.Seq)
				}
				if l.Next == "" {
					break
				}
				after = l.Next
			}
			if int64(len(seqs)) != size {
				t.Fatalf("limit %d: %d entries, want %d", limit, len(seqs), size)
			}
			for i, s := range seqs {
				if s != int64(i) {
					t.Fatalf("limit %d: entry %d has seq %d", limit, i, s)
				}
			}
		}
	})
	bad := []struct{ path, detail string }{
		{"/api/v1/participants?limit=0", "limit"},
		{"/api/v1/participants?limit=1001", "limit"},
		{"/api/v1/participants?limit=ten", "limit"},
		{"/api/v1/log/entries?after=-1", `"-1" is not an entry number`},
		{"/api/v1/log/entries?after=x", `"x" is not an entry number`},
		{"/api/v1/state?prefix=a%20b", "prefix"},
	}
	for _, b := range bad {
		t.Run("bad"+b.path, func(t *testing.T) {
			checkProblem(t, c.get(b.path), http.StatusBadRequest, steward.EINVALID, b.detail)
		})
	}
}

// TestNotFoundAPI checks that unknown API paths and things are problems.
func TestNotFoundAPI(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	c := f.anon()
	tests := []struct {
		method, path string
		status       int
		code, detail string
	}{
		{"GET", "/api/v1/nothing", 404, steward.ENOTFOUND, "no such API endpoint"},
		{"GET", "/api/v2/participants", 404, steward.ENOTFOUND, "no such API endpoint"},
		{"GET", "/api/v1/participants/ghost", 404, steward.ENOTFOUND, `no participant "ghost"`},
		{"GET", "/api/v1/bodies/senate", 404, steward.ENOTFOUND, `no body "senate"`},
		{"GET", "/api/v1/charter/versions/9", 404, steward.ENOTFOUND, "no charter version 9"},
		{"GET", "/api/v1/charter/versions/0", 400, steward.EINVALID, "version"},
		{"GET", "/api/v1/log/entries/999", 404, steward.ENOTFOUND, "no ledger entry 999"},
		{"GET", "/api/v1/log/entries/x", 400, steward.EINVALID, "seq"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			checkProblem(t, c.do(tt.method, tt.path, nil), tt.status, tt.code, tt.detail)
		})
	}
}

// TestCharterCheck validates charter text through the API.
func TestCharterCheck(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	c := f.anon()
	rec := decodeJSON[web.CharterInfo](t, c.get("/api/v1/charter"), http.StatusOK)
	res := decodeJSON[web.CheckResult](t, c.do(http.MethodPost, "/api/v1/charter/check", strings.NewReader(rec.Text), "Content-Type", "application/yaml"), http.StatusOK)
	if !res.Valid || res.Hash != rec.Hash || len(res.Errors) != 0 {
		t.Errorf("the charter in force does not check: %+v", res)
	}
	res = decodeJSON[web.CheckResult](t, c.do(http.MethodPost, "/api/v1/charter/check", strings.NewReader("charter: 1\nname: x\nbodies: 7\n")), http.StatusOK)
	if res.Valid || len(res.Errors) == 0 || res.Errors[0].Message == "" {
		t.Errorf("a broken charter checks: %+v", res)
	}
}
