package web_test

import (
	"bytes"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"steward"
)

// screenshotDir is where the forum journey leaves its screenshots, as test
// artifacts (ignored by git).
const screenshotDir = "screenshots"

// shoot saves a full-page screenshot of the current page as name.png.
func shoot(t *testing.T, ctx any, name string, png []byte) {
	t.Helper()
	if !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) {
		t.Fatalf("screenshot %s is not a PNG", name)
	}
	if err := os.MkdirAll(screenshotDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(screenshotDir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestForumBrowserJourney walks the forum in Chromium: register, open a
// thread, reply quoting it, submit to a consultation with an attached
// document, switch to Arabic and check the layout's direction, and look at
// the main pages on a phone-sized screen. It saves screenshots of the main
// pages in web/screenshots.
func TestForumBrowserJourney(t *testing.T) {
	ctx := newBrowser(t, 3*time.Minute)
	f := forumFixture(t)
	f.do(t, steward.OpenConsultation(opHandle, "spam", "How should spam be defined?", "Tell us what **spam** means to you.", f.clock.Now().Add(7*24*time.Hour)))
	srv := httptest.NewServer(f.handler)
	t.Cleanup(srv.Close)
	base := srv.URL
	main := chromedp.CSS("main")
	snap := func(name string) {
		t.Helper()
		shoot(t, ctx, name, get(t, ctx, "screenshot "+name, chromedp.FullScreenshot(100)))
	}

	run(t, ctx, "register",
		chromedp.Navigate(base+"/register"),
		chromedp.WaitVisible(chromedp.ID("handle")),
		chromedp.SendKeys(chromedp.ID("handle"), "farah"),
		chromedp.SendKeys(chromedp.ID("name"), "Farah Example"),
		chromedp.SetValue(chromedp.ID("group"), "civil-society"),
		chromedp.SetValue(chromedp.ID("region"), "africa"),
		chromedp.Clear(chromedp.ID("languages")),
		chromedp.SendKeys(chromedp.ID("languages"), "ar, fr"),
		chromedp.SendKeys(chromedp.ID("email"), "farah@example.org"),
		chromedp.SendKeys(chromedp.ID("password"), "farah's long passphrase"),
		chromedp.Click(chromedp.CSS(`main form[action="/register"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS("p.flash")),
	)

	run(t, ctx, "the catalogue",
		chromedp.Navigate(base+"/forum"),
		chromedp.WaitVisible(chromedp.CSS(`a[href="/forum/issues/spam"]`)),
	)
	snap("forum")
	run(t, ctx, "open a thread on spam",
		chromedp.Click(chromedp.CSS(`a[href="/forum/issues/spam"]`)),
		chromedp.WaitVisible(chromedp.ID("thread-title")),
		chromedp.SendKeys(chromedp.ID("thread-title"), "SMS spam counts too"),
		chromedp.SendKeys(chromedp.ID("thread-body"), "Unsolicited **bulk** messages, by any channel. <script>document.title='owned'</script>"),
		chromedp.Click(chromedp.CSS(`main form[action="/forum/issues/spam/threads"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS("article#p1")),
	)
	if title := get(t, ctx, "title", chromedp.Evaluate[string](`document.title`)); strings.Contains(title, "owned") {
		t.Fatalf("a script in a post ran: title %q", title)
	}
	if b := get(t, ctx, "bold", chromedp.Text(chromedp.CSS("article#p1 .body strong"))); b != "bulk" {
		t.Errorf("markdown not rendered: %q", b)
	}
	run(t, ctx, "reply quoting the first post",
		chromedp.Click(chromedp.CSS(`article#p1 a[href*="quote=1"]`)),
		chromedp.WaitVisible(chromedp.ID("reply-body")),
		chromedp.Evaluate[chromedp.Void](`(e => e.setSelectionRange(e.value.length, e.value.length))(document.getElementById("reply-body"))`),
		chromedp.SendKeys(chromedp.ID("reply-body"), "And by messaging apps."),
		chromedp.Click(chromedp.CSS(`main form[action$="/posts"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS("article#p2 blockquote")),
	)
	if txt := get(t, ctx, "reply", chromedp.Text(chromedp.CSS("article#p2"))); !strings.Contains(txt, "in reply to") || !strings.Contains(txt, "messaging apps") {
		t.Errorf("reply shows %q", txt)
	}
	snap("thread")
	if posts, _ := steward.ListPosts(f.ctx, f.store, 1, 0, 10); len(posts) != 2 || posts[1].ReplyTo != 1 || posts[1].Author != "farah" {
		t.Errorf("posts in the store: %+v", posts)
	}

	doc := filepath.Join(t.TempDir(), "position.txt")
	if err := os.WriteFile(doc, []byte("Our position on spam: bulk and unsolicited.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	run(t, ctx, "submit to the consultation",
		chromedp.Navigate(base+"/forum/consultations/1"),
		chromedp.WaitVisible(chromedp.ID("sub-text")),
		chromedp.SendKeys(chromedp.ID("sub-text"), "Spam is unsolicited bulk messaging."),
		chromedp.SetUploadFiles(chromedp.ID("sub-file"), []string{doc}),
		chromedp.Click(chromedp.CSS(`main form[action$="/submissions"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS("article#s1")),
	)
	if txt := get(t, ctx, "submission", chromedp.Text(chromedp.CSS("article#s1"))); !strings.Contains(txt, "position.txt") || !strings.Contains(txt, "unsolicited bulk") {
		t.Errorf("submission shows %q", txt)
	}
	snap("consultation")

	run(t, ctx, "switch to Arabic",
		chromedp.Click(chromedp.CSS(`nav.langs a[lang="ar"]`)),
		chromedp.WaitVisible(main),
	)
	if dir := get(t, ctx, "dir", chromedp.Evaluate[string](`document.documentElement.dir + " " + document.documentElement.lang + " " + getComputedStyle(document.body).direction + " " + (document.documentElement.scrollWidth <= innerWidth)`)); dir != "rtl ar rtl true" {
		t.Errorf("in Arabic the page is %q, want rtl ar rtl", dir)
	}
	if loc := get(t, ctx, "location", chromedp.Location()); !strings.HasPrefix(loc, base+"/forum/consultations/1") {
		t.Errorf("the switcher went to %s", loc)
	}
	if nav := get(t, ctx, "nav", chromedp.Text(chromedp.CSS(`a[href="/forum"]`))); nav != "المنتدى" {
		t.Errorf("the Forum link reads %q in Arabic", nav)
	}
	snap("consultation-ar")
	run(t, ctx, "Arabic forum", chromedp.Navigate(base+"/forum"), chromedp.WaitVisible(main))
	snap("forum-ar")
	run(t, ctx, "back to English", chromedp.Click(chromedp.CSS(`nav.langs a[lang="en"]`)), chromedp.WaitVisible(main))
	if dir := get(t, ctx, "dir", chromedp.Evaluate[string](`document.documentElement.dir`)); dir != "ltr" {
		t.Errorf("back in English the page is %q", dir)
	}

	for _, p := range []struct{ path, name string }{
		{"/forum/issues/root-zone", "issue"}, {"/forum/participation", "participation"},
		{"/forum/recommendations", "recommendations"}, {"/forum/code-of-conduct", "conduct"},
	} {
		run(t, ctx, p.name, chromedp.Navigate(base+p.path), chromedp.WaitVisible(main))
		snap(p.name)
	}
	// On a phone: nothing wider than the screen.
	run(t, ctx, "phone", chromedp.EmulateViewport(390, 844), chromedp.Navigate(base+"/forum/threads/1"), chromedp.WaitVisible(main))
	if w := get(t, ctx, "scroll width", chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); w > 390 {
		t.Errorf("on a 390 px wide phone the thread page is %d px wide", w)
	}
	snap("thread-phone")
}
