package web

import (
	"fmt"
	"html/template"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"steward"
	"steward/charter"
)

func (s *Server) meetingRoutes(m *http.ServeMux) {
	m.HandleFunc("GET /forum/meetings", s.ui(s.meetingsPage))
	m.HandleFunc("POST /forum/meetings", s.form(s.announcePost))
	m.HandleFunc("GET /forum/meetings/{id}", s.ui(s.meetingPage))
	m.HandleFunc("POST /forum/meetings/{id}/proposals", s.form(s.proposeWorkshopPost))
	m.HandleFunc("GET /forum/meetings/{id}/proposals/{n}", s.ui(s.proposalPage))
	m.HandleFunc("POST /forum/meetings/{id}/proposals/{n}/scores", s.form(s.scorePost))
	m.HandleFunc("POST /forum/meetings/{id}/proposals/{n}/decision", s.form(s.decidePost))
	m.HandleFunc("POST /forum/meetings/{id}/sessions", s.form(s.schedulePost))
	m.HandleFunc("POST /forum/meetings/{id}/sessions/{sid}/report", s.form(s.reportPost))
	m.HandleFunc("GET /forum/meetings/{id}/programme.ics", s.programmeICS)
	m.Handle("GET /api/v1/forum/meetings/{id}", s.api(s.apiMeeting))
}

// MeetingsPage is the data of the meetings page.
type MeetingsPage struct {
	Meetings    []steward.Meeting
	CanAnnounce bool
	Bodies      []BodyRef
	Rubric      string // the default rubric, as the form writes it
}

// formatRubric writes a rubric as the announcement form takes it: one
// criterion per line, "id | weight | description".
func formatRubric(rubric []steward.Criterion) string {
	var b strings.Builder
	for _, c := range rubric {
		fmt.Fprintf(&b, "%s | %d | %s\n", c.ID, c.Weight, c.Description)
	}
	return b.String()
}

// parseRubric reads the rubric of the announcement form.
func parseRubric(text string) ([]steward.Criterion, error) {
	var out []steward.Criterion
	for i, line := range strings.Split(text, "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		f := strings.SplitN(line, "|", 3)
		if len(f) != 3 {
			return nil, steward.Errorf(steward.EINVALID, "rubric line %d: want \"id | weight | description\"", i+1)
		}
		w, err := strconv.Atoi(strings.TrimSpace(f[1]))
		if err != nil {
			return nil, steward.Errorf(steward.EINVALID, "rubric line %d: the weight %q is not a whole number", i+1, strings.TrimSpace(f[1]))
		}
		out = append(out, steward.Criterion{ID: strings.TrimSpace(f[0]), Weight: w, Description: strings.TrimSpace(f[2])})
	}
	return out, nil
}

func (s *Server) meetingsPage(r *http.Request, id *identity, p *page) (string, error) {
	ms, err := steward.ListMeetings(r.Context(), s.cfg.Store)
	if err != nil {
		return "", err
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Starts.After(ms[j].Starts) })
	d := MeetingsPage{Meetings: ms, Rubric: formatRubric(steward.DefaultRubric)}
	if id != nil {
		if d.CanAnnounce, err = isModerator(r, s.cfg.Store, id.handle); err != nil {
			return "", err
		}
		c, err := steward.CurrentCharter(r.Context(), s.cfg.Store)
		if err != nil {
			return "", err
		}
		for _, b := range c.Bodies {
			d.Bodies = append(d.Bodies, BodyRef{b.ID, b.Name})
		}
	}
	p.Title, p.Nav, p.Data = p.T("Annual meetings"), "forum", d
	return "meetings", nil
}

func (s *Server) announcePost(w http.ResponseWriter, r *http.Request, id *identity) (string, string, error) {
	if err := loggedIn(id, "announce a meeting"); err != nil {
		return "", "error", err
	}
	f := r.PostFormValue
	var times [3]time.Time
	for i, n := range []string{"proposals_due", "starts", "ends"} {
		t, err := parseFormTime(f(n), strings.ReplaceAll(n, "_", " "))
		if err != nil {
			return "", "meetings", err
		}
		times[i] = t
	}
	rubric, err := parseRubric(f("rubric"))
	if err != nil {
		return "", "meetings", err
	}
	v, err := s.cfg.Store.Do(r.Context(), steward.AnnounceMeeting(id.handle, steward.Meeting{ID: strings.TrimSpace(f("id")), Title: strings.TrimSpace(f("title")),
		Venue: strings.TrimSpace(f("venue")), Evaluators: f("evaluators"), Rooms: splitLines(f("rooms")), Rubric: rubric,
		ProposalsDue: times[0], Starts: times[1], Ends: times[2]}))
	if err != nil {
		return "", "meetings", err
	}
	return "/forum/meetings/" + v.(*steward.Meeting).ID + "?flash=announced", "", nil
}

// MeetingPage is the data of a meeting's page.
type MeetingPage struct {
	M           *steward.Meeting
	Proposals   []ProposalView
	Balance     []steward.Balance
	Sessions    []steward.MeetingSession
	Reports     map[int]template.HTML
	CallOpen    bool
	Organiser   bool
	Charter     *charter.Charter
	Issues      []steward.Issue
	Genders     []string
	Kinds       []string
	Accepted    []steward.Proposal
	SpeakerRows []int
}

// ProposalView is a proposal with its weighted score.
type ProposalView struct {
	steward.Proposal
	Total float64
}

// meetingRecords loads the meeting the path names, its proposals and its
// sessions.
func (s *Server) meetingRecords(r *http.Request) (*steward.Meeting, []steward.Proposal, []steward.MeetingSession, error) {
	ctx := r.Context()
	m, err := steward.LoadMeeting(ctx, s.cfg.Store, r.PathValue("id"))
	if err != nil {
		return nil, nil, nil, err
	}
	ps, err := steward.ListProposals(ctx, s.cfg.Store, m.ID)
	if err != nil {
		return nil, nil, nil, err
	}
	ss, err := steward.ListSessions(ctx, s.cfg.Store, m.ID)
	if err != nil {
		return nil, nil, nil, err
	}
	return m, ps, ss, nil
}

func (s *Server) meetingData(r *http.Request, id *identity) (*MeetingPage, error) {
	ctx := r.Context()
	m, ps, ss, err := s.meetingRecords(r)
	if err != nil {
		return nil, err
	}
	sort.SliceStable(ss, func(i, j int) bool { return ss[i].Starts.Before(ss[j].Starts) })
	d := &MeetingPage{M: m, Balance: steward.MeetingBalance(ps), Sessions: ss, Reports: map[int]template.HTML{},
		CallOpen: s.cfg.Clock.Now().Before(m.ProposalsDue), Genders: steward.Genders, Kinds: steward.SessionKinds, SpeakerRows: []int{1, 2, 3, 4}}
	for _, p := range ps {
		d.Proposals = append(d.Proposals, ProposalView{Proposal: p, Total: p.Total(m.Rubric)})
		if p.Decision == "accepted" {
			d.Accepted = append(d.Accepted, p)
		}
	}
	for _, se := range ss {
		if se.Report != "" {
			d.Reports[se.ID] = renderMarkdown(se.Report)
		}
	}
	if d.Charter, err = steward.CurrentCharter(ctx, s.cfg.Store); err != nil {
		return nil, err
	}
	if id != nil {
		chair, _ := steward.Chair(ctx, s.cfg.Store, m.Evaluators)
		mod, err := isModerator(r, s.cfg.Store, id.handle)
		if err != nil {
			return nil, err
		}
		d.Organiser = mod || chair == id.handle
		if d.Issues, err = steward.ListIssues(ctx, s.cfg.Store); err != nil {
			return nil, err
		}
	}
	return d, nil
}

func (s *Server) meetingPage(r *http.Request, id *identity, p *page) (string, error) {
	d, err := s.meetingData(r, id)
	if err != nil {
		return "", err
	}
	p.Title, p.Nav, p.Data = d.M.Title, "forum", d
	return "meeting", nil
}

func (s *Server) proposeWorkshopPost(w http.ResponseWriter, r *http.Request, id *identity) (string, string, error) {
	if err := loggedIn(id, "propose a workshop"); err != nil {
		return "", "error", err
	}
	if err := s.allowPost(id.handle); err != nil {
		return "", "meeting", err
	}
	f := r.PostFormValue
	var sp []steward.Speaker
	for i := 1; i <= 4; i++ {
		n := strings.TrimSpace(f(fmt.Sprintf("speaker_name_%d", i)))
		if n == "" {
			continue
		}
		sp = append(sp, steward.Speaker{Name: n, Group: f(fmt.Sprintf("speaker_group_%d", i)), Region: f(fmt.Sprintf("speaker_region_%d", i)), Gender: f(fmt.Sprintf("speaker_gender_%d", i))})
	}
	v, err := s.cfg.Store.Do(r.Context(), steward.ProposeWorkshop(id.handle, steward.Proposal{Meeting: r.PathValue("id"), Title: strings.TrimSpace(f("title")),
		Description: f("description"), Issue: f("issue"), ProposerGender: f("gender"), Speakers: sp}))
	if err != nil {
		return "", "meeting", err
	}
	pr := v.(*steward.Proposal)
	return fmt.Sprintf("/forum/meetings/%s/proposals/%d?flash=proposal", pr.Meeting, pr.N), "", nil
}

// ProposalPage is the data of a proposal's page.
type ProposalPage struct {
	M         *steward.Meeting
	P         *steward.Proposal
	HTML      template.HTML
	Total     float64
	Evaluator bool
	Organiser bool
	Scoring   bool
}

func (s *Server) proposalPage(r *http.Request, id *identity, p *page) (string, error) {
	ctx := r.Context()
	m, err := steward.LoadMeeting(ctx, s.cfg.Store, r.PathValue("id"))
	if err != nil {
		return "", err
	}
	n, err := pathInt(r, "n")
	if err != nil {
		return "", err
	}
	pr, err := steward.LoadProposal(ctx, s.cfg.Store, m.ID, int(n))
	if err != nil {
		return "", err
	}
	d := ProposalPage{M: m, P: pr, HTML: renderMarkdown(pr.Description), Total: pr.Total(m.Rubric), Scoring: !s.cfg.Clock.Now().Before(m.ProposalsDue)}
	if id != nil {
		_, err := steward.LoadMember(ctx, s.cfg.Store, m.Evaluators, id.handle)
		d.Evaluator = err == nil && id.handle != pr.Proposer
		chair, _ := steward.Chair(ctx, s.cfg.Store, m.Evaluators)
		mod, err := isModerator(r, s.cfg.Store, id.handle)
		if err != nil {
			return "", err
		}
		d.Organiser = mod || chair == id.handle
	}
	p.Title, p.Nav, p.Data = pr.Title, "forum", d
	return "proposal", nil
}

func (s *Server) scorePost(w http.ResponseWriter, r *http.Request, id *identity) (string, string, error) {
	if err := loggedIn(id, "score"); err != nil {
		return "", "error", err
	}
	m, err := steward.LoadMeeting(r.Context(), s.cfg.Store, r.PathValue("id"))
	if err != nil {
		return "", "error", err
	}
	n, err := pathInt(r, "n")
	if err != nil {
		return "", "error", err
	}
	scores := map[string]int{}
	for _, c := range m.Rubric {
		v, err := strconv.Atoi(r.PostFormValue("score_" + c.ID))
		if err != nil {
			return "", "error", steward.Errorf(steward.EINVALID, "score %q: give 0 to 5", c.ID)
		}
		scores[c.ID] = v
	}
	if _, err := s.cfg.Store.Do(r.Context(), steward.ScoreWorkshop(id.handle, m.ID, int(n), scores, strings.TrimSpace(r.PostFormValue("comment")))); err != nil {
		return "", "error", err
	}
	return fmt.Sprintf("/forum/meetings/%s/proposals/%d?flash=scored", m.ID, n), "", nil
}

func (s *Server) decidePost(w http.ResponseWriter, r *http.Request, id *identity) (string, string, error) {
	if err := loggedIn(id, "decide"); err != nil {
		return "", "error", err
	}
	n, err := pathInt(r, "n")
	if err != nil {
		return "", "error", err
	}
	mid := r.PathValue("id")
	if _, err := s.cfg.Store.Do(r.Context(), steward.DecideWorkshop(id.handle, mid, int(n), r.PostFormValue("decision") == "accept", strings.TrimSpace(r.PostFormValue("reason")))); err != nil {
		return "", "error", err
	}
	return fmt.Sprintf("/forum/meetings/%s/proposals/%d?flash=decided", mid, n), "", nil
}

func (s *Server) schedulePost(w http.ResponseWriter, r *http.Request, id *identity) (string, string, error) {
	if err := loggedIn(id, "schedule"); err != nil {
		return "", "error", err
	}
	f := r.PostFormValue
	starts, err := parseFormTime(f("starts"), "starts")
	if err != nil {
		return "", "meeting", err
	}
	ends, err := parseFormTime(f("ends"), "ends")
	if err != nil {
		return "", "meeting", err
	}
	prop, _ := strconv.Atoi(f("proposal"))
	mid := r.PathValue("id")
	if _, err := s.cfg.Store.Do(r.Context(), steward.ScheduleSession(id.handle, steward.MeetingSession{Meeting: mid, Title: strings.TrimSpace(f("title")),
		Kind: f("kind"), Proposal: prop, Room: f("room"), Starts: starts, Ends: ends})); err != nil {
		return "", "meeting", err
	}
	return "/forum/meetings/" + mid + "?flash=scheduled#programme", "", nil
}

func (s *Server) reportPost(w http.ResponseWriter, r *http.Request, id *identity) (string, string, error) {
	if err := loggedIn(id, "report"); err != nil {
		return "", "error", err
	}
	sid, err := pathInt(r, "sid")
	if err != nil {
		return "", "error", err
	}
	mid := r.PathValue("id")
	if _, err := s.cfg.Store.Do(r.Context(), steward.ReportSession(id.handle, mid, int(sid), r.PostFormValue("text"))); err != nil {
		return "", "meeting", err
	}
	return fmt.Sprintf("/forum/meetings/%s?flash=reported#session-%d", mid, sid), "", nil
}

// icsText escapes a text value for iCalendar (RFC 5545 §3.3.11).
func icsText(s string) string {
	r := strings.NewReplacer(`\`, `\\`, ";", `\;`, ",", `\,`, "\r\n", `\n`, "\n", `\n`, "\r", `\n`)
	return r.Replace(s)
}

// icsFold folds a content line at 75 octets (RFC 5545 §3.1), keeping
// UTF-8 sequences whole.
func icsFold(line string) string {
	var b strings.Builder
	n := 0
	for _, r := range line {
		l := len(string(r))
		if n+l > 75 {
			b.WriteString("\r\n ")
			n = 1
		}
		b.WriteRune(r)
		n += l
	}
	b.WriteString("\r\n")
	return b.String()
}

// GET /forum/meetings/{id}/programme.ics: the programme as an iCalendar
// (RFC 5545) file, one VEVENT per session.
func (s *Server) programmeICS(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	m, err := steward.LoadMeeting(ctx, s.cfg.Store, r.PathValue("id"))
	if err != nil {
		s.forumFeedError(w, r, err)
		return
	}
	ss, err := steward.ListSessions(ctx, s.cfg.Store, m.ID)
	if err != nil {
		s.forumFeedError(w, r, err)
		return
	}
	host := r.Host
	if h, _, ok := strings.Cut(host, ":"); ok {
		host = h
	}
	var b strings.Builder
	for _, l := range []string{"BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//steward//forum//EN", "CALSCALE:GREGORIAN", "METHOD:PUBLISH", "X-WR-CALNAME:" + icsText(m.Title)} {
		b.WriteString(icsFold(l))
	}
	const f = "20060102T150405Z"
	for _, se := range ss {
		desc := se.Kind
		if se.Proposal != 0 {
			desc += fmt.Sprintf(", workshop proposal %d: %s/forum/meetings/%s/proposals/%d", se.Proposal, baseURL(r), m.ID, se.Proposal)
		}
		for _, l := range []string{"BEGIN:VEVENT",
			fmt.Sprintf("UID:%s-%d@%s", m.ID, se.ID, host),
			"DTSTAMP:" + se.Starts.UTC().Format(f),
			"DTSTART:" + se.Starts.UTC().Format(f),
			"DTEND:" + se.Ends.UTC().Format(f),
			"SUMMARY:" + icsText(se.Title),
			"LOCATION:" + icsText(se.Room+", "+m.Venue),
			"DESCRIPTION:" + icsText(desc),
			"END:VEVENT"} {
			b.WriteString(icsFold(l))
		}
	}
	b.WriteString("END:VCALENDAR\r\n")
	w.Header().Set("Content-Type", "text/calendar; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+m.ID+`.ics"`)
	_, _ = w.Write([]byte(b.String()))
}

// MeetingInfo is a meeting with its proposals, balance and programme.
type MeetingInfo struct {
	*steward.Meeting
	Proposals []steward.Proposal       `json:"proposal_list"`
	Balance   []steward.Balance        `json:"balance"`
	Sessions  []steward.MeetingSession `json:"sessions"`
}

func (s *Server) apiMeeting(r *http.Request) (any, error) {
	m, ps, ss, err := s.meetingRecords(r)
	if err != nil {
		return nil, err
	}
	if ps == nil {
		ps = []steward.Proposal{}
	}
	if ss == nil {
		ss = []steward.MeetingSession{}
	}
	return MeetingInfo{Meeting: m, Proposals: ps, Balance: steward.MeetingBalance(ps), Sessions: ss}, nil
}
