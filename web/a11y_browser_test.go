package web_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"net/url"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"steward"
	"steward/rirstats"
)

// axePath returns the axe-core script the accessibility audit runs, or
// skips the test. scripts/test.sh installs axe-core from the npm registry
// and names it in STEWARD_TEST_AXE; under CI its absence is a failure.
func axePath(t *testing.T) string {
	t.Helper()
	p := os.Getenv("STEWARD_TEST_AXE")
	if p != "" {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("CI is set but STEWARD_TEST_AXE (%q) names no axe-core script (scripts/test.sh installs axe-core with npm)", p)
	}
	t.Skip("STEWARD_TEST_AXE is not set; scripts/test.sh installs axe-core and sets it")
	return ""
}

// axeViolation is what axe-core reports of one rule a page breaks.
type axeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target []any  `json:"target"`
		HTML   string `json:"html"`
	} `json:"nodes"`
}

// TestAccessibilityAudit runs axe-core's WCAG 2.0 and 2.1 level A and AA
// rules in Chromium over every page a signed-in participant reaches by
// following links from the home page, in English and in Arabic (right to
// left), on an instance with a root zone, number resources, forum threads,
// a consultation, a policy and a change request: every rule must pass on
// every page.
func TestAccessibilityAudit(t *testing.T) {
	axe := axePath(t)
	script, err := os.ReadFile(axe)
	if err != nil {
		t.Fatal(err)
	}
	ctx := newBrowser(t, 15*time.Minute)
	f := newFixture(t)
	f.do(t, steward.ImportRootZone(steward.ActorImport, rdapRoot()))
	sf, err := rirstats.Parse("delegated-afrinic-extended-20240105", strings.NewReader(smallStats))
	if err != nil {
		t.Fatal(err)
	}
	f.do(t, steward.ImportStats(steward.ActorImport, sf))
	f.do(t, steward.SeedForum())
	f.do(t, steward.OpenThread(aliceHandle, "spam", "Defining spam", "What **is** spam? See [RFC 2505](https://www.rfc-editor.org/rfc/rfc2505)."))
	f.do(t, steward.OpenConsultation(opHandle, "spam", "Spam definitions", "Send us yours.", f.clock.Now().Add(48*time.Hour)))
	f.do(t, steward.SeatMember(steward.ActorInit, "members", aliceHandle, ""))
	f.do(t, steward.ProposePolicy(bobHandle, steward.PolicyInput{Title: "Reserve home", Text: "The string *home* is reserved.",
		Params: steward.PolicyParams{TLDStrings: &steward.TLDStringRules{Reserved: []string{"home"}}}}))
	f.do(t, steward.SubmitRequest(aliceHandle, steward.RequestInput{Kind: "tld.delegate", TLD: "mesh",
		Change: steward.Change{NS: []string{"ns1.example.net.", "ns2.example.org."}, Manager: "Mesh Networks", Contacts: []string{aliceHandle}}}))
	srv := httptest.NewServer(f.handler)
	t.Cleanup(srv.Close)
	base := srv.URL
	browserLogin(t, ctx, base, aliceHandle)

	const maxPages = 70
	seen := map[string]bool{}
	var queue []string
	enqueue := func(href string) {
		u, err := url.Parse(href)
		if err != nil || (u.Host != "" && base != u.Scheme+"://"+u.Host) {
			return
		}
		p := u.Path
		if u.RawQuery != "" && !strings.Contains(u.RawQuery, "lang") && !strings.Contains(u.RawQuery, "before=") {
			p += "?" + u.RawQuery
		}
		if !auditable(p) || seen[p] || len(seen) >= maxPages {
			return
		}
		seen[p] = true
		queue = append(queue, p)
	}
	enqueue("/")
	for _, p := range []string{"/requests/new", "/policies/new", "/account", "/register", "/login"} {
		enqueue(p)
	}
	var failures []string
	audit := func(lang, path string) []string {
		run(t, ctx, "load "+path, chromedp.Navigate(base+path), chromedp.WaitReady("body"),
			chromedp.Evaluate[chromedp.Void](string(script)))
		// Pages with large tables take axe a while on a loaded machine.
		actx, cancel := context.WithTimeout(ctx, 3*time.Minute)
		defer cancel()
		v, err := chromedp.Run(actx, chromedp.Evaluate[[]axeViolation](
			`axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}, resultTypes: ["violations"]}).then(r => r.violations)`,
			chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatalf("axe on %s: %v", path, err)
		}
		var out []string
		for _, x := range v {
			var where []string
			for i, n := range x.Nodes {
				if i == 3 {
					where = append(where, fmt.Sprintf("and %d more", len(x.Nodes)-3))
					break
				}
				where = append(where, fmt.Sprintf("%v %s", n.Target, trim(n.HTML, 120)))
			}
			out = append(out, fmt.Sprintf("[%s] %s: %s (%s): %s", lang, path, x.ID, x.Impact, x.Help)+"\n\t\t"+strings.Join(where, "\n\t\t"))
		}
		return out
	}
	for len(queue) > 0 {
		path := queue[0]
		queue = queue[1:]
		failures = append(failures, audit("en", path)...)
		hrefs := get(t, ctx, "links", chromedp.Evaluate[[]string](`[...document.querySelectorAll("a[href]")].map(a => a.href)`))
		for _, h := range hrefs {
			enqueue(h)
		}
	}
	// The same pages right to left, in Arabic.
	run(t, ctx, "switch to Arabic", chromedp.Navigate(base+"/lang?set=ar&next=/"), chromedp.WaitReady(`html[dir=rtl]`))
	paths := make([]string, 0, len(seen))
	for p := range seen {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		failures = append(failures, audit("ar", p)...)
	}
	if len(seen) < 30 {
		t.Errorf("the crawl reached only %d pages: %v", len(seen), paths)
	}
	for _, f := range failures {
		t.Error(f)
	}
	t.Logf("audited %d pages in two languages", len(seen))
}

// smallStats are a few of AFRINIC's real records, so that the audit sees
// every kind of number page without tables of thousands of rows.
const smallStats = `2|afrinic|20240105|7|00000000|20240105|00000
afrinic|*|asn|*|2|summary
afrinic|*|ipv4|*|3|summary
afrinic|*|ipv6|*|2|summary
afrinic|ZA|asn|1228|1|19910301|allocated|F36B9F4B
afrinic|ZA|asn|1229|1|19910301|allocated|F36B9F4B
afrinic|ZA|ipv4|41.0.0.0|2097152|20071126|allocated|F36B9F4B
afrinic|ZA|ipv4|41.32.0.0|1024|20071129|assigned|F36B9F4B
afrinic|ZZ|ipv4|41.33.0.0|256||available|
afrinic|ZA|ipv6|2001:4200::|32|20051021|allocated|F36B9F4B
afrinic|ZZ|ipv6|2001:4201::|32||reserved|
`

// auditable says whether the crawl audits a path: HTML pages, not feeds,
// files, the API, RDAP or what changes state.
func auditable(p string) bool {
	for _, pre := range []string{"/api/", "/log/", "/zone/", "/rdap/", "/metrics", "/healthz", "/logout", "/lang", "/static/", "/.well-known/"} {
		if strings.HasPrefix(p, pre) {
			return false
		}
	}
	for _, suf := range []string{".atom", ".ics", ".json", ".svg", ".csv", ".xml", ".txt", ".css", ".js", ".png"} {
		if strings.HasSuffix(strings.SplitN(p, "?", 2)[0], suf) {
			return false
		}
	}
	return !strings.Contains(p, "/confirm")
}

func trim(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
