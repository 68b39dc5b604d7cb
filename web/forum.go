package web

import (
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"steward"
	"steward/charter"
)

// forumState is the web forum's own state: rendered posts and the posting
// rate limit.
type forumState struct {
	md    mdCache
	posts *limiter // per participant: posts, threads, submissions, flags
}

var forumFlashes = map[string]string{
	"posted":       "Your post is published.",
	"thread":       "Your thread is open.",
	"proposed":     "Your issue is in the catalogue.",
	"edited":       "Your post is changed; the earlier text stays in its history.",
	"flagged":      "Thank you: the moderators will look at the post.",
	"moderated":    "Done: the decision and its reason are public.",
	"appealed":     "Your appeal is with the moderators.",
	"subscribed":   "Subscription saved.",
	"conveners":    "The group's conveners are updated.",
	"mailset":      "Your e-mail setting is saved.",
	"submitted":    "Your submission is published.",
	"consultation": "The consultation is open.",
	"synthesis":    "The synthesis is published.",
	"recommended":  "The recommendation is sent to the body.",
	"answered":     "The answer is recorded.",
	"announced":    "The meeting is announced and its call for workshop proposals is open.",
	"proposal":     "Your workshop proposal is published.",
	"scored":       "Your scores are recorded.",
	"decided":      "The decision is recorded.",
	"scheduled":    "The session is in the programme.",
	"reported":     "The session report is published.",
	"group":        "The group is formed: its page holds its threads and outputs.",
	"output":       "The output is published.",
}

func init() {
	for k, v := range forumFlashes {
		flashes[k] = v
	}
}

func (s *Server) forumRoutes(m *http.ServeMux) {
	s.forum = &forumState{posts: newLimiter(s.cfg.Clock)}
	m.HandleFunc("GET /lang", s.setLanguage)
	m.HandleFunc("GET /forum", s.ui(s.forumHome))
	m.HandleFunc("POST /forum/issues", s.form(s.proposePost))
	m.HandleFunc("POST /forum/groups", s.form(s.formGroupPost))
	m.HandleFunc("POST /forum/issues/{id}/outputs", s.form(s.outputPost))
	m.HandleFunc("POST /forum/issues/{id}/conveners", s.form(s.convenerPost))
	m.HandleFunc("GET /forum/issues/{id}", s.ui(s.issuePage))
	m.HandleFunc("POST /forum/issues/{id}/threads", s.form(s.threadPost))
	m.HandleFunc("GET /forum/threads/{id}", s.ui(s.threadPage))
	m.HandleFunc("POST /forum/threads/{id}/posts", s.form(s.replyPost))
	m.HandleFunc("GET /forum/threads/{id}/posts/{n}/edit", s.ui(s.editPage))
	m.HandleFunc("POST /forum/threads/{id}/posts/{n}/edit", s.form(s.editPost))
	m.HandleFunc("GET /forum/threads/{id}/posts/{n}/history", s.ui(s.historyPage))
	m.HandleFunc("POST /forum/threads/{id}/posts/{n}/react", s.form(s.reactPost))
	m.HandleFunc("POST /forum/threads/{id}/posts/{n}/flag", s.form(s.flagPost))
	m.HandleFunc("POST /forum/threads/{id}/posts/{n}/moderate", s.form(s.moderatePost))
	m.HandleFunc("POST /forum/threads/{id}/posts/{n}/appeal", s.form(s.appealPost))
	m.HandleFunc("POST /forum/subscriptions", s.form(s.subscribePost))
	m.HandleFunc("GET /forum/moderation", s.ui(s.moderationPage))
	m.HandleFunc("GET /forum/code-of-conduct", s.ui(s.conductPage))
	m.HandleFunc("GET /forum/notifications", s.ui(s.notificationsPage))
	m.HandleFunc("POST /forum/notifications/mail", s.form(s.forumMailPost))
	s.consultRoutes(m)
	s.meetingRoutes(m)

	m.Handle("GET /api/v1/forum/issues", s.api(s.apiIssues))
	m.Handle("POST /api/v1/forum/issues", s.api(s.apiProposeIssue))
	m.Handle("GET /api/v1/forum/issues/{id}", s.api(s.apiIssue))
	m.Handle("GET /api/v1/forum/issues/{id}/threads", s.api(s.apiThreads))
	m.Handle("POST /api/v1/forum/issues/{id}/threads", s.api(s.apiOpenThread))
	m.Handle("GET /api/v1/forum/threads/{id}", s.api(s.apiThread))
	m.Handle("GET /api/v1/forum/threads/{id}/posts", s.api(s.apiPosts))
	m.Handle("POST /api/v1/forum/threads/{id}/posts", s.api(s.apiReply))
	m.Handle("PATCH /api/v1/forum/threads/{id}/posts/{n}", s.api(s.apiEditPost))
}

// allowPost applies the posting rate limit to a participant.
func (s *Server) allowPost(handle string) error {
	if !s.forum.posts.allow(handle) {
		return &steward.Error{Code: "rate_limited", Message: "you are posting too fast: wait a few seconds and send again"}
	}
	return nil
}

func loggedIn(id *identity, what string) error {
	if id == nil {
		return steward.Errorf(steward.EUNAUTHORIZED, "log in to %s", what)
	}
	return nil
}

func pathInt(r *http.Request, name string) (int64, error) {
	n, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || n < 1 {
		return 0, steward.Errorf(steward.ENOTFOUND, "no %s %q", name, r.PathValue(name))
	}
	return n, nil
}

// ForumHome is the data of the issue catalogue.
type ForumHome struct {
	Moderator  bool
	Modalities map[string]string
	Groups     []IssueGroup
	Latest     []steward.Thread
	Issues     map[string]string // id → title
}

// IssueGroup is one kind of issue in the catalogue.
type IssueGroup struct {
	Kind, Title, Source string
	Issues              []steward.Issue
}

func (s *Server) forumHome(r *http.Request, id *identity, p *page) (string, error) {
	ctx := r.Context()
	is, err := steward.ListIssues(ctx, s.cfg.Store)
	if err != nil {
		return "", err
	}
	h := ForumHome{Issues: map[string]string{}, Groups: []IssueGroup{
		{Kind: steward.IssueCluster, Title: "The four clusters", Source: "WGIG Report, para 13"},
		{Kind: steward.IssuePriority, Title: "The issues of highest priority", Source: "WGIG Report, paras 15–27"},
		{Kind: steward.IssueMandate, Title: "The forum's mandate", Source: "Tunis Agenda, para 72"},
		{Kind: steward.IssueProposed, Title: "Issues raised by participants", Source: "WGIG Report, para 45"},
		{Kind: steward.IssueGroup, Title: "Intersessional groups", Source: "best practice forums, dynamic coalitions, policy networks, national and regional initiatives"},
	}}
	for _, i := range is {
		h.Issues[i.ID] = i.Title
		for g := range h.Groups {
			if h.Groups[g].Kind == i.Kind {
				h.Groups[g].Issues = append(h.Groups[g].Issues, i)
			}
		}
	}
	for g := range h.Groups {
		if h.Groups[g].Kind == steward.IssueMandate {
			continue // keep a–l in id order
		}
		slices.SortStableFunc(h.Groups[g].Issues, func(a, b steward.Issue) int {
			return strings.Compare(a.Cluster+a.Created.String(), b.Cluster+b.Created.String())
		})
	}
	if h.Latest, err = steward.ListThreads(ctx, s.cfg.Store, "", 0, 10); err != nil {
		return "", err
	}
	if id != nil {
		if h.Moderator, err = isModerator(r, s.cfg.Store, id.handle); err != nil {
			return "", err
		}
	}
	h.Modalities = steward.Modalities
	p.Title, p.Nav, p.Data = p.T("Forum"), "forum", h
	return "forum", nil
}

func (s *Server) formGroupPost(w http.ResponseWriter, r *http.Request, id *identity) (string, string, error) {
	if err := loggedIn(id, "form a group"); err != nil {
		return "", "error", err
	}
	v, err := s.cfg.Store.Do(r.Context(), steward.FormGroup(id.handle, r.PostFormValue("modality"), strings.TrimSpace(r.PostFormValue("title")), r.PostFormValue("summary")))
	if err != nil {
		return "", "forum", err
	}
	return "/forum/issues/" + v.(*steward.Issue).ID + "?flash=group", "", nil
}

func (s *Server) outputPost(w http.ResponseWriter, r *http.Request, id *identity) (string, string, error) {
	if err := loggedIn(id, "publish an output"); err != nil {
		return "", "error", err
	}
	is := r.PathValue("id")
	if _, err := s.cfg.Store.Do(r.Context(), steward.PublishOutput(id.handle, is, strings.TrimSpace(r.PostFormValue("title")), r.PostFormValue("text"))); err != nil {
		return "", "issue", err
	}
	return "/forum/issues/" + is + "?flash=output#outputs", "", nil
}

// POST /forum/issues/{id}/conveners: name a convener (on=1) or end one's role.
func (s *Server) convenerPost(w http.ResponseWriter, r *http.Request, id *identity) (string, string, error) {
	if err := loggedIn(id, "name a group's conveners"); err != nil {
		return "", "error", err
	}
	is := r.PathValue("id")
	who := strings.TrimPrefix(strings.TrimSpace(r.PostFormValue("participant")), "@")
	if _, err := s.cfg.Store.Do(r.Context(), steward.SetConvener(id.handle, is, who, r.PostFormValue("on") == "1")); err != nil {
		return "", "issue", err
	}
	return "/forum/issues/" + is + "?flash=conveners#conveners", "", nil
}

func (s *Server) proposePost(w http.ResponseWriter, r *http.Request, id *identity) (string, string, error) {
	if err := loggedIn(id, "propose an issue"); err != nil {
		return "", "error", err
	}
	if err := s.allowPost(id.handle); err != nil {
		return "", "forum", err
	}
	v, err := s.cfg.Store.Do(r.Context(), steward.ProposeIssue(id.handle, steward.Issue{
		Title: strings.TrimSpace(r.PostFormValue("title")), Summary: r.PostFormValue("summary"),
		Institutions: splitLines(r.PostFormValue("institutions"))}))
	if err != nil {
		return "", "forum", err
	}
	return "/forum/issues/" + v.(*steward.Issue).ID + "?flash=proposed", "", nil
}

func splitLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// IssuePage is the data of an issue's page.
type IssuePage struct {
	Issue           *steward.Issue
	Handlers        []Handler // the charter's bodies that handle the issue
	Related         []steward.Issue
	Threads         []steward.Thread
	Next            int64
	Subscribed      bool
	Consultations   []steward.Consultation
	Recommendations []steward.Recommendation
	Outputs         []OutputView
	Modality        string
	CanPublish      bool
}

// OutputView is a group's output, rendered.
type OutputView struct {
	steward.Output
	HTML template.HTML
}

// Handler is a body of the charter that takes part in decisions touching
// an issue.
type Handler struct {
	Body, Name, Role, Decision string
}

func (s *Server) issuePage(r *http.Request, id *identity, p *page) (string, error) {
	ctx := r.Context()
	is, err := steward.LoadIssue(ctx, s.cfg.Store, r.PathValue("id"))
	if err != nil {
		return "", err
	}
	d := IssuePage{Issue: is}
	c, err := steward.CurrentCharter(ctx, s.cfg.Store)
	if err != nil {
		return "", err
	}
	d.Handlers = handlers(c, is.Decisions)
	for _, rel := range is.Related {
		if ri, err := steward.LoadIssue(ctx, s.cfg.Store, rel); err == nil {
			d.Related = append(d.Related, *ri)
		}
	}
	after, _ := strconv.ParseInt(r.URL.Query().Get("after"), 10, 64)
	ts, err := steward.ListThreads(ctx, s.cfg.Store, is.ID, after, 31)
	if err != nil {
		return "", err
	}
	if len(ts) > 30 {
		ts, d.Next = ts[:30], ts[29].ID
	}
	d.Threads = ts
	if id != nil {
		_, err := s.cfg.Store.Get(ctx, "forum/sub/"+id.handle+"/issue:"+is.ID)
		d.Subscribed = err == nil
	}
	cs, err := steward.ListConsultations(ctx, s.cfg.Store)
	if err != nil {
		return "", err
	}
	for _, c := range cs {
		if c.Issue == is.ID {
			d.Consultations = append(d.Consultations, c)
		}
	}
	rs, err := steward.ListRecommendations(ctx, s.cfg.Store)
	if err != nil {
		return "", err
	}
	for _, rec := range rs {
		if rec.Issue == is.ID {
			d.Recommendations = append(d.Recommendations, rec)
		}
	}
	if is.Kind == steward.IssueGroup {
		d.Modality = steward.Modalities[is.Modality]
		outs, err := steward.ListOutputs(ctx, s.cfg.Store, is.ID)
		if err != nil {
			return "", err
		}
		for _, o := range outs {
			d.Outputs = append(d.Outputs, OutputView{Output: o, HTML: renderMarkdown(o.Text)})
		}
		if id != nil {
			mod, err := isModerator(r, s.cfg.Store, id.handle)
			if err != nil {
				return "", err
			}
			d.CanPublish = mod || is.IsConvener(id.handle)
		}
	}
	p.Title, p.Nav, p.Data = is.Title, "forum", d
	return "issue", nil
}

// handlers lists the bodies the charter names for decisions of kinds.
func handlers(c *charter.Charter, kinds []string) []Handler {
	var out []Handler
	for _, k := range kinds {
		for _, dec := range c.Decisions {
			if dec.Kind != k {
				continue
			}
			add := func(ids []string, role string) {
				for _, b := range ids {
					name := b
					if body, ok := c.Body(b); ok {
						name = body.Name
					}
					out = append(out, Handler{Body: b, Name: name, Role: role, Decision: k})
				}
			}
			add(dec.Approval, "approves")
			add(dec.Advice, "advises")
			add(dec.Observation, "is informed")
		}
	}
	return out
}

func (s *Server) threadPost(w http.ResponseWriter, r *http.Request, id *identity) (string, string, error) {
	if err := loggedIn(id, "open a thread"); err != nil {
		return "", "error", err
	}
	if err := s.allowPost(id.handle); err != nil {
		return "", "issue", err
	}
	v, err := s.cfg.Store.Do(r.Context(), steward.OpenThread(id.handle, r.PathValue("id"), strings.TrimSpace(r.PostFormValue("title")), r.PostFormValue("body")))
	if err != nil {
		return "", "issue", err
	}
	return fmt.Sprintf("/forum/threads/%d?flash=thread", v.(*steward.Thread).ID), "", nil
}

// ThreadPage is the data of a thread's page.
type ThreadPage struct {
	Thread     *steward.Thread
	Issue      *steward.Issue
	Posts      []PostView
	Page       int
	Pages      []int
	Subscribed bool
	Moderator  bool
	Quote      string // the reply form's text when quoting
	ReplyTo    int
	Reactions  []string
}

// PostView is a post as a page shows it.
type PostView struct {
	steward.Post
	HTML   template.HTML
	Mine   []string // the viewer's reactions
	Counts []ReactionCount
}

// ReactionCount is a reaction and how many gave it.
type ReactionCount struct {
	Reaction string
	N        int
	Mine     bool
}

func (s *Server) threadPage(r *http.Request, id *identity, p *page) (string, error) {
	ctx := r.Context()
	tid, err := pathInt(r, "id")
	if err != nil {
		return "", err
	}
	t, err := steward.LoadThread(ctx, s.cfg.Store, tid)
	if err != nil {
		return "", err
	}
	is, err := steward.LoadIssue(ctx, s.cfg.Store, t.Issue)
	if err != nil {
		return "", err
	}
	pages := (t.Posts + steward.PageSize - 1) / steward.PageSize
	pg := pages
	if v := r.URL.Query().Get("page"); v != "" {
		if pg, err = strconv.Atoi(v); err != nil || pg < 1 || pg > pages {
			return "", steward.Errorf(steward.ENOTFOUND, "thread %d has pages 1 to %d", tid, pages)
		}
	} else {
		pg = 1
	}
	posts, err := steward.ListPosts(ctx, s.cfg.Store, tid, (pg-1)*steward.PageSize, steward.PageSize)
	if err != nil {
		return "", err
	}
	d := ThreadPage{Thread: t, Issue: is, Page: pg, Reactions: steward.Reactions}
	for i := 1; i <= pages; i++ {
		d.Pages = append(d.Pages, i)
	}
	for _, post := range posts {
		v := PostView{Post: post}
		if !post.Hidden {
			v.HTML = s.forum.md.render(fmt.Sprintf("%d/%d/%d", post.Thread, post.N, post.Revisions), post.Body)
		}
		for _, re := range steward.Reactions {
			rc := ReactionCount{Reaction: re, N: post.Reactions[re]}
			if id != nil && rc.N > 0 {
				rc.Mine = steward.HasReacted(ctx, s.cfg.Store, id.handle, tid, post.N, re)
			}
			v.Counts = append(v.Counts, rc)
		}
		d.Posts = append(d.Posts, v)
	}
	if id != nil {
		_, err := s.cfg.Store.Get(ctx, fmt.Sprintf("forum/sub/%s/thread:%d", id.handle, tid))
		d.Subscribed = err == nil
		if d.Moderator, err = isModerator(r, s.cfg.Store, id.handle); err != nil {
			return "", err
		}
	}
	if q := r.URL.Query().Get("quote"); q != "" {
		n, _ := strconv.Atoi(q)
		if qp, err := steward.LoadPost(ctx, s.cfg.Store, tid, n); err == nil && !qp.Hidden {
			d.ReplyTo = n
			d.Quote = quote(qp)
		}
	}
	p.Title, p.Nav, p.Data = t.Title, "forum", d
	return "thread", nil
}

func isModerator(r *http.Request, st steward.StateReader, handle string) (bool, error) {
	ok, err := steward.IsModerator(r.Context(), st, handle)
	if ok || err != nil {
		return ok, err
	}
	return steward.IsOperator(r.Context(), st, handle)
}

// quote returns a post's text as a markdown quotation naming its author.
func quote(p *steward.Post) string {
	var b strings.Builder
	fmt.Fprintf(&b, "> @%s wrote in post %d:\n", p.Author, p.N)
	for _, l := range strings.Split(strings.TrimSpace(p.Body), "\n") {
		b.WriteString("> " + l + "\n")
	}
	b.WriteString("\n")
	return b.String()
}

func postURL(t int64, n int) string {
	return fmt.Sprintf("/forum/threads/%d?page=%d#p%d", t, (n-1)/steward.PageSize+1, n)
}

func withFlash(u, flash string) string {
	path, frag, _ := strings.Cut(u, "#")
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	if frag != "" {
		frag = "#" + frag
	}
	return path + sep + "flash=" + flash + frag
}

func (s *Server) replyPost(w http.ResponseWriter, r *http.Request, id *identity) (string, string, error) {
	if err := loggedIn(id, "post"); err != nil {
		return "", "error", err
	}
	tid, err := pathInt(r, "id")
	if err != nil {
		return "", "error", err
	}
	if err := s.allowPost(id.handle); err != nil {
		return "", "thread", err
	}
	replyTo, _ := strconv.Atoi(r.PostFormValue("reply_to"))
	v, err := s.cfg.Store.Do(r.Context(), steward.Reply(id.handle, tid, replyTo, r.PostFormValue("body")))
	if err != nil {
		return "", "thread", err
	}
	return withFlash(postURL(tid, v.(*steward.Post).N), "posted"), "", nil
}

// EditPage is the data of a post's edit and history pages.
type EditPage struct {
	Thread    *steward.Thread
	Post      *steward.Post
	Revisions []RevisionView
}

// RevisionView is an earlier text of a post, rendered.
type RevisionView struct {
	steward.Revision
	HTML template.HTML
}

func (s *Server) loadPost(r *http.Request) (*steward.Thread, *steward.Post, error) {
	tid, err := pathInt(r, "id")
	if err != nil {
		return nil, nil, err
	}
	n, err := pathInt(r, "n")
	if err != nil {
		return nil, nil, err
	}
	t, err := steward.LoadThread(r.Context(), s.cfg.Store, tid)
	if err != nil {
		return nil, nil, err
	}
	p, err := steward.LoadPost(r.Context(), s.cfg.Store, tid, int(n))
	return t, p, err
}

func (s *Server) editPage(r *http.Request, id *identity, p *page) (string, error) {
	if err := loggedIn(id, "edit a post"); err != nil {
		return "", err
	}
	t, post, err := s.loadPost(r)
	if err != nil {
		return "", err
	}
	if post.Author != id.handle {
		return "", steward.Errorf(steward.EFORBIDDEN, "only %s may edit this post", post.Author)
	}
	if _, ok := p.Form["body"]; !ok {
		p.Form = map[string]string{"body": post.Body}
	}
	p.Title, p.Nav, p.Data = p.T("Edit post"), "forum", EditPage{Thread: t, Post: post}
	return "post_edit", nil
}

func (s *Server) editPost(w http.ResponseWriter, r *http.Request, id *identity) (string, string, error) {
	if err := loggedIn(id, "edit a post"); err != nil {
		return "", "error", err
	}
	t, post, err := s.loadPost(r)
	if err != nil {
		return "", "error", err
	}
	if err := s.allowPost(id.handle); err != nil {
		return "", "post_edit", err
	}
	if _, err := s.cfg.Store.Do(r.Context(), steward.EditPost(id.handle, t.ID, post.N, r.PostFormValue("body"))); err != nil {
		return "", "post_edit", err
	}
	return withFlash(postURL(t.ID, post.N), "edited"), "", nil
}

func (s *Server) historyPage(r *http.Request, id *identity, p *page) (string, error) {
	t, post, err := s.loadPost(r)
	if err != nil {
		return "", err
	}
	d := EditPage{Thread: t, Post: post}
	if !post.Hidden {
		revs, err := steward.Revisions(r.Context(), s.cfg.Store, t.ID, post.N)
		if err != nil {
			return "", err
		}
		for _, rv := range revs {
			d.Revisions = append(d.Revisions, RevisionView{Revision: rv, HTML: renderMarkdown(rv.Body)})
		}
	}
	p.Title, p.Nav, p.Data = p.T("History of post %d", post.N), "forum", d
	return "post_history", nil
}

func (s *Server) reactPost(w http.ResponseWriter, r *http.Request, id *identity) (string, string, error) {
	if err := loggedIn(id, "react"); err != nil {
		return "", "error", err
	}
	t, post, err := s.loadPost(r)
	if err != nil {
		return "", "error", err
	}
	if _, err := s.cfg.Store.Do(r.Context(), steward.React(id.handle, t.ID, post.N, r.PostFormValue("reaction"), r.PostFormValue("on") == "1")); err != nil {
		return "", "error", err
	}
	return postURL(t.ID, post.N), "", nil
}

func (s *Server) flagPost(w http.ResponseWriter, r *http.Request, id *identity) (string, string, error) {
	if err := loggedIn(id, "flag a post"); err != nil {
		return "", "error", err
	}
	t, post, err := s.loadPost(r)
	if err != nil {
		return "", "error", err
	}
	if err := s.allowPost(id.handle); err != nil {
		return "", "error", err
	}
	if _, err := s.cfg.Store.Do(r.Context(), steward.Flag(id.handle, t.ID, post.N, strings.TrimSpace(r.PostFormValue("reason")))); err != nil {
		return "", "error", err
	}
	return withFlash(postURL(t.ID, post.N), "flagged"), "", nil
}

func (s *Server) moderatePost(w http.ResponseWriter, r *http.Request, id *identity) (string, string, error) {
	if err := loggedIn(id, "moderate"); err != nil {
		return "", "error", err
	}
	t, post, err := s.loadPost(r)
	if err != nil {
		return "", "error", err
	}
	reason := strings.TrimSpace(r.PostFormValue("reason"))
	var cmd steward.Command
	switch r.PostFormValue("action") {
	case "hide":
		cmd = steward.Hide(id.handle, t.ID, post.N, reason)
	case "dismiss":
		cmd = steward.DismissFlags(id.handle, t.ID, post.N, reason)
	case "uphold":
		cmd = steward.DecideAppeal(id.handle, t.ID, post.N, true, reason)
	case "restore":
		cmd = steward.DecideAppeal(id.handle, t.ID, post.N, false, reason)
	default:
		return "", "error", steward.Errorf(steward.EINVALID, "action: want hide, dismiss, uphold or restore")
	}
	if _, err := s.cfg.Store.Do(r.Context(), cmd); err != nil {
		return "", "error", err
	}
	next := r.PostFormValue("next")
	if next != "/forum/moderation" {
		next = postURL(t.ID, post.N)
	}
	return withFlash(next, "moderated"), "", nil
}

func (s *Server) appealPost(w http.ResponseWriter, r *http.Request, id *identity) (string, string, error) {
	if err := loggedIn(id, "appeal"); err != nil {
		return "", "error", err
	}
	t, post, err := s.loadPost(r)
	if err != nil {
		return "", "error", err
	}
	if _, err := s.cfg.Store.Do(r.Context(), steward.Appeal(id.handle, t.ID, post.N, strings.TrimSpace(r.PostFormValue("text")))); err != nil {
		return "", "error", err
	}
	return withFlash(postURL(t.ID, post.N), "appealed"), "", nil
}

func (s *Server) subscribePost(w http.ResponseWriter, r *http.Request, id *identity) (string, string, error) {
	if err := loggedIn(id, "subscribe"); err != nil {
		return "", "error", err
	}
	target := r.PostFormValue("target")
	if _, err := s.cfg.Store.Do(r.Context(), steward.Subscribe(id.handle, target, r.PostFormValue("on") == "1")); err != nil {
		return "", "error", err
	}
	kind, ident, _ := strings.Cut(target, ":")
	return withFlash("/forum/"+kind+"s/"+url.PathEscape(ident), "subscribed"), "", nil
}

// POST /forum/notifications/mail: choose how the forum mails one.
func (s *Server) forumMailPost(w http.ResponseWriter, r *http.Request, id *identity) (string, string, error) {
	if err := loggedIn(id, "choose forum e-mail"); err != nil {
		return "", "error", err
	}
	if _, err := s.cfg.Store.Do(r.Context(), steward.SetForumMail(id.handle, steward.MailMode(r.PostFormValue("mode")))); err != nil {
		return "", "error", err
	}
	return withFlash("/forum/notifications", "mailset"), "", nil
}

// ModerationPage is the data of the moderators' review queue.
type ModerationPage struct {
	Items []QueueView
}

// QueueView is a queued post with its text.
type QueueView struct {
	steward.QueueItem
	Post   *steward.Post
	Thread *steward.Thread
	HTML   template.HTML
}

func (s *Server) moderationPage(r *http.Request, id *identity, p *page) (string, error) {
	if err := loggedIn(id, "see the review queue"); err != nil {
		return "", err
	}
	ok, err := isModerator(r, s.cfg.Store, id.handle)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", steward.Errorf(steward.EFORBIDDEN, "only the forum's moderators see the review queue")
	}
	ctx := r.Context()
	q, err := steward.ModerationQueue(ctx, s.cfg.Store, 200)
	if err != nil {
		return "", err
	}
	var d ModerationPage
	for _, it := range q {
		v := QueueView{QueueItem: it}
		if v.Post, err = steward.LoadPost(ctx, s.cfg.Store, it.Thread, it.N); err != nil {
			return "", err
		}
		if v.Thread, err = steward.LoadThread(ctx, s.cfg.Store, it.Thread); err != nil {
			return "", err
		}
		v.HTML = renderMarkdown(v.Post.Body)
		d.Items = append(d.Items, v)
	}
	p.Title, p.Nav, p.Data = p.T("Review queue"), "forum", d
	return "moderation", nil
}

// ConductPage is the data of the code of conduct.
type ConductPage struct {
	Moderators string
}

func (s *Server) conductPage(r *http.Request, id *identity, p *page) (string, error) {
	c, err := steward.CurrentCharter(r.Context(), s.cfg.Store)
	if err != nil {
		return "", err
	}
	d := ConductPage{Moderators: c.Roles.Moderators}
	if b, ok := c.Body(c.Roles.Moderators); ok {
		d.Moderators = b.Name
	}
	p.Title, p.Nav, p.Data = p.T("Code of conduct"), "forum", d
	return "conduct", nil
}

// NotificationsPage is the data of a participant's notifications.
type NotificationsPage struct {
	Mentions []steward.Notice
	Subs     []SubView
	Mail     steward.MailMode // how the forum mails them
	Modes    []steward.MailMode
}

// SubView is a subscription with what is new since it began.
type SubView struct {
	steward.Subscription
	Title, Href string
	Active      string // when the target last changed
}

func (s *Server) notificationsPage(r *http.Request, id *identity, p *page) (string, error) {
	if err := loggedIn(id, "see your notifications"); err != nil {
		return "", err
	}
	ctx := r.Context()
	ns, err := steward.Notices(ctx, s.cfg.Store, id.handle, 200)
	if err != nil {
		return "", err
	}
	slices.Reverse(ns)
	subs, err := steward.Subscriptions(ctx, s.cfg.Store, id.handle)
	if err != nil {
		return "", err
	}
	mode, err := steward.ForumMail(ctx, s.cfg.Store, id.handle)
	if err != nil {
		return "", err
	}
	d := NotificationsPage{Mentions: ns, Mail: mode, Modes: steward.MailModes}
	for _, sub := range subs {
		v := SubView{Subscription: sub}
		kind, ident, _ := strings.Cut(sub.Target, ":")
		v.Href = "/forum/" + kind + "s/" + ident
		switch kind {
		case "issue":
			if is, err := steward.LoadIssue(ctx, s.cfg.Store, ident); err == nil {
				v.Title, v.Active = is.Title, is.Activity.UTC().Format("2006-01-02 15:04")
			}
		case "thread":
			n, _ := strconv.ParseInt(ident, 10, 64)
			if t, err := steward.LoadThread(ctx, s.cfg.Store, n); err == nil {
				v.Title, v.Active = t.Title, t.LastPost.UTC().Format("2006-01-02 15:04")
			}
		case "consultation":
			n, _ := strconv.ParseInt(ident, 10, 64)
			if c, err := steward.LoadConsultation(ctx, s.cfg.Store, n); err == nil {
				v.Title = c.Title
			}
		}
		d.Subs = append(d.Subs, v)
	}
	p.Title, p.Nav, p.Data = p.T("Notifications"), "forum", d
	return "notifications", nil
}

// The JSON API.

// IssueRequest proposes an issue.
type IssueRequest struct {
	Title        string   `json:"title"`
	Summary      string   `json:"summary"`
	Institutions []string `json:"institutions,omitempty"`
}

// ThreadRequest opens a thread.
type ThreadRequest struct {
	Title string `json:"title"`
	Body  string `json:"body"`
}

// PostRequest adds or edits a post.
type PostRequest struct {
	Body    string `json:"body"`
	ReplyTo int    `json:"reply_to,omitempty"`
}

// IssueInfo is an issue with the charter's bodies that handle it.
type IssueInfo struct {
	*steward.Issue
	Handlers []Handler `json:"handlers"`
}

func (s *Server) apiIssues(r *http.Request) (any, error) {
	is, err := steward.ListIssues(r.Context(), s.cfg.Store)
	if is == nil {
		is = []steward.Issue{}
	}
	return List[steward.Issue]{Items: is}, err
}

func (s *Server) apiIssue(r *http.Request) (any, error) {
	is, err := steward.LoadIssue(r.Context(), s.cfg.Store, r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	c, err := steward.CurrentCharter(r.Context(), s.cfg.Store)
	if err != nil {
		return nil, err
	}
	return IssueInfo{Issue: is, Handlers: handlers(c, is.Decisions)}, nil
}

func (s *Server) apiProposeIssue(r *http.Request) (any, error) {
	id, err := s.require(r, steward.ScopeWrite)
	if err != nil {
		return nil, err
	}
	var req IssueRequest
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	if err := s.allowPost(id.handle); err != nil {
		return nil, err
	}
	v, err := s.cfg.Store.Do(r.Context(), steward.ProposeIssue(id.handle, steward.Issue{Title: req.Title, Summary: req.Summary, Institutions: req.Institutions}))
	if err != nil {
		return nil, err
	}
	return created{v}, nil
}

func (s *Server) apiThreads(r *http.Request) (any, error) {
	is, err := steward.LoadIssue(r.Context(), s.cfg.Store, r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	after, limit, err := pageParams(r, 50, 500)
	if err != nil {
		return nil, err
	}
	a, _ := strconv.ParseInt(after, 10, 64)
	ts, err := steward.ListThreads(r.Context(), s.cfg.Store, is.ID, a, limit+1)
	if err != nil {
		return nil, err
	}
	l := List[steward.Thread]{Items: ts}
	if l.Items == nil {
		l.Items = []steward.Thread{}
	}
	if len(ts) > limit {
		l.Items, l.Next = ts[:limit], strconv.FormatInt(ts[limit-1].ID, 10)
	}
	return l, nil
}

func (s *Server) apiOpenThread(r *http.Request) (any, error) {
	id, err := s.require(r, steward.ScopeWrite)
	if err != nil {
		return nil, err
	}
	var req ThreadRequest
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	if err := s.allowPost(id.handle); err != nil {
		return nil, err
	}
	v, err := s.cfg.Store.Do(r.Context(), steward.OpenThread(id.handle, r.PathValue("id"), req.Title, req.Body))
	if err != nil {
		return nil, err
	}
	return created{v}, nil
}

func (s *Server) apiThread(r *http.Request) (any, error) {
	tid, err := pathInt(r, "id")
	if err != nil {
		return nil, err
	}
	return steward.LoadThread(r.Context(), s.cfg.Store, tid)
}

func (s *Server) apiPosts(r *http.Request) (any, error) {
	tid, err := pathInt(r, "id")
	if err != nil {
		return nil, err
	}
	if _, err := steward.LoadThread(r.Context(), s.cfg.Store, tid); err != nil {
		return nil, err
	}
	after, limit, err := pageParams(r, steward.PageSize, 500)
	if err != nil {
		return nil, err
	}
	a, _ := strconv.Atoi(after)
	ps, err := steward.ListPosts(r.Context(), s.cfg.Store, tid, a, limit+1)
	if err != nil {
		return nil, err
	}
	for i := range ps {
		if ps[i].Hidden {
			ps[i].Body = "" // hidden: the reason stands in for the text
		}
	}
	l := List[steward.Post]{Items: ps}
	if l.Items == nil {
		l.Items = []steward.Post{}
	}
	if len(ps) > limit {
		l.Items, l.Next = ps[:limit], strconv.Itoa(ps[limit-1].N)
	}
	return l, nil
}

func (s *Server) apiReply(r *http.Request) (any, error) {
	id, err := s.require(r, steward.ScopeWrite)
	if err != nil {
		return nil, err
	}
	tid, err := pathInt(r, "id")
	if err != nil {
		return nil, err
	}
	var req PostRequest
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	if err := s.allowPost(id.handle); err != nil {
		return nil, err
	}
	v, err := s.cfg.Store.Do(r.Context(), steward.Reply(id.handle, tid, req.ReplyTo, req.Body))
	if err != nil {
		return nil, err
	}
	return created{v}, nil
}

func (s *Server) apiEditPost(r *http.Request) (any, error) {
	id, err := s.require(r, steward.ScopeWrite)
	if err != nil {
		return nil, err
	}
	tid, err := pathInt(r, "id")
	if err != nil {
		return nil, err
	}
	n, err := pathInt(r, "n")
	if err != nil {
		return nil, err
	}
	var req PostRequest
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	return s.cfg.Store.Do(r.Context(), steward.EditPost(id.handle, tid, int(n), req.Body))
}

// forumPage returns the GET handler of a forum page, to show a form on it
// again with an error.
func (s *Server) forumPage(name string) uiHandler {
	return map[string]uiHandler{
		"forum": s.forumHome, "issue": s.issuePage, "thread": s.threadPage, "post_edit": s.editPage,
		"consultations": s.consultationsPage, "consultation": s.consultationPage,
		"recommendations": s.recommendationsPage, "recommendation": s.recommendationPage,
		"meetings": s.meetingsPage, "meeting": s.meetingPage,
	}[name]
}
