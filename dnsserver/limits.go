package dnsserver

import (
	"context"

	"github.com/miekg/dns"
)

// acceptMsg is the server's first look at a request's header, before the
// message is parsed: responses are dropped (answering them invites
// reflection loops); everything else reaches the chain, whose limits
// handler decides. A message that fails to parse is answered FORMERR by
// miekg/dns and logged by invalidMsg.
func acceptMsg(dh dns.Header) dns.MsgAcceptAction {
	const qr = 1 << 15
	if dh.Bits&qr != 0 {
		return dns.MsgIgnore
	}
	// A request with more records than a query, a NOTIFY or an IXFR could
	// carry is not worth parsing; an UPDATE carries prerequisites and
	// changes, up to maxUpdateRecords of each.
	if int(dh.Bits>>11)&0xf == dns.OpcodeUpdate {
		if dh.Qdcount > 4 || dh.Ancount > maxUpdateRecords || dh.Nscount > maxUpdateRecords || dh.Arcount > 2 {
			return dns.MsgReject
		}
		return dns.MsgAccept
	}
	if dh.Qdcount > 4 || dh.Ancount > 1 || dh.Nscount > 1 || dh.Arcount > 2 {
		return dns.MsgReject
	}
	return dns.MsgAccept
}

// maxUpdateRecords bounds the prerequisites and the changes of one DNS
// UPDATE.
const maxUpdateRecords = 4096

// invalidMsg logs a request that could not be parsed.
func (s *Server) invalidMsg(m []byte, err error) {
	s.metrics.malformed()
	s.logBad("dns malformed request", "bytes", len(m), "err", err)
}

// newLimits answers requests this server does not take: NOTIMP for
// opcodes other than QUERY, NOTIFY and UPDATE and for obsolete query types,
// FORMERR for a request without exactly one question or with records where
// a query has none, REFUSED for classes other than IN and CH. It also reads
// EDNS0 (RFC 6891): more than one OPT is FORMERR, a version above 0
// BADVERS, and it sets the response size from the client's payload size.
func newLimits(s *Server, next handler) handler {
	return handlerFunc(func(ctx context.Context, w dns.ResponseWriter, q *query) (int, error) {
		r := q.msg
		if r.Response {
			return noAnswer, nil
		}
		if r.Opcode != dns.OpcodeQuery && r.Opcode != dns.OpcodeNotify && r.Opcode != dns.OpcodeUpdate {
			return s.refuse(w, q, dns.RcodeNotImplemented, "opcode", dns.OpcodeToString[r.Opcode]), nil
		}
		if len(r.Question) != 1 {
			return s.refuse(w, q, dns.RcodeFormatError, "questions", len(r.Question)), nil
		}
		qn := r.Question[0]
		q.name, q.qtype, q.class = lower(qn.Name), qn.Qtype, qn.Qclass

		// Additional section: at most one OPT, owned by the root, and a
		// TSIG only as the last record (RFC 6891 §6.1.1, RFC 8945 §5.1).
		var opts int
		for i, rr := range r.Extra {
			switch rr.Header().Rrtype {
			case dns.TypeOPT:
				opts++
				q.edns = rr.(*dns.OPT)
				if rr.Header().Name != "." {
					return s.refuse(w, q, dns.RcodeFormatError, "opt owner", rr.Header().Name), nil
				}
			case dns.TypeTSIG:
				if i != len(r.Extra)-1 {
					return s.refuse(w, q, dns.RcodeFormatError, "tsig", "not last"), nil
				}
			}
		}
		if opts > 1 {
			q.edns = nil
			return s.refuse(w, q, dns.RcodeFormatError, "opt records", opts), nil
		}
		if q.edns != nil {
			q.do = q.edns.Do()
			if q.edns.Version() != 0 {
				q.do = false
				return s.refuse(w, q, dns.RcodeBadVers, "edns version", q.edns.Version()), nil
			}
			if !q.tcp {
				q.size = int(min(max(q.edns.UDPSize(), dns.MinMsgSize), s.cfg.UDPSize))
			}
		}
		if q.tcp {
			q.size = dns.MaxMsgSize
		}

		if r.Opcode == dns.OpcodeNotify || r.Opcode == dns.OpcodeUpdate {
			return next.serveDNS(ctx, w, q)
		}
		// A query carries nothing in the answer section, and in the
		// authority section only the SOA of an IXFR request.
		if len(r.Answer) != 0 || len(r.Ns) > 1 || (len(r.Ns) == 1 && q.qtype != dns.TypeIXFR) {
			return s.refuse(w, q, dns.RcodeFormatError, "sections", "records in a query"), nil
		}
		switch q.qtype {
		case dns.TypeOPT, dns.TypeTSIG, 0:
			return s.refuse(w, q, dns.RcodeFormatError, "qtype", q.qtype), nil
		case dns.TypeMAILA, dns.TypeMAILB, dns.TypeTKEY:
			return s.refuse(w, q, dns.RcodeNotImplemented, "qtype", q.qtype), nil
		}
		switch q.class {
		case dns.ClassINET, dns.ClassCHAOS:
		default:
			return s.refuse(w, q, dns.RcodeRefused, "class", q.class), nil
		}
		return next.serveDNS(ctx, w, q)
	})
}

// refuse answers q with rcode alone and logs why, rate-limited.
func (s *Server) refuse(w dns.ResponseWriter, q *query, rcode int, why string, detail any) int {
	s.logBad("dns request refused", "client", addrString(w.RemoteAddr()), "rcode", rcodeString(rcode), why, detail)
	m := new(dns.Msg)
	m.SetRcode(q.msg, rcode)
	if len(q.msg.Question) != 1 {
		m.Question = nil
	}
	return s.write(w, q, m, 0)
}
