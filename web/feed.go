package web

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"strings"
	"time"

	"steward"
)

// Atom (RFC 4287) feeds of change requests: per TLD (or all), and per body
// (the requests it reviews). An entry is a request, updated at its last
// step; its content is the last step's note.

type atomFeed struct {
	XMLName xml.Name    `xml:"http://www.w3.org/2005/Atom feed"`
	Title   string      `xml:"title"`
	ID      string      `xml:"id"`
	Updated string      `xml:"updated"`
	Links   []atomLink  `xml:"link"`
	Author  atomPerson  `xml:"author"`
	Entries []atomEntry `xml:"entry"`
}

type atomLink struct {
	Rel  string `xml:"rel,attr,omitempty"`
	Href string `xml:"href,attr"`
	Type string `xml:"type,attr,omitempty"`
}

type atomPerson struct {
	Name string `xml:"name"`
}

type atomEntry struct {
	Title   string     `xml:"title"`
	ID      string     `xml:"id"`
	Updated string     `xml:"updated"`
	Link    atomLink   `xml:"link"`
	Author  atomPerson `xml:"author"`
	Summary string     `xml:"summary"`
}

// requestEntries makes feed entries of requests.
func requestEntries(base string, reqs []steward.Request) []atomEntry {
	var out []atomEntry
	for _, q := range reqs {
		last := q.Timeline[len(q.Timeline)-1]
		href := fmt.Sprintf("%s/requests/%d", base, q.ID)
		out = append(out, atomEntry{
			Title: fmt.Sprintf("Request %d: %s .%s — %s", q.ID, q.Kind, q.TLD, q.State), ID: href,
			Updated: q.Updated.UTC().Format(time.RFC3339), Link: atomLink{Href: href}, Author: atomPerson{Name: q.Submitter},
			Summary: strings.TrimSpace(last.State + ": " + last.Note),
		})
	}
	return out
}

func (s *Server) writeFeed(w http.ResponseWriter, r *http.Request, title, self, alternate string, entries []atomEntry) {
	base := baseURL(r)
	name := "Steward"
	if in, err := steward.LoadInstance(r.Context(), s.cfg.Store); err == nil {
		name = in.Name
	}
	f := atomFeed{
		Title: name + ": " + title, ID: base + self, Author: atomPerson{Name: name}, Entries: entries,
		Links: []atomLink{{Rel: "self", Href: base + self, Type: "application/atom+xml"}, {Rel: "alternate", Href: base + alternate}},
	}
	updated := time.Unix(0, 0).UTC().Format(time.RFC3339)
	for _, e := range entries {
		if e.Updated > updated {
			updated = e.Updated
		}
	}
	f.Updated = updated
	b, err := xml.MarshalIndent(f, "", "  ")
	if err != nil {
		s.problem(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/atom+xml; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write([]byte(xml.Header))
	_, _ = w.Write(b)
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
	s.writeFeed(w, r, title, self, "/requests", requestEntries(baseURL(r), l.Items))
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
	s.writeFeed(w, r, "change requests reviewed by "+body, "/bodies/"+body+"/feed.atom", "/bodies/"+body, requestEntries(baseURL(r), mine))
}
