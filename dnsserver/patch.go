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
// milliseconds. The fast path, which composes its answers from the zone's
// records, needs only its apex answers made again (in the background, as
// for any version; the handler chain answers meanwhile).

// changedBetween returns the names that may differ between two versions
// sharing a flat base (those any of their patches changed), in canonical
// order, or false if they share none.
func changedBetween(old, new *zone.Zone) ([]string, bool) {
	if old.Base() != new.Base() || old == new {
		return nil, false
	}
	if parent, names := new.PatchedFrom(); parent == old {
		return names, true // the usual case: one patch after the other
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
//
// The index it returns shares the names of the flat index it descends
// from and lists only what the patches changed (indexOverlay): its cost is
// in proportion to the names changed, with nothing copied per name of the
// zone.
func patchIndex(old *index, z *zone.Zone, changed []string) (*index, bool) {
	ix := &index{z: z, labels: old.labels, ents: old.ents}
	ix.signed = ix.has(z.Origin, dns.TypeNSEC)
	o := &indexOverlay{base: old}
	if old.over != nil {
		o.base = old.over.base
		o.add = slices.Clone(old.over.add)
		o.gone = maps.Clone(old.over.gone)
	}
	if o.gone == nil {
		o.gone = map[string]bool{}
	}
	base := o.base
	entsCopied := false
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
		key := canonicalKey(n)
		i := base.search(key)
		inBase := i < len(base.names) && base.names[i] == n
		j, inAdd := slices.BinarySearchFunc(o.add, key, func(e overlayName, k string) int { return strings.Compare(e.key, k) })
		switch {
		case in && inBase:
			delete(o.gone, n)
		case in && !inAdd:
			o.add = slices.Insert(o.add, j, overlayName{key: key, name: n})
		case !in && inBase:
			o.gone[n] = true
		case !in && inAdd:
			o.add = slices.Delete(o.add, j, j+1)
		}
		if in {
			// Names removed may leave empty non-terminals in ents,
			// which only sends their queries to the handler chain.
			if !entsCopied {
				ix.ents, entsCopied = maps.Clone(ix.ents), true
			}
			ix.addENTs(n)
		}
	}
	ix.over = o
	return ix, true
}

// indexOverlay is the index of a patched version: the authoritative names
// of a flat index (base) but those in gone, and those in add.
type indexOverlay struct {
	base *index
	add  []overlayName // in key order
	gone map[string]bool
}

type overlayName struct{ key, name string }

// exists is index.exists.
func (o *indexOverlay) exists(key string) bool {
	b := o.base
	var kb [2 * 256]byte
	for i := b.search(key); i < len(b.names); i++ {
		if !strings.HasPrefix(unsafeString(appendKey(kb[:0], b.names[i])), key) {
			break
		}
		if !o.gone[b.names[i]] {
			return true
		}
	}
	j, _ := slices.BinarySearchFunc(o.add, key, func(e overlayName, k string) int { return strings.Compare(e.key, k) })
	return j < len(o.add) && strings.HasPrefix(o.add[j].key, key)
}

// cover is index.coverName: the last name before key, wrapping around.
func (o *indexOverlay) cover(key string) string {
	b := o.base
	i := b.search(key) - 1
	for i >= 0 && o.gone[b.names[i]] {
		i--
	}
	j, _ := slices.BinarySearchFunc(o.add, key, func(e overlayName, k string) int { return strings.Compare(e.key, k) })
	j--
	if i < 0 && j < 0 {
		// Before every name: the last one.
		i = len(b.names) - 1
		for i >= 0 && o.gone[b.names[i]] {
			i--
		}
		j = len(o.add) - 1
	}
	switch {
	case i < 0 && j < 0:
		return ""
	case i < 0:
		return o.add[j].name
	case j < 0 || b.compare(o.add[j].key, i) < 0:
		return b.names[i]
	default:
		return o.add[j].name
	}
}

// first is index.first.
func (o *indexOverlay) first() string {
	b := o.base
	i := 0
	for i < len(b.names) && o.gone[b.names[i]] {
		i++
	}
	switch {
	case i == len(b.names) && len(o.add) == 0:
		return ""
	case i == len(b.names):
		return o.add[0].name
	case len(o.add) == 0 || b.compare(o.add[0].key, i) > 0:
		return b.names[i]
	default:
		return o.add[0].name
	}
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

// allNames returns the authoritative names of the index in canonical
// order.
func (ix *index) allNames() []string {
	if ix.over == nil {
		return ix.names
	}
	o := ix.over
	out := make([]string, 0, ix.size())
	j := 0
	for i, n := range o.base.names {
		for j < len(o.add) && o.base.compare(o.add[j].key, i) < 0 {
			out = append(out, o.add[j].name)
			j++
		}
		if !o.gone[n] {
			out = append(out, n)
		}
	}
	for ; j < len(o.add); j++ {
		out = append(out, o.add[j].name)
	}
	return out
}

// Compact serves flat, a flat copy of the version being served (the same
// origin, serial and records, as zone.Zone.Flatten makes), in its place,
// keeping its IXFR history: after many patches a version's lookups pay
// for each name they changed, and a flat one does not. It returns false,
// changing nothing, when the version served is no longer the one flat
// copies (a newer one came meanwhile) or flat is not flat.
func (s *Server) Compact(flat *zone.Zone) bool {
	if _, patched := flat.Patched(); patched {
		return false
	}
	// The index is built before the lock: a million names take a moment.
	ix := newIndex(flat)
	s.mu.Lock()
	defer s.mu.Unlock()
	sn := s.snap.Load()
	cur := sn.zones[flat.Origin]
	if cur == nil || cur.z == flat || cur.z.Serial != flat.Serial || cur.z.Len() != flat.Len() {
		return false
	}
	zs := &servedZone{z: flat, ix: ix, ready: make(chan struct{}), deltas: cur.deltas}
	s.snap.Store(sn.with(zs))
	s.wg.Add(1)
	go s.precompute(flat, ix, zs.ready)
	s.log.Info("zone compacted", "zone", flat.Origin, "serial", flat.Serial)
	return true
}
