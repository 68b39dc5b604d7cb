package web_test

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"steward"
)

// TestMeetingBrowserJourney proposes a workshop for the annual meeting in
// Chromium and has a member of the evaluating body score it against the
// published rubric; the proposal's page then shows the score.
func TestMeetingBrowserJourney(t *testing.T) {
	ctx := newBrowser(t, 3*time.Minute)
	f := forumFixture(t)
	var evaluators string
	for _, b := range f.charter.Bodies {
		if b.ID != f.charter.Forum.Body && b.ID != f.charter.Roles.Moderators && b.Rule != nil {
			evaluators = b.ID
			break
		}
	}
	now := f.clock.Now()
	f.do(t, steward.AnnounceMeeting(opHandle, steward.Meeting{ID: "2026", Title: "Annual meeting 2026", Venue: "Kigali", Evaluators: evaluators,
		Rooms: []string{"Room A"}, ProposalsDue: now.Add(10 * 24 * time.Hour), Starts: now.Add(40 * 24 * time.Hour), Ends: now.Add(42 * 24 * time.Hour)}))
	f.do(t, steward.SeatMember(opHandle, evaluators, bobHandle, ""))
	srv := httptest.NewServer(f.handler)
	t.Cleanup(srv.Close)
	base := srv.URL
	login := func(handle string) { t.Helper(); browserLogin(t, ctx, base, handle) }
	login(aliceHandle)
	run(t, ctx, "open the call for proposals",
		chromedp.Navigate(base+"/forum/meetings/2026"),
		chromedp.WaitVisible(chromedp.ID("w-title")),
	)
	run(t, ctx, "fill in a workshop proposal",
		chromedp.SetValue(chromedp.ID("w-title"), "Community networks in rural areas"),
		chromedp.SetValue(chromedp.ID("w-desc"), "A **round table** of operators."),
		chromedp.SetValue(chromedp.ID("sp-name-1"), "Amina"),
	)
	run(t, ctx, "propose it",
		chromedp.Click(chromedp.CSS(`main form[action="/forum/meetings/2026/proposals"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS("p.flash")),
	)
	if loc := get(t, ctx, "location", chromedp.Location()); !strings.HasSuffix(loc, "/forum/meetings/2026/proposals/1?flash=proposal") {
		t.Fatalf("after proposing: %s", loc)
	}
	shoot(t, ctx, "workshop-proposal", get(t, ctx, "screenshot", chromedp.FullScreenshot(100)))

	f.clock.Advance(11 * 24 * time.Hour) // the call is closed: scoring opens
	login(bobHandle)
	m, err := steward.LoadMeeting(f.ctx, f.store, "2026")
	if err != nil {
		t.Fatal(err)
	}
	steps := []chromedp.Action[chromedp.Void]{chromedp.Navigate(base + "/forum/meetings/2026/proposals/1"), chromedp.WaitVisible(chromedp.ID("sc-comment"))}
	run(t, ctx, "open the proposal", steps...)
	var fill []chromedp.Action[chromedp.Void]
	for _, c := range m.Rubric {
		fill = append(fill, chromedp.SetValue(chromedp.ID("sc-"+c.ID), "4"))
	}
	fill = append(fill, chromedp.SetValue(chromedp.ID("sc-comment"), "Strong and diverse."))
	run(t, ctx, "score it", fill...)
	run(t, ctx, "send the score",
		chromedp.Click(chromedp.CSS(`main form[action="/forum/meetings/2026/proposals/1/scores"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS("p.flash")),
	)
	p, err := steward.LoadProposal(f.ctx, f.store, "2026", 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Scores) != 1 || p.Scores[0].By != bobHandle {
		t.Fatalf("scores recorded: %+v", p.Scores)
	}
	if body := get(t, ctx, "page", chromedp.Text(chromedp.CSS("main"))); !strings.Contains(body, "Strong and diverse.") {
		t.Errorf("the proposal's page does not show the score's comment:\n%s", body)
	}
}
