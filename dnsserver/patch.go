package dnsserver

import (
	"maps"
	"slices"
	"strings"

	"github.com/miekg/dns"

	"steward/zone"
)

// A version made with zone.Patch from the one being served shares its
// base: the server then updates what it keeps per version (the index, the
// IXFR difference) for the names the patches changed only, so that one
// changed delegation of a zone of a million is served within
// milliseconds. The fast path's answers are computed again in the
// background, as for any version; the handler chain answers meanwhile.

// changedBetween returns the names that may differ between two versions
// sharing a flat base (those any of their patches changed), in canonical
// order, or false if they share none.
func changedBetween(old, new *zone.Zone) ([]string, bool) {
	if old.Base() != new.Base() || old == new {
		return nil, false
	}
	a, _ := old.Patched()
	b, _ := new.Patched()
	out := make([]string, 0, len(a)+len(b))
	out = append(out, a...)
	out = append(out, b...)
	slices.SortFunc(out, func(x, y string) int {
		if x == y {
			return 0
		}
		return zone.Compare(x, y)
	})
	return slices.Compact(out), true
}

// patchIndex returns the index of z made from old, the index of a version
// that differs from z at most at the names changed. It returns false when
// a change moves a delegation point above names it leaves alone, which
// changes whether those are authoritative: the whole index is rebuilt.
func patchIndex(old *index, z *zone.Zone, changed []string) (*index, bool) {
	ix := &index{z: z, labels: old.labels, ents: maps.Clone(old.ents)}
	ix.signed = ix.has(z.Origin, dns.TypeNSEC)
	type entry struct {
		key, name string
		in        bool // in the new index
	}
	edits := make([]entry, 0, len(changed))
	for _, n := range changed {
		wasCut := n != z.Origin && old.has(n, dns.TypeNS)
		isCut := n != z.Origin && ix.has(n, dns.TypeNS)
		if wasCut != isCut {
			for d := z.Next(n); d != "" && isSubDomain(n, d); d = z.Next(d) {
				if _, found := slices.BinarySearchFunc(changed, d, compareNames); !found {
					return nil, false
				}
			}
		}
		in := z.HasName(n)
		if cut, ok := ix.delegation(n); ok && cut != n {
			in = false // glue or occluded
		}
		edits = append(edits, entry{key: canonicalKey(n), name: n, in: in})
	}
	slices.SortFunc(edits, func(a, b entry) int { return strings.Compare(a.key, b.key) })

	ix.names = make([]string, 0, len(old.names)+len(edits))
	ix.pre = make([]uint64, 0, len(old.names)+len(edits))
	i := 0
	for _, e := range edits {
		j := max(i, old.search(e.key))
		ix.names = append(ix.names, old.names[i:j]...)
		ix.pre = append(ix.pre, old.pre[i:j]...)
		i = j
		if i < len(old.names) && old.compare(e.key, i) == 0 {
			i++ // replaced or removed
		}
		if e.in {
			ix.names = append(ix.names, e.name)
			ix.pre = append(ix.pre, prefix8(e.key))
			// Names removed may leave empty non-terminals in ents,
			// which only sends their queries to the handler chain.
			ix.addENTs(e.name)
		}
	}
	ix.names = append(ix.names, old.names[i:]...)
	ix.pre = append(ix.pre, old.pre[i:]...)
	return ix, true
}

func compareNames(a, b string) int {
	if a == b {
		return 0
	}
	return zone.Compare(a, b)
}

// diffChanged is diff for two versions that differ at most at the names
// changed.
func diffChanged(old, new *zone.Zone, changed []string) (del, add []dns.RR) {
	for _, n := range changed {
		del, add = diffName(del, add, old, new, n)
	}
	return del, add
}
