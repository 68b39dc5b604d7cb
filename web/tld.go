package web

import (
	"net/http"
	"strings"

	"steward"
)

func (s *Server) tldList(r *http.Request) (List[steward.TLD], error) {
	after, limit, err := pageParams(r, 200, 2000)
	if err != nil {
		return List[steward.TLD]{}, err
	}
	ts, err := steward.ListTLDs(r.Context(), s.cfg.Store, after, limit+1)
	if err != nil {
		return List[steward.TLD]{}, err
	}
	l := List[steward.TLD]{Items: ts}
	if l.Items == nil {
		l.Items = []steward.TLD{}
	}
	if len(ts) > limit {
		l.Items, l.Next = ts[:limit], ts[limit-1].Name
	}
	return l, nil
}

func (s *Server) apiTLDs(r *http.Request) (any, error) { return s.tldList(r) }

func (s *Server) apiTLD(r *http.Request) (any, error) {
	name := strings.ToLower(strings.TrimSuffix(r.PathValue("name"), "."))
	if !steward.ValidTLDName(name) {
		return nil, steward.Errorf(steward.EINVALID, "%q is not a TLD name", r.PathValue("name"))
	}
	return steward.LoadTLD(r.Context(), s.cfg.Store, name)
}

func (s *Server) apiApex(r *http.Request) (any, error) {
	a, err := steward.LoadApex(r.Context(), s.cfg.Store)
	if steward.ErrorCode(err) == steward.ENOTFOUND {
		return nil, steward.Errorf(steward.ENOTFOUND, "no root zone yet: import one with steward import rootzone")
	}
	return a, err
}

// TLDsPage is the data of the root zone page.
type TLDsPage struct {
	List[steward.TLD]
	Published *Published
}

func (s *Server) tldsPage(r *http.Request, id *identity, p *page) (string, error) {
	l, err := s.tldList(r)
	d := TLDsPage{List: l}
	if s.cfg.Published != nil {
		d.Published = s.cfg.Published()
	}
	p.Title, p.Nav, p.Data = p.T("Root zone"), "tlds", d
	return "tlds", err
}

func (s *Server) tldPage(r *http.Request, id *identity, p *page) (string, error) {
	v, err := s.apiTLD(r)
	if err != nil {
		return "", err
	}
	t := v.(*steward.TLD)
	p.Title, p.Nav, p.Data = "."+t.Name, "tlds", t
	return "tld", nil
}
