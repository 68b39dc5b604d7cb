package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"steward"
	"steward/web"
)

// templateErrors are strings that only a broken template or a failed
// formatting verb put into a page.
var templateErrors = []string{"ZgotmplZ", "<no value>", "template:", "%!", "internal error", "map[", "&lt;nil&gt;"}

// parseHTML parses a page, failing t if it is not HTML.
func parseHTML(t testing.TB, body string) *html.Node {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// findAll returns the nodes under n for which match is true, in document order.
func findAll(n *html.Node, match func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	for d := range n.Descendants() {
		if match(d) {
			out = append(out, d)
		}
	}
	return out
}

func isElem(a atom.Atom) func(*html.Node) bool {
	return func(n *html.Node) bool { return n.Type == html.ElementNode && n.DataAtom == a }
}

func attr(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

func textOf(n *html.Node) string {
	var b strings.Builder
	for d := range n.Descendants() {
		if d.Type == html.TextNode {
			b.WriteString(d.Data)
		}
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

// checkPage checks what every page must have: HTML with a language, one
// non-empty title, one main, one h1, no template error text, unique ids,
// a label for every form control, and a CSRF field in every POST form. It
// returns the parsed page.
func checkPage(t testing.TB, resp *http.Response, status int) *html.Node {
	t.Helper()
	body := readBody(t, resp)
	if resp.StatusCode != status {
		t.Errorf("status %d, want %d", resp.StatusCode, status)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	for _, e := range templateErrors {
		if strings.Contains(body, e) {
			t.Errorf("page holds %q", e)
		}
	}
	doc := parseHTML(t, body)
	if hs := findAll(doc, isElem(atom.Html)); len(hs) != 1 {
		t.Errorf("%d html elements", len(hs))
	} else if lang, _ := attr(hs[0], "lang"); lang == "" {
		t.Errorf("html has no lang")
	}
	titles := findAll(doc, isElem(atom.Title))
	if len(titles) != 1 || strings.TrimSpace(strings.TrimPrefix(textOf(titles[0]), "·")) == "" || strings.HasPrefix(textOf(titles[0]), "·") {
		t.Errorf("titles: %d, first %q", len(titles), textOf(titles[0]))
	}
	if mains := findAll(doc, isElem(atom.Main)); len(mains) != 1 {
		t.Errorf("%d main elements, want 1", len(mains))
	}
	if h1s := findAll(doc, isElem(atom.H1)); len(h1s) != 1 || textOf(h1s[0]) == "" {
		t.Errorf("%d h1 elements, want 1 with text", len(h1s))
	}
	ids := map[string]bool{}
	for _, n := range findAll(doc, func(n *html.Node) bool { _, ok := attr(n, "id"); return n.Type == html.ElementNode && ok }) {
		id, _ := attr(n, "id")
		if ids[id] {
			t.Errorf("duplicate id %q", id)
		}
		ids[id] = true
	}
	labelFor := map[string]bool{}
	for _, l := range findAll(doc, isElem(atom.Label)) {
		if f, ok := attr(l, "for"); ok {
			if !ids[f] {
				t.Errorf("label %q is for a missing id %q", textOf(l), f)
			}
			labelFor[f] = true
		}
	}
	controls := findAll(doc, func(n *html.Node) bool {
		return n.Type == html.ElementNode && (n.DataAtom == atom.Input || n.DataAtom == atom.Select || n.DataAtom == atom.Textarea)
	})
	for _, c := range controls {
		typ, _ := attr(c, "type")
		switch typ {
		case "hidden", "submit", "button", "reset", "image":
			continue
		}
		id, _ := attr(c, "id")
		name, _ := attr(c, "name")
		if labelFor[id] && id != "" {
			continue
		}
		wrapped := false // a label around the control labels it too
		for p := c.Parent; p != nil; p = p.Parent {
			if p.Type == html.ElementNode && p.DataAtom == atom.Label && textOf(p) != "" {
				wrapped = true
			}
		}
		if !wrapped {
			t.Errorf("<%s name=%q id=%q> has no label", c.Data, name, id)
		}
	}
	for _, form := range findAll(doc, isElem(atom.Form)) {
		if m, _ := attr(form, "method"); strings.EqualFold(m, "post") {
			if len(findAll(form, func(n *html.Node) bool {
				name, _ := attr(n, "name")
				typ, _ := attr(n, "type")
				return n.DataAtom == atom.Input && name == "csrf" && typ == "hidden"
			})) != 1 {
				action, _ := attr(form, "action")
				t.Errorf("POST form to %s has no CSRF field", action)
			}
		}
	}
	return doc
}

// links returns the site-internal links of a page, without fragments.
func links(doc *html.Node) []string {
	var out []string
	for _, a := range findAll(doc, isElem(atom.A)) {
		href, _ := attr(a, "href")
		if strings.HasPrefix(href, "/") {
			href, _, _ = strings.Cut(href, "#")
			out = append(out, href)
		}
	}
	return out
}

// TestPages renders every page of the UI, anonymous and logged in, checks
// each for structure, labels and template errors, and follows every
// internal link.
func TestPages(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.do(t, steward.SeatMember(steward.ActorInit, "maintainers", bobHandle, ""))
	f.do(t, steward.SetChair(steward.ActorInit, "maintainers", bobHandle))
	f.do(t, steward.GrantRole(steward.ActorInit, steward.Grant{Participant: aliceHandle, Role: steward.RoleResourceContact, Scope: "tld:example"}))
	f.sign(t)
	last := f.ledgerSize(t) - 1
	f.register(t, "uncovered", "government", "asia-pacific") // an entry no checkpoint covers yet

	anon := f.anon()
	alice := f.login(aliceHandle, testPassword)
	pages := []struct {
		path   string
		c      *client
		status int
		says   string
		nav    string
	}{
		{"/", anon, 200, "Test Network", ""},
		{"/charter", anon, 200, "Community Network", "/charter"},
		{"/bodies", anon, 200, "Registry Maintainers", "/bodies"},
		{"/bodies/maintainers", anon, 200, "bob", "/bodies"},
		{"/bodies/members", anon, 200, "No one sits in this body yet", "/bodies"},
		{"/participants", anon, 200, "alice", "/participants"},
		{"/participants?after=alice&limit=1", anon, 200, "bob", "/participants"},
		{"/participants/alice", anon, 200, "tld:example", "/participants"},
		{"/participants/bob", anon, 200, "maintainers", "/participants"},
		{"/ledger", anon, 200, "participant.registered", "/ledger"},
		{"/ledger?before=3", anon, 200, "charter.adopted", "/ledger"},
		{"/ledger/0", anon, 200, "instance.created", "/ledger"},
		{fmt.Sprintf("/ledger/%d", last), anon, 200, "The proof", "/ledger"},
		{fmt.Sprintf("/ledger/%d", last+1), anon, 200, "No checkpoint covers this entry yet", "/ledger"},
		{"/register", anon, 200, "Stakeholder group", "/register"},
		{"/login", anon, 200, "Log in", "/login"},
		{"/account", alice, 200, "alice@example.org", "/account"},
		{"/", alice, 200, "Log out", ""},
		{"/no-such-page", anon, 404, "Page not found", ""},
		{"/participants/ghost", anon, 404, `no participant "ghost"`, ""},
		{"/bodies/senate", anon, 404, `the charter has no body "senate"`, ""},
		{"/ledger/9999", anon, 404, "no ledger entry 9999", ""},
		{"/ledger/x", anon, 400, `"x" is not an entry number`, ""},
		{"/account", anon, 401, "log in to see your account", ""},
	}
	checked := map[string]int{}
	var toFollow []string
	for _, p := range pages {
		t.Run(p.path, func(t *testing.T) {
			resp := p.c.get(p.path)
			doc := checkPage(t, resp, p.status)
			if text := textOf(doc); !strings.Contains(text, p.says) {
				t.Errorf("page does not say %q", p.says)
			}
			if p.nav != "" {
				cur := findAll(doc, func(n *html.Node) bool { v, _ := attr(n, "aria-current"); return v == "page" })
				if len(cur) != 1 {
					t.Errorf("%d links marked aria-current", len(cur))
				} else if href, _ := attr(cur[0], "href"); href != p.nav {
					t.Errorf("aria-current on %s, want %s", href, p.nav)
				}
			}
			checked[p.path] = p.status
			if p.c == anon {
				toFollow = append(toFollow, links(doc)...)
			}
		})
	}
	t.Run("links", func(t *testing.T) {
		for _, l := range toFollow {
			if _, ok := checked[l]; ok {
				continue
			}
			resp := anon.get(l)
			readBody(t, resp)
			checked[l] = resp.StatusCode
			if resp.StatusCode >= 400 {
				t.Errorf("link %s: %s", l, resp.Status)
			}
		}
		if len(checked) < 40 {
			t.Errorf("followed only %d links", len(checked))
		}
	})
}

// TestFormErrors submits forms with mistakes: the page comes back with the
// error announced (role=alert), the input kept, and the password dropped.
func TestFormErrors(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	c := f.anon()
	token := c.csrf("/register")
	form := url.Values{"csrf": {token}, "handle": {"carol"}, "name": {"Carol Example"}, "group": {"civil-society"},
		"affiliation": {"Example Org"}, "region": {"europe"}, "languages": {"en, xx-!!"}, "email": {"carol@example.org"}, "password": {"a secret password"}}
	before := f.snapshot(t)
	resp := c.form("/register", form)
	doc := checkPage(t, resp, http.StatusBadRequest)
	f.unchanged(t, before)
	alerts := findAll(doc, func(n *html.Node) bool { v, _ := attr(n, "role"); return v == "alert" })
	if len(alerts) != 1 || !strings.Contains(textOf(alerts[0]), `language "xx-!!"`) {
		t.Errorf("alerts %d: %q", len(alerts), textOf(doc))
	}
	for _, in := range findAll(doc, isElem(atom.Input)) {
		name, _ := attr(in, "name")
		v, _ := attr(in, "value")
		switch name {
		case "handle", "name", "affiliation", "email":
			if v != form.Get(name) {
				t.Errorf("field %s refilled with %q, want %q", name, v, form.Get(name))
			}
		case "password":
			if v != "" {
				t.Errorf("password refilled")
			}
		}
	}
	for _, sel := range findAll(doc, isElem(atom.Select)) {
		name, _ := attr(sel, "name")
		for _, o := range findAll(sel, isElem(atom.Option)) {
			if _, ok := attr(o, "selected"); ok {
				if v, _ := attr(o, "value"); v != form.Get(name) {
					t.Errorf("select %s keeps %q, want %q", name, v, form.Get(name))
				}
			}
		}
	}

	resp = c.form("/login", url.Values{"csrf": {c.csrf("/login")}, "handle": {"alice"}, "password": {"not the password"}})
	doc = checkPage(t, resp, http.StatusUnauthorized)
	alerts = findAll(doc, func(n *html.Node) bool { v, _ := attr(n, "role"); return v == "alert" })
	if len(alerts) != 1 || textOf(alerts[0]) != "unknown handle or wrong password" {
		t.Errorf("login error: %d alerts", len(alerts))
	}
	if c.cookies["steward_session"] != "" {
		t.Errorf("a failed login set a session cookie")
	}

	alice := f.login(aliceHandle, testPassword)
	before = f.snapshot(t)
	resp = alice.form("/account/profile", url.Values{"csrf": {alice.csrf("/account")}, "name": {""}, "languages": {"en"}})
	doc = checkPage(t, resp, http.StatusBadRequest)
	f.unchanged(t, before)
	if alerts = findAll(doc, func(n *html.Node) bool { v, _ := attr(n, "role"); return v == "alert" }); len(alerts) != 1 || !strings.Contains(textOf(alerts[0]), "name") {
		t.Errorf("profile error not announced")
	}
}

// TestAccountTokens creates and revokes a token through the account page.
func TestAccountTokens(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	alice := f.login(aliceHandle, testPassword)
	resp := alice.form("/account/tokens", url.Values{"csrf": {alice.csrf("/account")}, "name": {"ci"}, "scopes": {"read", "write"}, "ttl_days": {"30"}})
	doc := checkPage(t, resp, http.StatusOK)
	var bearer string
	for _, code := range findAll(doc, isElem(atom.Code)) {
		if s := textOf(code); strings.HasPrefix(s, "stw_") {
			bearer = s
		}
	}
	if bearer == "" {
		t.Fatal("the new token is not shown")
	}
	if resp.Header.Get("Location") != "" {
		t.Errorf("the bearer travels in a URL")
	}
	decodeJSON[web.Me](t, f.withBearer(bearer).get("/api/v1/me"), http.StatusOK)
	// Shown once: the account page does not show it again.
	if body := readBody(t, alice.get("/account")); strings.Contains(body, bearer) {
		t.Errorf("the bearer is shown again")
	}
	tokens, err := steward.Tokens(f.ctx, f.store, aliceHandle)
	if err != nil {
		t.Fatal(err)
	}
	var id string
	for _, tk := range tokens {
		if tk.Name == "ci" {
			id = tk.ID
		}
	}
	resp = alice.form("/account/tokens/"+id+"/revoke", url.Values{"csrf": {alice.csrf("/account")}})
	readBody(t, resp)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("revoke: %s", resp.Status)
	}
	checkProblem(t, f.withBearer(bearer).get("/api/v1/me"), http.StatusUnauthorized, steward.EUNAUTHORIZED, "invalid or expired token")
}
