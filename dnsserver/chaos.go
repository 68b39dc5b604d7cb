package dnsserver

import (
	"context"

	"github.com/miekg/dns"
)

// newChaos answers the CHAOS class: id.server and hostname.bind (RFC 4892)
// with a TXT record holding Config.Identity. Every other CHAOS query, and
// these when no identity is configured, is refused; version.bind and
// version.server are deliberately not answered.
func newChaos(s *Server, next handler) handler {
	return handlerFunc(func(ctx context.Context, w dns.ResponseWriter, q *query) (int, error) {
		if q.class != dns.ClassCHAOS {
			return next.serveDNS(ctx, w, q)
		}
		if s.cfg.Identity == "" || (q.name != "id.server." && q.name != "hostname.bind.") {
			return s.fail(w, q, dns.RcodeRefused), nil
		}
		m := reply(q)
		m.Authoritative = true
		if q.qtype == dns.TypeTXT || q.qtype == dns.TypeANY {
			m.Answer = []dns.RR{&dns.TXT{
				Hdr: dns.RR_Header{Name: q.msg.Question[0].Name, Rrtype: dns.TypeTXT, Class: dns.ClassCHAOS},
				Txt: []string{s.cfg.Identity},
			}}
		}
		return s.write(w, q, m, 0), nil
	})
}
