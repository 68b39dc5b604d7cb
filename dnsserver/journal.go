package dnsserver

import (
	"github.com/miekg/dns"

	"steward/zone"
)

// delta is the difference between two consecutive versions of a zone, as
// one sequence of an IXFR answer (RFC 1995 §4): the old SOA, the records
// deleted, the new SOA, the records added.
type delta struct {
	from, to *dns.SOA
	del, add []dns.RR // without the SOAs
}

// diff returns the records of old missing from new (deleted) and those of
// new missing from old (added), SOA records aside, in canonical order. Two
// records are the same when their owner, type, class, TTL and data are.
func diff(old, new *zone.Zone) (del, add []dns.RR) {
	zone.EachNameOf(old, new, func(name string, inOld, inNew bool) bool {
		switch {
		case !inNew:
			del = appendName(del, old, name)
		case !inOld:
			add = appendName(add, new, name)
		default:
			del, add = diffName(del, add, old, new, name)
		}
		return true
	})
	return del, add
}

// appendName appends every record at name but the SOA.
func appendName(out []dns.RR, z *zone.Zone, name string) []dns.RR {
	for _, t := range z.Types(name) {
		if t != dns.TypeSOA {
			out = append(out, z.RRset(name, t)...)
		}
	}
	return out
}

// diffName compares the records at a name present in both versions.
func diffName(del, add []dns.RR, old, new *zone.Zone, name string) ([]dns.RR, []dns.RR) {
	ot, nt := old.Types(name), new.Types(name)
	i, j := 0, 0
	for i < len(ot) || j < len(nt) {
		switch {
		case j == len(nt) || (i < len(ot) && ot[i] < nt[j]):
			if ot[i] != dns.TypeSOA {
				del = append(del, old.RRset(name, ot[i])...)
			}
			i++
		case i == len(ot) || nt[j] < ot[i]:
			if nt[j] != dns.TypeSOA {
				add = append(add, new.RRset(name, nt[j])...)
			}
			j++
		default:
			if ot[i] != dns.TypeSOA {
				o, n := old.RRset(name, ot[i]), new.RRset(name, nt[j])
				del = appendMissing(del, o, n)
				add = appendMissing(add, n, o)
			}
			i++
			j++
		}
	}
	return del, add
}

// appendMissing appends the records of a that are not in b.
func appendMissing(out, a, b []dns.RR) []dns.RR {
	if len(a)*len(b) > 1024 {
		in := make(map[string]bool, len(b))
		for _, rr := range b {
			in[rr.String()] = true
		}
		for _, rr := range a {
			if !in[rr.String()] {
				out = append(out, rr)
			}
		}
		return out
	}
next:
	for _, rr := range a {
		for _, o := range b {
			if rr.Header().Ttl == o.Header().Ttl && dns.IsDuplicate(rr, o) {
				continue next
			}
		}
		out = append(out, rr)
	}
	return out
}

// ixfr returns the records of an IXFR answer to a client at serial: the
// current SOA, one delta sequence per version since serial, the current
// SOA again. ok is false when the history does not reach back to serial,
// and the client must get the whole zone.
func (zs *servedZone) ixfr(serial uint32) (rrs []dns.RR, ok bool) {
	n := len(zs.deltas)
	if n == 0 || zs.deltas[n-1].to.Serial != zs.z.Serial {
		return nil, false
	}
	start := -1
	for i, d := range zs.deltas {
		if d.from.Serial == serial {
			start = i
			break
		}
	}
	if start < 0 {
		return nil, false
	}
	cur := zs.z.SOA()
	rrs = append(rrs, cur)
	for _, d := range zs.deltas[start:] {
		rrs = append(rrs, d.from)
		rrs = append(rrs, d.del...)
		rrs = append(rrs, d.to)
		rrs = append(rrs, d.add...)
	}
	return append(rrs, cur), true
}
