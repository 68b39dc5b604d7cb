package web

import (
	"encoding/hex"
	"fmt"
	"html/template"
	"io"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"steward"
)

func (s *Server) consultRoutes(m *http.ServeMux) {
	m.HandleFunc("GET /forum/consultations", s.ui(s.consultationsPage))
	m.HandleFunc("POST /forum/consultations", s.form(s.openConsultationPost))
	m.HandleFunc("GET /forum/consultations/{id}", s.ui(s.consultationPage))
	m.HandleFunc("POST /forum/consultations/{id}/submissions", s.form(s.submissionPost))
	m.HandleFunc("POST /forum/consultations/{id}/synthesis", s.form(s.synthesisPost))
	m.HandleFunc("GET /forum/attachments/{sha}", s.attachment)
	m.HandleFunc("GET /forum/recommendations", s.ui(s.recommendationsPage))
	m.HandleFunc("POST /forum/recommendations", s.form(s.recommendPost))
	m.HandleFunc("GET /forum/recommendations/{id}", s.ui(s.recommendationPage))
	m.HandleFunc("POST /forum/recommendations/{id}/answers", s.form(s.answerPost))
	m.HandleFunc("GET /forum/participation", s.ui(s.participationPage))
	m.HandleFunc("GET /forum/issues.atom", s.issuesFeed)
	m.HandleFunc("GET /forum/issues/{id}/threads.atom", s.issueFeed)
	m.HandleFunc("GET /forum/threads/{id}/posts.atom", s.threadFeed)
	m.HandleFunc("GET /forum/consultations.atom", s.consultationsFeed)

	m.Handle("GET /api/v1/forum/consultations", s.api(s.apiConsultations))
	m.Handle("GET /api/v1/forum/consultations/{id}", s.api(s.apiConsultation))
	m.Handle("GET /api/v1/forum/consultations/{id}/submissions", s.api(s.apiSubmissions))
	m.Handle("POST /api/v1/forum/consultations/{id}/submissions", s.api(s.apiSubmit))
	m.Handle("GET /api/v1/forum/recommendations", s.api(s.apiRecommendations))
	m.Handle("GET /api/v1/forum/recommendations/{id}", s.api(s.apiRecommendation))
	m.Handle("POST /api/v1/forum/recommendations/{id}/answers", s.api(s.apiAnswer))
	m.Handle("GET /api/v1/forum/participation", s.api(s.apiParticipation))
}

// ConsultationsPage is the data of the consultations page.
type ConsultationsPage struct {
	Open, Closed []steward.Consultation
	Moderator    bool
	Issues       []steward.Issue
	Now          time.Time
}

func (s *Server) consultationsPage(r *http.Request, id *identity, p *page) (string, error) {
	ctx := r.Context()
	cs, err := steward.ListConsultations(ctx, s.cfg.Store)
	if err != nil {
		return "", err
	}
	now := s.cfg.Clock.Now()
	d := ConsultationsPage{Now: now}
	for i := len(cs) - 1; i >= 0; i-- {
		if cs[i].Open(now) {
			d.Open = append(d.Open, cs[i])
		} else {
			d.Closed = append(d.Closed, cs[i])
		}
	}
	if id != nil {
		if d.Moderator, err = isModerator(r, s.cfg.Store, id.handle); err != nil {
			return "", err
		}
		if d.Moderator {
			if d.Issues, err = steward.ListIssues(ctx, s.cfg.Store); err != nil {
				return "", err
			}
		}
	}
	p.Title, p.Nav, p.Data = p.T("Consultations"), "forum", d
	return "consultations", nil
}

func parseFormTime(v, what string) (time.Time, error) {
	for _, layout := range []string{"2006-01-02T15:04", time.RFC3339, "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, steward.Errorf(steward.EINVALID, "%s: give a date and time in UTC, such as 2026-06-30T17:00", what)
}

func (s *Server) openConsultationPost(w http.ResponseWriter, r *http.Request, id *identity) (string, string, error) {
	if err := loggedIn(id, "open a consultation"); err != nil {
		return "", "error", err
	}
	deadline, err := parseFormTime(r.PostFormValue("deadline"), "deadline")
	if err != nil {
		return "", "consultations", err
	}
	v, err := s.cfg.Store.Do(r.Context(), steward.OpenConsultation(id.handle, r.PostFormValue("issue"), strings.TrimSpace(r.PostFormValue("title")), r.PostFormValue("call"), deadline))
	if err != nil {
		return "", "consultations", err
	}
	return fmt.Sprintf("/forum/consultations/%d?flash=consultation", v.(*steward.Consultation).ID), "", nil
}

// ConsultationPage is the data of a consultation's page.
type ConsultationPage struct {
	C           *steward.Consultation
	CallHTML    template.HTML
	Submissions []SubmissionView
	Synthesis   template.HTML
	IsOpen      bool
	CanSynth    bool
	Subscribed  bool
	Types       string
	MaxKiB      int
}

// SubmissionView is a submission as the page shows it.
type SubmissionView struct {
	steward.Submission
	HTML  template.HTML
	Cited bool
}

func (s *Server) consultationPage(r *http.Request, id *identity, p *page) (string, error) {
	ctx := r.Context()
	cid, err := pathInt(r, "id")
	if err != nil {
		return "", err
	}
	c, err := steward.LoadConsultation(ctx, s.cfg.Store, cid)
	if err != nil {
		return "", err
	}
	subs, err := steward.ListSubmissions(ctx, s.cfg.Store, cid)
	if err != nil {
		return "", err
	}
	now := s.cfg.Clock.Now()
	d := ConsultationPage{C: c, CallHTML: renderMarkdown(c.Call), IsOpen: c.Open(now), Types: "PDF, text, PNG, JPEG", MaxKiB: steward.MaxAttachmentBytes >> 10}
	for _, sub := range subs {
		v := SubmissionView{Submission: sub, HTML: s.forum.md.render(fmt.Sprintf("c%d/%d", cid, sub.N), sub.Text)}
		if c.Synthesis != nil {
			v.Cited = slices.Contains(c.Synthesis.Cites, sub.N)
		}
		d.Submissions = append(d.Submissions, v)
	}
	if c.Synthesis != nil {
		d.Synthesis = renderMarkdown(c.Synthesis.Text)
	}
	if id != nil {
		mod, err := isModerator(r, s.cfg.Store, id.handle)
		if err != nil {
			return "", err
		}
		d.CanSynth = !d.IsOpen && c.Synthesis == nil && (mod || id.handle == c.Opener)
		_, err = s.cfg.Store.Get(ctx, fmt.Sprintf("forum/sub/%s/consultation:%d", id.handle, cid))
		d.Subscribed = err == nil
	}
	p.Title, p.Nav, p.Data = c.Title, "forum", d
	return "consultation", nil
}

// readAttachments reads the files of a multipart form's "file" fields,
// sniffing their types.
func readAttachments(r *http.Request) ([]steward.AttachmentData, error) {
	if r.MultipartForm == nil {
		return nil, nil
	}
	var out []steward.AttachmentData
	for _, fh := range r.MultipartForm.File["file"] {
		if fh.Size == 0 && fh.Filename == "" {
			continue
		}
		if len(out) == steward.MaxAttachments {
			return nil, steward.Errorf(steward.ETOOLARGE, "at most %d attachments", steward.MaxAttachments)
		}
		if fh.Size > steward.MaxAttachmentBytes {
			return nil, steward.Errorf(steward.ETOOLARGE, "attachment %q is %d bytes; at most %d are allowed", fh.Filename, fh.Size, steward.MaxAttachmentBytes)
		}
		f, err := fh.Open()
		if err != nil {
			return nil, err
		}
		data, err := io.ReadAll(io.LimitReader(f, steward.MaxAttachmentBytes+1))
		f.Close()
		if err != nil {
			return nil, err
		}
		if len(data) == 0 {
			continue
		}
		out = append(out, steward.AttachmentData{Name: fh.Filename, Data: data, Type: http.DetectContentType(data)})
	}
	return out, nil
}

func (s *Server) submissionPost(w http.ResponseWriter, r *http.Request, id *identity) (string, string, error) {
	if err := loggedIn(id, "make a submission"); err != nil {
		return "", "error", err
	}
	cid, err := pathInt(r, "id")
	if err != nil {
		return "", "error", err
	}
	if err := s.allowPost(id.handle); err != nil {
		return "", "consultation", err
	}
	files, err := readAttachments(r)
	if err != nil {
		return "", "consultation", err
	}
	v, err := s.cfg.Store.Do(r.Context(), steward.Submit(id.handle, cid, r.PostFormValue("text"), files))
	if err != nil {
		return "", "consultation", err
	}
	return fmt.Sprintf("/forum/consultations/%d?flash=submitted#s%d", cid, v.(*steward.Submission).N), "", nil
}

func parseCites(v string) ([]int, error) {
	var out []int
	for _, f := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' }) {
		n, err := strconv.Atoi(f)
		if err != nil {
			return nil, steward.Errorf(steward.EINVALID, "cited submissions: %q is not a number", f)
		}
		out = append(out, n)
	}
	return out, nil
}

func (s *Server) synthesisPost(w http.ResponseWriter, r *http.Request, id *identity) (string, string, error) {
	if err := loggedIn(id, "publish a synthesis"); err != nil {
		return "", "error", err
	}
	cid, err := pathInt(r, "id")
	if err != nil {
		return "", "error", err
	}
	cites := []int{}
	for _, v := range r.PostForm["cite"] {
		if n, err := strconv.Atoi(v); err == nil {
			cites = append(cites, n)
		}
	}
	if more, err := parseCites(r.PostFormValue("cites")); err != nil {
		return "", "consultation", err
	} else {
		cites = append(cites, more...)
	}
	if _, err := s.cfg.Store.Do(r.Context(), steward.PublishSynthesis(id.handle, cid, r.PostFormValue("text"), cites)); err != nil {
		return "", "consultation", err
	}
	return fmt.Sprintf("/forum/consultations/%d?flash=synthesis#synthesis", cid), "", nil
}

// GET /forum/attachments/{sha}?name=…: a submission's attached document,
// served as a download with its sniffed type, never rendered inline.
func (s *Server) attachment(w http.ResponseWriter, r *http.Request) {
	sha := r.PathValue("sha")
	if b, err := hex.DecodeString(sha); err != nil || len(b) != 32 || strings.ToLower(sha) != sha {
		s.render(w, r, http.StatusNotFound, "error", &page{Title: "No such attachment"}, nil)
		return
	}
	data, err := s.cfg.Store.Secret(r.Context(), "blob/"+sha)
	if err != nil {
		s.render(w, r, http.StatusNotFound, "error", &page{Title: "No such attachment"}, nil)
		return
	}
	name := r.URL.Query().Get("name")
	if name == "" || strings.ContainsAny(name, "\"\\/\r\n") {
		name = sha
	}
	w.Header().Set("Content-Type", http.DetectContentType(data))
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	w.Header().Set("Content-Security-Policy", "default-src 'none'; sandbox")
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	_, _ = w.Write(data)
}

// RecommendationsPage is the data of the recommendations page.
type RecommendationsPage struct {
	Items   []RecView
	CanMake bool
	Bodies  []BodyRef
	Issues  []steward.Issue
	Overdue int
}

// BodyRef names a body.
type BodyRef struct{ ID, Name string }

// RecView is a recommendation with its status at the page's time.
type RecView struct {
	*steward.Recommendation
	Status    string
	Overdue   bool
	ToName    string
	HTML      template.HTML
	CanAnswer bool
}

func (s *Server) recView(r *http.Request, rec *steward.Recommendation, id *identity) RecView {
	v := RecView{Recommendation: rec, Status: rec.Status(), Overdue: rec.Overdue(s.cfg.Clock.Now()), ToName: rec.To}
	if c, err := steward.CurrentCharter(r.Context(), s.cfg.Store); err == nil {
		if b, ok := c.Body(rec.To); ok {
			v.ToName = b.Name
		}
	}
	if id != nil && v.Status != steward.AnswerAccept && v.Status != steward.AnswerDecline {
		chair, _ := steward.Chair(r.Context(), s.cfg.Store, rec.To)
		m, err := steward.LoadMember(r.Context(), s.cfg.Store, rec.To, id.handle)
		v.CanAnswer = chair == id.handle || (err == nil && m.Capacity == "voting")
	}
	return v
}

func (s *Server) recommendationsPage(r *http.Request, id *identity, p *page) (string, error) {
	ctx := r.Context()
	rs, err := steward.ListRecommendations(ctx, s.cfg.Store)
	if err != nil {
		return "", err
	}
	var d RecommendationsPage
	for i := len(rs) - 1; i >= 0; i-- {
		v := s.recView(r, &rs[i], id)
		if v.Overdue {
			d.Overdue++
		}
		d.Items = append(d.Items, v)
	}
	if id != nil {
		if d.CanMake, err = isModerator(r, s.cfg.Store, id.handle); err != nil {
			return "", err
		}
		if d.CanMake {
			c, err := steward.CurrentCharter(ctx, s.cfg.Store)
			if err != nil {
				return "", err
			}
			for _, b := range c.Bodies {
				if b.ID != c.Forum.Body {
					d.Bodies = append(d.Bodies, BodyRef{b.ID, b.Name})
				}
			}
			if d.Issues, err = steward.ListIssues(ctx, s.cfg.Store); err != nil {
				return "", err
			}
		}
	}
	p.Title, p.Nav, p.Data = p.T("Recommendations"), "forum", d
	return "recommendations", nil
}

func (s *Server) recommendPost(w http.ResponseWriter, r *http.Request, id *identity) (string, string, error) {
	if err := loggedIn(id, "make a recommendation"); err != nil {
		return "", "error", err
	}
	due, err := parseFormTime(r.PostFormValue("due"), "answer due")
	if err != nil {
		return "", "recommendations", err
	}
	cons, _ := strconv.ParseInt(r.PostFormValue("consultation"), 10, 64)
	v, err := s.cfg.Store.Do(r.Context(), steward.Recommend(id.handle, steward.Recommendation{
		Title: strings.TrimSpace(r.PostFormValue("title")), Text: r.PostFormValue("text"), To: r.PostFormValue("to"),
		Issue: r.PostFormValue("issue"), Consultation: cons, Due: due}))
	if err != nil {
		return "", "recommendations", err
	}
	return fmt.Sprintf("/forum/recommendations/%d?flash=recommended", v.(*steward.Recommendation).ID), "", nil
}

func (s *Server) recommendationPage(r *http.Request, id *identity, p *page) (string, error) {
	rid, err := pathInt(r, "id")
	if err != nil {
		return "", err
	}
	rec, err := steward.LoadRecommendation(r.Context(), s.cfg.Store, rid)
	if err != nil {
		return "", err
	}
	v := s.recView(r, rec, id)
	v.HTML = renderMarkdown(rec.Text)
	p.Title, p.Nav, p.Data = rec.Title, "forum", v
	return "recommendation", nil
}

func (s *Server) answerPost(w http.ResponseWriter, r *http.Request, id *identity) (string, string, error) {
	if err := loggedIn(id, "answer"); err != nil {
		return "", "error", err
	}
	rid, err := pathInt(r, "id")
	if err != nil {
		return "", "error", err
	}
	var until time.Time
	if u := r.PostFormValue("until"); u != "" {
		if until, err = parseFormTime(u, "answer by"); err != nil {
			return "", "recommendation", err
		}
	}
	if _, err := s.cfg.Store.Do(r.Context(), steward.AnswerRecommendation(id.handle, rid, r.PostFormValue("decision"), strings.TrimSpace(r.PostFormValue("reasons")), until)); err != nil {
		return "", "recommendation", err
	}
	return fmt.Sprintf("/forum/recommendations/%d?flash=answered", rid), "", nil
}

// API

func (s *Server) apiConsultations(r *http.Request) (any, error) {
	cs, err := steward.ListConsultations(r.Context(), s.cfg.Store)
	if cs == nil {
		cs = []steward.Consultation{}
	}
	return List[steward.Consultation]{Items: cs}, err
}

func (s *Server) apiConsultation(r *http.Request) (any, error) {
	cid, err := pathInt(r, "id")
	if err != nil {
		return nil, err
	}
	return steward.LoadConsultation(r.Context(), s.cfg.Store, cid)
}

func (s *Server) apiSubmissions(r *http.Request) (any, error) {
	cid, err := pathInt(r, "id")
	if err != nil {
		return nil, err
	}
	if _, err := steward.LoadConsultation(r.Context(), s.cfg.Store, cid); err != nil {
		return nil, err
	}
	ss, err := steward.ListSubmissions(r.Context(), s.cfg.Store, cid)
	if ss == nil {
		ss = []steward.Submission{}
	}
	return List[steward.Submission]{Items: ss}, err
}

// SubmissionRequest is a written submission sent through the API.
type SubmissionRequest struct {
	Text string `json:"text"`
}

func (s *Server) apiSubmit(r *http.Request) (any, error) {
	id, err := s.require(r, steward.ScopeWrite)
	if err != nil {
		return nil, err
	}
	cid, err := pathInt(r, "id")
	if err != nil {
		return nil, err
	}
	var req SubmissionRequest
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	if err := s.allowPost(id.handle); err != nil {
		return nil, err
	}
	v, err := s.cfg.Store.Do(r.Context(), steward.Submit(id.handle, cid, req.Text, nil))
	if err != nil {
		return nil, err
	}
	return created{v}, nil
}

// RecommendationInfo is a recommendation with its status.
type RecommendationInfo struct {
	*steward.Recommendation
	Status  string `json:"status"`
	Overdue bool   `json:"overdue"`
}

func (s *Server) apiRecommendations(r *http.Request) (any, error) {
	rs, err := steward.ListRecommendations(r.Context(), s.cfg.Store)
	if err != nil {
		return nil, err
	}
	now := s.cfg.Clock.Now()
	out := List[RecommendationInfo]{Items: []RecommendationInfo{}}
	for i := range rs {
		out.Items = append(out.Items, RecommendationInfo{&rs[i], rs[i].Status(), rs[i].Overdue(now)})
	}
	return out, nil
}

func (s *Server) apiRecommendation(r *http.Request) (any, error) {
	rid, err := pathInt(r, "id")
	if err != nil {
		return nil, err
	}
	rec, err := steward.LoadRecommendation(r.Context(), s.cfg.Store, rid)
	if err != nil {
		return nil, err
	}
	return RecommendationInfo{rec, rec.Status(), rec.Overdue(s.cfg.Clock.Now())}, nil
}

// AnswerRequest answers a recommendation for the body addressed.
type AnswerRequest struct {
	Decision string    `json:"decision"`
	Reasons  string    `json:"reasons,omitempty"`
	Until    time.Time `json:"until,omitzero"`
}

func (s *Server) apiAnswer(r *http.Request) (any, error) {
	id, err := s.require(r, steward.ScopeVote)
	if err != nil {
		return nil, err
	}
	rid, err := pathInt(r, "id")
	if err != nil {
		return nil, err
	}
	var req AnswerRequest
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	rec, err := s.cfg.Store.Do(r.Context(), steward.AnswerRecommendation(id.handle, rid, req.Decision, req.Reasons, req.Until))
	if err != nil {
		return nil, err
	}
	rc := rec.(*steward.Recommendation)
	return RecommendationInfo{rc, rc.Status(), rc.Overdue(s.cfg.Clock.Now())}, nil
}
