package dnsserver

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// newTSIG checks the transaction signature of a signed request (RFC 8945
// §5.2). miekg/dns verifies the MAC against the configured secrets as the
// request is read; this handler turns the result into the answer RFC 8945
// asks for: NOTAUTH with a TSIG record carrying BADKEY (unknown key or
// algorithm) or BADSIG (wrong MAC), both unsigned, or BADTIME (signed, with
// the server's time). A request that verifies is marked so that its answer
// is signed with the same key.
func newTSIG(s *Server, next handler) handler {
	return handlerFunc(func(ctx context.Context, w dns.ResponseWriter, q *query) (int, error) {
		t := q.msg.IsTsig()
		if t == nil {
			return next.serveDNS(ctx, w, q)
		}
		name := strings.ToLower(t.Hdr.Name)
		key, known := s.keys[name]
		var tsigErr uint16
		status := w.TsigStatus()
		switch {
		case !known || !strings.EqualFold(dns.Fqdn(t.Algorithm), key.Algorithm):
			tsigErr = dns.RcodeBadKey
		case errors.Is(status, dns.ErrTime):
			tsigErr = dns.RcodeBadTime
		case status != nil:
			tsigErr = dns.RcodeBadSig
		}
		if tsigErr == 0 {
			q.tsig = t
			return next.serveDNS(ctx, w, q)
		}
		s.metrics.tsigFailure()
		s.logBad("dns TSIG check failed", "client", addrString(w.RemoteAddr()), "key", name,
			"error", dns.RcodeToString[int(tsigErr)], "name", q.name, "type", dns.Type(q.qtype).String())
		m := new(dns.Msg)
		m.SetRcode(q.msg, dns.RcodeNotAuth)
		if len(q.msg.Question) != 1 {
			m.Question = nil
		}
		if q.edns != nil {
			opt := &dns.OPT{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeOPT}}
			opt.SetUDPSize(s.cfg.UDPSize)
			m.Extra = append(m.Extra, opt)
		}
		m.SetTsig(dns.Fqdn(t.Hdr.Name), dns.Fqdn(t.Algorithm), t.Fudge, int64(t.TimeSigned))
		rt := m.Extra[len(m.Extra)-1].(*dns.TSIG)
		rt.Error = tsigErr
		if tsigErr == dns.RcodeBadTime {
			// Other Data holds the server's time (RFC 8945 §5.2.3).
			rt.OtherLen = 6
			rt.OtherData = fmt.Sprintf("%012x", time.Now().Unix())
		}
		if err := w.WriteMsg(m); err != nil {
			return noAnswer, fmt.Errorf("tsig: %w", err)
		}
		return dns.RcodeNotAuth, nil
	})
}
