package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"steward"
)

// TestPolicyPages proposes a policy through the form, comments on it,
// takes it through the process on the clock and the API, and checks that
// the registry enforces it and the pages and feed show it.
func TestPolicyPages(t *testing.T) {
	f := newFixture(t)
	c := f.login(bobHandle, testPassword)
	token := c.csrf("/policies/new")
	form := url.Values{"csrf": {token}, "title": {"Reserved strings"}, "text": {"<b>home</b> is reserved."},
		"params": {`{"tld_strings": {"reserved": ["home"]}}`}}
	resp := c.form("/policies", form)
	readBody(t, resp)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/policies/1?flash=submitted" {
		t.Fatalf("propose: %s to %q", resp.Status, resp.Header.Get("Location"))
	}
	form.Set("params", `{"tld_strings": {"reserved": "home"}}`)
	resp = c.form("/policies", form)
	if body := readBody(t, resp); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "not valid JSON") {
		t.Errorf("bad parameters: %s", resp.Status)
	}
	resp = c.form("/policies/1/comment", url.Values{"csrf": {c.csrf("/policies/1")}, "text": {"I support this."}})
	if readBody(t, resp); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("comment: %s", resp.Status)
	}
	page := readBody(t, c.get("/policies/1"))
	for _, want := range []string{"Reserved strings", "&lt;b&gt;home&lt;/b&gt;", "I support this.", "discussion", "&#34;reserved&#34;", "Withdraw the policy"} {
		if !strings.Contains(page, want) {
			t.Errorf("policy page lacks %q", want)
		}
	}
	// The community charter: the members chair determines consensus; the
	// members ratify.
	chair := aliceHandle
	f.do(t, steward.SeatMember(steward.ActorInit, "members", chair, ""))
	f.do(t, steward.SetChair(steward.ActorInit, "members", chair))
	for _, d := range []time.Duration{30, 14, 14} {
		f.clock.Advance(d * 24 * time.Hour)
		f.do(t, steward.AdvancePolicies(10))
	}
	_, bearer := f.issueToken(t, chair, steward.AllScopes...) // the fixture's expired meanwhile
	alice := f.withBearer(bearer)
	resp = alice.json("POST", "/api/v1/policies/1/determine", map[string]any{"reached": true, "text": "Clear support."})
	p := decodeJSON[steward.Policy](t, resp, http.StatusOK)
	if p.State != "ratification" {
		t.Fatalf("after the determination: %s", p.State)
	}
	f.clock.Advance(p.Reviews[0].Opens.Sub(f.clock.Now()))
	p = decodeJSON[steward.Policy](t, alice.json("POST", "/api/v1/policies/1/vote", map[string]any{"body": "members", "vote": "yes"}), http.StatusOK)
	f.clock.Advance(8 * 24 * time.Hour)
	f.do(t, steward.AdvancePolicies(10))
	p = decodeJSON[steward.Policy](t, f.anon().get("/api/v1/policies/1"), http.StatusOK)
	if p.State != "in-force" {
		t.Fatalf("after ratification: %s", p.State)
	}
	resp = alice.json("POST", "/api/v1/requests", map[string]any{"kind": "tld.delegate", "tld": "home",
		"change": map[string]any{"ns": []string{"ns1.example.net.", "ns2.example.org."}, "manager": "M", "contacts": []string{"alice"}}})
	if body := readBody(t, resp); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "reserved") {
		t.Errorf("a reserved string requested: %s %s", resp.Status, body)
	}
	if body := readBody(t, f.anon().get("/policies")); !strings.Contains(body, "reserved: home") {
		t.Error("the policies page does not show the rules in force")
	}
	if body := readBody(t, f.anon().get("/policies/feed.atom")); !strings.Contains(body, "in-force") {
		t.Error("the feed does not show the policy in force")
	}
	if body := readBody(t, f.anon().get("/policies/1", "Accept-Language", "ar")); !strings.Contains(body, `dir="rtl"`) || !strings.Contains(body, "التسلسل الزمني") {
		t.Error("the policy page in Arabic is not right to left or not translated")
	}
	if body := readBody(t, f.anon().get("/policies", "Accept-Language", "es")); !strings.Contains(body, "Políticas") {
		t.Error("the policies page is not translated into Spanish")
	}
	for path, status := range map[string]int{"/api/v1/policies/9": http.StatusNotFound, "/policies/x": http.StatusBadRequest} {
		if resp := f.anon().get(path); resp.StatusCode != status {
			t.Errorf("GET %s: %s", path, resp.Status)
		}
	}
	_, bobBearer := f.issueToken(t, bobHandle, steward.AllScopes...)
	if resp := f.withBearer(bobBearer).json("POST", "/api/v1/policies/1/determine", map[string]any{"reached": true, "text": "x"}); resp.StatusCode != http.StatusForbidden && resp.StatusCode != http.StatusConflict {
		t.Errorf("bob determining: %s", resp.Status)
	}
}
