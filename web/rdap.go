package web

import (
	"errors"
	"net/http"
	"net/netip"
	"strings"
	"sync/atomic"

	"steward"
	"steward/rdap"
)

// rdapRoutes serves RDAP (RFC 7480, 9082, 9083) under /rdap/ from the
// follower's immutable snapshot, and the RFC 9224 bootstrap files under
// /rdap/bootstrap/.
func (s *Server) rdapRoutes(m *http.ServeMux) {
	s.rdapOwn = rdap.NewFollower(rdap.FollowerConfig{Source: s.cfg.Store, Clock: s.cfg.Clock, Logger: s.cfg.Logger})
	h := func(f func(w http.ResponseWriter, r *http.Request, snap *rdap.Snapshot, base string)) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			hd := w.Header()
			hd["Access-Control-Allow-Origin"] = hdrAnyOrigin
			hd["Content-Type"] = hdrRDAPType
			snap, err := s.rdapSnapshot(r)
			if err != nil {
				eventOf(r.Context()).err = err
				s.rdapError(w, http.StatusServiceUnavailable, "the registry data is not available yet: try again shortly")
				return
			}
			f(w, r, snap, rdapBase(r))
		}
	}
	m.HandleFunc("GET /rdap/help", h(s.rdapHelp))
	m.HandleFunc("GET /rdap/domain/{name}", h(s.rdapDomain))
	m.HandleFunc("GET /rdap/nameserver/{name}", h(s.rdapNameserver))
	m.HandleFunc("GET /rdap/entity/{handle}", h(s.rdapEntity))
	m.HandleFunc("GET /rdap/ip/{query...}", h(s.rdapIP))
	m.HandleFunc("GET /rdap/autnum/{n}", h(s.rdapAutnum))
	m.HandleFunc("GET /rdap/domains", h(s.rdapDomains))
	m.HandleFunc("GET /rdap/nameservers", h(s.rdapNameservers))
	m.HandleFunc("GET /rdap/entities", h(s.rdapEntities))
	m.HandleFunc("GET /rdap/bootstrap/{file}", h(s.rdapBootstrap))
	m.HandleFunc("/rdap/", h(s.rdapUnknown))
}

var (
	hdrAnyOrigin = []string{"*"}
	hdrRDAPType  = []string{rdap.ContentType}
)

// rdapSnapshot returns the snapshot to answer from: the configured
// follower's, kept current in the background, or else the server's own,
// brought up to date with the ledger on each request.
func (s *Server) rdapSnapshot(r *http.Request) (*rdap.Snapshot, error) {
	if f := s.cfg.RDAP; f != nil {
		if snap := f.Current(); snap != nil {
			return snap, nil
		}
		return f.Update(r.Context())
	}
	return s.rdapOwn.Update(r.Context())
}

// rdapBase is the absolute URL of the RDAP service as the client reached
// it, ending in "/rdap/". The last one built is kept, so that requests for
// the same host do not build it again.
func rdapBase(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if b := lastRDAPBase.Load(); b != nil && b.host == r.Host && b.scheme == scheme {
		return b.base
	}
	b := &rdapBaseURL{scheme: scheme, host: r.Host, base: scheme + "://" + r.Host + "/rdap/"}
	lastRDAPBase.Store(b)
	return b.base
}

type rdapBaseURL struct{ scheme, host, base string }

var lastRDAPBase atomic.Pointer[rdapBaseURL]

func (s *Server) rdapWrite(w http.ResponseWriter, body []byte) {
	_, _ = w.Write(body)
}

func (s *Server) rdapError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", rdap.ContentType)
	w.WriteHeader(status)
	_, _ = w.Write(rdap.ErrorResponse(status, msg))
}

// rdapFail answers a refused query: its own status for a query error.
func (s *Server) rdapFail(w http.ResponseWriter, r *http.Request, err error) {
	eventOf(r.Context()).err = err
	var qe *rdap.QueryError
	if errors.As(err, &qe) {
		s.rdapError(w, qe.Status, qe.Message)
		return
	}
	s.rdapError(w, http.StatusInternalServerError, "internal error")
}

func (s *Server) rdapNotFound(w http.ResponseWriter, r *http.Request, format string, args ...any) {
	err := steward.Errorf(steward.ENOTFOUND, format, args...)
	eventOf(r.Context()).err = err
	s.rdapError(w, http.StatusNotFound, err.Message)
}

func (s *Server) rdapHelp(w http.ResponseWriter, r *http.Request, snap *rdap.Snapshot, base string) {
	s.rdapWrite(w, snap.HelpResponse(base))
}

func (s *Server) rdapDomain(w http.ResponseWriter, r *http.Request, snap *rdap.Snapshot, base string) {
	name, err := rdap.ParseDomainName(r.PathValue("name"))
	if err != nil {
		s.rdapFail(w, r, err)
		return
	}
	d := snap.Domain(name)
	if d == nil {
		if strings.Contains(name, ".") {
			s.rdapNotFound(w, r, "%s is not a top-level domain: this server holds the root zone's delegations; ask the TLD's RDAP service (see bootstrap/dns.json)", name)
			return
		}
		s.rdapNotFound(w, r, "no top-level domain %s in the root zone", name)
		return
	}
	s.rdapWrite(w, snap.DomainResponse(d, base))
}

func (s *Server) rdapNameserver(w http.ResponseWriter, r *http.Request, snap *rdap.Snapshot, base string) {
	name, err := rdap.ParseDomainName(r.PathValue("name"))
	if err != nil {
		s.rdapFail(w, r, err)
		return
	}
	n := snap.Nameserver(name)
	if n == nil {
		s.rdapNotFound(w, r, "no name server %s serves a top-level domain", name)
		return
	}
	s.rdapWrite(w, snap.NameserverResponse(n, base))
}

func (s *Server) rdapEntity(w http.ResponseWriter, r *http.Request, snap *rdap.Snapshot, base string) {
	h, err := rdap.ParseHandle(r.PathValue("handle"))
	if err != nil {
		s.rdapFail(w, r, err)
		return
	}
	e := snap.Entity(h)
	if e == nil {
		s.rdapNotFound(w, r, "no entity %s", h)
		return
	}
	s.rdapWrite(w, snap.EntityResponse(e, base))
}

func (s *Server) rdapIP(w http.ResponseWriter, r *http.Request, snap *rdap.Snapshot, base string) {
	p, err := rdap.ParseIPQuery(r.PathValue("query"))
	if err != nil {
		s.rdapFail(w, r, err)
		return
	}
	n := snap.Network(p)
	if n == nil {
		s.rdapNotFound(w, r, "no network in the registry holds %s", p)
		return
	}
	s.rdapWrite(w, snap.NetworkResponse(n, base))
}

func (s *Server) rdapAutnum(w http.ResponseWriter, r *http.Request, snap *rdap.Snapshot, base string) {
	n, err := rdap.ParseAutnum(r.PathValue("n"))
	if err != nil {
		s.rdapFail(w, r, err)
		return
	}
	a := snap.Autnum(n)
	if a == nil {
		s.rdapNotFound(w, r, "no AS number range in the registry holds %d", n)
		return
	}
	s.rdapWrite(w, snap.AutnumResponse(a, base))
}

// searchParam returns the one search parameter of a search request, or a
// query error naming the ones the search takes.
func searchParam(r *http.Request, allowed ...string) (string, string, error) {
	q := r.URL.Query()
	var name, value string
	for k, v := range q {
		if !contains(allowed, k) {
			return "", "", &rdap.QueryError{Status: http.StatusBadRequest, Message: "unknown search parameter " + k + ": this search takes " + strings.Join(allowed, " or ")}
		}
		if name != "" || len(v) != 1 {
			return "", "", &rdap.QueryError{Status: http.StatusBadRequest, Message: "give exactly one of " + strings.Join(allowed, ", ") + ", once"}
		}
		name, value = k, v[0]
	}
	if name == "" {
		return "", "", &rdap.QueryError{Status: http.StatusBadRequest, Message: "a search needs one of " + strings.Join(allowed, ", ")}
	}
	return name, value, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (s *Server) rdapDomains(w http.ResponseWriter, r *http.Request, snap *rdap.Snapshot, base string) {
	k, v, err := searchParam(r, "name", "nsLdhName", "nsIp")
	if err != nil {
		s.rdapFail(w, r, err)
		return
	}
	var ds []*rdap.Domain
	var more bool
	switch k {
	case "nsIp":
		a, err := netip.ParseAddr(v)
		if err != nil || a.Zone() != "" {
			s.rdapError(w, http.StatusBadRequest, "nsIp: not an IPv4 or IPv6 address")
			return
		}
		ds, more = snap.SearchDomainsByNameserver(rdap.Pattern{}, a)
	default:
		p, err := rdap.ParseNamePattern(k, v)
		if err != nil {
			s.rdapFail(w, r, err)
			return
		}
		if k == "nsLdhName" {
			ds, more = snap.SearchDomainsByNameserver(p, netip.Addr{})
		} else {
			ds, more = snap.SearchDomains(p)
		}
	}
	s.rdapWrite(w, snap.DomainSearchResponse(ds, more, base))
}

func (s *Server) rdapNameservers(w http.ResponseWriter, r *http.Request, snap *rdap.Snapshot, base string) {
	k, v, err := searchParam(r, "name", "ip")
	if err != nil {
		s.rdapFail(w, r, err)
		return
	}
	var ns []*rdap.Nameserver
	var more bool
	if k == "ip" {
		a, err := netip.ParseAddr(v)
		if err != nil || a.Zone() != "" {
			s.rdapError(w, http.StatusBadRequest, "ip: not an IPv4 or IPv6 address")
			return
		}
		ns, more = snap.NameserversByAddr(a)
	} else {
		p, err := rdap.ParseNamePattern(k, v)
		if err != nil {
			s.rdapFail(w, r, err)
			return
		}
		ns, more = snap.SearchNameservers(p)
	}
	s.rdapWrite(w, snap.NameserverSearchResponse(ns, more, base))
}

func (s *Server) rdapEntities(w http.ResponseWriter, r *http.Request, snap *rdap.Snapshot, base string) {
	k, v, err := searchParam(r, "fn", "handle")
	if err != nil {
		s.rdapFail(w, r, err)
		return
	}
	p, err := rdap.ParseTextPattern(k, v)
	if err != nil {
		s.rdapFail(w, r, err)
		return
	}
	es, more := snap.SearchEntities(p, k == "fn")
	s.rdapWrite(w, snap.EntitySearchResponse(es, more, base))
}

func (s *Server) rdapBootstrap(w http.ResponseWriter, r *http.Request, snap *rdap.Snapshot, base string) {
	b, ok := snap.Bootstrap(r.PathValue("file"), base)
	if !ok {
		s.rdapNotFound(w, r, "no bootstrap file %q: try dns.json, ipv4.json, ipv6.json or asn.json", r.PathValue("file"))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	s.rdapWrite(w, b)
}

func (s *Server) rdapUnknown(w http.ResponseWriter, r *http.Request, snap *rdap.Snapshot, base string) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		s.rdapError(w, http.StatusMethodNotAllowed, "RDAP is read-only: use GET or HEAD")
		return
	}
	s.rdapError(w, http.StatusBadRequest, "unknown RDAP query: see "+base+"help")
}
