package checks

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/miekg/dns"

	"steward"
)

// NameServer is one name server of a delegation: its host name and the
// addresses to query it at. For a name inside the zone (or the parent's
// bailiwick) the addresses are the glue the parent publishes; for any other
// name they are what the requester says it resolves to. A name given without
// addresses is resolved with [Options.Resolve].
type NameServer struct {
	Name  string       `json:"name"`
	Addrs []netip.Addr `json:"addrs,omitempty"`
}

// Delegation is what the parent zone would publish for Zone: its NS set,
// the glue addresses, and its DS set.
type Delegation struct {
	Zone string       `json:"zone"`
	NS   []NameServer `json:"ns"`
	DS   []steward.DS `json:"ds,omitempty"`
}

// Limits on a delegation's size, so that a request cannot make the checker
// send an unbounded number of queries.
const (
	MaxNameServers = 20 // name server names in one delegation
	MaxAddrs       = 8  // addresses of one name server
	MaxDS          = 16 // DS records in one delegation
)

// FromTLD returns the delegation the registry holds for a TLD: its name
// servers with their glue addresses, and its DS set. Name servers without
// glue get no addresses; Run resolves them.
func FromTLD(t steward.TLD) Delegation {
	d := Delegation{Zone: t.Name, DS: slices.Clone(t.DS)}
	glue := map[string][]netip.Addr{}
	for _, g := range t.Glue {
		for _, a := range g.Addrs {
			if ip, err := netip.ParseAddr(a); err == nil {
				glue[strings.ToLower(g.Name)] = append(glue[strings.ToLower(g.Name)], ip)
			}
		}
	}
	for _, n := range t.NS {
		d.NS = append(d.NS, NameServer{Name: n, Addrs: glue[strings.ToLower(n)]})
	}
	return d
}

// Normalize returns a copy of d with names lower-cased and fully qualified,
// addresses unmapped, sorted and deduplicated, name servers sorted by name
// and DS digests in upper case, or an error (code [steward.EINVALID])
// naming the first thing that is malformed: a zone or host name that is not
// a valid domain name, an address with a zone or repeated name server, a DS
// whose digest is not hex or does not fit its digest type, or more than
// [MaxNameServers], [MaxAddrs] or [MaxDS] entries.
func (d Delegation) Normalize() (Delegation, error) {
	out := Delegation{}
	zone, ok := canonicalName(d.Zone)
	if !ok {
		return out, steward.Errorf(steward.EINVALID, "zone %q is not a valid domain name", d.Zone)
	}
	if zone == "." {
		return out, steward.Errorf(steward.EINVALID, "the root zone has no parent delegation to check")
	}
	out.Zone = zone
	if len(d.NS) == 0 {
		return out, steward.Errorf(steward.EINVALID, "zone %s: give at least one name server", zone)
	}
	if len(d.NS) > MaxNameServers {
		return out, steward.Errorf(steward.EINVALID, "zone %s: %d name servers; at most %d are checked", zone, len(d.NS), MaxNameServers)
	}
	seen := map[string]bool{}
	for _, ns := range d.NS {
		name, ok := canonicalName(ns.Name)
		if !ok || name == "." || !validHostName(name) {
			return out, steward.Errorf(steward.EINVALID, "zone %s: name server %q is not a valid host name", zone, ns.Name)
		}
		if seen[name] {
			return out, steward.Errorf(steward.EINVALID, "zone %s: name server %s is listed twice", zone, name)
		}
		seen[name] = true
		if len(ns.Addrs) > MaxAddrs {
			return out, steward.Errorf(steward.EINVALID, "zone %s: name server %s has %d addresses; at most %d are checked", zone, name, len(ns.Addrs), MaxAddrs)
		}
		var addrs []netip.Addr
		for _, a := range ns.Addrs {
			if !a.IsValid() || a.Zone() != "" {
				return out, steward.Errorf(steward.EINVALID, "zone %s: name server %s: %q is not an IP address without a zone", zone, name, a)
			}
			addrs = append(addrs, a.Unmap())
		}
		slices.SortFunc(addrs, netip.Addr.Compare)
		out.NS = append(out.NS, NameServer{Name: name, Addrs: slices.Compact(addrs)})
	}
	slices.SortFunc(out.NS, func(a, b NameServer) int { return strings.Compare(a.Name, b.Name) })
	if len(d.DS) > MaxDS {
		return out, steward.Errorf(steward.EINVALID, "zone %s: %d DS records; at most %d are checked", zone, len(d.DS), MaxDS)
	}
	for _, ds := range d.DS {
		n, err := normalizeDS(ds)
		if err != nil {
			return out, steward.Errorf(steward.EINVALID, "zone %s: %v", zone, err)
		}
		out.DS = append(out.DS, n)
	}
	return out, nil
}

// canonicalName lower-cases and fully qualifies a presentation-format
// domain name, and reports whether it is a valid one.
func canonicalName(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if s == "" || strings.ContainsAny(s, " \t\r\n\\\"();") {
		return "", false
	}
	if _, ok := dns.IsDomainName(s); !ok {
		return "", false
	}
	return dns.CanonicalName(s), true
}

// validHostName reports whether a canonical name is an LDH host name
// (underscores allowed, as the registry allows them).
func validHostName(name string) bool {
	for _, l := range dns.SplitDomainName(name) {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, c := range []byte(l) {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// Options tune a run. Every field works at its zero value.
type Options struct {
	// Port is the port queried on every name server; 0 means 53. Tests use
	// loopback ports.
	Port uint16
	// Timeout bounds one query (a UDP query is tried twice within it);
	// 0 means 3 s. The whole run is bounded by the context and by
	// 4×Timeout, whichever comes first.
	Timeout time.Duration
	// AllowLoopback and AllowPrivate let ADDRESS01 accept loopback
	// (127.0.0.0/8, ::1) and private-use, shared and unique-local addresses
	// (RFC 1918, RFC 6598, RFC 4193), for lab instances. Addresses that are
	// not allowed are never queried.
	AllowLoopback, AllowPrivate bool
	// Now is the time RRSIG validity is judged at; zero means the time of
	// the run.
	Now time.Time
	// Resolve looks up the addresses of a name server given without any;
	// nil means the system resolver.
	Resolve func(ctx context.Context, host string) ([]netip.Addr, error)
	// Concurrency bounds the queries in flight; 0 means 32.
	Concurrency int
}

func (o Options) withDefaults() Options {
	if o.Port == 0 {
		o.Port = 53
	}
	if o.Timeout <= 0 {
		o.Timeout = 3 * time.Second
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 32
	}
	if o.Resolve == nil {
		o.Resolve = func(ctx context.Context, host string) ([]netip.Addr, error) {
			return net.DefaultResolver.LookupNetIP(ctx, "ip", strings.TrimSuffix(host, "."))
		}
	}
	return o
}

// Level is the severity of a result, after Zonemaster's levels.
type Level string

// The levels, from least to most severe. A result at WARNING or ERROR is a
// failure ([Report.Failed]); whether a failure blocks a change is for the
// charter to say.
const (
	OK      Level = "OK"      // the requirement is met
	INFO    Level = "INFO"    // a fact worth recording, not a problem
	NOTICE  Level = "NOTICE"  // unusual but harmless
	WARNING Level = "WARNING" // should be fixed; resolution still works
	ERROR   Level = "ERROR"   // breaks a requirement; resolution may fail
)

// Rank orders levels: OK 0 … ERROR 4; an unknown level ranks -1.
func (l Level) Rank() int {
	return slices.Index([]Level{OK, INFO, NOTICE, WARNING, ERROR}, l)
}

// Result is one finding of one test case. Evidence says, in text, which
// server was asked what at which address and what came back.
type Result struct {
	Module   string   `json:"module"`  // BASIC, ADDRESS, CONNECTIVITY, …
	Case     string   `json:"case"`    // a Zonemaster test case id: DELEGATION03
	Tag      string   `json:"tag"`     // the finding: REFERRAL_SIZE_TOO_LARGE
	Level    Level    `json:"level"`   // OK … ERROR
	Message  string   `json:"message"` // one sentence for people
	Evidence []string `json:"evidence,omitempty"`
}

// Report is the outcome of one run over one delegation, with the settings
// it ran under, so that a recorded report says what was allowed.
type Report struct {
	Zone          string    `json:"zone"`
	Started       time.Time `json:"started"`
	Finished      time.Time `json:"finished"`
	Port          uint16    `json:"port"`
	AllowLoopback bool      `json:"allow_loopback,omitempty"`
	AllowPrivate  bool      `json:"allow_private,omitempty"`
	ValidityAt    time.Time `json:"validity_at"` // the time RRSIG validity was judged at
	Results       []Result  `json:"results"`
}

// WriteText writes the report for people: a summary line, then one line
// per result, with the evidence of warnings and errors (of every result
// when verbose) indented under it.
func (r *Report) WriteText(w io.Writer, verbose bool) error {
	count := map[Level]int{}
	for _, res := range r.Results {
		count[res.Level]++
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Checks of %s, %s, %.2f s: %d errors, %d warnings, %d notices\n\n", r.Zone,
		r.Started.Format(time.RFC3339), r.Finished.Sub(r.Started).Seconds(), count[ERROR], count[WARNING], count[NOTICE])
	for _, res := range r.Results {
		fmt.Fprintf(&b, "%-7s %-14s %s %s\n", res.Level, res.Case, res.Tag, res.Message)
		if verbose || res.Level.Rank() >= WARNING.Rank() {
			for _, e := range res.Evidence {
				fmt.Fprintf(&b, "        | %s\n", e)
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Failed returns the results at WARNING or ERROR, in report order.
func (r *Report) Failed() []Result {
	var out []Result
	for _, res := range r.Results {
		if res.Level.Rank() >= WARNING.Rank() {
			out = append(out, res)
		}
	}
	return out
}

// Worst returns the most severe level in the report (OK for none).
func (r *Report) Worst() Level {
	w := OK
	for _, res := range r.Results {
		if res.Level.Rank() > w.Rank() {
			w = res.Level
		}
	}
	return w
}

// CaseLevels returns, for every test case that produced a result, the most
// severe level among its results.
func (r *Report) CaseLevels() map[string]Level {
	m := map[string]Level{}
	for _, res := range r.Results {
		if l, ok := m[res.Case]; !ok || res.Level.Rank() > l.Rank() {
			m[res.Case] = res.Level
		}
	}
	return m
}

// Run checks a delegation and returns the report. It never panics on what
// name servers answer and never returns nil. A malformed delegation gives a
// report with one BASIC00 error and sends no query. Queries run
// concurrently, bounded by opt.Concurrency, each within opt.Timeout; the
// run ends by ctx or after 4×opt.Timeout, and a server that has not
// answered by then counts as not responding.
func Run(ctx context.Context, d Delegation, opt Options) *Report {
	opt = opt.withDefaults()
	rep := &Report{Zone: d.Zone, Started: time.Now().UTC(), Port: opt.Port, AllowLoopback: opt.AllowLoopback, AllowPrivate: opt.AllowPrivate}
	defer func() { rep.Finished = time.Now().UTC() }()
	if opt.Now.IsZero() {
		opt.Now = rep.Started
	}
	rep.ValidityAt = opt.Now.UTC()
	nd, err := d.Normalize()
	if err != nil {
		rep.Results = []Result{{Module: "BASIC", Case: "BASIC00", Tag: "DOMAIN_NAME_INVALID", Level: ERROR,
			Message: steward.ErrorMessage(err)}}
		return rep
	}
	rep.Zone = nd.Zone
	ctx, cancel := context.WithTimeout(ctx, 4*opt.Timeout)
	defer cancel()
	resolved := resolveMissing(ctx, &nd, opt)
	servers := serverList(nd, opt)
	obs := probe(ctx, nd, servers, opt)
	obs.resolved = resolved
	rep.Results = analyze(nd, opt, obs)
	return rep
}

// resolveMissing looks up the addresses of name servers given without any,
// and returns the evidence of each look-up.
func resolveMissing(ctx context.Context, d *Delegation, opt Options) map[string]string {
	ev := map[string]string{}
	for i := range d.NS {
		ns := &d.NS[i]
		if len(ns.Addrs) > 0 {
			continue
		}
		addrs, err := opt.Resolve(ctx, ns.Name)
		if err != nil {
			ev[ns.Name] = fmt.Sprintf("%s: no address given; resolving it failed: %v", ns.Name, err)
			continue
		}
		var list []netip.Addr
		for _, a := range addrs {
			if a.IsValid() && a.Zone() == "" {
				list = append(list, a.Unmap())
			}
		}
		slices.SortFunc(list, netip.Addr.Compare)
		list = slices.Compact(list)
		if len(list) > MaxAddrs {
			list = list[:MaxAddrs]
		}
		ns.Addrs = list
		ev[ns.Name] = fmt.Sprintf("%s: no address given; resolved to %s", ns.Name, addrList(list))
	}
	return ev
}

func addrList(as []netip.Addr) string {
	if len(as) == 0 {
		return "nothing"
	}
	s := make([]string, len(as))
	for i, a := range as {
		s[i] = a.String()
	}
	return strings.Join(s, ", ")
}
