package web

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"steward"
	"steward/charter"
)

// requestRoutes serves change requests: the JSON API, the pages, the
// confirmation links sent by e-mail and the Atom feeds.
func (s *Server) requestRoutes(m *http.ServeMux) {
	m.Handle("GET /api/v1/requests", s.api(s.apiRequests))
	m.Handle("POST /api/v1/requests", s.api(s.apiSubmitRequest))
	m.Handle("GET /api/v1/requests/{id}", s.api(s.apiRequest))
	m.Handle("POST /api/v1/requests/{id}/{action}", s.api(s.apiRequestAction))
	m.HandleFunc("GET /requests", s.ui(s.requestsPage))
	m.HandleFunc("GET /requests/new", s.ui(s.newRequestPage))
	m.HandleFunc("POST /requests", s.form(s.submitRequestPost))
	m.HandleFunc("GET /requests/feed.atom", s.requestFeed)
	m.HandleFunc("GET /requests/{id}", s.ui(s.requestPage))
	m.HandleFunc("GET /requests/{id}/confirm", s.ui(s.confirmLinkPage))
	m.HandleFunc("POST /requests/{id}/confirm-link", s.form(s.confirmLinkPost))
	m.HandleFunc("POST /requests/{id}/{action}", s.form(s.requestActionPost))
	m.HandleFunc("GET /bodies/{body}/feed.atom", s.bodyFeed)
}

// RequestAction is the body of an action on a request: the body voting or
// advising, the vote, and the text (a reason, advice, an answer, an
// evaluation or a justification).
type RequestAction struct {
	Body string `json:"body,omitempty"`
	Vote string `json:"vote,omitempty"`
	Text string `json:"text,omitempty"`
}

// requestActions maps each action to the token scope it needs.
var requestActions = map[string]string{
	"withdraw": steward.ScopeWrite, "confirm": steward.ScopeWrite, "appeal": steward.ScopeWrite, "retry": steward.ScopeWrite,
	"vote": steward.ScopeVote, "advise": steward.ScopeVote, "answer": steward.ScopeVote,
	"evaluate": steward.ScopeAdmin, "override": steward.ScopeAdmin,
}

func (s *Server) requestCommand(actor string, id int64, action string, a RequestAction) (steward.Command, error) {
	switch action {
	case "withdraw":
		return steward.WithdrawRequest(actor, id, a.Text), nil
	case "confirm":
		return steward.ConfirmRequest(actor, id, "web"), nil
	case "appeal":
		return steward.AppealRequest(actor, id, a.Text), nil
	case "retry":
		return steward.RetryChecks(actor, id), nil
	case "vote":
		return steward.CastVote(actor, id, a.Body, charter.Vote(a.Vote), a.Text), nil
	case "advise":
		return steward.GiveAdvice(actor, id, a.Body, a.Text), nil
	case "answer":
		return steward.AnswerAdvice(actor, id, a.Body, a.Text), nil
	case "evaluate":
		return steward.EvaluateTransfer(actor, id, a.Text), nil
	case "override":
		return steward.OverrideChecks(actor, id, a.Text), nil
	}
	return nil, steward.Errorf(steward.ENOTFOUND, "no action %q on a change request: want one of withdraw, confirm, appeal, retry, vote, advise, answer, evaluate, override", action)
}

func requestID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		return 0, steward.Errorf(steward.EINVALID, "%q is not a change request number", r.PathValue("id"))
	}
	return id, nil
}

// do runs a request command, turns a recorded refusal into its error, and
// wakes the workflow runner.
func (s *Server) doRequest(ctx context.Context, cmd steward.Command) (any, error) {
	v, err := steward.Unrefuse(s.cfg.Store.Do(ctx, cmd))
	if s.cfg.RequestsChanged != nil {
		s.cfg.RequestsChanged()
	}
	return v, err
}

// RequestList is a page of change requests, newest first; Next is the id
// to pass as before= for the next page.
type RequestList struct {
	Items []steward.Request `json:"items"`
	Next  int64             `json:"next,omitempty"`
}

func (s *Server) requestList(r *http.Request) (*RequestList, error) {
	q := r.URL.Query()
	tld := strings.ToLower(strings.TrimSuffix(q.Get("tld"), "."))
	if tld != "" && !steward.ValidTLDName(tld) {
		return nil, steward.Errorf(steward.EINVALID, "%q is not a TLD name", q.Get("tld"))
	}
	var before int64
	if b := q.Get("before"); b != "" {
		v, err := strconv.ParseInt(b, 10, 64)
		if err != nil || v < 1 {
			return nil, steward.Errorf(steward.EINVALID, "before=%q: want a request number", b)
		}
		before = v
	}
	limit := 50
	if l := q.Get("limit"); l != "" {
		v, err := strconv.Atoi(l)
		if err != nil || v < 1 || v > 500 {
			return nil, steward.Errorf(steward.EINVALID, "limit=%q: want 1 to 500", l)
		}
		limit = v
	}
	items, err := steward.ListRequests(r.Context(), s.cfg.Store, tld, before, limit+1)
	if err != nil {
		return nil, err
	}
	l := &RequestList{Items: items}
	if len(items) > limit {
		l.Items, l.Next = items[:limit], items[limit-1].ID
	}
	if l.Items == nil {
		l.Items = []steward.Request{}
	}
	return l, nil
}

func (s *Server) apiRequests(r *http.Request) (any, error) { return s.requestList(r) }

func (s *Server) apiRequest(r *http.Request) (any, error) {
	id, err := requestID(r)
	if err != nil {
		return nil, err
	}
	return steward.LoadRequest(r.Context(), s.cfg.Store, id)
}

func (s *Server) apiSubmitRequest(r *http.Request) (any, error) {
	me, err := s.require(r, steward.ScopeWrite)
	if err != nil {
		return nil, err
	}
	var in steward.RequestInput
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	v, err := s.doRequest(r.Context(), steward.SubmitRequest(me.handle, in))
	if err != nil {
		return nil, err
	}
	return created{v}, nil
}

func (s *Server) apiRequestAction(r *http.Request) (any, error) {
	action := r.PathValue("action")
	scope, ok := requestActions[action]
	if !ok {
		_, err := s.requestCommand("", 0, action, RequestAction{})
		return nil, err
	}
	id, err := requestID(r)
	if err != nil {
		return nil, err
	}
	me, err := s.require(r, scope)
	if err != nil {
		return nil, err
	}
	var a RequestAction
	if r.ContentLength != 0 {
		if err := decode(r, &a); err != nil {
			return nil, err
		}
	}
	cmd, err := s.requestCommand(me.handle, id, action, a)
	if err != nil {
		return nil, err
	}
	return s.doRequest(r.Context(), cmd)
}

// RequestPage is the data of a request's status page.
type RequestPage struct {
	Request   *steward.Request
	Actions   []string          // what the viewer may do now
	Ballot    *steward.Review   // the ballot running, if any
	Voters    map[string]bool   // bodies whose ballot the viewer may vote in
	Advisers  []string          // advisory bodies the viewer may advise for
	Answers   []string          // advice the viewer may answer
	Covered   *CheckpointInfo   // the latest checkpoint, if it covers the publication
	Proposed  *steward.TLD      // the delegation as it would be
	Current   *steward.TLD      // the delegation as it is
	Contacts  []string          // the TLD's contacts now
	Outcomes  map[string]string // body -> "passed" / "not passed"
	Published *Published
}

func (s *Server) requestPage(r *http.Request, me *identity, p *page) (string, error) {
	id, err := requestID(r)
	if err != nil {
		return "", err
	}
	ctx := r.Context()
	req, err := steward.LoadRequest(ctx, s.cfg.Store, id)
	if err != nil {
		return "", err
	}
	d := &RequestPage{Request: req, Voters: map[string]bool{}}
	if t, err := steward.LoadTLD(ctx, s.cfg.Store, req.TLD); err == nil {
		d.Current = t
	}
	if t, err := steward.ChecksTarget(ctx, s.cfg.Store, req); err == nil {
		d.Proposed = t
	}
	d.Contacts, _ = steward.Contacts(ctx, s.cfg.Store, steward.TLDScope(req.TLD))
	d.Ballot = req.OpenBallot()
	if req.Published > 0 {
		if cp, err := s.checkpoint(r); err == nil && cp.Size > req.Published {
			d.Covered = cp
		}
	}
	if me != nil {
		d.Actions, d.Voters, d.Advisers, d.Answers = s.viewerActions(ctx, me.handle, req)
	}
	p.Title, p.Nav, p.Data = p.T("Change request %d", id), "requests", d
	return "request", nil
}

// viewerActions lists what handle may do on req now. The commands check
// again; this only decides which forms to show.
func (s *Server) viewerActions(ctx context.Context, handle string, req *steward.Request) (actions []string, voters map[string]bool, advisers, answers []string) {
	voters = map[string]bool{}
	actor := handle == req.Submitter || slices.ContainsFunc(req.Confirms, func(c steward.Confirm) bool { return c.Contact == handle })
	if req.Final {
		return
	}
	if actor && req.State != steward.StateApproved && req.State != steward.StateImplemented {
		actions = append(actions, "withdraw")
	}
	if req.State == steward.StateConfirmation && slices.ContainsFunc(req.Confirms, func(c steward.Confirm) bool { return c.Contact == handle && c.Confirmed.IsZero() }) {
		actions = append(actions, "confirm")
	}
	if actor && req.State == steward.StateRejected && req.Appealable != nil {
		actions = append(actions, "appeal")
	}
	failed := len(req.Checks) > 0 && !req.Checks[len(req.Checks)-1].Passed && req.Hold != ""
	if actor && failed {
		actions = append(actions, "retry")
	}
	op, _ := steward.IsOperator(ctx, s.cfg.Store, handle)
	if op && failed {
		actions = append(actions, "override")
	}
	if op && req.State == steward.StateEvaluation {
		actions = append(actions, "evaluate")
	}
	if b := req.OpenBallot(); b != nil {
		if m, err := steward.LoadMember(ctx, s.cfg.Store, b.Body, handle); err == nil && m.Capacity == string(charter.CapacityVoting) {
			if !slices.ContainsFunc(b.Votes, func(v steward.Vote) bool { return v.Member == handle }) {
				voters[b.Body] = true
				actions = append(actions, "vote")
			}
		}
	}
	for _, rv := range req.Reviews {
		if rv.Role != "advice" {
			continue
		}
		if rv.Advice == "" {
			if _, err := steward.LoadMember(ctx, s.cfg.Store, rv.Body, handle); err == nil {
				advisers = append(advisers, rv.Body)
			}
		} else if rv.Answer == "" {
			answers = append(answers, rv.Body)
		}
	}
	return
}

// RequestsPage is the data of the list of requests.
type RequestsPage struct {
	*RequestList
	TLD string
}

func (s *Server) requestsPage(r *http.Request, me *identity, p *page) (string, error) {
	l, err := s.requestList(r)
	if err != nil {
		return "", err
	}
	p.Title, p.Nav, p.Data = p.T("Change requests"), "requests", RequestsPage{RequestList: l, TLD: r.URL.Query().Get("tld")}
	return "requests", nil
}

// NewRequestPage is the data of the submission form.
type NewRequestPage struct {
	Kinds []string
	TLD   *steward.TLD
}

func (s *Server) newRequestPage(r *http.Request, me *identity, p *page) (string, error) {
	if me == nil {
		return "", steward.Errorf(steward.EUNAUTHORIZED, "log in to submit a change request")
	}
	d := NewRequestPage{Kinds: steward.RequestKinds}
	if p.Form == nil {
		p.Form = map[string]string{}
	}
	q := r.URL.Query()
	for _, k := range []string{"kind", "tld"} {
		if v := q.Get(k); v != "" && p.Form[k] == "" {
			p.Form[k] = v
		}
	}
	if t, err := steward.LoadTLD(r.Context(), s.cfg.Store, strings.ToLower(p.Form["tld"])); err == nil {
		d.TLD = t
		if p.Form["ns"] == "" {
			p.Form["ns"] = strings.Join(t.NS, "\n")
			var glue []string
			for _, g := range t.Glue {
				for _, a := range g.Addrs {
					glue = append(glue, g.Name+" "+a)
				}
			}
			p.Form["glue"] = strings.Join(glue, "\n")
			var ds []string
			for _, x := range t.DS {
				ds = append(ds, strconv.Itoa(int(x.KeyTag))+" "+strconv.Itoa(int(x.Algorithm))+" "+strconv.Itoa(int(x.DigestType))+" "+x.Digest)
			}
			p.Form["ds"] = strings.Join(ds, "\n")
			p.Form["manager"] = t.Manager
		}
	}
	p.Title, p.Nav, p.Data = p.T("New change request"), "requests", d
	return "request-new", nil
}

// parseRequestForm reads the submission form: name servers one per line,
// glue as "name address" lines, DS as "keytag algorithm digesttype digest"
// lines, contacts as handles separated by commas or spaces.
func parseRequestForm(f url.Values) (steward.RequestInput, error) {
	in := steward.RequestInput{Kind: f.Get("kind"), TLD: strings.TrimSpace(f.Get("tld")), Reason: f.Get("reason")}
	lines := func(s string) []string {
		var out []string
		for _, l := range strings.Split(s, "\n") {
			if l = strings.TrimSpace(l); l != "" {
				out = append(out, l)
			}
		}
		return out
	}
	ch := &in.Change
	switch in.Kind {
	case charter.KindTLDDelegate, charter.KindTLDUpdateNS:
		ch.NS = lines(f.Get("ns"))
		glue := map[string]int{}
		for i, l := range lines(f.Get("glue")) {
			parts := strings.Fields(l)
			if len(parts) != 2 {
				return in, steward.Errorf(steward.EINVALID, "glue line %d: want \"name address\", not %q", i+1, l)
			}
			if j, ok := glue[parts[0]]; ok {
				ch.Glue[j].Addrs = append(ch.Glue[j].Addrs, parts[1])
				continue
			}
			glue[parts[0]] = len(ch.Glue)
			ch.Glue = append(ch.Glue, steward.Glue{Name: parts[0], Addrs: []string{parts[1]}})
		}
	}
	switch in.Kind {
	case charter.KindTLDDelegate, charter.KindTLDUpdateDS:
		for i, l := range lines(f.Get("ds")) {
			parts := strings.Fields(l)
			if len(parts) < 4 {
				return in, steward.Errorf(steward.EINVALID, "DS line %d: want \"keytag algorithm digesttype digest\", not %q", i+1, l)
			}
			tag, e1 := strconv.ParseUint(parts[0], 10, 16)
			alg, e2 := strconv.ParseUint(parts[1], 10, 8)
			dt, e3 := strconv.ParseUint(parts[2], 10, 8)
			if e1 != nil || e2 != nil || e3 != nil {
				return in, steward.Errorf(steward.EINVALID, "DS line %d: key tag, algorithm and digest type must be numbers", i+1)
			}
			ch.DS = append(ch.DS, steward.DS{KeyTag: uint16(tag), Algorithm: uint8(alg), DigestType: uint8(dt), Digest: strings.Join(parts[3:], "")})
		}
	}
	switch in.Kind {
	case charter.KindTLDDelegate, charter.KindTLDTransfer:
		ch.Manager = strings.TrimSpace(f.Get("manager"))
	}
	if in.Kind == charter.KindTLDDelegate || in.Kind == charter.KindTLDTransfer || in.Kind == charter.KindTLDUpdateContacts {
		ch.Contacts = splitList(f.Get("contacts"))
	}
	return in, nil
}

func (s *Server) submitRequestPost(w http.ResponseWriter, r *http.Request, me *identity) (string, string, error) {
	if me == nil {
		return "", "error", steward.Errorf(steward.EUNAUTHORIZED, "log in to submit a change request")
	}
	in, err := parseRequestForm(r.PostForm)
	if err != nil {
		return "", "request-new", err
	}
	v, err := s.doRequest(r.Context(), steward.SubmitRequest(me.handle, in))
	if err != nil {
		return "", "request-new", err
	}
	return "/requests/" + strconv.FormatInt(v.(*steward.Request).ID, 10) + "?flash=submitted", "", nil
}

func (s *Server) requestActionPost(w http.ResponseWriter, r *http.Request, me *identity) (string, string, error) {
	if me == nil {
		return "", "error", steward.Errorf(steward.EUNAUTHORIZED, "log in first")
	}
	id, err := requestID(r)
	if err != nil {
		return "", "error", err
	}
	a := RequestAction{Body: r.PostFormValue("body"), Vote: r.PostFormValue("vote"), Text: r.PostFormValue("text")}
	cmd, err := s.requestCommand(me.handle, id, r.PathValue("action"), a)
	if err != nil {
		return "", "error", err
	}
	if _, err := s.doRequest(r.Context(), cmd); err != nil {
		return "", "request", err
	}
	return "/requests/" + strconv.FormatInt(id, 10) + "?flash=recorded", "", nil
}

// ConfirmLinkPage is the data of the page an e-mailed link opens.
type ConfirmLinkPage struct {
	Request *steward.Request
	Contact string
	Query   string
}

func (s *Server) confirmLink(r *http.Request, q url.Values) (*steward.Request, string, error) {
	id, err := requestID(r)
	if err != nil {
		return nil, "", err
	}
	key, err := steward.ReadLinkKey(r.Context(), s.cfg.Store)
	if err != nil {
		return nil, "", steward.Errorf(steward.EFORBIDDEN, "the confirmation link is not valid")
	}
	contact, err := steward.VerifyConfirmLink(key, id, q, s.cfg.Clock.Now())
	if err != nil {
		return nil, "", err
	}
	req, err := steward.LoadRequest(r.Context(), s.cfg.Store, id)
	return req, contact, err
}

func (s *Server) confirmLinkPage(r *http.Request, me *identity, p *page) (string, error) {
	req, contact, err := s.confirmLink(r, r.URL.Query())
	if err != nil {
		return "", err
	}
	p.Title, p.Nav, p.Data = p.T("Confirm change request %d", req.ID), "requests", ConfirmLinkPage{Request: req, Contact: contact, Query: r.URL.RawQuery}
	return "request-confirm", nil
}

func (s *Server) confirmLinkPost(w http.ResponseWriter, r *http.Request, me *identity) (string, string, error) {
	q, err := url.ParseQuery(r.PostFormValue("link"))
	if err != nil {
		return "", "error", steward.Errorf(steward.EINVALID, "the confirmation link is malformed")
	}
	req, contact, err := s.confirmLink(r, q)
	if err != nil {
		return "", "error", err
	}
	if _, err := s.doRequest(r.Context(), steward.ConfirmRequest(contact, req.ID, "email")); err != nil {
		return "", "error", err
	}
	return "/requests/" + strconv.FormatInt(req.ID, 10) + "?flash=confirmed", "", nil
}
