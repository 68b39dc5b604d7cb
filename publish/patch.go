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
	ok := true
	zone.EachNameOf(old, new, func(n string, inOld, inNew bool) bool {
		switch {
		case n == old.Origin:
			// The apex may change its serial only.
			ok = inOld && inNew && sameSets(recordsAt(old, n), recordsAt(new, n), true)
		case !inNew:
			changes = append(changes, zone.Change{Name: n})
		case !inOld:
			changes = append(changes, zone.Change{Name: n, Records: recordsAt(new, n)})
		default:
			if b := recordsAt(new, n); !sameSets(recordsAt(old, n), b, false) {
				changes = append(changes, zone.Change{Name: n, Records: b})
			}
		}
		return ok
	})
	return changes, ok
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
