package web_test

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"steward"
	"steward/charter"
)

// TestRequestPages submits a new TLD through the form, follows it on its
// page, lists it, reads it as JSON and in the feed, and checks the errors.
func TestRequestPages(t *testing.T) {
	f := newFixture(t)
	c := f.login(aliceHandle, testPassword)
	token := c.csrf("/requests/new?kind=tld.delegate&tld=newtld")
	form := url.Values{"csrf": {token}, "kind": {"tld.delegate"}, "tld": {"NewTLD"}, "reason": {"<script>alert(1)</script> a community TLD"},
		"ns": {"ns1.newtld.\nns2.newtld."}, "glue": {"ns1.newtld. 192.0.2.1\nns2.newtld. 2001:db8::1"},
		"ds": {"1234 13 2 " + strings.Repeat("AB", 32)}, "manager": {"New TLD Association"}, "contacts": {aliceHandle}}
	resp := c.form("/requests", form)
	readBody(t, resp)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/requests/1?flash=submitted" {
		t.Fatalf("submit: %s to %q", resp.Status, resp.Header.Get("Location"))
	}
	page := readBody(t, c.get("/requests/1"))
	for _, want := range []string{"Change request 1", "tld.delegate", "ns1.newtld.", "waiting for the technical checks", "&lt;script&gt;", "Withdraw the request", "New TLD Association"} {
		if !strings.Contains(page, want) {
			t.Errorf("request page lacks %q", want)
		}
	}
	if strings.Contains(page, "<script>alert") {
		t.Error("the reason is not escaped")
	}
	// Bad form input refills the form with the error.
	form.Set("glue", "ns1.newtld.")
	form.Set("tld", "other")
	resp = c.form("/requests", form)
	if body := readBody(t, resp); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "glue line 1") || !strings.Contains(body, `value="other"`) {
		t.Errorf("bad glue: %s", resp.Status)
	}
	// Another participant may not act for alice.
	bob := f.login(bobHandle, testPassword)
	resp = bob.form("/requests/1/withdraw", url.Values{"csrf": {bob.csrf("/requests/1")}, "text": {"mine now"}})
	if readBody(t, resp); resp.StatusCode != http.StatusForbidden {
		t.Errorf("bob withdrawing alice's request: %s", resp.Status)
	}
	// The checks are recorded (here by hand), then alice confirms in the page.
	f.do(t, steward.RecordChecks(steward.ActorRegistry, 1, []steward.CheckResult{{Module: "BASIC", Case: "BASIC01", Level: "OK", Message: "fine", Evidence: []string{"asked ns1"}}}))
	page = readBody(t, c.get("/requests/1"))
	if !strings.Contains(page, `action="/requests/1/confirm"`) || !strings.Contains(page, "asked ns1") {
		t.Fatalf("no confirm form or evidence on the page")
	}
	resp = c.form("/requests/1/confirm", url.Values{"csrf": {c.csrf("/requests/1")}})
	if readBody(t, resp); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("confirm: %s", resp.Status)
	}
	r := decodeJSON[steward.Request](t, f.anon().get("/api/v1/requests/1"), http.StatusOK)
	if r.State != steward.StateReview || r.Confirms[0].Via != "web" {
		t.Fatalf("after confirmation: %s %+v", r.State, r.Confirms)
	}
	l := decodeJSON[struct {
		Items []steward.Request `json:"items"`
	}](t, f.anon().get("/api/v1/requests?tld=newtld"), http.StatusOK)
	if len(l.Items) != 1 || l.Items[0].ID != 1 {
		t.Errorf("list: %+v", l.Items)
	}
	if body := readBody(t, f.anon().get("/requests")); !strings.Contains(body, `href="/requests/1"`) {
		t.Error("the list page lacks the request")
	}
	resp = f.anon().get("/requests/feed.atom")
	var feed struct {
		Entries []struct {
			Title string `xml:"title"`
		} `xml:"entry"`
	}
	if err := xml.Unmarshal([]byte(readBody(t, resp)), &feed); err != nil || len(feed.Entries) != 1 || !strings.Contains(feed.Entries[0].Title, "newtld") {
		t.Errorf("feed: %v %+v", err, feed)
	}
	resp = f.anon().get("/bodies/members/feed.atom")
	if body := readBody(t, resp); resp.StatusCode != http.StatusOK || !strings.Contains(body, "newtld") {
		t.Errorf("members' feed: %s", resp.Status)
	}
	for path, status := range map[string]int{
		"/api/v1/requests/99": http.StatusNotFound, "/api/v1/requests/x": http.StatusBadRequest,
		"/requests/0": http.StatusBadRequest, "/api/v1/requests?limit=9999": http.StatusBadRequest,
		"/bodies/nobody/feed.atom": http.StatusNotFound, "/requests/1/confirm?contact=alice&expires=1&sig=x": http.StatusForbidden,
	} {
		if resp := f.anon().get(path); resp.StatusCode != status {
			t.Errorf("GET %s: %s, want %d", path, resp.Status, status)
		}
	}
	resp = f.as(aliceHandle).json("POST", "/api/v1/requests/1/frobnicate", map[string]string{})
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown action: %s", resp.Status)
	}
	resp = f.as(aliceHandle).json("POST", "/api/v1/requests", map[string]any{"kind": "tld.delegate", "tld": "x", "extra": 1})
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("unknown field: %s", resp.Status)
	}
}

// BenchmarkRequestPage renders a request's status page with 10,000
// requests in the instance (goal: under 50 ms of server time).
func BenchmarkRequestPage(b *testing.B) {
	f := newFixture(b)
	const n = 10000
	var wg sync.WaitGroup
	sem := make(chan struct{}, 64)
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			_, err := f.store.Do(f.ctx, steward.SubmitRequest(aliceHandle, steward.RequestInput{Kind: charter.KindTLDDelegate, TLD: fmt.Sprintf("t%05d", i),
				Change: steward.Change{NS: []string{"ns1.example.net.", "ns2.example.org."}, Manager: "M", Contacts: []string{aliceHandle, bobHandle}}}))
			if err != nil {
				b.Error(err)
			}
		}()
	}
	wg.Wait()
	c := f.anon()
	b.ResetTimer()
	for i := range b.N {
		resp := c.get(fmt.Sprintf("/requests/%d", 1+i%n))
		if resp.StatusCode != http.StatusOK {
			b.Fatal(resp.Status)
		}
		resp.Body.Close()
	}
}
