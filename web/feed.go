package web

import (
	"fmt"
	"net/http"
	"strings"

	"steward"
)

// Atom (RFC 4287) feeds of change requests and policies, written as the
// forum's feeds are: per TLD (or all), per body (the requests it reviews),
// and of policies. An entry is a request or a policy, updated at its last
// step; its content is that step.

func requestEntries(reqs []steward.Request) []forumEntry {
	var out []forumEntry
	for _, q := range reqs {
		last := q.Timeline[len(q.Timeline)-1]
		out = append(out, forumEntry{
			Title: fmt.Sprintf("Request %d: %s .%s — %s", q.ID, q.Kind, q.TLD, q.State), Updated: forumTime(q.Updated),
			Author: forumAuthor{q.Submitter}, Link: forumLink{Href: fmt.Sprintf("/requests/%d", q.ID)},
			Content: forumContent{Type: "text", Body: strings.TrimSpace(last.State + ": " + last.Note)},
		})
	}
	return out
}

// feedTitle prefixes a feed's title with the instance's name.
func (s *Server) feedTitle(r *http.Request, title string) string {
	if in, err := steward.LoadInstance(r.Context(), s.cfg.Store); err == nil {
		return in.Name + ": " + title
	}
	return title
}

func (s *Server) requestFeed(w http.ResponseWriter, r *http.Request) {
	l, err := s.requestList(r)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	title, self := "change requests", "/requests/feed.atom"
	if t := r.URL.Query().Get("tld"); t != "" {
		title, self = "change requests for ."+strings.ToLower(t), self+"?tld="+strings.ToLower(t)
	}
	s.writeForumFeed(w, r, s.feedTitle(r, title), self, "/requests", requestEntries(l.Items))
}

func (s *Server) bodyFeed(w http.ResponseWriter, r *http.Request) {
	body := r.PathValue("body")
	c, err := steward.CurrentCharter(r.Context(), s.cfg.Store)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	if _, ok := c.Body(body); !ok {
		s.problem(w, r, steward.Errorf(steward.ENOTFOUND, "the charter has no body %q", body))
		return
	}
	// The requests this body reviews, among the most recent.
	all, err := steward.ListRequests(r.Context(), s.cfg.Store, "", 0, 500)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	var mine []steward.Request
	for _, q := range all {
		for _, rv := range q.Reviews {
			if rv.Body == body {
				mine = append(mine, q)
				break
			}
		}
		if len(mine) == 50 {
			break
		}
	}
	s.writeForumFeed(w, r, s.feedTitle(r, "change requests reviewed by "+body), "/bodies/"+body+"/feed.atom", "/bodies/"+body, requestEntries(mine))
}
