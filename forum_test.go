package steward_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"steward"
	"steward/charter"
	"steward/ledger"
)

// forumInstance is the small instance with the catalogue seeded, a
// moderator (a member of the panel the charter names) and two participants.
func forumInstance(t *testing.T) *memTx {
	t.Helper()
	m := smallInstance(t)
	if n := m.must(t, steward.SeedForum()).(int); n != len(steward.SeedIssues) {
		t.Fatalf("seeded %d issues, want %d", n, len(steward.SeedIssues))
	}
	register(t, m, "alice", "civil-society", "africa")
	register(t, m, "bob", "government", "europe")
	register(t, m, "mod", "government", "africa")
	register(t, m, "mod2", "civil-society", "europe")
	m.must(t, steward.GrantRole("op", steward.Grant{Participant: "mod", Role: steward.RoleModerator}))
	m.must(t, steward.GrantRole("op", steward.Grant{Participant: "mod2", Role: steward.RoleModerator}))
	return m
}

func replays(t *testing.T, m *memTx) {
	t.Helper()
	ctx := context.Background()
	st := steward.NewMemState()
	for _, b := range m.entries {
		e, err := steward.DecodeEvent(b)
		if err != nil {
			t.Fatal(err)
		}
		if err := steward.Apply(ctx, st, e); err != nil {
			t.Fatal(err)
		}
	}
	var a, b ledger.Digest
	for _, kv := range st.All() {
		a.Add(kv.Key, kv.Value)
	}
	for _, kv := range m.st.All() {
		b.Add(kv.Key, kv.Value)
	}
	if a != b {
		t.Error("replay does not rebuild the state")
	}
}

func TestForumCatalogue(t *testing.T) {
	m := forumInstance(t)
	ctx := context.Background()
	is, err := steward.ListIssues(ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, i := range is {
		kinds[i.Kind]++
		if i.Source == "" || i.SourceURL == "" {
			t.Errorf("issue %s cites no source", i.ID)
		}
		for _, r := range i.Related {
			if _, err := steward.LoadIssue(ctx, m, r); err != nil {
				t.Errorf("issue %s relates to %s: %v", i.ID, r, err)
			}
		}
	}
	if kinds["cluster"] != 4 || kinds["priority"] != 13 || kinds["mandate"] != 12 {
		t.Errorf("catalogue kinds = %v, want 4 clusters, 13 priority issues, 12 mandate items", kinds)
	}
	if n := m.must(t, steward.SeedForum()).(int); n != 0 {
		t.Errorf("seeding again added %d issues", n)
	}
	v := m.must(t, steward.ProposeIssue("alice", steward.Issue{Title: "Community networks", Summary: "Who may run them?", Kind: "priority", Source: "me"}))
	p := v.(*steward.Issue)
	if p.ID != "community-networks" || p.Kind != steward.IssueProposed || p.Source != "" || p.Proposer != "alice" {
		t.Errorf("proposed issue = %+v", p)
	}
	_, err = m.do(t, steward.ProposeIssue("alice", steward.Issue{Title: "Community networks!", Summary: "again"}))
	wantCode(t, err, steward.ECONFLICT)
	_, err = m.do(t, steward.ProposeIssue("nobody", steward.Issue{Title: "x y", Summary: "z"}))
	wantCode(t, err, steward.EFORBIDDEN)
	_, err = m.do(t, steward.ProposeIssue("alice", steward.Issue{Title: "Σ", Summary: "z"}))
	wantCode(t, err, steward.EINVALID)
	replays(t, m)
}

func TestForumDiscussion(t *testing.T) {
	m := forumInstance(t)
	ctx := context.Background()
	th := m.must(t, steward.OpenThread("alice", "spam", "Defining spam", "What is spam, @bob? And @nobody?")).(*steward.Thread)
	if th.ID != 1 || th.Posts != 1 {
		t.Fatalf("thread = %+v", th)
	}
	ns, _ := steward.Notices(ctx, m, "bob", 10)
	if len(ns) != 1 || ns[0].By != "alice" {
		t.Errorf("bob's notices = %+v", ns)
	}
	p := m.must(t, steward.Reply("bob", 1, 1, "> What is spam\n\nUnsolicited bulk e-mail.")).(*steward.Post)
	if p.N != 2 || p.ReplyTo != 1 {
		t.Errorf("reply = %+v", p)
	}
	_, err := m.do(t, steward.Reply("bob", 1, 9, "x"))
	wantCode(t, err, steward.EINVALID)
	_, err = m.do(t, steward.Reply("bob", 1, 0, strings.Repeat("a", steward.MaxBodyBytes+1)))
	wantCode(t, err, steward.ETOOLARGE)
	_, err = m.do(t, steward.Reply("bob", 1, 0, "a\x00b"))
	wantCode(t, err, steward.EINVALID)
	_, err = m.do(t, steward.Reply("bob", 1, 0, "  \n "))
	wantCode(t, err, steward.EINVALID)
	// The worst case for JSON escaping still fits a ledger entry.
	m.must(t, steward.Reply("bob", 1, 0, strings.Repeat("<", steward.MaxBodyBytes)))

	// Edits keep the history; only the author edits.
	_, err = m.do(t, steward.EditPost("alice", 1, 2, "mine now"))
	wantCode(t, err, steward.EFORBIDDEN)
	m.must(t, steward.EditPost("bob", 1, 2, "Unsolicited bulk messages."))
	revs, _ := steward.Revisions(ctx, m, 1, 2)
	if len(revs) != 1 || !strings.Contains(revs[0].Body, "Unsolicited bulk e-mail") {
		t.Errorf("revisions = %+v", revs)
	}

	// Reactions toggle.
	m.must(t, steward.React("alice", 1, 2, "agree", true))
	m.must(t, steward.React("alice", 1, 2, "agree", true)) // no change
	m.must(t, steward.React("bob", 1, 2, "agree", true))
	post, _ := steward.LoadPost(ctx, m, 1, 2)
	if post.Reactions["agree"] != 2 {
		t.Errorf("reactions = %v", post.Reactions)
	}
	m.must(t, steward.React("bob", 1, 2, "agree", false))
	_, err = m.do(t, steward.React("bob", 1, 2, "<script>", true))
	wantCode(t, err, steward.EINVALID)

	// Subscriptions.
	m.must(t, steward.Subscribe("alice", "thread:1", true))
	m.must(t, steward.Subscribe("alice", "issue:spam", true))
	_, err = m.do(t, steward.Subscribe("alice", "thread:99", true))
	wantCode(t, err, steward.ENOTFOUND)
	subs, _ := steward.Subscriptions(ctx, m, "alice")
	if len(subs) != 2 {
		t.Errorf("subscriptions = %+v", subs)
	}

	is, _ := steward.LoadIssue(ctx, m, "spam")
	if is.Threads != 1 || is.Posts != 3 {
		t.Errorf("issue counts = %d threads, %d posts", is.Threads, is.Posts)
	}
	ts, _ := steward.ListThreads(ctx, m, "spam", 0, 10)
	if len(ts) != 1 || ts[0].Posts != 3 {
		t.Errorf("threads = %+v", ts)
	}
	replays(t, m)
}

func TestForumModeration(t *testing.T) {
	m := forumInstance(t)
	ctx := context.Background()
	m.must(t, steward.OpenThread("alice", "spam", "Buy now", "cheap pills"))
	_, err := m.do(t, steward.Hide("bob", 1, 1, "spam"))
	wantCode(t, err, steward.EFORBIDDEN)
	m.must(t, steward.Flag("bob", 1, 1, "advertising"))
	_, err = m.do(t, steward.Flag("bob", 1, 1, "again"))
	wantCode(t, err, steward.ECONFLICT)
	q, _ := steward.ModerationQueue(ctx, m, 10)
	if len(q) != 1 || q[0].Kind != "flag" {
		t.Fatalf("queue = %+v", q)
	}
	_, err = m.do(t, steward.Hide("mod", 1, 1, ""))
	wantCode(t, err, steward.EINVALID)
	m.must(t, steward.Hide("mod", 1, 1, "Advertising breaks rule 3 of the code of conduct."))
	if q, _ := steward.ModerationQueue(ctx, m, 10); len(q) != 0 {
		t.Errorf("queue after hiding = %+v", q)
	}
	_, err = m.do(t, steward.Appeal("bob", 1, 1, "not mine"))
	wantCode(t, err, steward.EFORBIDDEN)
	m.must(t, steward.Appeal("alice", 1, 1, "It was a joke about spam."))
	_, err = m.do(t, steward.DecideAppeal("mod", 1, 1, false, "restore"))
	wantCode(t, err, steward.EFORBIDDEN)
	m.must(t, steward.DecideAppeal("mod2", 1, 1, false, "A joke, not an advertisement."))
	p, _ := steward.LoadPost(ctx, m, 1, 1)
	if p.Hidden || !strings.HasPrefix(p.AppealResult, "restored") {
		t.Errorf("post after appeal = %+v", p)
	}
	// A moderator of the charter's body moderates without a grant.
	register(t, m, "panelist", "government", "europe")
	_, err = m.do(t, steward.Hide("panelist", 1, 1, "x"))
	wantCode(t, err, steward.EFORBIDDEN)
	replays(t, m)
}

func TestForumConsultationAndRecommendation(t *testing.T) {
	m := forumInstance(t)
	ctx := context.Background()
	deadline := m.now.Add(7 * 24 * time.Hour)
	_, err := m.do(t, steward.OpenConsultation("alice", "", "Spam", "Tell us", deadline))
	wantCode(t, err, steward.EFORBIDDEN)
	c := m.must(t, steward.OpenConsultation("mod", "spam", "Defining spam", "What should count as spam?", deadline)).(*steward.Consultation)
	pdf := []byte("%PDF-1.4\n%âãÏÓ\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF")
	s := m.must(t, steward.Submit("alice", c.ID, "Bulk and unsolicited.", []steward.AttachmentData{{Name: "paper.pdf", Data: pdf, Type: "application/pdf"}})).(*steward.Submission)
	if len(s.Attachments) != 1 || len(s.Attachments[0].SHA256) != 64 {
		t.Fatalf("submission = %+v", s)
	}
	if b, err := m.Secret(ctx, "blob/"+s.Attachments[0].SHA256); err != nil || string(b) != string(pdf) {
		t.Errorf("attachment not stored: %v", err)
	}
	_, err = m.do(t, steward.Submit("bob", c.ID, "x", []steward.AttachmentData{{Name: "a.html", Data: []byte("<html>"), Type: "text/html; charset=utf-8"}}))
	wantCode(t, err, steward.EINVALID)
	_, err = m.do(t, steward.Submit("bob", c.ID, "x", []steward.AttachmentData{{Name: "big.txt", Data: make([]byte, steward.MaxAttachmentBytes+1), Type: "text/plain; charset=utf-8"}}))
	wantCode(t, err, steward.ETOOLARGE)
	m.must(t, steward.Submit("bob", c.ID, "Only commercial mail.", nil))
	_, err = m.do(t, steward.PublishSynthesis("mod", c.ID, "early", []int{1}))
	wantCode(t, err, steward.EFORBIDDEN)
	m.now = deadline.Add(time.Minute)
	_, err = m.do(t, steward.Submit("bob", c.ID, "late", nil))
	wantCode(t, err, steward.EFORBIDDEN)
	_, err = m.do(t, steward.PublishSynthesis("mod", c.ID, "nothing cited", nil))
	wantCode(t, err, steward.EINVALID)
	_, err = m.do(t, steward.PublishSynthesis("mod", c.ID, "cites a ghost", []int{3}))
	wantCode(t, err, steward.EINVALID)
	m.must(t, steward.PublishSynthesis("mod", c.ID, "Both agree bulk is the mark [1][2].", []int{2, 1, 2}))
	c, _ = steward.LoadConsultation(ctx, m, c.ID)
	if c.Synthesis == nil || len(c.Synthesis.Cites) != 2 {
		t.Errorf("synthesis = %+v", c.Synthesis)
	}

	// A recommendation to the council; its chair answers.
	rec := steward.Recommendation{Title: "Define spam", Text: "Adopt a definition.", To: "council", Issue: "spam", Consultation: c.ID, Due: m.now.Add(30 * 24 * time.Hour)}
	_, err = m.do(t, steward.Recommend("alice", rec))
	wantCode(t, err, steward.EFORBIDDEN)
	rec.To = "forum"
	_, err = m.do(t, steward.Recommend("mod", rec))
	wantCode(t, err, steward.EINVALID)
	rec.To = "council"
	r := m.must(t, steward.Recommend("mod", rec)).(*steward.Recommendation)
	if r.Status() != "awaiting" || r.Overdue(m.now) {
		t.Errorf("new recommendation %+v", r)
	}
	if !r.Overdue(m.now.Add(31 * 24 * time.Hour)) {
		t.Error("not overdue after its due date")
	}
	_, err = m.do(t, steward.AnswerRecommendation("alice", r.ID, "accept", "", time.Time{}))
	wantCode(t, err, steward.EFORBIDDEN)
	m.must(t, steward.SeatMember("op", "council", "bob", ""))
	m.must(t, steward.SetChair("op", "council", "bob"))
	_, err = m.do(t, steward.AnswerRecommendation("bob", r.ID, "decline", "", time.Time{}))
	wantCode(t, err, steward.EINVALID)
	m.must(t, steward.AnswerRecommendation("bob", r.ID, "defer", "Needs study.", m.now.Add(60*24*time.Hour)))
	m.must(t, steward.AnswerRecommendation("bob", r.ID, "decline", "Out of our remit.", time.Time{}))
	_, err = m.do(t, steward.AnswerRecommendation("bob", r.ID, "accept", "", time.Time{}))
	wantCode(t, err, steward.ECONFLICT)
	r, _ = steward.LoadRecommendation(ctx, m, r.ID)
	if r.Status() != "decline" || len(r.Answers) != 2 || r.Overdue(m.now.AddDate(1, 0, 0)) {
		t.Errorf("answered recommendation = %+v", r)
	}
	stats, _ := steward.ParticipationStats(ctx, m)
	got := map[string]int64{}
	for _, s := range stats {
		got[s.Kind+"/"+s.Group] += s.N
	}
	if got["submissions/civil-society"] != 1 || got["submissions/government"] != 1 {
		t.Errorf("stats = %v", got)
	}
	replays(t, m)
}

func TestMentions(t *testing.T) {
	for in, want := range map[string]string{
		"hi @alice and @bob-2, @alice again": "alice bob-2",
		"mail me: x@example.org":             "",
		"@Z @a":                              "",
		"(@carol)":                           "carol",
	} {
		if got := strings.Join(steward.Mentions(in), " "); got != want {
			t.Errorf("Mentions(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParticipationCountsVotes(t *testing.T) {
	w := newRequestWorld(t, "community")
	r := delegate(t, w)
	w.must(t, steward.RecordChecks(steward.ActorRegistry, r.ID, passing))
	w.must(t, steward.ConfirmRequest("bob", r.ID, "web"))
	b := w.req(t, r.ID).OpenBallot()
	if b == nil {
		t.Fatal("no ballot")
	}
	if w.m.now.Before(b.Opens) {
		w.later(t, b.Opens.Sub(w.m.now))
	}
	for _, h := range w.members[b.Body] {
		w.must(t, steward.CastVote(h, r.ID, b.Body, charter.VoteYes, ""))
	}
	stats, err := steward.ParticipationStats(context.Background(), w.m)
	if err != nil {
		t.Fatal(err)
	}
	var votes int64
	for _, s := range stats {
		if s.Kind == "votes" {
			votes += s.N
		}
	}
	if votes != int64(len(w.members[b.Body])) || votes == 0 {
		t.Errorf("participation counts %d votes, want %d", votes, len(w.members[b.Body]))
	}
}

func TestForumGroups(t *testing.T) {
	m := forumInstance(t)
	_, err := m.do(t, steward.FormGroup("alice", "bpf", "Best practices on spam", "x"))
	wantCode(t, err, steward.EFORBIDDEN)
	_, err = m.do(t, steward.FormGroup("mod", "club", "A club", "x"))
	wantCode(t, err, steward.EINVALID)
	is := m.must(t, steward.FormGroup("mod", "bpf", "Best practices on spam", "Collect them.")).(*steward.Issue)
	if is.Kind != steward.IssueGroup || is.Modality != "bpf" {
		t.Fatalf("group = %+v", is)
	}
	_, err = m.do(t, steward.PublishOutput("alice", is.ID, "Report", "text"))
	wantCode(t, err, steward.EFORBIDDEN)
	_, err = m.do(t, steward.PublishOutput("mod", "spam", "Report", "text"))
	wantCode(t, err, steward.EINVALID)
	m.must(t, steward.PublishOutput("mod", is.ID, "Report 2026", "We found **three** practices."))
	outs, _ := steward.ListOutputs(context.Background(), m, is.ID)
	if len(outs) != 1 || outs[0].By != "mod" {
		t.Errorf("outputs = %+v", outs)
	}

	// Conveners: the moderator who formed it names alice; alice names bob
	// and publishes; bob steps down; a stranger, a non-group and the
	// founder are refused.
	_, err = m.do(t, steward.SetConvener("alice", is.ID, "bob", true))
	wantCode(t, err, steward.EFORBIDDEN)
	m.must(t, steward.SetConvener("mod", is.ID, "alice", true))
	m.must(t, steward.SetConvener("alice", is.ID, "bob", true))
	m.must(t, steward.PublishOutput("alice", is.ID, "Interim", "Two more."))
	_, err = m.do(t, steward.SetConvener("alice", is.ID, "nobody", true))
	wantCode(t, err, steward.ENOTFOUND)
	_, err = m.do(t, steward.SetConvener("mod", "spam", "alice", true))
	wantCode(t, err, steward.EINVALID)
	_, err = m.do(t, steward.SetConvener("alice", is.ID, "mod", false))
	wantCode(t, err, steward.ECONFLICT)
	m.must(t, steward.SetConvener("bob", is.ID, "bob", false))
	_, err = m.do(t, steward.PublishOutput("bob", is.ID, "Late", "text"))
	wantCode(t, err, steward.EFORBIDDEN)
	got, _ := steward.LoadIssue(context.Background(), m, is.ID)
	if !slices.Equal(got.Conveners, []string{"alice"}) || !got.IsConvener("mod") || !got.IsConvener("alice") || got.IsConvener("bob") {
		t.Errorf("conveners = %v", got.Conveners)
	}
	replays(t, m)
}
