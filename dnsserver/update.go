package dnsserver

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/miekg/dns"

	"steward/zone"
)

// UpdatePolicy says who may change a zone with DNS UPDATE (RFC 2136) and
// how a change becomes a version.
type UpdatePolicy struct {
	// Allow lists the client prefixes that may update the zone; none
	// means nobody may.
	Allow []netip.Prefix
	// Keys, if not empty, requires updates to be signed with one of these
	// TSIG keys (names from Config.TSIG).
	Keys []string
	// Apply makes the next version from the one served and the changes:
	// each changed name with every unsigned record it owns afterwards
	// (none: the name is removed). It signs them if the zone is signed
	// and gives the version a new serial. The server serves what it
	// returns; an error refuses the update and changes nothing.
	Apply func(cur *zone.Zone, changes []zone.Change) (*zone.Zone, error)
}

// updateError is an update refused with an rcode.
type updateError struct {
	rcode int
	msg   string
}

func (e *updateError) Error() string { return e.msg }

func refusedf(rcode int, format string, args ...any) error {
	return &updateError{rcode: rcode, msg: fmt.Sprintf(format, args...)}
}

// newUpdate applies DNS UPDATE requests (RFC 2136) to zones whose
// UpdatePolicy allows the client: the prerequisites are checked against
// the version served, the whole request is checked before any of it is
// applied (§3.4.1), and the version UpdatePolicy.Apply makes from the
// changes is served before the answer goes out. Names at the apex and
// the records a signer makes (DNSKEY, RRSIG, NSEC, NSEC3, NSEC3PARAM,
// ZONEMD) cannot be updated: REFUSED. A CNAME is not added beside other
// data nor other data beside a CNAME (RFC 2136 §3.4.2.2: those changes
// are ignored). Updates are applied one at a time.
func newUpdate(s *Server, next handler) handler {
	return handlerFunc(func(ctx context.Context, w dns.ResponseWriter, q *query) (int, error) {
		if q.msg.Opcode != dns.OpcodeUpdate {
			return next.serveDNS(ctx, w, q)
		}
		client := remoteAddr(w)
		zs := q.snap.zones[q.name]
		if zs == nil || q.qtype != dns.TypeSOA || q.class != dns.ClassINET {
			s.logBad("dns update refused: not a zone served here", "client", client, "zone", q.name)
			return s.fail(w, q, dns.RcodeNotAuth), nil
		}
		origin := zs.z.Origin
		pol, ok := s.cfg.Update[origin]
		why, keyName := refusal(pol.Allow, pol.Keys, client, q.tsig)
		if !ok || pol.Apply == nil {
			why = "updates not enabled for the zone"
		}
		if why != "" {
			s.log.Warn("dns update refused: "+why, "client", client, "zone", origin, "key", keyName)
			return s.fail(w, q, dns.RcodeRefused), nil
		}

		s.umu.Lock()
		defer s.umu.Unlock()
		cur := s.snap.Load().zones[origin]
		if cur == nil {
			return s.fail(w, q, dns.RcodeNotAuth), nil
		}
		changes, err := updateChanges(cur.z, q.msg)
		if err == nil && len(changes) > 0 {
			var next *zone.Zone
			if next, err = pol.Apply(cur.z, changes); err == nil {
				s.SetZone(next)
				s.log.Info("dns update applied", "client", client, "zone", origin, "key", keyName,
					"names", len(changes), "serial", next.Serial)
			} else {
				err = refusedf(dns.RcodeRefused, "%v", err)
			}
		}
		var ue *updateError
		if errors.As(err, &ue) {
			s.log.Warn("dns update refused", "client", client, "zone", origin, "key", keyName,
				"rcode", rcodeString(ue.rcode), "why", ue.msg)
			return s.fail(w, q, ue.rcode), nil
		} else if err != nil {
			return s.fail(w, q, dns.RcodeServerFailure), err
		}
		m := reply(q)
		return s.write(w, q, m, 0), nil
	})
}

// signerTypes are the types a signer makes, which updates cannot touch.
func signerType(t uint16) bool {
	switch t {
	case dns.TypeDNSKEY, dns.TypeRRSIG, dns.TypeNSEC, dns.TypeNSEC3, dns.TypeNSEC3PARAM, dns.TypeZONEMD:
		return true
	}
	return false
}

// updateChanges checks an UPDATE request's prerequisites against z and
// returns what its update section does to z: each name touched, with the
// unsigned records it owns afterwards. Names whose records end as they
// were are left out.
func updateChanges(z *zone.Zone, r *dns.Msg) ([]zone.Change, error) {
	origin := z.Origin
	inZone := func(name string) bool { return dns.IsSubDomain(origin, strings.ToLower(name)) }

	// Prerequisites (RFC 2136 §3.2), against the version served.
	exact := map[string][]dns.RR{} // value-dependent: name|type → the RRset required
	for _, rr := range r.Answer {
		h := rr.Header()
		name := strings.ToLower(dns.Fqdn(h.Name))
		if h.Ttl != 0 {
			return nil, refusedf(dns.RcodeFormatError, "prerequisite %s with TTL %d", name, h.Ttl)
		}
		if !inZone(name) {
			return nil, refusedf(dns.RcodeNotZone, "prerequisite %s outside the zone %s", name, origin)
		}
		empty := h.Rdlength == 0
		switch {
		case h.Class == dns.ClassANY && empty && h.Rrtype == dns.TypeANY:
			if !z.Exists(name) {
				return nil, refusedf(dns.RcodeNameError, "prerequisite: %s is not in use", name)
			}
		case h.Class == dns.ClassANY && empty:
			if len(z.RRset(name, h.Rrtype)) == 0 {
				return nil, refusedf(dns.RcodeNXRrset, "prerequisite: no %s RRset at %s", dns.Type(h.Rrtype), name)
			}
		case h.Class == dns.ClassNONE && empty && h.Rrtype == dns.TypeANY:
			if z.Exists(name) {
				return nil, refusedf(dns.RcodeYXDomain, "prerequisite: %s is in use", name)
			}
		case h.Class == dns.ClassNONE && empty:
			if len(z.RRset(name, h.Rrtype)) > 0 {
				return nil, refusedf(dns.RcodeYXRrset, "prerequisite: a %s RRset at %s", dns.Type(h.Rrtype), name)
			}
		case h.Class == dns.ClassINET:
			k := name + "|" + dns.Type(h.Rrtype).String()
			exact[k] = append(exact[k], rr)
		default:
			return nil, refusedf(dns.RcodeFormatError, "prerequisite %s of class %s", name, dns.Class(h.Class))
		}
	}
	for k, want := range exact {
		name, typ, _ := strings.Cut(k, "|")
		if !sameRRset(z.RRset(name, dns.StringToType[typ]), want, true) {
			return nil, refusedf(dns.RcodeNXRrset, "prerequisite: the %s RRset at %s differs", typ, name)
		}
	}

	// Prescan the update section (§3.4.1): nothing is applied if any of
	// it is wrong.
	for _, rr := range r.Ns {
		h := rr.Header()
		name := strings.ToLower(dns.Fqdn(h.Name))
		switch {
		case !inZone(name):
			return nil, refusedf(dns.RcodeNotZone, "update of %s, outside the zone %s", name, origin)
		case name == origin:
			return nil, refusedf(dns.RcodeRefused, "update at the apex %s: not supported", origin)
		case signerType(h.Rrtype):
			return nil, refusedf(dns.RcodeRefused, "update of %s %s: the signer makes those records", name, dns.Type(h.Rrtype))
		case h.Rrtype == dns.TypeSOA:
			return nil, refusedf(dns.RcodeRefused, "update of a SOA at %s", name)
		}
		empty := h.Rdlength == 0
		switch h.Class {
		case dns.ClassINET:
			if h.Rrtype == dns.TypeANY || h.Rrtype >= 128 && h.Rrtype <= 255 || h.Rrtype == dns.TypeOPT || empty {
				return nil, refusedf(dns.RcodeFormatError, "update adds a %s record with no data at %s", dns.Type(h.Rrtype), name)
			}
		case dns.ClassANY:
			if h.Ttl != 0 || !empty {
				return nil, refusedf(dns.RcodeFormatError, "update deletes at %s with TTL or data", name)
			}
		case dns.ClassNONE:
			if h.Ttl != 0 || h.Rrtype == dns.TypeANY {
				return nil, refusedf(dns.RcodeFormatError, "update deletes a record at %s with TTL %d or type ANY", name, h.Ttl)
			}
		default:
			return nil, refusedf(dns.RcodeFormatError, "update of %s in class %s", name, dns.Class(h.Class))
		}
	}

	// Apply, name by name, to the unsigned records served.
	after := map[string][]dns.RR{}
	var order []string
	recs := func(name string) []dns.RR {
		if rrs, ok := after[name]; ok {
			return rrs
		}
		var rrs []dns.RR
		for _, t := range z.Types(name) {
			if !signerType(t) {
				rrs = append(rrs, z.RRset(name, t)...)
			}
		}
		after[name] = rrs
		order = append(order, name)
		return rrs
	}
	for _, rr := range r.Ns {
		h := rr.Header()
		name := strings.ToLower(dns.Fqdn(h.Name))
		rrs := recs(name)
		switch h.Class {
		case dns.ClassINET:
			// RFC 2136 §3.4.2.2: a CNAME is not added beside other data,
			// nor other data beside a CNAME; a CNAME added where one is
			// replaces it.
			isCNAME := h.Rrtype == dns.TypeCNAME
			hasCNAME := slices.ContainsFunc(rrs, func(o dns.RR) bool { return o.Header().Rrtype == dns.TypeCNAME })
			hasOther := slices.ContainsFunc(rrs, func(o dns.RR) bool { return o.Header().Rrtype != dns.TypeCNAME })
			switch {
			case isCNAME && hasOther, !isCNAME && hasCNAME:
			case isCNAME && hasCNAME:
				c := dns.Copy(rr)
				c.Header().Name = name
				rrs = []dns.RR{c}
			case !slices.ContainsFunc(rrs, func(o dns.RR) bool { return dns.IsDuplicate(o, rr) }):
				c := dns.Copy(rr)
				c.Header().Name = name
				rrs = append(rrs, c)
			}
		case dns.ClassANY:
			rrs = slices.DeleteFunc(slices.Clone(rrs), func(o dns.RR) bool {
				return h.Rrtype == dns.TypeANY || o.Header().Rrtype == h.Rrtype
			})
		case dns.ClassNONE:
			c := dns.Copy(rr)
			c.Header().Class = dns.ClassINET
			rrs = slices.DeleteFunc(slices.Clone(rrs), func(o dns.RR) bool { return dns.IsDuplicate(o, c) })
		}
		after[name] = rrs
	}
	var changes []zone.Change
	for _, name := range order {
		var was []dns.RR
		for _, t := range z.Types(name) {
			if !signerType(t) {
				was = append(was, z.RRset(name, t)...)
			}
		}
		if !sameRRset(was, after[name], false) {
			changes = append(changes, zone.Change{Name: name, Records: after[name]})
		}
	}
	return changes, nil
}

// sameRRset reports whether two lists hold the same records, in any
// order, TTLs included unless anyTTL.
func sameRRset(a, b []dns.RR, anyTTL bool) bool {
	if len(a) != len(b) {
		return false
	}
	used := make([]bool, len(b))
next:
	for _, x := range a {
		for i, y := range b {
			if !used[i] && dns.IsDuplicate(x, y) && (anyTTL || x.Header().Ttl == y.Header().Ttl) {
				used[i] = true
				continue next
			}
		}
		return false
	}
	return true
}
