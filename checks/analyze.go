package checks

import (
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strings"

	"github.com/miekg/dns"
)

// analysis turns the exchanges of a run into results. It is pure: the same
// delegation, options and exchanges give the same results, so the fuzz test
// can feed it hostile answers.
type analysis struct {
	d   Delegation
	opt Options
	obs *observations
	out []Result
}

func analyze(d Delegation, opt Options, obs *observations) (out []Result) {
	a := &analysis{d: d, opt: opt, obs: obs}
	for _, f := range []func(){
		a.basic02, a.address01, a.nameserver06,
		func() { a.connectivity("CONNECTIVITY01", "CN01", "udp") },
		func() { a.connectivity("CONNECTIVITY02", "CN02", "tcp") },
		a.consistencySOA, a.consistency04, a.consistency05,
		a.delegation01, a.delegation02, a.delegation03, a.delegation04, a.delegation05, a.delegation06, a.delegation07,
		a.dnssec01, a.dnssec02, a.dnssec05, a.dnssec07, a.dnssec08, a.dnssec09,
		a.nameserver01,
	} {
		f()
	}
	order := map[string]int{}
	for i, c := range catalog {
		order[c.ID] = i
	}
	sort.SliceStable(a.out, func(i, j int) bool { return order[a.out[i].Case] < order[a.out[j].Case] })
	return a.out
}

// maxEvidenceLines bounds the evidence of one result, so that a report
// recorded in the ledger stays small whatever the delegation.
const maxEvidenceLines = 40

func (a *analysis) add(caseID, tag string, l Level, msg string, evidence ...string) {
	if len(evidence) > maxEvidenceLines {
		more := len(evidence) - maxEvidenceLines
		evidence = append(evidence[:maxEvidenceLines:maxEvidenceLines], fmt.Sprintf("… and %d more lines", more))
	}
	for i, e := range evidence {
		evidence[i] = clip(e)
	}
	a.out = append(a.out, Result{Module: moduleOf(caseID), Case: caseID, Tag: tag, Level: l, Message: clip(msg), Evidence: evidence})
}

// glue returns the addresses the delegation gives for a name server as
// glue: none when the checker had to resolve them.
func (a *analysis) glue(ns NameServer) []netip.Addr {
	if _, resolved := a.obs.resolved[ns.Name]; resolved {
		return nil
	}
	return ns.Addrs
}

// queried returns the indexes of the servers that were asked (ADDRESS01
// allowed their address).
func (a *analysis) queried() []int {
	var out []int
	for i, s := range a.obs.servers {
		if s.verdict.allowed {
			out = append(out, i)
		}
	}
	return out
}

// soa returns the authoritative SOA answer of server i, over UDP or else
// TCP, and the exchange it came in.
func (a *analysis) soa(i int) (*dns.SOA, *exchange) {
	for _, netw := range []string{"udp", "tcp"} {
		e := a.obs.get(i, netw, a.d.Zone, dns.TypeSOA)
		if !e.authoritative() {
			continue
		}
		for _, rr := range e.msg.Answer {
			if s, ok := rr.(*dns.SOA); ok && strings.EqualFold(s.Hdr.Name, a.d.Zone) {
				return s, e
			}
		}
	}
	return nil, nil
}

// nsSet returns the NS names in server i's authoritative answer, sorted,
// and the exchange; ok is false when the server gave no such answer.
func (a *analysis) nsSet(i int) (names []string, e *exchange, ok bool) {
	for _, netw := range []string{"udp", "tcp"} {
		e := a.obs.get(i, netw, a.d.Zone, dns.TypeNS)
		if !e.authoritative() {
			continue
		}
		for _, rr := range e.msg.Answer {
			if ns, ok := rr.(*dns.NS); ok && strings.EqualFold(ns.Hdr.Name, a.d.Zone) {
				names = append(names, dns.CanonicalName(ns.Ns))
			}
		}
		if len(names) == 0 {
			continue
		}
		slices.Sort(names)
		return slices.Compact(names), e, true
	}
	return nil, nil, false
}

// childNS is the union of the NS sets the servers serve (Zonemaster's
// Method 3).
func (a *analysis) childNS() (names []string, evidence []string) {
	for _, i := range a.queried() {
		if set, e, ok := a.nsSet(i); ok {
			names = append(names, set...)
			evidence = append(evidence, e.String())
		}
	}
	slices.Sort(names)
	return slices.Compact(names), evidence
}

func (a *analysis) delegationNames() []string {
	var out []string
	for _, ns := range a.d.NS {
		out = append(out, ns.Name)
	}
	return out
}

func (a *analysis) inZone(name string) bool { return dns.IsSubDomain(a.d.Zone, name) }

// --- BASIC -------------------------------------------------------------

func (a *analysis) basic02() {
	var ev []string
	for _, i := range a.queried() {
		if s, e := a.soa(i); s != nil {
			a.add("BASIC02", "B02_AUTH_RESPONSE_SOA", OK,
				fmt.Sprintf("%s answers for %s with its SOA record, authoritatively.", a.obs.servers[i], a.d.Zone), e.String())
			return
		}
		ev = append(ev, a.obs.get(i, "udp", a.d.Zone, dns.TypeSOA).String(), a.obs.get(i, "tcp", a.d.Zone, dns.TypeSOA).String())
	}
	if len(a.queried()) == 0 {
		ev = append(ev, "no name server address could be queried (see ADDRESS01 and NAMESERVER06)")
	}
	a.add("BASIC02", "B02_NO_WORKING_NS", ERROR,
		fmt.Sprintf("No name server answers for %s with its SOA record, authoritatively.", a.d.Zone), ev...)
}

// --- ADDRESS -----------------------------------------------------------

func (a *analysis) address01() {
	if len(a.obs.servers) == 0 {
		a.add("ADDRESS01", "A01_NO_NAME_SERVERS_FOUND", ERROR, "No name server has an address.")
		return
	}
	type group struct {
		tag   string
		level Level
		msg   string
		ev    []string
	}
	groups := map[string]*group{}
	order := []string{}
	put := func(tag string, l Level, msg, ev string) {
		g, ok := groups[tag]
		if !ok {
			g = &group{tag: tag, level: l, msg: msg}
			groups[tag] = g
			order = append(order, tag)
		}
		g.ev = append(g.ev, ev)
	}
	for _, s := range a.obs.servers {
		v := s.verdict
		where := ""
		if v.entry.name != "" {
			where = fmt.Sprintf(": %s, %s", v.entry.prefix, v.entry.name)
		}
		switch {
		case v.global:
			put("A01_GLOBALLY_REACHABLE_ADDR", OK, "Every name server address is globally reachable.", s.String()+where)
		case v.allowed:
			put("A01_LOCAL_USE_ADDR_ALLOWED", INFO, "Some name server addresses are not globally reachable; this instance's options allow them.",
				fmt.Sprintf("%s%s; allowed by the option %q", s, where, v.allowBy))
		case v.entry.category == catDocumentation:
			put("A01_DOCUMENTATION_ADDR", ERROR, "Name server addresses are reserved for documentation.", s.String()+where+"; not queried")
		case v.entry.category == catLoopback || v.entry.category == catPrivate || v.entry.category == catLinkLocal:
			put("A01_LOCAL_USE_ADDR", ERROR, "Name server addresses are for local use on a network or at a provider, not globally reachable.", s.String()+where+"; not queried")
		default:
			put("A01_ADDR_NOT_GLOBALLY_REACHABLE", ERROR, "Name server addresses are not listed as globally reachable.", s.String()+where+"; not queried")
		}
	}
	for _, tag := range order {
		g := groups[tag]
		msg := g.msg
		if tag == "A01_GLOBALLY_REACHABLE_ADDR" && len(order) > 1 {
			msg = "These name server addresses are globally reachable."
		}
		a.add("ADDRESS01", g.tag, g.level, msg, g.ev...)
	}
}

// --- NAMESERVER --------------------------------------------------------

func (a *analysis) nameserver06() {
	var bad, ev []string
	for _, ns := range a.d.NS {
		if r, ok := a.obs.resolved[ns.Name]; ok {
			ev = append(ev, r)
		} else {
			ev = append(ev, fmt.Sprintf("%s: %s given", ns.Name, addrList(ns.Addrs)))
		}
		if len(ns.Addrs) == 0 {
			bad = append(bad, ns.Name)
		}
	}
	if len(bad) > 0 {
		a.add("NAMESERVER06", "CAN_NOT_BE_RESOLVED", ERROR,
			fmt.Sprintf("These name servers have no address: %s", strings.Join(bad, ", ")), ev...)
		return
	}
	a.add("NAMESERVER06", "CAN_BE_RESOLVED", OK, "Every name server has an address.", ev...)
}

func (a *analysis) nameserver01() {
	var ok, bad []string
	for _, i := range a.queried() {
		e := a.obs.get(i, "udp", rootName, dns.TypeNS)
		if !e.answered() {
			continue
		}
		if e.msg.RecursionAvailable {
			bad = append(bad, e.String())
		} else {
			ok = append(ok, e.String())
		}
	}
	switch {
	case len(bad) > 0:
		a.add("NAMESERVER01", "IS_A_RECURSOR", WARNING, "A name server offers recursion (RA set); authoritative servers should not be open resolvers (RFC 5358).", bad...)
	case len(ok) > 0:
		a.add("NAMESERVER01", "NO_RECURSOR", OK, "No name server offers recursion.", ok...)
	}
}

// --- CONNECTIVITY --------------------------------------------------------

func (a *analysis) connectivity(caseID, prefix, netw string) {
	up := strings.ToUpper(netw)
	var okEv []string
	failed := false
	for _, i := range a.queried() {
		s := a.obs.servers[i]
		soa, ns := a.obs.get(i, netw, a.d.Zone, dns.TypeSOA), a.obs.get(i, netw, a.d.Zone, dns.TypeNS)
		if !soa.answered() && !ns.answered() {
			failed = true
			a.add(caseID, prefix+"_NO_RESPONSE_"+up, ERROR,
				fmt.Sprintf("%s does not answer over %s.", s, up), soa.String(), ns.String())
			continue
		}
		good := true
		for _, e := range []*exchange{soa, ns} {
			qt := dns.Type(e.q.Type).String()
			switch {
			case !e.answered():
				good = false
				a.add(caseID, fmt.Sprintf("%s_NO_RESPONSE_%s_QUERY_%s", prefix, qt, up), ERROR,
					fmt.Sprintf("%s does not answer the %s query over %s.", s, qt, up), e.String())
			case e.msg.Rcode != dns.RcodeSuccess:
				good = false
				a.add(caseID, fmt.Sprintf("%s_UNEXPECTED_RCODE_%s_QUERY_%s", prefix, qt, up), ERROR,
					fmt.Sprintf("%s answers the %s query over %s with %s.", s, qt, up, rcodeText(e.msg.Rcode)), e.String())
			}
		}
		if good {
			okEv = append(okEv, soa.String(), ns.String())
		} else {
			failed = true
		}
	}
	if len(a.queried()) == 0 {
		a.add(caseID, prefix+"_NOT_QUERIED", INFO, "No name server address was queried (see ADDRESS01 and NAMESERVER06).")
		return
	}
	if !failed {
		a.add(caseID, prefix+"_OK_"+up, OK, fmt.Sprintf("Every name server answers over %s.", up), okEv...)
	}
}

func rcodeText(rc int) string {
	if s, ok := dns.RcodeToString[rc]; ok {
		return s
	}
	return fmt.Sprintf("RCODE%d", rc)
}

// --- CONSISTENCY ---------------------------------------------------------

// distinct groups servers by a value they report, and renders one line
// per value naming the servers.
type distinct struct {
	vals  []string
	by    map[string][]string
	lines []string
}

func (d *distinct) put(val, who, ev string) {
	if d.by == nil {
		d.by = map[string][]string{}
	}
	if _, ok := d.by[val]; !ok {
		d.vals = append(d.vals, val)
	}
	d.by[val] = append(d.by[val], who)
	d.lines = append(d.lines, ev)
}

func (d *distinct) summary() []string {
	var out []string
	for _, v := range d.vals {
		out = append(out, fmt.Sprintf("%s: %s", v, strings.Join(d.by[v], ", ")))
	}
	return append(out, d.lines...)
}

func (a *analysis) consistencySOA() {
	var serial, rname, timers, mname distinct
	for _, i := range a.queried() {
		s, e := a.soa(i)
		if s == nil {
			continue
		}
		who := a.obs.servers[i].String()
		ev := e.String()
		serial.put(fmt.Sprint(s.Serial), who, ev)
		rname.put(dns.CanonicalName(s.Mbox), who, ev)
		mname.put(dns.CanonicalName(s.Ns), who, ev)
		timers.put(fmt.Sprintf("refresh %d retry %d expire %d minimum %d", s.Refresh, s.Retry, s.Expire, s.Minttl), who, ev)
	}
	for _, c := range []struct {
		id, what, okTag, badTag string
		bad                     Level
		d                       *distinct
	}{
		{"CONSISTENCY01", "SOA serial", "ONE_SOA_SERIAL", "MULTIPLE_SOA_SERIALS", ERROR, &serial},
		{"CONSISTENCY02", "SOA RNAME", "ONE_SOA_RNAME", "MULTIPLE_SOA_RNAMES", NOTICE, &rname},
		{"CONSISTENCY03", "SOA timers", "ONE_SOA_TIME_PARAMETER_SET", "MULTIPLE_SOA_TIME_PARAMETER_SET", NOTICE, &timers},
		{"CONSISTENCY06", "SOA MNAME", "ONE_SOA_MNAME", "MULTIPLE_SOA_MNAMES", NOTICE, &mname},
	} {
		switch len(c.d.vals) {
		case 0:
			continue
		case 1:
			a.add(c.id, c.okTag, OK, fmt.Sprintf("Every name server serves the same %s (%s).", c.what, c.d.vals[0]), c.d.lines...)
		default:
			a.add(c.id, c.badTag, c.bad, fmt.Sprintf("The name servers serve %d different %ss.", len(c.d.vals), c.what), c.d.summary()...)
		}
	}
}

func (a *analysis) consistency04() {
	var sets distinct
	for _, i := range a.queried() {
		if names, e, ok := a.nsSet(i); ok {
			sets.put(strings.Join(names, " "), a.obs.servers[i].String(), e.String())
		}
	}
	switch len(sets.vals) {
	case 0:
	case 1:
		a.add("CONSISTENCY04", "ONE_NS_SET", OK, "Every name server serves the same NS set.", sets.lines...)
	default:
		a.add("CONSISTENCY04", "MULTIPLE_NS_SET", ERROR, fmt.Sprintf("The name servers serve %d different NS sets.", len(sets.vals)), sets.summary()...)
	}
}

// childAddrs returns the addresses the child's servers give for an
// in-bailiwick name, whether any server answered authoritatively, and the
// evidence.
func (a *analysis) childAddrs(name string) (addrs []netip.Addr, answered bool, ev []string) {
	for _, i := range a.queried() {
		for _, t := range []uint16{dns.TypeA, dns.TypeAAAA} {
			e := a.obs.get(i, "udp", name, t)
			if !e.answered() || !e.msg.Authoritative || (e.msg.Rcode != dns.RcodeSuccess && e.msg.Rcode != dns.RcodeNameError) {
				continue
			}
			answered = true
			ev = append(ev, e.String())
			for _, rr := range e.msg.Answer {
				if rr == nil || !strings.EqualFold(rr.Header().Name, name) {
					continue
				}
				switch r := rr.(type) {
				case *dns.A:
					if ip, ok := netip.AddrFromSlice(r.A); ok {
						addrs = append(addrs, ip.Unmap())
					}
				case *dns.AAAA:
					if ip, ok := netip.AddrFromSlice(r.AAAA); ok {
						addrs = append(addrs, ip)
					}
				}
			}
		}
	}
	slices.SortFunc(addrs, netip.Addr.Compare)
	return slices.Compact(addrs), answered, ev
}

func (a *analysis) consistency05() {
	var okEv, outside []string
	compared, bad := 0, false
	for _, ns := range a.d.NS {
		if !a.inZone(ns.Name) {
			outside = append(outside, fmt.Sprintf("%s: %s", ns.Name, addrList(ns.Addrs)))
			continue
		}
		child, answered, ev := a.childAddrs(ns.Name)
		if !answered {
			continue
		}
		compared++
		glue := a.glue(ns)
		if slices.Equal(child, glue) {
			okEv = append(okEv, fmt.Sprintf("%s: glue %s, child %s", ns.Name, addrList(glue), addrList(child)))
			continue
		}
		bad = true
		a.add("CONSISTENCY05", "IN_BAILIWICK_ADDR_MISMATCH", ERROR,
			fmt.Sprintf("The glue for %s (%s) differs from the child's address records (%s).", ns.Name, addrList(glue), addrList(child)),
			append([]string{fmt.Sprintf("%s: glue %s, child %s", ns.Name, addrList(glue), addrList(child))}, ev...)...)
	}
	if compared > 0 && !bad {
		a.add("CONSISTENCY05", "ADDRESSES_MATCH", OK, "The glue equals the child's address records.", okEv...)
	}
	if len(outside) > 0 {
		a.add("CONSISTENCY05", "OUT_OF_BAILIWICK_NOT_COMPARED", INFO,
			"Name servers outside the zone are not compared: their zones, not this one, are authoritative for their addresses.", outside...)
	}
}

// --- DELEGATION --------------------------------------------------------

func (a *analysis) delegation01() {
	del := a.delegationNames()
	if len(del) < 2 {
		a.add("DELEGATION01", "NOT_ENOUGH_NS_DEL", ERROR,
			fmt.Sprintf("The delegation has %d name server; at least 2 are required.", len(del)), strings.Join(del, " "))
	} else {
		a.add("DELEGATION01", "ENOUGH_NS_DEL", OK, fmt.Sprintf("The delegation has %d name servers.", len(del)), strings.Join(del, " "))
	}
	child, ev := a.childNS()
	if len(ev) == 0 {
		return
	}
	if len(child) < 2 {
		a.add("DELEGATION01", "NOT_ENOUGH_NS_CHILD", ERROR,
			fmt.Sprintf("The child's NS set has %d name server; at least 2 are required.", len(child)), ev...)
	} else {
		a.add("DELEGATION01", "ENOUGH_NS_CHILD", OK, fmt.Sprintf("The child's NS set has %d name servers.", len(child)), ev...)
	}
}

func (a *analysis) delegation02() {
	names := map[netip.Addr][]string{}
	var addrs []netip.Addr
	for _, ns := range a.d.NS {
		for _, ip := range ns.Addrs {
			if _, ok := names[ip]; !ok {
				addrs = append(addrs, ip)
			}
			names[ip] = append(names[ip], ns.Name)
		}
	}
	slices.SortFunc(addrs, netip.Addr.Compare)
	var shared, ev []string
	for _, ip := range addrs {
		ev = append(ev, fmt.Sprintf("%s: %s", ip, strings.Join(names[ip], ", ")))
		if len(names[ip]) > 1 {
			shared = append(shared, ip.String())
		}
	}
	switch {
	case len(shared) > 0:
		a.add("DELEGATION02", "DEL_NS_SAME_IP", ERROR,
			fmt.Sprintf("Name servers share addresses (%s); each must have its own.", strings.Join(shared, ", ")), ev...)
	case len(addrs) < 2:
		a.add("DELEGATION02", "NOT_ENOUGH_DISTINCT_IP", ERROR,
			fmt.Sprintf("The name servers have %d distinct address; at least 2 are required.", len(addrs)), ev...)
	default:
		a.add("DELEGATION02", "DEL_DISTINCT_NS_IP", OK, fmt.Sprintf("The name servers have %d distinct addresses.", len(addrs)), ev...)
	}
}

func (a *analysis) delegation04() {
	var okEv []string
	bad := false
	for _, i := range a.queried() {
		for _, netw := range []string{"udp", "tcp"} {
			for _, t := range []uint16{dns.TypeSOA, dns.TypeNS} {
				e := a.obs.get(i, netw, a.d.Zone, t)
				if !e.answered() || e.msg.Rcode != dns.RcodeSuccess {
					continue // CONNECTIVITY's finding
				}
				if !e.msg.Authoritative {
					bad = true
					a.add("DELEGATION04", "IS_NOT_AUTHORITATIVE", ERROR,
						fmt.Sprintf("%s does not answer authoritatively (AA bit clear) for %s %s over %s.", a.obs.servers[i], a.d.Zone, dns.Type(t), strings.ToUpper(netw)),
						e.String())
				} else {
					okEv = append(okEv, e.String())
				}
			}
		}
	}
	if !bad && len(okEv) > 0 {
		a.add("DELEGATION04", "ARE_AUTHORITATIVE", OK, "Every name server that answers answers authoritatively.", okEv...)
	}
}

func (a *analysis) delegation05() {
	var bad, okEv []string
	checked := 0
	for _, ns := range a.d.NS {
		if !a.inZone(ns.Name) {
			continue
		}
		for _, i := range a.queried() {
			for _, t := range []uint16{dns.TypeA, dns.TypeAAAA} {
				e := a.obs.get(i, "udp", ns.Name, t)
				if !e.authoritative() && !(e.answered() && e.msg.Authoritative && e.msg.Rcode == dns.RcodeNameError) {
					continue
				}
				checked++
				cname := false
				for _, rr := range e.msg.Answer {
					if c, ok := rr.(*dns.CNAME); ok && strings.EqualFold(c.Hdr.Name, ns.Name) {
						cname = true
					}
				}
				if cname {
					bad = append(bad, e.String())
				} else if t == dns.TypeA {
					okEv = append(okEv, e.String())
				}
			}
		}
	}
	switch {
	case len(bad) > 0:
		a.add("DELEGATION05", "NS_IS_CNAME", ERROR, "A name server name is an alias (CNAME); NS records must name the host itself (RFC 2181 §10.3).", bad...)
	case checked > 0:
		a.add("DELEGATION05", "NO_NS_CNAME", OK, "No in-bailiwick name server name is an alias.", okEv...)
	}
}

func (a *analysis) delegation06() {
	var okEv []string
	bad := false
	for _, i := range a.queried() {
		e := a.obs.get(i, "udp", a.d.Zone, dns.TypeSOA)
		if !e.authoritative() {
			e = a.obs.get(i, "tcp", a.d.Zone, dns.TypeSOA)
		}
		if !e.authoritative() {
			continue // CONNECTIVITY's or DELEGATION04's finding
		}
		if s, _ := a.soa(i); s == nil {
			bad = true
			a.add("DELEGATION06", "SOA_NOT_EXISTS", ERROR,
				fmt.Sprintf("%s answers authoritatively for %s but without its SOA record.", a.obs.servers[i], a.d.Zone), e.String())
			continue
		}
		okEv = append(okEv, e.String())
	}
	if !bad && len(okEv) > 0 {
		a.add("DELEGATION06", "SOA_EXISTS", OK, "Every authoritative answer carries the zone's SOA record.", okEv...)
	}
}

func (a *analysis) delegation07() {
	child, ev := a.childNS()
	if len(ev) == 0 {
		return
	}
	del := a.delegationNames()
	var extraParent, extraChild []string
	for _, n := range del {
		if !slices.Contains(child, n) {
			extraParent = append(extraParent, n)
		}
	}
	for _, n := range child {
		if !slices.Contains(del, n) {
			extraChild = append(extraChild, n)
		}
	}
	ev = append([]string{"delegation: " + strings.Join(del, " "), "child: " + strings.Join(child, " ")}, ev...)
	if len(extraParent) > 0 {
		a.add("DELEGATION07", "EXTRA_NAME_PARENT", ERROR,
			fmt.Sprintf("The delegation names %s, which the child's NS set does not.", strings.Join(extraParent, ", ")), ev...)
	}
	if len(extraChild) > 0 {
		a.add("DELEGATION07", "EXTRA_NAME_CHILD", ERROR,
			fmt.Sprintf("The child's NS set names %s, which the delegation does not.", strings.Join(extraChild, ", ")), ev...)
	}
	if len(extraParent) == 0 && len(extraChild) == 0 {
		a.add("DELEGATION07", "NAMES_MATCH", OK, "The delegation and the child name the same name servers.", ev...)
	}
}
