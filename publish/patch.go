package publish

import (
	"slices"

	"github.com/miekg/dns"

	"steward/zone"
)

// maxPatched bounds the names a published version may differ by from its
// flat base before the publisher signs the whole zone again, which
// flattens it: lookups in a patched version cost a little more with each
// name changed.
func maxPatched(names int) int { return max(1024, names/16) }

// unsignedChanges returns the names whose unsigned records differ between
// two versions built from the registry, with their new records, for
// dnssec.Signer.Patch. It returns false when the apex changed beyond its
// serial: the whole zone is signed then.
func unsignedChanges(old, new *zone.Zone) ([]zone.Change, bool) {
	var changes []zone.Change
	on, nn := old.Names(), new.Names()
	i, j := 0, 0
	for i < len(on) || j < len(nn) {
		var c int
		switch {
		case i == len(on):
			c = 1
		case j == len(nn):
			c = -1
		case on[i] == nn[j]:
			c = 0
		default:
			c = zone.Compare(on[i], nn[j])
		}
		switch {
		case c < 0:
			if on[i] == old.Origin {
				return nil, false
			}
			changes = append(changes, zone.Change{Name: on[i]})
			i++
		case c > 0:
			if nn[j] == new.Origin {
				return nil, false
			}
			changes = append(changes, zone.Change{Name: nn[j], Records: recordsAt(new, nn[j])})
			j++
		default:
			n := on[i]
			a, b := recordsAt(old, n), recordsAt(new, n)
			if !sameSets(a, b, n == old.Origin) {
				if n == old.Origin {
					return nil, false
				}
				changes = append(changes, zone.Change{Name: n, Records: b})
			}
			i++
			j++
		}
	}
	return changes, true
}

// recordsAt returns every record at name.
func recordsAt(z *zone.Zone, name string) []dns.RR {
	var out []dns.RR
	for _, t := range z.Types(name) {
		out = append(out, z.RRset(name, t)...)
	}
	return out
}

// sameSets reports whether two lists of records are the same, in any
// order; with apex set, SOA records are left out.
func sameSets(a, b []dns.RR, apex bool) bool {
	strs := func(rrs []dns.RR) []string {
		out := make([]string, 0, len(rrs))
		for _, rr := range rrs {
			if apex && rr.Header().Rrtype == dns.TypeSOA {
				continue
			}
			out = append(out, rr.String())
		}
		slices.Sort(out)
		return out
	}
	return slices.Equal(strs(a), strs(b))
}
