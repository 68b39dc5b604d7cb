package checks

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// server is one address of one name server.
type server struct {
	Name    string
	Addr    netip.Addr
	verdict addrVerdict
}

func (s server) String() string { return s.Name + " (" + s.Addr.String() + ")" }

// serverList returns every name/address pair of the delegation, in name
// then address order, each judged by ADDRESS01's rules.
func serverList(d Delegation, opt Options) []server {
	var out []server
	for _, ns := range d.NS {
		for _, a := range ns.Addrs {
			out = append(out, server{Name: ns.Name, Addr: a, verdict: judgeAddr(a, opt)})
		}
	}
	return out
}

// question is one query the checker sends.
type question struct {
	Name  string
	Type  uint16
	RD    bool // recursion desired
	DO    bool // DNSSEC OK
	Retry bool // on a truncated UDP answer, ask again over TCP
}

// probeKey names one exchange: which server, which transport asked for,
// which question.
type probeKey struct {
	srv  int
	netw string
	name string
	typ  uint16
}

// exchange is one query and what came back, kept as evidence.
type exchange struct {
	srv  server
	netw string // the transport asked for: "udp" or "tcp"
	q    question
	msg  *dns.Msg // nil when nothing usable came back
	err  error
	rtt  time.Duration
	note string // e.g. that a truncated UDP answer was retried over TCP
}

// answered reports whether a DNS message came back.
func (e *exchange) answered() bool { return e != nil && e.err == nil && e.msg != nil }

// authoritative reports whether a NOERROR answer with the AA bit came back.
func (e *exchange) authoritative() bool {
	return e.answered() && e.msg.Rcode == dns.RcodeSuccess && e.msg.Authoritative
}

const maxEvidence = 1500

// String renders the exchange as one line of evidence.
func (e *exchange) String() string {
	if e == nil {
		return "(not asked)"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s over %s: %s IN %s", e.srv, e.netw, e.q.Name, dns.Type(e.q.Type))
	if e.q.RD {
		b.WriteString(" +rd")
	}
	if e.q.DO {
		b.WriteString(" +dnssec")
	}
	b.WriteString(" → ")
	if !e.answered() {
		fmt.Fprintf(&b, "no answer: %v", e.err)
	} else {
		m := e.msg
		b.WriteString(dns.RcodeToString[m.Rcode])
		if dns.RcodeToString[m.Rcode] == "" {
			fmt.Fprintf(&b, "RCODE%d", m.Rcode)
		}
		for _, f := range []struct {
			on   bool
			name string
		}{{m.Authoritative, "aa"}, {m.Truncated, "tc"}, {m.RecursionAvailable, "ra"}, {m.AuthenticatedData, "ad"}} {
			if f.on {
				b.WriteString(" " + f.name)
			}
		}
		writeSection(&b, "answer", m.Answer)
		if len(m.Answer) == 0 {
			writeSection(&b, "authority", m.Ns)
		}
	}
	if e.note != "" {
		b.WriteString(" (" + e.note + ")")
	}
	fmt.Fprintf(&b, " [%d ms]", e.rtt.Milliseconds())
	return b.String()
}

// clip shortens a line of evidence to maxEvidence bytes, keeping it valid
// UTF-8.
func clip(s string) string {
	if len(s) <= maxEvidence {
		return s
	}
	return strings.ToValidUTF8(s[:maxEvidence], "") + "…"
}

func writeSection(b *strings.Builder, name string, rrs []dns.RR) {
	if len(rrs) == 0 {
		return
	}
	fmt.Fprintf(b, "; %s:", name)
	for i, rr := range rrs {
		if i == 6 {
			fmt.Fprintf(b, " … and %d more", len(rrs)-i)
			break
		}
		if rr == nil {
			continue
		}
		b.WriteString(" " + strings.ReplaceAll(rr.String(), "\t", " ") + ";")
	}
}

// observations are all exchanges of one run, keyed for the analysis.
type observations struct {
	servers  []server
	ex       map[probeKey]*exchange
	resolved map[string]string // evidence of name server look-ups
}

func (o *observations) get(srv int, netw, name string, typ uint16) *exchange {
	return o.ex[probeKey{srv, netw, dns.CanonicalName(name), typ}]
}

// rootName is the question NAMESERVER01 asks with recursion desired: a
// name server that is not a recursor refuses it or refers upwards, and
// never sets RA.
const rootName = "."

// questions returns what the checker asks every server of d, by transport.
func questions(d Delegation) map[string][]question {
	udp := []question{
		{Name: d.Zone, Type: dns.TypeSOA, DO: true},
		{Name: d.Zone, Type: dns.TypeNS, DO: true},
		{Name: d.Zone, Type: dns.TypeDNSKEY, DO: true, Retry: true},
		{Name: rootName, Type: dns.TypeNS, RD: true},
	}
	for _, ns := range d.NS {
		if dns.IsSubDomain(d.Zone, ns.Name) {
			udp = append(udp,
				question{Name: ns.Name, Type: dns.TypeA, Retry: true},
				question{Name: ns.Name, Type: dns.TypeAAAA, Retry: true})
		}
	}
	tcp := []question{
		{Name: d.Zone, Type: dns.TypeSOA, DO: true},
		{Name: d.Zone, Type: dns.TypeNS, DO: true},
	}
	return map[string][]question{"udp": udp, "tcp": tcp}
}

// probe asks every allowed server every question, concurrently.
func probe(ctx context.Context, d Delegation, servers []server, opt Options) *observations {
	obs := &observations{servers: servers, ex: map[probeKey]*exchange{}}
	qs := questions(d)
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, opt.Concurrency)
	for i, s := range servers {
		if !s.verdict.allowed {
			continue
		}
		for _, netw := range []string{"udp", "tcp"} {
			for _, q := range qs[netw] {
				wg.Add(1)
				go func() {
					defer wg.Done()
					select {
					case sem <- struct{}{}:
					case <-ctx.Done():
						mu.Lock()
						obs.ex[probeKey{i, netw, dns.CanonicalName(q.Name), q.Type}] = &exchange{srv: s, netw: netw, q: q, err: ctx.Err()}
						mu.Unlock()
						return
					}
					e := ask(ctx, s, netw, q, opt)
					<-sem
					mu.Lock()
					obs.ex[probeKey{i, netw, dns.CanonicalName(q.Name), q.Type}] = e
					mu.Unlock()
				}()
			}
		}
	}
	wg.Wait()
	return obs
}

// ask sends one question to one server and checks that what came back
// answers it. It never panics, whatever the server sends.
func ask(ctx context.Context, s server, netw string, q question, opt Options) (e *exchange) {
	e = &exchange{srv: s, netw: netw, q: q}
	defer func() {
		if r := recover(); r != nil {
			e.msg, e.err = nil, fmt.Errorf("unusable answer: %v", r)
		}
	}()
	addr := netip.AddrPortFrom(s.Addr, opt.Port).String()
	tries, timeout := 1, opt.Timeout
	if netw == "udp" {
		tries, timeout = 2, opt.Timeout/2
	}
	start := time.Now()
	for try := 0; try < tries; try++ {
		e.msg, e.err = exchangeOnce(ctx, addr, netw, q, timeout)
		if e.err == nil || ctx.Err() != nil || !isTimeout(e.err) {
			break
		}
	}
	if netw == "udp" && q.Retry && e.err == nil && e.msg.Truncated {
		m, err := exchangeOnce(ctx, addr, "tcp", q, opt.Timeout)
		if err == nil {
			e.msg, e.note = m, "truncated over UDP, answer retried over TCP"
		} else {
			e.note = fmt.Sprintf("truncated over UDP; retry over TCP failed: %v", err)
		}
	}
	e.rtt = time.Since(start)
	return e
}

func isTimeout(err error) bool {
	var te interface{ Timeout() bool }
	return errors.As(err, &te) && te.Timeout()
}

func exchangeOnce(ctx context.Context, addr, netw string, q question, timeout time.Duration) (*dns.Msg, error) {
	m := new(dns.Msg)
	m.Id = dns.Id()
	m.RecursionDesired = q.RD
	m.Question = []dns.Question{{Name: dns.CanonicalName(q.Name), Qtype: q.Type, Qclass: dns.ClassINET}}
	m.SetEdns0(1232, q.DO)
	c := &dns.Client{Net: netw, Timeout: timeout, UDPSize: 1232}
	r, _, err := c.ExchangeContext(ctx, m, addr)
	if err != nil {
		return nil, err
	}
	if r == nil {
		return nil, errors.New("empty answer")
	}
	if !r.Response {
		return nil, errors.New("the message is not a response (QR bit clear)")
	}
	if r.Rcode != dns.RcodeFormatError && (len(r.Question) != 1 ||
		!strings.EqualFold(r.Question[0].Name, m.Question[0].Name) ||
		r.Question[0].Qtype != q.Type || r.Question[0].Qclass != dns.ClassINET) {
		return nil, fmt.Errorf("the answer is for another question (%s)", questionText(r.Question))
	}
	return r, nil
}

func questionText(qs []dns.Question) string {
	if len(qs) == 0 {
		return "none"
	}
	var s []string
	for _, q := range qs {
		s = append(s, strings.TrimSpace(strings.TrimPrefix(q.String(), ";")))
	}
	return strings.Join(s, ", ")
}
