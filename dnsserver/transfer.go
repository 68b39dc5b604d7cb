package dnsserver

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// xfrMessageSize is the most record data put in one transfer message
// before compression; messages stay well below the 65535-byte limit.
const xfrMessageSize = 32 << 10

// refusal says why a client may not transfer or update a zone whose policy
// allows the prefixes allow and, if keys is not empty, requests signed with
// one of those keys; "" if it may. keyName is the request's key, if any.
func refusal(allow []netip.Prefix, keys []string, client netip.Addr, tsig *dns.TSIG) (why, keyName string) {
	if tsig != nil {
		keyName = strings.ToLower(tsig.Hdr.Name)
	}
	switch {
	case !slices.ContainsFunc(allow, func(p netip.Prefix) bool { return p.Contains(client) }):
		why = "client not allowed"
	case len(keys) > 0 && keyName == "":
		why = "TSIG required"
	case len(keys) > 0 && !slices.ContainsFunc(keys, func(k string) bool { return lower(dns.Fqdn(k)) == keyName }):
		why = "TSIG key not allowed for the zone"
	}
	return why, keyName
}

// newTransfer serves AXFR (RFC 5936) and IXFR (RFC 1995) of a served
// zone to clients its TransferPolicy allows: the client's address must be
// in Allow and, when Keys is not empty, the request signed with one of
// those keys (the tsig handler has already rejected bad signatures).
// Transfers run over TCP only: AXFR over UDP is NOTIMP and IXFR over UDP
// gets the current SOA, telling the client to come back over TCP (RFC 1995
// §2). A refused transfer is logged.
func newTransfer(s *Server, next handler) handler {
	return handlerFunc(func(ctx context.Context, w dns.ResponseWriter, q *query) (int, error) {
		if q.qtype != dns.TypeAXFR && q.qtype != dns.TypeIXFR {
			return next.serveDNS(ctx, w, q)
		}
		client := remoteAddr(w)
		kind := dns.Type(q.qtype).String()
		zs := q.snap.zones[q.name]
		if zs == nil || q.class != dns.ClassINET {
			s.log.Warn("dns transfer refused: not a zone served here", "client", client, "zone", q.name, "type", kind)
			s.metrics.transfer(q.name, kind, "notauth")
			return s.fail(w, q, dns.RcodeNotAuth), nil
		}
		origin := zs.z.Origin
		pol := s.cfg.Transfer[origin]
		why, keyName := refusal(pol.Allow, pol.Keys, client, q.tsig)
		if why != "" {
			s.log.Warn("dns transfer refused: "+why, "client", client, "zone", origin, "type", kind, "key", keyName)
			s.metrics.transfer(origin, kind, "refused")
			return s.fail(w, q, dns.RcodeRefused), nil
		}

		var clientSerial uint32
		if q.qtype == dns.TypeIXFR {
			soa, ok := soaOf(q.msg.Ns)
			if !ok {
				s.logBad("dns IXFR without a SOA", "client", client, "zone", origin)
				return s.fail(w, q, dns.RcodeFormatError), nil
			}
			clientSerial = soa.Serial
		}
		if !q.tcp {
			if q.qtype == dns.TypeAXFR {
				return s.fail(w, q, dns.RcodeNotImplemented), nil
			}
			m := reply(q)
			m.Authoritative = true
			m.Answer = []dns.RR{zs.z.SOA()}
			return s.write(w, q, m, 0), nil
		}

		start := time.Now()
		var rrs []dns.RR
		style := "AXFR"
		switch {
		case q.qtype == dns.TypeIXFR && !serialNewer(zs.z.Serial, clientSerial):
			// Up to date (or ahead): the current SOA alone (RFC 1995 §2).
			rrs, style = []dns.RR{zs.z.SOA()}, "IXFR up to date"
		case q.qtype == dns.TypeIXFR:
			if inc, ok := zs.ixfr(clientSerial); ok {
				rrs, style = inc, "IXFR"
			} else {
				style = "IXFR as AXFR"
			}
		}
		if rrs == nil {
			rrs = append(zs.z.Records(), zs.z.SOA())
		}
		if err := s.sendTransfer(w, q, rrs); err != nil {
			s.metrics.transfer(origin, kind, "error")
			return noAnswer, fmt.Errorf("%s of %s to %s: %w", kind, origin, client, err)
		}
		s.log.Info("dns transfer", "client", client, "zone", origin, "type", kind, "style", style,
			"from", clientSerial, "serial", zs.z.Serial, "records", len(rrs), "key", keyName,
			"seconds", time.Since(start).Seconds())
		s.metrics.transfer(origin, kind, "ok")
		return dns.RcodeSuccess, nil
	})
}

// sendTransfer writes rrs to the client in messages of about
// xfrMessageSize bytes, through dns.Transfer, which signs each with the
// request's TSIG key (RFC 8945 §5.3.1).
func (s *Server) sendTransfer(w dns.ResponseWriter, q *query, rrs []dns.RR) error {
	var envs []*dns.Envelope
	size, first := 0, 0
	for i, rr := range rrs {
		l := dns.Len(rr)
		if size+l > xfrMessageSize && i > first {
			envs = append(envs, &dns.Envelope{RR: rrs[first:i]})
			first, size = i, 0
		}
		size += l
	}
	envs = append(envs, &dns.Envelope{RR: rrs[first:]})
	ch := make(chan *dns.Envelope, len(envs))
	for _, e := range envs {
		ch <- e
	}
	close(ch)
	xw := &xfrWriter{ResponseWriter: w}
	if q.edns != nil {
		xw.opt = &dns.OPT{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeOPT}}
		xw.opt.SetUDPSize(s.cfg.UDPSize)
	}
	return new(dns.Transfer).Out(xw, q.msg, ch)
}

// xfrWriter compresses the messages of a transfer and adds the OPT record
// RFC 6891 §7 asks for when the request had one, ahead of any TSIG.
type xfrWriter struct {
	dns.ResponseWriter
	opt *dns.OPT
}

func (w *xfrWriter) WriteMsg(m *dns.Msg) error {
	m.Compress = true
	if w.opt != nil {
		if n := len(m.Extra); n > 0 && m.Extra[n-1].Header().Rrtype == dns.TypeTSIG {
			m.Extra = append(m.Extra[:n-1:n-1], w.opt, m.Extra[n-1])
		} else {
			m.Extra = append(m.Extra, w.opt)
		}
	}
	return w.ResponseWriter.WriteMsg(m)
}

// soaOf returns the SOA among rrs.
func soaOf(rrs []dns.RR) (*dns.SOA, bool) {
	for _, rr := range rrs {
		if soa, ok := rr.(*dns.SOA); ok {
			return soa, true
		}
	}
	return nil, false
}
