package web

import (
	"encoding/xml"
	"fmt"
	"html"
	"html/template"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	"steward"
)

// Atom feeds (RFC 4287) of the forum, and the participation charts.

type forumFeed struct {
	XMLName xml.Name     `xml:"http://www.w3.org/2005/Atom feed"`
	ID      string       `xml:"id"`
	Title   string       `xml:"title"`
	Updated string       `xml:"updated"`
	Links   []forumLink  `xml:"link"`
	Entries []forumEntry `xml:"entry"`
}

type forumLink struct {
	Rel  string `xml:"rel,attr,omitempty"`
	Href string `xml:"href,attr"`
}

type forumEntry struct {
	ID      string       `xml:"id"`
	Title   string       `xml:"title"`
	Updated string       `xml:"updated"`
	Author  forumAuthor  `xml:"author"`
	Link    forumLink    `xml:"link"`
	Content forumContent `xml:"content"`
}

type forumAuthor struct {
	Name string `xml:"name"`
}

type forumContent struct {
	Type string `xml:"type,attr"`
	Body string `xml:",chardata"`
}

func forumTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func (s *Server) writeForumFeed(w http.ResponseWriter, r *http.Request, title, path, alt string, entries []forumEntry) {
	base := baseURL(r)
	f := forumFeed{ID: base + path, Title: title, Links: []forumLink{{Rel: "self", Href: base + path}, {Rel: "alternate", Href: base + alt}}, Entries: entries}
	f.Updated = forumTime(time.Unix(0, 0))
	for i := range f.Entries {
		f.Entries[i].ID = base + f.Entries[i].Link.Href
		f.Entries[i].Link.Href = base + f.Entries[i].Link.Href
		if f.Entries[i].Updated > f.Updated {
			f.Updated = f.Entries[i].Updated
		}
	}
	out, err := xml.MarshalIndent(f, "", " ")
	if err != nil {
		s.log.Error("feed", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/atom+xml; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write([]byte(xml.Header))
	_, _ = w.Write(out)
}

func (s *Server) forumFeedError(w http.ResponseWriter, r *http.Request, err error) {
	s.render(w, r, status(steward.ErrorCode(err)), "error", &page{Title: steward.ErrorMessage(err)}, nil)
}

// GET /forum/issues.atom: the catalogue, newest issue first.
func (s *Server) issuesFeed(w http.ResponseWriter, r *http.Request) {
	is, err := steward.ListIssues(r.Context(), s.cfg.Store)
	if err != nil {
		s.forumFeedError(w, r, err)
		return
	}
	sort.SliceStable(is, func(i, j int) bool { return is[i].Created.After(is[j].Created) })
	if len(is) > 50 {
		is = is[:50]
	}
	var es []forumEntry
	for _, i := range is {
		es = append(es, forumEntry{Title: i.Title, Updated: forumTime(i.Created), Author: forumAuthor{i.Proposer},
			Link: forumLink{Href: "/forum/issues/" + i.ID}, Content: forumContent{Type: "html", Body: string(renderMarkdown(i.Summary))}})
	}
	s.writeForumFeed(w, r, "Issues", "/forum/issues.atom", "/forum", es)
}

// GET /forum/issues/{id}/threads.atom: an issue's threads, newest first.
func (s *Server) issueFeed(w http.ResponseWriter, r *http.Request) {
	is, err := steward.LoadIssue(r.Context(), s.cfg.Store, r.PathValue("id"))
	if err != nil {
		s.forumFeedError(w, r, err)
		return
	}
	ts, err := steward.ListThreads(r.Context(), s.cfg.Store, is.ID, 0, 50)
	if err != nil {
		s.forumFeedError(w, r, err)
		return
	}
	var es []forumEntry
	for _, t := range ts {
		first, err := steward.LoadPost(r.Context(), s.cfg.Store, t.ID, 1)
		if err != nil {
			s.forumFeedError(w, r, err)
			return
		}
		body := ""
		if !first.Hidden {
			body = string(s.forum.md.render(fmt.Sprintf("%d/1/%d", t.ID, first.Revisions), first.Body))
		}
		es = append(es, forumEntry{Title: t.Title, Updated: forumTime(t.Created), Author: forumAuthor{t.Author},
			Link: forumLink{Href: fmt.Sprintf("/forum/threads/%d", t.ID)}, Content: forumContent{Type: "html", Body: body}})
	}
	s.writeForumFeed(w, r, is.Title, "/forum/issues/"+is.ID+"/threads.atom", "/forum/issues/"+is.ID, es)
}

// GET /forum/threads/{id}/posts.atom: a thread's latest posts.
func (s *Server) threadFeed(w http.ResponseWriter, r *http.Request) {
	tid, err := pathInt(r, "id")
	if err != nil {
		s.forumFeedError(w, r, err)
		return
	}
	t, err := steward.LoadThread(r.Context(), s.cfg.Store, tid)
	if err != nil {
		s.forumFeedError(w, r, err)
		return
	}
	ps, err := steward.ListPosts(r.Context(), s.cfg.Store, tid, max(0, t.Posts-50), 50)
	if err != nil {
		s.forumFeedError(w, r, err)
		return
	}
	slices.Reverse(ps)
	var es []forumEntry
	for _, p := range ps {
		body := "<p>Hidden by a moderator: " + html.EscapeString(p.HiddenReason) + "</p>"
		if !p.Hidden {
			body = string(s.forum.md.render(fmt.Sprintf("%d/%d/%d", p.Thread, p.N, p.Revisions), p.Body))
		}
		up := p.Created
		if p.Edited.After(up) {
			up = p.Edited
		}
		es = append(es, forumEntry{Title: fmt.Sprintf("%s — post %d by %s", t.Title, p.N, p.Author), Updated: forumTime(up),
			Author: forumAuthor{p.Author}, Link: forumLink{Href: postURL(tid, p.N)}, Content: forumContent{Type: "html", Body: body}})
	}
	s.writeForumFeed(w, r, t.Title, fmt.Sprintf("/forum/threads/%d/posts.atom", tid), fmt.Sprintf("/forum/threads/%d", tid), es)
}

// GET /forum/consultations.atom: consultations, newest first; a synthesis
// updates its consultation's entry.
func (s *Server) consultationsFeed(w http.ResponseWriter, r *http.Request) {
	cs, err := steward.ListConsultations(r.Context(), s.cfg.Store)
	if err != nil {
		s.forumFeedError(w, r, err)
		return
	}
	slices.Reverse(cs)
	if len(cs) > 50 {
		cs = cs[:50]
	}
	var es []forumEntry
	for _, c := range cs {
		up, body := c.Opened, string(renderMarkdown(c.Call))
		body += "<p>Deadline: " + c.Deadline.UTC().Format(time.RFC3339) + "</p>"
		if c.Synthesis != nil {
			up = c.Synthesis.Published
			body += "<h2>Synthesis</h2>" + string(renderMarkdown(c.Synthesis.Text))
		}
		es = append(es, forumEntry{Title: c.Title, Updated: forumTime(up), Author: forumAuthor{c.Opener},
			Link: forumLink{Href: fmt.Sprintf("/forum/consultations/%d", c.ID)}, Content: forumContent{Type: "html", Body: body}})
	}
	s.writeForumFeed(w, r, "Consultations", "/forum/consultations.atom", "/forum/consultations", es)
}

// Participation is the forum's participation by stakeholder group and
// region over time.
type Participation struct {
	Months   []string                      `json:"months"`
	Groups   []string                      `json:"groups"`
	Regions  []string                      `json:"regions"`
	Series   map[string]map[string][]int64 `json:"series"`   // kind → group → count per month
	Regional map[string]map[string]int64   `json:"regional"` // kind → region → total
	Charts   []Chart                       `json:"-"`
}

// Chart is one kind's chart, rendered as SVG on the server.
type Chart struct {
	Kind, Title string
	SVG         template.HTML
	Total       int64
}

var participationKinds = []struct{ Kind, Title string }{
	{"participants", "Participants registered"}, {"threads", "Threads opened"}, {"posts", "Posts"}, {"submissions", "Consultation submissions"}, {"votes", "Votes"},
}

// groupColours are the Okabe–Ito colours, distinguishable with the common
// colour-vision deficiencies.
var groupColours = []string{"#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"}

func (s *Server) participation(r *http.Request) (*Participation, error) {
	ctx := r.Context()
	c, err := steward.CurrentCharter(ctx, s.cfg.Store)
	if err != nil {
		return nil, err
	}
	stats, err := steward.ParticipationStats(ctx, s.cfg.Store)
	if err != nil {
		return nil, err
	}
	after := ""
	for {
		ps, err := steward.ListParticipants(ctx, s.cfg.Store, after, 5000)
		if err != nil {
			return nil, err
		}
		for _, p := range ps {
			stats = append(stats, steward.StatCount{Kind: "participants", Month: p.Registered.UTC().Format("2006-01"), Group: p.Group, Region: p.Region, N: 1})
		}
		if len(ps) < 5000 {
			break
		}
		after = ps[len(ps)-1].Handle
	}
	pt := &Participation{Series: map[string]map[string][]int64{}, Regional: map[string]map[string]int64{}, Regions: c.Regions}
	for _, g := range c.Groups {
		pt.Groups = append(pt.Groups, g.ID)
	}
	months := map[string]bool{}
	for _, st := range stats {
		months[st.Month] = true
	}
	for m := range months {
		pt.Months = append(pt.Months, m)
	}
	sort.Strings(pt.Months)
	if len(pt.Months) > 36 {
		pt.Months = pt.Months[len(pt.Months)-36:]
	}
	idx := map[string]int{}
	for i, m := range pt.Months {
		idx[m] = i
	}
	for _, k := range participationKinds {
		pt.Series[k.Kind] = map[string][]int64{}
		pt.Regional[k.Kind] = map[string]int64{}
		for _, g := range pt.Groups {
			pt.Series[k.Kind][g] = make([]int64, len(pt.Months))
		}
	}
	for _, st := range stats {
		ser, ok := pt.Series[st.Kind]
		if !ok {
			continue
		}
		pt.Regional[st.Kind][st.Region] += st.N
		i, ok := idx[st.Month]
		if !ok {
			continue
		}
		if _, ok := ser[st.Group]; !ok {
			ser[st.Group] = make([]int64, len(pt.Months))
		}
		ser[st.Group][i] += st.N
	}
	names := map[string]string{}
	for _, g := range c.Groups {
		names[g.ID] = g.Name
	}
	for _, k := range participationKinds {
		ch := Chart{Kind: k.Kind, Title: k.Title}
		for _, v := range pt.Series[k.Kind] {
			for _, n := range v {
				ch.Total += n
			}
		}
		ch.SVG = barChart(k.Title, pt.Months, pt.Groups, names, pt.Series[k.Kind])
		pt.Charts = append(pt.Charts, ch)
	}
	return pt, nil
}

// barChart draws stacked monthly bars, one colour per stakeholder group,
// with a legend. Every text is escaped.
func barChart(title string, months, groups []string, names map[string]string, series map[string][]int64) template.HTML {
	const w, h, left, bottom, top = 640, 240, 44, 40, 10
	var maxv int64 = 1
	for i := range months {
		var sum int64
		for _, g := range groups {
			sum += series[g][i]
		}
		maxv = max(maxv, sum)
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" role="img" aria-label="%s" class="chart">`, w, h+20*len(groups), html.EscapeString(title))
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#4a5360"/>`, left, h-bottom, w-4, h-bottom)
	fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="11" text-anchor="end" fill="#1b1f24">%d</text>`, left-4, top+10, maxv)
	fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="11" text-anchor="end" fill="#1b1f24">0</text>`, left-4, h-bottom)
	n := max(1, len(months))
	bw := float64(w-left-8) / float64(n)
	for i, m := range months {
		x := float64(left) + 4 + float64(i)*bw
		y := float64(h - bottom)
		for gi, g := range groups {
			v := series[g][i]
			if v == 0 {
				continue
			}
			bh := float64(v) / float64(maxv) * float64(h-bottom-top)
			y -= bh
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s, %s: %d</title></rect>`,
				x, y, max(1, bw-4), bh, groupColours[gi%len(groupColours)], html.EscapeString(m), html.EscapeString(names[g]), v)
		}
		if n <= 12 || i%((n+11)/12) == 0 {
			fmt.Fprintf(&b, `<text x="%.1f" y="%d" font-size="11" fill="#1b1f24">%s</text>`, x, h-bottom+14, html.EscapeString(m))
		}
	}
	for gi, g := range groups {
		x := 8
		y := h + gi*20
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="12" height="12" fill="%s"/><text x="%d" y="%d" font-size="12" fill="#1b1f24">%s</text>`,
			x, y-10, groupColours[gi%len(groupColours)], x+16, y, html.EscapeString(names[g]))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) //nolint:gosec // built from escaped parts
}

func (s *Server) participationPage(r *http.Request, id *identity, p *page) (string, error) {
	pt, err := s.participation(r)
	if err != nil {
		return "", err
	}
	p.Title, p.Nav, p.Data = p.T("Participation"), "forum", pt
	return "participation", nil
}

func (s *Server) apiParticipation(r *http.Request) (any, error) { return s.participation(r) }
