package dnsserver

import (
	"context"

	"github.com/miekg/dns"

	"steward/zone"
)

// maxChain bounds the CNAME records followed within a zone for one query.
const maxChain = 8

// newAuthoritative answers from the served zones; it is the end of the
// chain. A name outside them is REFUSED. Within a zone it answers as RFC
// 1034 §4.3.2 and RFC 4035 §3.1 describe: data with AA; below a delegation
// a referral (NS in authority, AA clear, glue in additional, and the DS or
// the NSEC proving there is none when DO is set); DS at a delegation point
// from the parent's side with AA; NODATA and NXDOMAIN with the SOA and,
// when DO is set and the zone is signed with NSEC, the NSEC records that
// prove them; wildcards (RFC 4592) and CNAME chains within the zone.
// RRSIGs are included only when DO is set. ANY gets one RRset (RFC 8482).
func newAuthoritative(s *Server, _ handler) handler {
	return handlerFunc(func(ctx context.Context, w dns.ResponseWriter, q *query) (int, error) {
		zs := q.snap.find(q.name)
		if zs != nil && q.qtype == dns.TypeDS && q.name == zs.z.Origin && q.name != "." {
			// DS is the parent's data (RFC 4035 §3.1.4.1): answer from the
			// parent zone when this server has it too.
			if off, _ := dns.NextLabel(q.name, 0); off < len(q.name) {
				if p := q.snap.find(q.name[off:]); p != nil {
					zs = p
				}
			} else if q.snap.root != nil {
				zs = q.snap.root
			}
		}
		if zs == nil || !isSubDomain(zs.z.Origin, q.name) {
			return s.fail(w, q, dns.RcodeRefused), nil
		}
		m := reply(q)
		l := lookup{z: zs.z, ix: zs.ix, do: q.do, signed: zs.ix.signed, m: m}
		l.run(q.name, q.qtype)
		m.Extra = append(l.required, l.optional...)
		return s.write(w, q, m, len(l.required)), nil
	})
}

// lookup builds one answer from one zone version.
type lookup struct {
	z        *zone.Zone
	ix       *index
	do       bool // DNSSEC records wanted
	signed   bool // the zone has an NSEC chain
	m        *dns.Msg
	required []dns.RR // additional records that must fit (in-domain glue)
	optional []dns.RR // additional records that may be dropped
}

// run answers qtype at name into l.m.
func (l *lookup) run(name string, qtype uint16) {
	z, m := l.z, l.m
	m.Authoritative = true
	for range maxChain {
		if cut, ok := l.ix.delegation(name); ok {
			if name == cut && qtype == dns.TypeDS {
				// The DS RRset and the NSEC at a delegation point are the
				// parent's, and authoritative.
				if ds := z.RRset(cut, dns.TypeDS); len(ds) > 0 {
					l.answer(cut, dns.TypeDS, ds)
				} else {
					l.nodata(cut, "")
				}
				return
			}
			l.referral(cut)
			return
		}
		if z.HasName(name) {
			if cname := z.RRset(name, dns.TypeCNAME); len(cname) > 0 && qtype != dns.TypeCNAME {
				l.answer(name, dns.TypeCNAME, cname)
				target := lower(cname[0].(*dns.CNAME).Target)
				if !isSubDomain(z.Origin, target) {
					return
				}
				name = target
				continue
			}
			l.exact(name, qtype)
			return
		}
		key := canonicalKey(name)
		if l.ix.exists(key) {
			// An empty non-terminal: NODATA, proven by the NSEC that
			// covers the name.
			l.nodata(name, l.ix.cover(key))
			return
		}
		ce, ceKey := l.ix.closestEncloser(name, key)
		wild := "*." + ce
		if ce == "." {
			wild = "*."
		}
		if !z.HasName(wild) {
			l.nxdomain(key, ceKey+"*\x00")
			return
		}
		// Wildcard synthesis (RFC 4592 §3.3): the records of the wildcard
		// with the query name as owner, and, when signed, the NSEC proving
		// no closer match exists.
		if l.do && l.signed {
			defer l.addNSEC(l.ix.cover(key))
		}
		if cname := z.RRset(wild, dns.TypeCNAME); len(cname) > 0 && qtype != dns.TypeCNAME {
			m.Answer = append(m.Answer, synthesize(cname, name)...)
			if l.do {
				m.Answer = append(m.Answer, synthesize(z.Sigs(wild, dns.TypeCNAME), name)...)
			}
			target := lower(cname[0].(*dns.CNAME).Target)
			if !isSubDomain(z.Origin, target) {
				return
			}
			name = target
			continue
		}
		if qtype == dns.TypeANY {
			qtype = anyType(z, wild)
		}
		rrs := z.RRset(wild, qtype)
		if len(rrs) == 0 {
			l.nodata(wild, "")
			return
		}
		m.Answer = append(m.Answer, synthesize(rrs, name)...)
		if l.do {
			m.Answer = append(m.Answer, synthesize(z.Sigs(wild, qtype), name)...)
		}
		l.additional(rrs)
		return
	}
}

// exact answers qtype at a name that owns records.
func (l *lookup) exact(name string, qtype uint16) {
	if qtype == dns.TypeANY {
		qtype = anyType(l.z, name)
	}
	rrs := l.z.RRset(name, qtype)
	if len(rrs) == 0 {
		l.nodata(name, "")
		return
	}
	l.answer(name, qtype, rrs)
	l.additional(rrs)
}

// anyType picks the one RRset a minimal answer to ANY gives (RFC 8482
// §4.1): the one of lowest type, leaving out the DNSSEC records that come
// with it anyway.
func anyType(z *zone.Zone, name string) uint16 {
	var last uint16
	for _, t := range z.Types(name) {
		if t != dns.TypeRRSIG && t != dns.TypeNSEC {
			return t
		}
		last = t
	}
	return last
}

// answer adds an RRset and, when DO is set, its signatures to the answer.
func (l *lookup) answer(name string, qtype uint16, rrs []dns.RR) {
	l.m.Answer = append(l.m.Answer, rrs...)
	if l.do && qtype != dns.TypeRRSIG {
		l.m.Answer = append(l.m.Answer, l.z.Sigs(name, qtype)...)
	}
}

// referral answers with the delegation at cut: its NS RRset in authority,
// with the DS RRset or, in a signed zone, the NSEC proving there is none
// when DO is set (RFC 4035 §3.1.4), and the glue in additional.
func (l *lookup) referral(cut string) {
	z, m := l.z, l.m
	if len(m.Answer) == 0 {
		m.Authoritative = false
	}
	ns := z.RRset(cut, dns.TypeNS)
	m.Ns = append(m.Ns, ns...)
	if l.do {
		if ds := z.RRset(cut, dns.TypeDS); len(ds) > 0 {
			m.Ns = append(m.Ns, ds...)
			m.Ns = append(m.Ns, z.Sigs(cut, dns.TypeDS)...)
		} else if l.signed {
			l.addNSEC(cut)
		}
	}
	// Glue: A records before AAAA, so that when not all fit, the
	// answer names as many servers as it can, as NSD and Knot do.
	for _, t := range [...]uint16{dns.TypeA, dns.TypeAAAA} {
		for _, rr := range ns {
			target := lower(rr.(*dns.NS).Ns)
			glue := z.RRset(target, t)
			if isSubDomain(cut, target) {
				// In-domain glue: needed to reach the child at all (RFC 9471).
				l.required = append(l.required, glue...)
			} else {
				l.optional = append(l.optional, glue...)
			}
		}
	}
}

// additional adds the addresses of the names an answer's NS, MX and SRV
// records point to, when the zone has them: signed when they are
// authoritative data and DO is set, unsigned glue otherwise.
func (l *lookup) additional(rrs []dns.RR) {
	for _, rr := range rrs {
		var target string
		switch rr := rr.(type) {
		case *dns.NS:
			target = rr.Ns
		case *dns.MX:
			target = rr.Mx
		case *dns.SRV:
			target = rr.Target
		default:
			return
		}
		target = lower(target)
		glue := true
		if isSubDomain(l.z.Origin, target) {
			_, glue = l.ix.delegation(target)
		}
		for _, t := range [...]uint16{dns.TypeA, dns.TypeAAAA} {
			a := l.z.RRset(target, t)
			l.optional = append(l.optional, a...)
			if len(a) > 0 && l.do && !glue {
				l.optional = append(l.optional, l.z.Sigs(target, t)...)
			}
		}
	}
}

// nodata answers that name exists without the type asked: the SOA in
// authority and, when DO is set in a signed zone, the NSEC at name and the
// NSEC owned by cover when cover is not empty (an empty non-terminal or a
// wildcard's query name).
func (l *lookup) nodata(name, cover string) {
	l.soa()
	if l.do && l.signed {
		l.addNSEC(name)
		l.addNSEC(cover)
	}
}

// nxdomain answers that a name does not exist: the SOA in authority and,
// when DO is set in a signed zone, the NSEC covering the name and the one
// covering the wildcard at its closest encloser (RFC 4035 §3.1.3.2); the
// two are given by their canonical keys.
func (l *lookup) nxdomain(key, wildKey string) {
	l.m.Rcode = dns.RcodeNameError
	l.soa()
	if l.do && l.signed {
		l.addNSEC(l.ix.cover(key))
		l.addNSEC(l.ix.cover(wildKey))
	}
}

// soa adds the SOA to the authority section, with the negative caching TTL
// of RFC 2308 §3: the smaller of its TTL and its MINIMUM.
func (l *lookup) soa() {
	soa := l.z.SOA()
	if soa.Minttl < soa.Hdr.Ttl {
		c := *soa
		c.Hdr.Ttl = soa.Minttl
		soa = &c
	}
	l.m.Ns = append(l.m.Ns, soa)
	if l.do {
		l.m.Ns = append(l.m.Ns, l.z.Sigs(l.z.Origin, dns.TypeSOA)...)
	}
}

// addNSEC adds the NSEC owned by owner and its signatures to the authority
// section, unless owner is empty or already there.
func (l *lookup) addNSEC(owner string) {
	if owner == "" {
		return
	}
	for _, rr := range l.m.Ns {
		if rr.Header().Rrtype == dns.TypeNSEC && rr.Header().Name == owner {
			return
		}
	}
	l.m.Ns = append(l.m.Ns, l.z.RRset(owner, dns.TypeNSEC)...)
	l.m.Ns = append(l.m.Ns, l.z.Sigs(owner, dns.TypeNSEC)...)
}

// synthesize returns copies of rrs owned by name.
func synthesize(rrs []dns.RR, name string) []dns.RR {
	out := make([]dns.RR, len(rrs))
	for i, rr := range rrs {
		out[i] = dns.Copy(rr)
		out[i].Header().Name = name
	}
	return out
}
