package rdap

import (
	"net/http"
	"sync/atomic"
)

// cached returns the object's body for this snapshot and base URL,
// rendering it once and keeping it with the object.
func (s *Snapshot) cached(c *atomic.Pointer[rendered], base string, render func(r *renderer) any) []byte {
	if x := c.Load(); x != nil && x.base == base && x.head == s.Head {
		return x.body
	}
	r := newRenderer(s, base)
	v := render(r)
	b := marshal(v)
	c.Store(&rendered{base: base, head: s.Head, body: b})
	return b
}

// finish gives a top-level object its conformance, notices and redactions.
func (r *renderer) finish() jTop {
	t := r.top()
	t.Redacted = r.red
	return t
}

// DomainResponse is the lookup response for a domain.
func (s *Snapshot) DomainResponse(d *Domain, base string) []byte {
	return s.cached(&d.cache, base, func(r *renderer) any {
		j := r.domain(d, "$")
		j.Events = append(j.Events, r.lastUpdate())
		j.jTop = r.finish()
		return j
	})
}

// NameserverResponse is the lookup response for a name server.
func (s *Snapshot) NameserverResponse(n *Nameserver, base string) []byte {
	return s.cached(&n.cache, base, func(r *renderer) any {
		j := r.nameserver(n, true)
		j.Events = append(j.Events, r.lastUpdate())
		j.jTop = r.finish()
		return j
	})
}

// EntityResponse is the lookup response for an entity.
func (s *Snapshot) EntityResponse(e *Entity, base string) []byte {
	return s.cached(&e.cache, base, func(r *renderer) any {
		j := r.entity(e, nil, "$")
		j.Events = append(j.Events, r.lastUpdate())
		j.jTop = r.finish()
		return j
	})
}

// NetworkResponse is the lookup response for an IP network.
func (s *Snapshot) NetworkResponse(n *Network, base string) []byte {
	return s.cached(&n.cache, base, func(r *renderer) any {
		j := r.network(n)
		j.Events = append(j.Events, r.lastUpdate())
		j.jTop = r.finish()
		return j
	})
}

// AutnumResponse is the lookup response for an AS number range.
func (s *Snapshot) AutnumResponse(a *Autnum, base string) []byte {
	return s.cached(&a.cache, base, func(r *renderer) any {
		j := r.autnum(a)
		j.Events = append(j.Events, r.lastUpdate())
		j.jTop = r.finish()
		return j
	})
}

// truncated is the notice of a search that matched more than MaxResults
// (RFC 9083 §4.3, §10.2.1).
func truncated() jNotice {
	return jNotice{
		Title: "Search Policy", Type: "result set truncated due to excessive load",
		Description: []string{"A search returns at most 100 objects, in name order: give a longer pattern to see the others."},
	}
}

// DomainSearchResponse is the response of a domains search.
func (s *Snapshot) DomainSearchResponse(ds []*Domain, more bool, base string) []byte {
	r := newRenderer(s, base)
	out := struct {
		jTop
		Results []jDomain `json:"domainSearchResults"`
	}{Results: []jDomain{}}
	for i, d := range ds {
		out.Results = append(out.Results, r.domain(d, "$.domainSearchResults["+itoa(i)+"]"))
	}
	out.jTop = r.finish()
	if more {
		out.Notices = append(out.Notices, truncated())
	}
	return marshal(out)
}

// NameserverSearchResponse is the response of a nameservers search.
func (s *Snapshot) NameserverSearchResponse(ns []*Nameserver, more bool, base string) []byte {
	r := newRenderer(s, base)
	out := struct {
		jTop
		Results []jNameserver `json:"nameserverSearchResults"`
	}{Results: []jNameserver{}}
	for _, n := range ns {
		out.Results = append(out.Results, r.nameserver(n, true))
	}
	out.jTop = r.finish()
	if more {
		out.Notices = append(out.Notices, truncated())
	}
	return marshal(out)
}

// EntitySearchResponse is the response of an entities search.
func (s *Snapshot) EntitySearchResponse(es []*Entity, more bool, base string) []byte {
	r := newRenderer(s, base)
	out := struct {
		jTop
		Results []jEntity `json:"entitySearchResults"`
	}{Results: []jEntity{}}
	for i, e := range es {
		out.Results = append(out.Results, r.entity(e, nil, "$.entitySearchResults["+itoa(i)+"]"))
	}
	out.jTop = r.finish()
	if more {
		out.Notices = append(out.Notices, truncated())
	}
	return marshal(out)
}

// HelpResponse is the response to /help (RFC 9082 §3.1.6).
func (s *Snapshot) HelpResponse(base string) []byte {
	r := newRenderer(s, base)
	t := r.top()
	t.Notices = append(t.Notices, jNotice{
		Title: "Queries",
		Description: []string{
			"Lookups: domain/NAME (the top-level domains of the root zone), nameserver/NAME, entity/HANDLE, ip/ADDRESS, ip/ADDRESS/LENGTH, autnum/NUMBER.",
			"Searches: domains?name=PATTERN, domains?nsLdhName=PATTERN, domains?nsIp=ADDRESS, nameservers?name=PATTERN, nameservers?ip=ADDRESS, entities?fn=PATTERN, entities?handle=PATTERN. A pattern may end in one '*', after at least one character; a search returns at most 100 objects.",
			"Bootstrap files (RFC 9224): bootstrap/dns.json, bootstrap/ipv4.json, bootstrap/ipv6.json, bootstrap/asn.json.",
		},
		Links: []jLink{{Value: base + "help", Rel: "help", Href: r.root + "docs/rdap", Type: "text/html"}},
	})
	return marshal(t)
}

// ErrorResponse is an RFC 9083 §6 error body.
func ErrorResponse(status int, description string) []byte {
	return marshal(struct {
		Conformance []string `json:"rdapConformance"`
		Code        int      `json:"errorCode"`
		Title       string   `json:"title"`
		Description []string `json:"description"`
	}{Conformance, status, http.StatusText(status), []string{description}})
}
