package web_test

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"steward"
)

// forumFixture is the shared fixture with the issue catalogue seeded.
func forumFixture(t *testing.T) *fixture {
	t.Helper()
	f := newFixture(t)
	f.do(t, steward.SeedForum())
	return f
}

// location checks a redirect and returns where it goes.
func location(t *testing.T, resp *http.Response) string {
	t.Helper()
	body := readBody(t, resp)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("status %s, want a redirect; body: %s", resp.Status, body)
	}
	return resp.Header.Get("Location")
}

func TestForumPagesReadableWithoutAccount(t *testing.T) {
	t.Parallel()
	f := forumFixture(t)
	f.do(t, steward.OpenThread(aliceHandle, "spam", "Defining spam", "What **is** spam?"))
	f.do(t, steward.Reply(bobHandle, 1, 1, "Unsolicited bulk e-mail."))
	f.do(t, steward.OpenConsultation(opHandle, "spam", "Spam definitions", "Send us yours.", f.clock.Now().Add(48*time.Hour)))
	anon := f.anon()
	for path, want := range map[string]string{
		"/forum":                           "Administration of the root zone files and system",
		"/forum/issues/root-zone":          "Root server operators",
		"/forum/issues/mandate-l":          "Publish its proceedings",
		"/forum/issues/spam":               "Defining spam",
		"/forum/threads/1":                 "<strong>is</strong>",
		"/forum/consultations":             "Spam definitions",
		"/forum/consultations/1":           "Send us yours.",
		"/forum/recommendations":           "Recommendations",
		"/forum/participation":             "<svg",
		"/forum/code-of-conduct":           "appeal",
		"/forum/threads/1/posts/2/history": "History of post 2",
	} {
		resp := anon.get(path)
		body := readBody(t, resp)
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, want) {
			t.Errorf("GET %s: %s, want %q in the page", path, resp.Status, want)
		}
	}
	// The root zone issue names the charter's bodies that decide root zone changes.
	body := readBody(t, anon.get("/forum/issues/root-zone"))
	if !strings.Contains(body, "tld.delegate") {
		t.Errorf("root zone issue names no charter body for tld.delegate")
	}
	for _, path := range []string{"/forum/notifications", "/forum/moderation"} {
		if resp := anon.get(path); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("GET %s anonymously: %s, want 401", path, resp.Status)
		}
	}
	for _, path := range []string{"/forum/threads/99", "/forum/issues/nope", "/forum/threads/x", "/forum/threads/1?page=9"} {
		if resp := anon.get(path); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %s, want 404", path, resp.Status)
		}
	}
}

func TestForumJourneyByForms(t *testing.T) {
	t.Parallel()
	f := forumFixture(t)
	alice := f.login(aliceHandle, testPassword)
	tok := alice.csrf("/forum/issues/spam")
	loc := location(t, alice.form("/forum/issues/spam/threads", url.Values{"csrf": {tok}, "title": {"Spam and SMS"}, "body": {"Does SMS count, @bob?"}}))
	if loc != "/forum/threads/1?flash=thread" {
		t.Fatalf("new thread goes to %q", loc)
	}
	bob := f.login(bobHandle, testPassword)
	page := readBody(t, bob.get("/forum/threads/1?quote=1"))
	if !strings.Contains(page, "&gt; @alice wrote in post 1:") {
		t.Errorf("quoting does not fill the reply form")
	}
	tok = bob.csrf("/forum/threads/1")
	loc = location(t, bob.form("/forum/threads/1/posts", url.Values{"csrf": {tok}, "reply_to": {"1"}, "body": {"> Does SMS count\n\nYes."}}))
	if !strings.HasPrefix(loc, "/forum/threads/1?page=1&flash=posted#p2") {
		t.Errorf("reply goes to %q", loc)
	}
	page = readBody(t, f.anon().get("/forum/threads/1"))
	if !strings.Contains(page, "<blockquote>") || !strings.Contains(page, "in reply to") {
		t.Errorf("the reply is not shown as a quoting reply")
	}
	// Mentions notify.
	if page := readBody(t, bob.get("/forum/notifications")); !strings.Contains(page, "alice mentioned you") {
		t.Errorf("bob's notifications lack alice's mention")
	}
	// Reactions, subscriptions, edits with history.
	location(t, alice.form("/forum/threads/1/posts/2/react", url.Values{"csrf": {alice.csrf("/forum/threads/1")}, "reaction": {"thanks"}, "on": {"1"}}))
	if page := readBody(t, alice.get("/forum/threads/1")); !strings.Contains(page, `aria-pressed="true">thanks 1`) {
		t.Errorf("the reaction is not shown")
	}
	location(t, alice.form("/forum/subscriptions", url.Values{"csrf": {alice.csrf("/forum/threads/1")}, "target": {"thread:1"}, "on": {"1"}}))
	if page := readBody(t, alice.get("/forum/notifications")); !strings.Contains(page, "Spam and SMS") {
		t.Errorf("the subscription is not listed")
	}
	// The e-mail setting: the default digest, then immediate.
	if page := readBody(t, alice.get("/forum/notifications")); !strings.Contains(page, `value="digest" checked`) {
		t.Errorf("the default e-mail mode is not shown as chosen")
	}
	if loc := location(t, alice.form("/forum/notifications/mail", url.Values{"csrf": {alice.csrf("/forum/notifications")}, "mode": {"immediate"}})); loc != "/forum/notifications?flash=mailset" {
		t.Errorf("choosing the e-mail mode goes to %q", loc)
	}
	if page := readBody(t, alice.get("/forum/notifications")); !strings.Contains(page, `value="immediate" checked`) {
		t.Errorf("the chosen e-mail mode is not shown")
	}
	if mode, _ := steward.ForumMail(f.ctx, f.store, aliceHandle); mode != steward.MailImmediate {
		t.Errorf("alice's mode is %q", mode)
	}
	if resp := alice.form("/forum/notifications/mail", url.Values{"csrf": {alice.csrf("/forum/notifications")}, "mode": {"hourly"}}); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("an unknown e-mail mode: %s", resp.Status)
	}
	location(t, bob.form("/forum/threads/1/posts/2/edit", url.Values{"csrf": {bob.csrf("/forum/threads/1/posts/2/edit")}, "body": {"Yes, it does."}}))
	if page := readBody(t, f.anon().get("/forum/threads/1/posts/2/history")); !strings.Contains(page, "Yes.") || !strings.Contains(page, "Version 1") {
		t.Errorf("the history lacks the earlier text")
	}
	if resp := alice.get("/forum/threads/1/posts/2/edit"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("alice may open bob's post for editing: %s", resp.Status)
	}
	// Propose an issue.
	loc = location(t, alice.form("/forum/issues", url.Values{"csrf": {alice.csrf("/forum")}, "title": {"Community networks"}, "summary": {"Who may run them?"}, "institutions": {"ITU-D\nISOC"}}))
	if loc != "/forum/issues/community-networks?flash=proposed" {
		t.Errorf("proposal goes to %q", loc)
	}
	// Flag, hide with a reason, appeal, decision by another moderator.
	location(t, bob.form("/forum/threads/1/posts/1/flag", url.Values{"csrf": {bob.csrf("/forum/threads/1")}, "reason": {"off topic"}}))
	op := f.login(opHandle, testPassword)
	if page := readBody(t, op.get("/forum/moderation")); !strings.Contains(page, "bob: off topic") {
		t.Errorf("the queue lacks the flag")
	}
	if resp := alice.get("/forum/moderation"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("alice sees the review queue: %s", resp.Status)
	}
	location(t, op.form("/forum/threads/1/posts/1/moderate", url.Values{"csrf": {op.csrf("/forum/moderation")}, "action": {"hide"}, "reason": {"Rule 6: off topic."}, "next": {"/forum/moderation"}}))
	page = readBody(t, f.anon().get("/forum/threads/1"))
	if !strings.Contains(page, "Hidden by a moderator: Rule 6: off topic.") || strings.Contains(page, "Does SMS count, ") {
		t.Errorf("the hidden post shows its text or lacks the reason")
	}
	location(t, alice.form("/forum/threads/1/posts/1/appeal", url.Values{"csrf": {alice.csrf("/forum/threads/1")}, "text": {"It is on topic."}}))
	resp := op.form("/forum/threads/1/posts/1/moderate", url.Values{"csrf": {op.csrf("/forum/moderation")}, "action": {"restore"}, "reason": {"ok"}})
	if body := readBody(t, resp); resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "may not decide the appeal") {
		t.Errorf("the hiding moderator decides the appeal: %s", resp.Status)
	}
}

// TestForumHostileContent sends script injection through every field, and
// oversized, malformed, cross-site and flooding requests.
func TestForumHostileContent(t *testing.T) {
	t.Parallel()
	f := forumFixture(t)
	const xss = `<script>alert(1)</script><img src=x onerror=alert(2)><a href="javascript:alert(3)">x</a>"'><svg onload=alert(4)>`
	alice := f.login(aliceHandle, testPassword)
	tok := alice.csrf("/forum")
	hostile, _, _ := strings.Cut(location(t, alice.form("/forum/issues", url.Values{"csrf": {tok}, "title": {"Hostile " + xss}, "summary": {xss}, "institutions": {xss}})), "?")
	location(t, alice.form("/forum/issues/spam/threads", url.Values{"csrf": {tok}, "title": {xss}, "body": {xss + "\n\n[link](javascript:alert(5)) <iframe src=//evil></iframe>\n\n```\n" + xss + "\n```"}}))
	location(t, alice.form("/forum/threads/1/posts/1/flag", url.Values{"csrf": {tok}, "reason": {xss}}))
	op := f.login(opHandle, testPassword)
	location(t, op.form("/forum/threads/1/posts/1/moderate", url.Values{"csrf": {op.csrf("/forum")}, "action": {"hide"}, "reason": {xss}}))
	f.do(t, steward.Reply(bobHandle, 1, 1, xss))
	f.do(t, steward.OpenConsultation(opHandle, "spam", xss, xss, f.clock.Now().Add(48*time.Hour)))
	f.do(t, steward.Submit(bobHandle, 1, xss, []steward.AttachmentData{{Name: "a<b>.txt", Data: []byte(xss), Type: "text/plain; charset=utf-8"}}))
	scriptRE := regexp.MustCompile(`(?i)<script>alert|<img[^>]*onerror|href="javascript:|<svg onload|<iframe`)
	for _, path := range []string{"/forum", hostile, "/forum/issues/spam", "/forum/threads/1",
		"/forum/moderation", "/forum/consultations", "/forum/consultations/1", "/forum/issues.atom", "/forum/threads/1/posts.atom", "/forum/consultations.atom"} {
		c := f.anon()
		if path == "/forum/moderation" {
			c = op
		}
		resp := c.get(path)
		body := readBody(t, resp)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %s", path, resp.Status)
			continue
		}
		if strings.HasSuffix(path, ".atom") {
			var v struct {
				Entries []struct {
					Content string `xml:"content"`
				} `xml:"entry"`
			}
			if err := xml.Unmarshal([]byte(body), &v); err != nil {
				t.Errorf("%s is not XML: %v", path, err)
			}
			for _, e := range v.Entries {
				if scriptRE.MatchString(e.Content) {
					t.Errorf("%s carries live script in an entry: %s", path, e.Content)
				}
			}
			continue
		}
		if m := scriptRE.FindString(body); m != "" {
			t.Errorf("GET %s carries live script: %q", path, m)
		}
	}
	// The attachment is served as a download, never rendered.
	s, _ := steward.LoadSubmission(f.ctx, f.store, 1, 1)
	resp := f.anon().get("/forum/attachments/" + s.Attachments[0].SHA256 + "?name=a.txt")
	readBody(t, resp)
	if cd := resp.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment") || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "sandbox") {
		t.Errorf("attachment served inline: %q", cd)
	}

	// Oversized and malformed posts are refused with a clear message, and nothing changes.
	before := f.snapshot(t)
	for name, body := range map[string]string{
		"oversized": strings.Repeat("a", steward.MaxBodyBytes+1),
		"empty":     "   ",
		"control":   "bell\x07",
		"bad utf-8": "\xff\xfe",
	} {
		resp := alice.form("/forum/threads/1/posts", url.Values{"csrf": {tok}, "body": {body}})
		page := readBody(t, resp)
		if resp.StatusCode != http.StatusBadRequest && resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("%s post: %s", name, resp.Status)
		}
		if !strings.Contains(page, `role="alert"`) {
			t.Errorf("%s post: no error shown", name)
		}
	}
	checkProblem(t, f.as(aliceHandle).json("POST", "/api/v1/forum/threads/1/posts", map[string]any{"body": strings.Repeat("x", steward.MaxBodyBytes+1)}), http.StatusRequestEntityTooLarge, "too_large", "at most 8000")
	checkProblem(t, f.as(aliceHandle).json("POST", "/api/v1/forum/threads/1/posts", `{"body": 5}`), http.StatusBadRequest, "invalid", "body")
	// Cross-site requests: no token, a wrong token, a foreign Origin.
	wrong := "x" + tok[1:]
	if wrong == tok {
		wrong = "y" + tok[1:]
	}
	for name, resp := range map[string]*http.Response{
		"no token":    alice.form("/forum/threads/1/posts", url.Values{"body": {"csrf"}}),
		"wrong token": alice.form("/forum/threads/1/posts", url.Values{"csrf": {wrong}, "body": {"csrf"}}),
		"api session": alice.json("POST", "/api/v1/forum/threads/1/posts", map[string]any{"body": "csrf"}),
		"origin":      alice.form("/forum/threads/1/posts", url.Values{"csrf": {tok}, "body": {"csrf"}}, "Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site"),
	} {
		if body := readBody(t, resp); resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s: %s, want 403: %s", name, resp.Status, body)
		}
	}
	f.unchanged(t, before)

	// Flooding: a participant posting fast is refused with a clear message.
	var limited bool
	for i := 0; i < 30 && !limited; i++ {
		resp := f.as(bobHandle).json("POST", "/api/v1/forum/threads/1/posts", map[string]any{"body": fmt.Sprintf("flood %d", i)})
		body := readBody(t, resp)
		if resp.StatusCode == http.StatusTooManyRequests {
			limited = strings.Contains(body, "posting too fast")
		}
	}
	if !limited {
		t.Error("30 posts in a row were all accepted")
	}
}

func TestForumAPI(t *testing.T) {
	t.Parallel()
	f := forumFixture(t)
	issues := decodeJSON[struct{ Items []steward.Issue }](t, f.anon().get("/api/v1/forum/issues"), http.StatusOK)
	if len(issues.Items) != len(steward.SeedIssues) {
		t.Errorf("%d issues, want %d", len(issues.Items), len(steward.SeedIssues))
	}
	th := decodeJSON[steward.Thread](t, f.as(aliceHandle).json("POST", "/api/v1/forum/issues/ip-addressing/threads", map[string]any{"title": "IPv6", "body": "When?"}), http.StatusCreated)
	p := decodeJSON[steward.Post](t, f.as(bobHandle).json("POST", fmt.Sprintf("/api/v1/forum/threads/%d/posts", th.ID), map[string]any{"body": "Now.", "reply_to": 1}), http.StatusCreated)
	if p.N != 2 || p.Author != bobHandle {
		t.Errorf("post = %+v", p)
	}
	decodeJSON[steward.Post](t, f.as(bobHandle).json("PATCH", "/api/v1/forum/threads/1/posts/2", map[string]any{"body": "Yesterday."}), http.StatusOK)
	checkProblem(t, f.as(aliceHandle).json("PATCH", "/api/v1/forum/threads/1/posts/2", map[string]any{"body": "mine"}), http.StatusForbidden, "forbidden")
	posts := decodeJSON[struct {
		Items []steward.Post
		Next  string
	}](t, f.anon().get("/api/v1/forum/threads/1/posts?limit=1"), http.StatusOK)
	if len(posts.Items) != 1 || posts.Next != "1" {
		t.Errorf("posts page = %+v", posts)
	}
	info := decodeJSON[struct {
		Handlers []struct{ Body, Role string }
	}](t, f.anon().get("/api/v1/forum/issues/ip-addressing"), http.StatusOK)
	if len(info.Handlers) == 0 {
		t.Errorf("ip-addressing has no handlers in the community charter")
	}
	checkProblem(t, f.anon().json("POST", "/api/v1/forum/issues", map[string]any{"title": "x y", "summary": "z"}), http.StatusUnauthorized, "unauthorized")
	decodeJSON[steward.Issue](t, f.as(aliceHandle).json("POST", "/api/v1/forum/issues", map[string]any{"title": "Open data", "summary": "z"}), http.StatusCreated)
	checkProblem(t, f.as(aliceHandle).json("POST", "/api/v1/forum/issues", map[string]any{"title": "Open data", "summary": "z"}), http.StatusConflict, "conflict")
}

func TestForumConsultationAndRoutingWeb(t *testing.T) {
	t.Parallel()
	f := forumFixture(t)
	op := f.login(opHandle, testPassword)
	deadline := f.clock.Now().Add(72 * time.Hour).Format("2006-01-02T15:04")
	loc := location(t, op.form("/forum/consultations", url.Values{"csrf": {op.csrf("/forum/consultations")}, "title": {"Root zone growth"}, "issue": {"root-zone"}, "call": {"How fast should the root grow?"}, "deadline": {deadline}}))
	if loc != "/forum/consultations/1?flash=consultation" {
		t.Fatalf("consultation at %q", loc)
	}
	alice := f.login(aliceHandle, testPassword)
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	_ = mw.WriteField("csrf", alice.csrf("/forum/consultations/1"))
	_ = mw.WriteField("text", "Slowly, with **care**.")
	fw, _ := mw.CreateFormFile("file", "paper.pdf")
	pdf := []byte("%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
	fw.Write(pdf)
	mw.Close()
	resp := alice.do("POST", "/forum/consultations/1/submissions", &buf, "Content-Type", mw.FormDataContentType())
	if loc := location(t, resp); loc != "/forum/consultations/1?flash=submitted#s1" {
		t.Errorf("submission goes to %q", loc)
	}
	page := readBody(t, f.anon().get("/forum/consultations/1"))
	m := regexp.MustCompile(`/forum/attachments/([0-9a-f]{64})\?name=paper.pdf`).FindStringSubmatch(page)
	if m == nil || !strings.Contains(page, "<strong>care</strong>") {
		t.Fatalf("the submission or its attachment is not published")
	}
	if got := readBody(t, f.anon().get("/forum/attachments/"+m[1])); got != string(pdf) {
		t.Errorf("attachment content differs")
	}
	// An HTML file is refused, named.
	buf.Reset()
	mw = multipart.NewWriter(&buf)
	_ = mw.WriteField("csrf", alice.csrf("/forum/consultations/1"))
	_ = mw.WriteField("text", "with html")
	fw, _ = mw.CreateFormFile("file", "page.html")
	fw.Write([]byte("<!doctype html><html><script>alert(1)</script></html>"))
	mw.Close()
	resp = alice.do("POST", "/forum/consultations/1/submissions", &buf, "Content-Type", mw.FormDataContentType())
	if body := readBody(t, resp); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "attach PDF, plain text, PNG or JPEG") {
		t.Errorf("HTML attachment: %s", resp.Status)
	}
	decodeJSON[steward.Submission](t, f.as(bobHandle).json("POST", "/api/v1/forum/consultations/1/submissions", map[string]any{"text": "Fast."}), http.StatusCreated)

	// After the deadline, a synthesis citing both.
	f.clock.Advance(73 * time.Hour)
	checkProblem(t, f.as(bobHandle).json("POST", "/api/v1/forum/consultations/1/submissions", map[string]any{"text": "late"}), http.StatusForbidden, "forbidden", "closed")
	location(t, op.form("/forum/consultations/1/synthesis", url.Values{"csrf": {op.csrf("/forum/consultations/1")}, "text": {"Opinions differ [1][2]."}, "cite": {"1", "2"}}))
	page = readBody(t, f.anon().get("/forum/consultations/1"))
	if !strings.Contains(page, "Opinions differ") || strings.Count(page, "cited in the synthesis") != 2 {
		t.Errorf("the synthesis or its citations are not shown")
	}

	// A recommendation to the maintainers; overdue, then answered.
	c := f.charter
	var to string
	for _, b := range c.Bodies {
		if b.ID != c.Forum.Body && b.ID != c.Roles.Moderators {
			to = b.ID
			break
		}
	}
	due := f.clock.Now().Add(24 * time.Hour).Format("2006-01-02T15:04")
	loc = location(t, op.form("/forum/recommendations", url.Values{"csrf": {op.csrf("/forum/recommendations")}, "title": {"Grow slowly"}, "to": {to}, "issue": {"root-zone"}, "consultation": {"1"}, "text": {"Add at most 1,000 TLDs a year."}, "due": {due}}))
	if loc != "/forum/recommendations/1?flash=recommended" {
		t.Fatalf("recommendation at %q", loc)
	}
	f.clock.Advance(48 * time.Hour)
	if page := readBody(t, f.anon().get("/forum/recommendations")); !strings.Contains(page, "1 answers are overdue") && !strings.Contains(page, "overdue") {
		t.Errorf("the overdue answer is not flagged")
	}
	recs := decodeJSON[struct {
		Items []struct {
			Status  string
			Overdue bool
		}
	}](t, f.anon().get("/api/v1/forum/recommendations"), http.StatusOK)
	if len(recs.Items) != 1 || !recs.Items[0].Overdue || recs.Items[0].Status != "awaiting" {
		t.Errorf("recommendations = %+v", recs)
	}
	f.do(t, steward.SeatMember(opHandle, to, bobHandle, ""))
	f.do(t, steward.SetChair(opHandle, to, bobHandle))
	checkProblem(t, f.as(bobHandle).json("POST", "/api/v1/forum/recommendations/1/answers", map[string]any{"decision": "decline"}), http.StatusBadRequest, "invalid", "reasons")
	decodeJSON[map[string]any](t, f.as(bobHandle).json("POST", "/api/v1/forum/recommendations/1/answers", map[string]any{"decision": "decline", "reasons": "Growth is set by the policy process."}), http.StatusOK)
	page = readBody(t, f.anon().get("/forum/recommendations/1"))
	if !strings.Contains(page, "Growth is set by the policy process.") || strings.Contains(page, `class="overdue"`) {
		t.Errorf("the answer is not shown, or still flagged overdue")
	}
	// Participation counts the submissions by group.
	pt := decodeJSON[struct {
		Series map[string]map[string][]int64
	}](t, f.anon().get("/api/v1/forum/participation"), http.StatusOK)
	var subs int64
	for _, v := range pt.Series["submissions"] {
		for _, n := range v {
			subs += n
		}
	}
	if subs != 2 {
		t.Errorf("participation counts %d submissions, want 2", subs)
	}
}

func TestLanguages(t *testing.T) {
	t.Parallel()
	f := forumFixture(t)
	c := f.anon()
	page := readBody(t, c.get("/forum", "Accept-Language", "fr-CH, fr;q=0.9"))
	if !strings.Contains(page, `<html lang="fr" dir="ltr">`) {
		t.Errorf("Accept-Language fr does not give French")
	}
	resp := c.get("/lang?set=ar&next=/forum")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/forum" {
		t.Fatalf("/lang: %s to %q", resp.Status, resp.Header.Get("Location"))
	}
	page = readBody(t, c.get("/forum"))
	if !strings.Contains(page, `<html lang="ar" dir="rtl">`) || !strings.Contains(page, "المنتدى") {
		t.Errorf("the lang cookie does not give Arabic, right to left")
	}
	for _, next := range []string{"//evil.example/", "https://evil.example/", "/\\evil.example"} {
		resp := c.get("/lang?set=zh&next=" + url.QueryEscape(next))
		if resp.Header.Get("Location") != "/" {
			t.Errorf("/lang redirects to %q for next=%s", resp.Header.Get("Location"), next)
		}
	}
	for _, l := range []string{"zh", "ru", "es", "fr", "ar"} {
		page := readBody(t, c.get("/lang?set="+l+"&next=/forum"))
		_ = page
		body := readBody(t, c.get("/forum"))
		if strings.Contains(body, ">Propose an issue<") {
			t.Errorf("%s: the forum page is not translated", l)
		}
	}
}

func TestForumMeetingWeb(t *testing.T) {
	t.Parallel()
	f := forumFixture(t)
	var evaluators string
	for _, b := range f.charter.Bodies {
		if b.ID != f.charter.Forum.Body && b.ID != f.charter.Roles.Moderators {
			evaluators = b.ID
			break
		}
	}
	op := f.login(opHandle, testPassword)
	now := f.clock.Now()
	ft := func(d time.Duration) string { return now.Add(d).Format("2006-01-02T15:04") }
	loc := location(t, op.form("/forum/meetings", url.Values{"csrf": {op.csrf("/forum/meetings")}, "id": {"2026"}, "title": {"Annual meeting 2026"},
		"venue": {"Kyoto"}, "evaluators": {evaluators}, "rooms": {"Room A\nRoom B"}, "proposals_due": {ft(10 * 24 * time.Hour)},
		"starts": {ft(40 * 24 * time.Hour)}, "ends": {ft(43 * 24 * time.Hour)}}))
	if loc != "/forum/meetings/2026?flash=announced" {
		t.Fatalf("announced at %q", loc)
	}
	alice := f.login(aliceHandle, testPassword)
	loc = location(t, alice.form("/forum/meetings/2026/proposals", url.Values{"csrf": {alice.csrf("/forum/meetings/2026")}, "title": {"Community networks <script>x</script>"},
		"description": {"A **round table**."}, "issue": {"capacity-building"}, "gender": {"woman"},
		"speaker_name_1": {"Amina"}, "speaker_group_1": {"civil-society"}, "speaker_region_1": {"africa"}, "speaker_gender_1": {"woman"},
		"speaker_name_2": {"Kenji"}, "speaker_group_2": {"technical-academic"}, "speaker_region_2": {"asia-pacific"}, "speaker_gender_2": {"man"}}))
	if loc != "/forum/meetings/2026/proposals/1?flash=proposal" {
		t.Fatalf("proposal at %q", loc)
	}
	f.clock.Advance(11 * 24 * time.Hour)
	f.do(t, steward.SeatMember(opHandle, evaluators, bobHandle, ""))
	bob := f.login(bobHandle, testPassword)
	location(t, bob.form("/forum/meetings/2026/proposals/1/scores", url.Values{"csrf": {bob.csrf("/forum/meetings/2026/proposals/1")},
		"score_relevance": {"5"}, "score_content": {"4"}, "score_diversity": {"5"}, "score_interaction": {"4"}, "comment": {"Good."}}))
	location(t, op.form("/forum/meetings/2026/proposals/1/decision", url.Values{"csrf": {op.csrf("/forum/meetings/2026")}, "decision": {"accept"}, "reason": {"Highest score."}}))
	location(t, op.form("/forum/meetings/2026/sessions", url.Values{"csrf": {op.csrf("/forum/meetings/2026")}, "kind": {"workshop"}, "proposal": {"1"},
		"room": {"Room A"}, "starts": {ft(40*24*time.Hour + 9*time.Hour)}, "ends": {ft(40*24*time.Hour + 10*time.Hour + 30*time.Minute)}}))
	location(t, alice.form("/forum/meetings/2026/sessions/1/report", url.Values{"csrf": {alice.csrf("/forum/meetings/2026")}, "text": {"We mapped **12** networks."}}))
	page := readBody(t, f.anon().get("/forum/meetings/2026"))
	for _, want := range []string{"Kyoto", "relevance", "45.0", "accepted", "By gender", "<strong>12</strong>", "Room A"} {
		if !strings.Contains(page, want) {
			t.Errorf("the meeting page lacks %q", want)
		}
	}
	if strings.Contains(page, "<script>x") {
		t.Error("the proposal's title is not escaped")
	}
	resp := f.anon().get("/forum/meetings/2026/programme.ics")
	ics := readBody(t, resp)
	if resp.Header.Get("Content-Type") != "text/calendar; charset=utf-8" || !strings.Contains(ics, "BEGIN:VEVENT\r\n") ||
		!strings.Contains(ics, "DTSTART:"+now.Add(40*24*time.Hour+9*time.Hour).UTC().Format("20060102T150405Z")) || !strings.Contains(ics, "LOCATION:Room A\\, Kyoto") {
		t.Errorf("programme.ics:\n%s", ics)
	}
	for _, l := range strings.Split(ics, "\r\n") {
		if len(l) > 75 {
			t.Errorf("unfolded iCalendar line %q", l)
		}
	}
	info := decodeJSON[struct {
		Balance []steward.Balance
	}](t, f.anon().get("/api/v1/forum/meetings/2026"), http.StatusOK)
	if len(info.Balance) != 3 || info.Balance[2].Accepted["woman"] != 1 {
		t.Errorf("balance = %+v", info.Balance)
	}
}

func TestForumIntersessionalGroup(t *testing.T) {
	t.Parallel()
	f := forumFixture(t)
	op := f.login(opHandle, testPassword)
	loc := location(t, op.form("/forum/groups", url.Values{"csrf": {op.csrf("/forum")}, "modality": {"dc"}, "title": {"Dynamic coalition on community networks"}, "summary": {"Connectivity by communities."}}))
	if loc != "/forum/issues/dynamic-coalition-on-community-networks?flash=group" {
		t.Fatalf("group at %q", loc)
	}
	alice := f.login(aliceHandle, testPassword)
	resp := alice.form("/forum/groups", url.Values{"csrf": {alice.csrf("/forum")}, "modality": {"dc"}, "title": {"Mine"}, "summary": {"x"}})
	if readBody(t, resp); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a participant formed a group: %s", resp.Status)
	}
	f.do(t, steward.OpenThread(aliceHandle, "dynamic-coalition-on-community-networks", "Spectrum", "Who licenses it?"))
	location(t, op.form("/forum/issues/dynamic-coalition-on-community-networks/outputs", url.Values{"csrf": {op.csrf("/forum")}, "title": {"Annual report"}, "text": {"We **met** 4 times."}}))
	page := readBody(t, f.anon().get("/forum/issues/dynamic-coalition-on-community-networks"))
	for _, want := range []string{"Dynamic coalition", "Annual report", "<strong>met</strong>", "Spectrum"} {
		if !strings.Contains(page, want) {
			t.Errorf("the group's page lacks %q", want)
		}
	}
	if page := readBody(t, f.anon().get("/forum")); !strings.Contains(page, "Intersessional groups") || !strings.Contains(page, "Dynamic coalition on community networks") {
		t.Error("the catalogue does not list the group")
	}
	// The operator names alice a convener; she then publishes an output.
	const grp = "/forum/issues/dynamic-coalition-on-community-networks"
	if loc := location(t, op.form(grp+"/conveners", url.Values{"csrf": {op.csrf(grp)}, "participant": {"@" + aliceHandle}, "on": {"1"}})); loc != grp+"?flash=conveners#conveners" {
		t.Errorf("naming a convener goes to %q", loc)
	}
	if page := readBody(t, alice.get(grp)); !strings.Contains(page, `action="`+grp+`/outputs"`) || !strings.Contains(page, `href="/participants/`+aliceHandle+`">`+aliceHandle+`</a>`) {
		t.Errorf("alice, a convener, is not shown as one or cannot publish")
	}
	location(t, alice.form(grp+"/outputs", url.Values{"csrf": {alice.csrf(grp)}, "title": {"Spectrum note"}, "text": {"Shared spectrum works."}}))
	bob := f.login(bobHandle, testPassword)
	resp = bob.form(grp+"/conveners", url.Values{"csrf": {bob.csrf(grp)}, "participant": {bobHandle}, "on": {"1"}})
	if body := readBody(t, resp); resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "name a group") {
		t.Errorf("bob named himself a convener: %s", resp.Status)
	}
}

// TestMeetingRubricForm announces a meeting with its own scoring rubric
// through the form; a malformed rubric is refused, naming the line.
func TestMeetingRubricForm(t *testing.T) {
	t.Parallel()
	f := forumFixture(t)
	op := f.login(opHandle, testPassword)
	now := f.clock.Now()
	ft := func(d time.Duration) string { return now.Add(d).Format("2006-01-02T15:04") }
	form := func(id, rubric string) *http.Response {
		return op.form("/forum/meetings", url.Values{"csrf": {op.csrf("/forum/meetings")}, "id": {id}, "title": {"Meeting " + id},
			"venue": {"Kyoto"}, "evaluators": {"members"}, "rooms": {"Room A"}, "rubric": {rubric}, "proposals_due": {ft(10 * 24 * time.Hour)},
			"starts": {ft(40 * 24 * time.Hour)}, "ends": {ft(42 * 24 * time.Hour)}})
	}
	if page := readBody(t, op.get("/forum/meetings")); !strings.Contains(page, "relevance | 3 | Relevance to Internet governance") {
		t.Errorf("the form does not offer the default rubric")
	}
	resp := form("2027", "x | ten | Something")
	if page := readBody(t, resp); resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, "rubric line 1: the weight") {
		t.Errorf("a bad weight: %s", resp.Status)
	}
	resp = form("2027", "access | 4 | Does it widen access?\n\nlocal | 2 | Local voices")
	if loc := location(t, resp); loc != "/forum/meetings/2027?flash=announced" {
		t.Fatalf("announced at %q", loc)
	}
	m, err := steward.LoadMeeting(f.ctx, f.store, "2027")
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Rubric) != 2 || m.Rubric[0] != (steward.Criterion{ID: "access", Weight: 4, Description: "Does it widen access?"}) || m.Rubric[1].ID != "local" {
		t.Errorf("rubric %+v", m.Rubric)
	}
}
