package dnsserver

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"runtime/debug"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// chain is the order in which a query meets the handlers, first to last.
// It is the one place the order is declared, as CoreDNS's plugin.cfg.
var chain = []struct {
	name string
	new  func(s *Server, next handler) handler
}{
	{"metrics", newMetricsHandler},
	{"limits", newLimits},
	{"tsig", newTSIG},
	{"notify", newNotifyHandler},
	{"chaos", newChaos},
	{"transfer", newTransfer},
	{"update", newUpdate},
	{"authoritative", newAuthoritative},
}

// handler is one link of the chain: it answers the query itself, writing
// the response to w, or hands it to the next link. It returns the rcode it
// answered with, or -1 if it sent nothing, and an error for failures worth
// a log line (the client has been answered or dropped either way).
type handler interface {
	serveDNS(ctx context.Context, w dns.ResponseWriter, q *query) (int, error)
}

type handlerFunc func(ctx context.Context, w dns.ResponseWriter, q *query) (int, error)

func (f handlerFunc) serveDNS(ctx context.Context, w dns.ResponseWriter, q *query) (int, error) {
	return f(ctx, w, q)
}

// buildChain links the handlers of chain, the last one first.
func buildChain(s *Server) handler {
	var h handler
	for i := len(chain) - 1; i >= 0; i-- {
		h = chain[i].new(s, h)
	}
	return h
}

// noAnswer is the rcode handlers return when they sent nothing.
const noAnswer = -1

// query is a request as the chain sees it: the message, and what the limits
// and tsig handlers learned about it.
type query struct {
	msg   *dns.Msg
	name  string // question name, lower case
	qtype uint16
	class uint16
	tcp   bool
	edns  *dns.OPT  // the request's OPT, nil without EDNS
	do    bool      // DNSSEC OK
	size  int       // the largest response the client takes
	tsig  *dns.TSIG // the request's verified TSIG, nil if unsigned
	snap  *snapshot
}

// ServeDNS answers one request: it makes Server a dns.Handler. Tests and
// the fuzz target call it with a ResponseWriter of their own.
func (s *Server) ServeDNS(w dns.ResponseWriter, r *dns.Msg) {
	q := &query{msg: r, snap: s.snap.Load()}
	if _, ok := w.RemoteAddr().(*net.TCPAddr); ok {
		q.tcp = true
	}
	rcode, err := s.chain.serveDNS(s.ctx, w, q)
	if err != nil {
		s.log.Warn("dns query failed", "client", addrString(w.RemoteAddr()), "name", q.name,
			"type", dns.Type(q.qtype).String(), "rcode", rcodeString(rcode), "err", err)
	} else if s.log.Enabled(s.ctx, slog.LevelDebug) {
		s.log.Debug("dns query", "client", addrString(w.RemoteAddr()), "name", q.name,
			"type", dns.Type(q.qtype).String(), "tcp", q.tcp, "do", q.do, "rcode", rcodeString(rcode))
	}
}

func rcodeString(rcode int) string {
	if rcode == noAnswer {
		return "none"
	}
	if s, ok := dns.RcodeToString[rcode]; ok {
		return s
	}
	return fmt.Sprintf("RCODE%d", rcode)
}

// newMetricsHandler counts answers by rcode and query type, and turns a
// panic in the chain into SERVFAIL and a log line rather than a crash.
func newMetricsHandler(s *Server, next handler) handler {
	return handlerFunc(func(ctx context.Context, w dns.ResponseWriter, q *query) (rcode int, err error) {
		defer func() {
			if p := recover(); p != nil {
				s.log.Error("dns handler panic", "panic", p, "stack", string(debug.Stack()))
				rcode, err = s.fail(w, q, dns.RcodeServerFailure), fmt.Errorf("panic: %v", p)
			}
			s.metrics.query(q, rcode)
		}()
		return next.serveDNS(ctx, w, q)
	})
}

// fail answers q with rcode and nothing else.
func (s *Server) fail(w dns.ResponseWriter, q *query, rcode int) int {
	m := new(dns.Msg)
	m.SetRcode(q.msg, rcode)
	return s.write(w, q, m, 0)
}

// reply returns a response to q, to be filled in and written with write.
func reply(q *query) *dns.Msg {
	m := new(dns.Msg)
	m.SetReply(q.msg)
	return m
}

// write sends m as the answer to q, after adding the OPT record (if q had
// one) and fitting it into the client's size. m.Extra holds required
// records first (in-domain glue of a referral: RFC 9471) and then
// optional ones; required says how many are required. Optional additional
// records are dropped as needed without setting TC; if the answer,
// authority and required records do not fit, the sections are emptied and
// TC is set so that the client retries over TCP. write signs the answer if
// the request was signed. It returns m's rcode, or noAnswer if the write
// failed.
func (s *Server) write(w dns.ResponseWriter, q *query, m *dns.Msg, required int) int {
	var opt *dns.OPT
	if q.edns != nil {
		opt = &dns.OPT{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeOPT}}
		opt.SetUDPSize(s.cfg.UDPSize)
		if q.do {
			opt.SetDo()
		}
		m.Extra = append(m.Extra, opt)
	}
	size := q.size
	if size == 0 {
		size = dns.MinMsgSize
		if q.tcp {
			size = dns.MaxMsgSize
		}
	}
	if q.tsig != nil {
		size -= tsigLen(q.tsig)
	}
	// The uncompressed length is cheap to compute and usually enough.
	m.Compress = false
	if m.Len() > size {
		m.Compress = true
		if m.Len() > size {
			fit(m, size, required, opt)
		}
	}
	m.Compress = true
	if q.tsig != nil {
		m.SetTsig(q.tsig.Hdr.Name, q.tsig.Algorithm, 300, time.Now().Unix())
	}
	if err := w.WriteMsg(m); err != nil {
		s.logBad("dns write failed", "client", addrString(w.RemoteAddr()), "err", err)
		return noAnswer
	}
	return m.Rcode
}

// fit shrinks m to size: the most optional additional records that fit
// after the required ones. If the required ones do not all fit, TC is set
// (RFC 9471 §3) and the answer and authority sections are kept with as
// many additional records as fit, as Knot does, so that a referral still
// names the servers; if even those sections do not fit, all three are
// emptied. opt, if not nil, is the last record of m.Extra and stays.
func fit(m *dns.Msg, size, required int, opt *dns.OPT) {
	extra := m.Extra
	if opt != nil {
		extra = extra[:len(extra)-1]
	}
	with := func(n int) []dns.RR {
		e := make([]dns.RR, 0, n+1)
		e = append(e, extra[:n]...)
		if opt != nil {
			e = append(e, opt)
		}
		return e
	}
	// most returns the largest n in [lo, hi] for which extra[:n] fits,
	// given that extra[:lo] does.
	most := func(lo, hi int) int {
		hi++ // lo fits, hi does not
		for hi-lo > 1 {
			mid := (lo + hi) / 2
			m.Extra = with(mid)
			if m.Len() <= size {
				lo = mid
			} else {
				hi = mid
			}
		}
		return lo
	}
	required = min(required, len(extra))
	m.Extra = with(required)
	if m.Len() <= size {
		m.Extra = with(most(required, len(extra)))
		return
	}
	m.Truncated = true
	m.Extra = with(0)
	if m.Len() > size {
		m.Answer, m.Ns = nil, nil
		return
	}
	m.Extra = with(most(0, required))
}

// tsigLen is the room a TSIG record with q's key and algorithm takes.
func tsigLen(t *dns.TSIG) int {
	// Owner, type, class, TTL, rdlength (10), algorithm, time (6), fudge
	// (2), MAC size (2), MAC (at most 64), original id (2), error (2),
	// other length (2), other data (6 for BADTIME).
	return len(t.Hdr.Name) + 1 + 10 + len(t.Algorithm) + 1 + 6 + 2 + 2 + 64 + 2 + 2 + 2 + 6
}

// logBad logs a line about bad input or a failing client, at most a few a
// second so that a flood of junk cannot flood the log.
func (s *Server) logBad(msg string, args ...any) {
	if s.badLog.Allow() {
		s.log.Info(msg, args...)
	}
}

// remoteAddr returns the client's address.
func remoteAddr(w dns.ResponseWriter) netip.Addr {
	switch a := w.RemoteAddr().(type) {
	case *net.UDPAddr:
		ip, _ := netip.AddrFromSlice(a.IP)
		return ip.Unmap()
	case *net.TCPAddr:
		ip, _ := netip.AddrFromSlice(a.IP)
		return ip.Unmap()
	}
	return netip.Addr{}
}

// lower returns name in lower case, without allocating when it already is.
func lower(name string) string {
	for i := 0; i < len(name); i++ {
		if c := name[i]; 'A' <= c && c <= 'Z' {
			return strings.ToLower(name)
		}
	}
	return name
}
