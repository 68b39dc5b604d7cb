package web_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"steward"
)

// TestPolicyBrowserJourney takes a policy from proposal to in force in
// Chromium, and sees the registry enforce it: bob proposes a policy that
// reserves the string "home" and comments on it; the clock runs through
// discussion, review and last call; alice, chair of the members, determines
// consensus and, as a member, ratifies it; then her request for .home is
// refused, naming the policy. Screenshots of the policy's page.
func TestPolicyBrowserJourney(t *testing.T) {
	ctx := newBrowser(t, 3*time.Minute)
	f := newFixture(t)
	f.do(t, steward.SeatMember(steward.ActorInit, "members", aliceHandle, ""))
	f.do(t, steward.SetChair(steward.ActorInit, "members", aliceHandle))
	srv := httptest.NewServer(f.handler)
	t.Cleanup(srv.Close)
	base := srv.URL
	login := func(handle string) { t.Helper(); browserLogin(t, ctx, base, handle) }
	text := func(what, sel string) string {
		t.Helper()
		return get(t, ctx, what, chromedp.Text(chromedp.CSS(sel)))
	}
	login(bobHandle)
	run(t, ctx, "propose",
		chromedp.Navigate(base+"/policies/new"),
		chromedp.WaitVisible(chromedp.ID("title")),
		chromedp.SetValue(chromedp.ID("title"), "Reserve home"),
		chromedp.SetValue(chromedp.ID("text"), "The string home is reserved for private networks (RFC 8375)."),
		chromedp.SetValue(chromedp.ID("params"), `{"tld_strings": {"reserved": ["home"]}}`),
		chromedp.Click(chromedp.CSS(`main form[action="/policies"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.ID("comment")),
		chromedp.SetValue(chromedp.ID("comment"), "Home networks use it already."),
		chromedp.Click(chromedp.CSS(`main form[action="/policies/1/comment"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS("main article.card")),
	)
	if h1 := text("title", "h1"); !strings.Contains(h1, "discussion") {
		t.Fatalf("after proposing: %q", h1)
	}
	shoot(t, ctx, "policy-discussion", get(t, ctx, "screenshot", chromedp.FullScreenshot(100)))
	for _, d := range []time.Duration{30, 14, 14} {
		f.clock.Advance(d * 24 * time.Hour)
		f.do(t, steward.AdvancePolicies(10))
	}
	login(aliceHandle) // bob's session expired while the clock ran
	run(t, ctx, "determine consensus",
		chromedp.Navigate(base+"/policies/1"),
		chromedp.WaitVisible(chromedp.ID("reasons")),
		chromedp.Click(chromedp.CSS(`input[name=reached][value=yes]`)),
		chromedp.SetValue(chromedp.ID("reasons"), "Support from every group; no objection."),
		chromedp.Click(chromedp.CSS(`main form[action="/policies/1/determine"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS("p.flash")),
	)
	p, err := steward.LoadPolicy(f.ctx, f.store, 1)
	if err != nil || p.State != steward.PolicyRatification {
		t.Fatalf("after the determination: %+v %v", p, err)
	}
	f.clock.Advance(p.Reviews[0].Opens.Sub(f.clock.Now()))
	login(aliceHandle) // sessions do not outlive the comment period
	run(t, ctx, "ratify",
		chromedp.Navigate(base+"/policies/1"),
		chromedp.WaitVisible(chromedp.CSS(`input[name=vote][value=yes]`)),
		chromedp.Click(chromedp.CSS(`input[name=vote][value=yes]`)),
		chromedp.Click(chromedp.CSS(`main form[action="/policies/1/vote"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS("p.flash")),
	)
	f.clock.Advance(8 * 24 * time.Hour)
	f.do(t, steward.AdvancePolicies(10))
	run(t, ctx, "the policy in force", chromedp.Navigate(base+"/policies/1"), chromedp.WaitVisible(chromedp.CSS("h1")))
	if h1 := text("title", "h1"); !strings.Contains(h1, "in-force") {
		t.Fatalf("after ratification: %q", h1)
	}
	shoot(t, ctx, "policy-in-force", get(t, ctx, "screenshot", chromedp.FullScreenshot(100)))
	login(aliceHandle)
	// In short steps: each has its own time limit on a loaded machine.
	run(t, ctx, "open the request form",
		chromedp.Navigate(base+"/requests/new?kind=tld.delegate&tld=home"),
		chromedp.WaitVisible(chromedp.ID("ns")),
	)
	run(t, ctx, "fill in a request for .home",
		chromedp.SetValue(chromedp.ID("ns"), "ns1.example.net.\nns2.example.org."),
		chromedp.SetValue(chromedp.ID("manager"), "Home Networks"),
		chromedp.SetValue(chromedp.ID("contacts"), aliceHandle),
	)
	run(t, ctx, "submit it",
		chromedp.Click(chromedp.CSS(`main form[action="/requests"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`[role=alert]`)),
	)
	if msg := text("alert", `[role=alert]`); !strings.Contains(msg, "reserved") || !strings.Contains(msg, "policy 1") {
		t.Errorf("the refusal says %q", msg)
	}
}

// browserLogin logs handle in through the login form.
func browserLogin(t *testing.T, ctx context.Context, base, handle string) {
	t.Helper()
	run(t, ctx, "log in as "+handle,
		chromedp.Navigate(base+"/login"),
		chromedp.WaitVisible(chromedp.ID("handle")),
		chromedp.SetValue(chromedp.ID("handle"), handle),
		chromedp.SetValue(chromedp.ID("password"), testPassword),
		chromedp.Click(chromedp.CSS(`main form[action="/login"] button[type=submit]`)),
		// The login page itself shows the logout form when a session is
		// still open: wait for the page after the login, not just the form.
		chromedp.WaitNotPresent(chromedp.ID("password")),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/logout"]`)),
	)
}
