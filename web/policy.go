package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"steward"
	"steward/charter"
)

// policyRoutes serves the policy development process: the JSON API, the
// pages and the Atom feed.
func (s *Server) policyRoutes(m *http.ServeMux) {
	m.Handle("GET /api/v1/policies", s.api(s.apiPolicies))
	m.Handle("POST /api/v1/policies", s.api(s.apiProposePolicy))
	m.Handle("GET /api/v1/policies/{id}", s.api(s.apiPolicy))
	m.Handle("POST /api/v1/policies/{id}/{action}", s.api(s.apiPolicyAction))
	m.HandleFunc("GET /policies", s.ui(s.pdpListPage))
	m.HandleFunc("GET /policies/new", s.ui(s.newPolicyPage))
	m.HandleFunc("POST /policies", s.form(s.proposePolicyPost))
	m.HandleFunc("GET /policies/feed.atom", s.policyFeed)
	m.HandleFunc("GET /policies/{id}", s.ui(s.pdpPage))
	m.HandleFunc("POST /policies/{id}/{action}", s.form(s.policyActionPost))
}

// PolicyAction is the body of an action on a policy: a comment's or the
// reasons' text, the body and vote of a ballot, and whether consensus was
// reached.
type PolicyAction struct {
	Text    string `json:"text,omitempty"`
	Body    string `json:"body,omitempty"`
	Vote    string `json:"vote,omitempty"`
	Reached bool   `json:"reached,omitempty"`
}

var policyActions = map[string]string{
	"comment": steward.ScopeWrite, "withdraw": steward.ScopeWrite, "appeal": steward.ScopeWrite,
	"determine": steward.ScopeVote, "vote": steward.ScopeVote,
}

func policyCommand(actor string, id int64, action string, a PolicyAction) (steward.Command, error) {
	switch action {
	case "comment":
		return steward.CommentPolicy(actor, id, a.Text), nil
	case "withdraw":
		return steward.WithdrawPolicy(actor, id, a.Text), nil
	case "appeal":
		return steward.AppealPolicy(actor, id, a.Text), nil
	case "determine":
		return steward.DetermineConsensus(actor, id, a.Reached, a.Text), nil
	case "vote":
		return steward.VotePolicy(actor, id, a.Body, charter.Vote(a.Vote), a.Text), nil
	}
	return nil, steward.Errorf(steward.ENOTFOUND, "no action %q on a policy: want one of comment, withdraw, appeal, determine, vote", action)
}

func policyID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		return 0, steward.Errorf(steward.EINVALID, "%q is not a policy number", r.PathValue("id"))
	}
	return id, nil
}

// PolicyList is a page of policies, newest first.
type PolicyList struct {
	Items []steward.Policy `json:"items"`
	Next  int64            `json:"next,omitempty"`
}

func (s *Server) policyList(r *http.Request) (*PolicyList, error) {
	var before int64
	if b := r.URL.Query().Get("before"); b != "" {
		v, err := strconv.ParseInt(b, 10, 64)
		if err != nil || v < 1 {
			return nil, steward.Errorf(steward.EINVALID, "before=%q: want a policy number", b)
		}
		before = v
	}
	const limit = 50
	items, err := steward.ListPolicies(r.Context(), s.cfg.Store, before, limit+1)
	if err != nil {
		return nil, err
	}
	l := &PolicyList{Items: items}
	if len(items) > limit {
		l.Items, l.Next = items[:limit], items[limit-1].ID
	}
	if l.Items == nil {
		l.Items = []steward.Policy{}
	}
	return l, nil
}

func (s *Server) apiPolicies(r *http.Request) (any, error) { return s.policyList(r) }

func (s *Server) apiPolicy(r *http.Request) (any, error) {
	id, err := policyID(r)
	if err != nil {
		return nil, err
	}
	return steward.LoadPolicy(r.Context(), s.cfg.Store, id)
}

func (s *Server) apiProposePolicy(r *http.Request) (any, error) {
	me, err := s.require(r, steward.ScopeWrite)
	if err != nil {
		return nil, err
	}
	var in steward.PolicyInput
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	v, err := s.doRequest(r.Context(), steward.ProposePolicy(me.handle, in))
	if err != nil {
		return nil, err
	}
	return created{v}, nil
}

func (s *Server) apiPolicyAction(r *http.Request) (any, error) {
	action := r.PathValue("action")
	scope, ok := policyActions[action]
	if !ok {
		_, err := policyCommand("", 0, action, PolicyAction{})
		return nil, err
	}
	id, err := policyID(r)
	if err != nil {
		return nil, err
	}
	me, err := s.require(r, scope)
	if err != nil {
		return nil, err
	}
	var a PolicyAction
	if r.ContentLength != 0 {
		if err := decode(r, &a); err != nil {
			return nil, err
		}
	}
	cmd, err := policyCommand(me.handle, id, action, a)
	if err != nil {
		return nil, err
	}
	return s.doRequest(r.Context(), cmd)
}

// PolicyPage is the data of a policy's page.
type PolicyPage struct {
	Policy      *steward.Policy
	PDP         charter.PDP
	Ratifiers   []string
	CanComment  bool
	CanWithdraw bool
	CanAppeal   bool
	CanDecide   bool   // the viewer determines consensus
	VoteIn      string // the body whose ballot the viewer may vote in
	Params      string // the parameters, as indented JSON
}

func (s *Server) pdpPage(r *http.Request, me *identity, p *page) (string, error) {
	id, err := policyID(r)
	if err != nil {
		return "", err
	}
	ctx := r.Context()
	pol, err := steward.LoadPolicy(ctx, s.cfg.Store, id)
	if err != nil {
		return "", err
	}
	c, err := steward.CurrentCharter(ctx, s.cfg.Store)
	if err != nil {
		return "", err
	}
	d := &PolicyPage{Policy: pol, PDP: c.PDPFor(), Params: indentJSON(pol.Params)}
	if dec, ok := c.Decision(charter.KindPolicyRatify); ok {
		d.Ratifiers = dec.Approval
	}
	if me != nil {
		s.policyViewer(ctx, me.handle, pol, d)
	}
	p.Title, p.Nav, p.Data = p.T("Policy %d: %s", id, pol.Title), "policies", d
	return "policy", nil
}

func (s *Server) policyViewer(ctx context.Context, handle string, pol *steward.Policy, d *PolicyPage) {
	now := s.cfg.Clock.Now()
	open := pol.State == steward.PolicyDiscussion || pol.State == steward.PolicyReview || pol.State == steward.PolicyLastCall
	d.CanComment = open && now.Before(pol.Deadline)
	d.CanWithdraw = handle == pol.Proposer && !pol.Final
	d.CanAppeal = handle == pol.Proposer && pol.State == steward.PolicyRejected && pol.Appeal != nil && now.Before(pol.Appeal.Until)
	if pol.State == steward.PolicyConsensus {
		if chair, err := steward.Chair(ctx, s.cfg.Store, d.PDP.ConsensusBy); err == nil && chair == handle {
			d.CanDecide = true
		}
	}
	for _, rv := range pol.Reviews {
		if rv.Closed {
			continue
		}
		if m, err := steward.LoadMember(ctx, s.cfg.Store, rv.Body, handle); err == nil && m.Capacity == string(charter.CapacityVoting) &&
			!slices.ContainsFunc(rv.Votes, func(v steward.Vote) bool { return v.Member == handle }) && !now.Before(rv.Opens) {
			d.VoteIn = rv.Body
		}
	}
}

func (s *Server) pdpListPage(r *http.Request, me *identity, p *page) (string, error) {
	l, err := s.policyList(r)
	if err != nil {
		return "", err
	}
	rules, in, err := steward.TLDStringsInForce(r.Context(), s.cfg.Store)
	if err != nil {
		return "", err
	}
	p.Title, p.Nav, p.Data = p.T("Policies"), "policies", struct {
		*PolicyList
		TLDStrings   *steward.TLDStringRules
		TLDStringsBy int64
	}{l, rules, in}
	return "policies", nil
}

func (s *Server) newPolicyPage(r *http.Request, me *identity, p *page) (string, error) {
	if me == nil {
		return "", steward.Errorf(steward.EUNAUTHORIZED, "log in to propose a policy")
	}
	if p.Form == nil {
		p.Form = map[string]string{}
	}
	if p.Form["params"] == "" {
		nums, err := steward.LoadNumberPolicies(r.Context(), s.cfg.Store)
		if err != nil {
			return "", err
		}
		p.Form["example"] = indentJSON(steward.PolicyParams{Numbers: &nums, TLDStrings: &steward.TLDStringRules{MinLength: 2, Reserved: []string{"example", "local"}}})
	}
	p.Title, p.Nav = p.T("Propose a policy"), "policies"
	return "policy-new", nil
}

func (s *Server) proposePolicyPost(w http.ResponseWriter, r *http.Request, me *identity) (string, string, error) {
	if me == nil {
		return "", "error", steward.Errorf(steward.EUNAUTHORIZED, "log in to propose a policy")
	}
	params, err := steward.ParsePolicyParams([]byte(r.PostFormValue("params")))
	if err != nil {
		return "", "policy-new", err
	}
	in := steward.PolicyInput{Title: r.PostFormValue("title"), Summary: r.PostFormValue("summary"), Text: r.PostFormValue("text"), Params: params}
	v, err := s.doRequest(r.Context(), steward.ProposePolicy(me.handle, in))
	if err != nil {
		return "", "policy-new", err
	}
	return fmt.Sprintf("/policies/%d?flash=submitted", v.(*steward.Policy).ID), "", nil
}

func (s *Server) policyActionPost(w http.ResponseWriter, r *http.Request, me *identity) (string, string, error) {
	if me == nil {
		return "", "error", steward.Errorf(steward.EUNAUTHORIZED, "log in first")
	}
	id, err := policyID(r)
	if err != nil {
		return "", "error", err
	}
	a := PolicyAction{Text: r.PostFormValue("text"), Body: r.PostFormValue("body"), Vote: r.PostFormValue("vote"), Reached: r.PostFormValue("reached") == "yes"}
	cmd, err := policyCommand(me.handle, id, r.PathValue("action"), a)
	if err != nil {
		return "", "error", err
	}
	if _, err := s.doRequest(r.Context(), cmd); err != nil {
		return "", "policy", err
	}
	return fmt.Sprintf("/policies/%d?flash=recorded", id), "", nil
}

func (s *Server) policyFeed(w http.ResponseWriter, r *http.Request) {
	l, err := s.policyList(r)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	var entries []forumEntry
	for _, p := range l.Items {
		last := p.Timeline[len(p.Timeline)-1]
		entries = append(entries, forumEntry{Title: fmt.Sprintf("Policy %d: %s — %s", p.ID, p.Title, p.State), Updated: forumTime(p.Updated),
			Author: forumAuthor{p.Proposer}, Link: forumLink{Href: fmt.Sprintf("/policies/%d", p.ID)},
			Content: forumContent{Type: "text", Body: strings.TrimSpace(last.State + ": " + last.Note)}})
	}
	s.writeForumFeed(w, r, s.feedTitle(r, "policies"), "/policies/feed.atom", "/policies", entries)
}

func indentJSON(v any) string {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return ""
	}
	return string(b)
}
