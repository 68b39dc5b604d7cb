package dnsserver

import (
	"slices"
	"sort"
	"strings"

	"github.com/miekg/dns"

	"steward/zone"
)

// index holds what the answer path needs beyond a zone version's own
// lookups, computed once per version in one pass over its names (or, for a
// patched version, from the index of the version patched: patch.go): the
// authoritative names (the apex, names in the zone proper, delegation
// points; not the glue below them) in canonical order, and the empty
// non-terminals above them.
//
// The order of names is that of their canonical keys. A name's key is its
// labels from the root down, each unescaped, lower case and terminated by
// 0x00 (0x00 and 0x01 in labels escaped as 0x01 0x01 and 0x01 0x02), so
// that comparing keys as strings is canonical order (RFC 4034 §6.1) and
// an ancestor's key is a prefix of its descendants' keys. The index keeps
// only the first eight octets of each key, for quick comparisons; the rest
// is computed from the name when those are equal.
type index struct {
	z      *zone.Zone
	labels int             // labels in the origin
	names  []string        // the authoritative names, in canonical order (the zone's strings)
	pre    []uint64        // per name: the first 8 octets of its key, big-endian, zero-padded
	ents   map[string]bool // empty non-terminals: names without records with authoritative names below
	signed bool            // the apex has an NSEC record
	over   *indexOverlay   // a patched version's index: names and pre are the base's (patch.go)
}

func newIndex(z *zone.Zone) *index {
	ix := &index{z: z, labels: dns.CountLabel(z.Origin)}
	ix.signed = ix.has(z.Origin, dns.TypeNSEC)
	all := z.Names()
	ix.names = make([]string, 0, len(all))
	ix.pre = make([]uint64, 0, len(all))
	cut := "" // the last delegation point: the names below it are not authoritative
	var kb, prev [2 * 256]byte
	var key, last []byte
	sorted := true
	flat := z.Base() == z // then a name's place in all is its number in z
	for i, n := range all {
		if cut != "" && isSubDomain(cut, n) {
			continue // glue or occluded
		}
		cut = ""
		if n != z.Origin {
			if flat {
				if first, end := z.Span(i, dns.TypeNS); first != end {
					cut = n
				}
			} else if ix.has(n, dns.TypeNS) {
				cut = n
			}
		}
		ix.names = append(ix.names, n)
		key = appendKey(kb[:0], n)
		if sorted && len(ix.names) > 1 && string(last) >= string(key) {
			sorted = false
		}
		last = append(prev[:0], key...)
		ix.pre = append(ix.pre, prefix8(key))
		ix.addENTs(n)
	}
	// z.Names is in canonical order already; sort all the same in case
	// the two orders ever disagree on an odd name.
	if !sorted {
		sort.Sort(byKey{ix})
	}
	ix.names = slices.Clip(ix.names)
	ix.pre = slices.Clip(ix.pre)
	return ix
}

// addENTs adds the empty non-terminals between an authoritative name and
// the origin to ix.ents, which it copies first if shared.
func (ix *index) addENTs(n string) {
	for off, end := dns.NextLabel(n, 0); !end && len(n)-off > len(ix.z.Origin); off, end = dns.NextLabel(n, off) {
		p := n[off:]
		if ix.ents[p] || ix.z.HasName(p) {
			break
		}
		if ix.ents == nil {
			ix.ents = map[string]bool{}
		}
		ix.ents[p] = true
	}
}

type byKey struct{ ix *index }

func (b byKey) Len() int           { return len(b.ix.names) }
func (b byKey) Less(i, j int) bool { return canonicalKey(b.ix.names[i]) < canonicalKey(b.ix.names[j]) }
func (b byKey) Swap(i, j int) {
	b.ix.names[i], b.ix.names[j] = b.ix.names[j], b.ix.names[i]
	b.ix.pre[i], b.ix.pre[j] = b.ix.pre[j], b.ix.pre[i]
}

// has reports whether the zone has records of type t at name.
func (ix *index) has(name string, t uint16) bool {
	zz, i := ix.z.Locate(name)
	if zz == nil {
		return false
	}
	f, e := zz.Span(i, t)
	return f != e
}

// prefix8 returns the first eight octets of a key, big-endian, padded
// with zeros.
func prefix8[T ~string | ~[]byte](key T) uint64 {
	var v uint64
	for i := range 8 {
		v <<= 8
		if i < len(key) {
			v |= uint64(key[i])
		}
	}
	return v
}

// compare compares key with the key of the authoritative name at
// position i.
func (ix *index) compare(key string, i int) int {
	if p, q := prefix8(key), ix.pre[i]; p != q {
		if p < q {
			return -1
		}
		return 1
	}
	var kb [2 * 256]byte
	return strings.Compare(key, unsafeString(appendKey(kb[:0], ix.names[i])))
}

// canonicalKey returns the key of a name in presentation format.
func canonicalKey(name string) string {
	return string(appendKey(make([]byte, 0, len(name)+1), name))
}

// appendKey appends the key of a name in presentation format to b.
func appendKey(b []byte, name string) []byte {
	end := len(name)
	if end > 0 && name[end-1] == '.' && !escapedAt(name, end-1) {
		end--
	}
	// Labels from the right.
	for end > 0 {
		start := end
		for start > 0 && !(name[start-1] == '.' && !escapedAt(name, start-1)) {
			start--
		}
		b = appendLabel(b, name[start:end])
		b = append(b, 0)
		end = start - 1
	}
	return b
}

// escapedAt reports whether the byte at i is escaped by backslashes.
func escapedAt(s string, i int) bool {
	n := 0
	for j := i - 1; j >= 0 && s[j] == '\\'; j-- {
		n++
	}
	return n%2 == 1
}

func appendLabel(b []byte, label string) []byte {
	for i := 0; i < len(label); i++ {
		c := label[i]
		if c == '\\' && i+1 < len(label) {
			if i+3 < len(label) && isDigit(label[i+1]) && isDigit(label[i+2]) && isDigit(label[i+3]) {
				c = (label[i+1]-'0')*100 + (label[i+2]-'0')*10 + (label[i+3] - '0')
				i += 3
			} else {
				c = label[i+1]
				i++
			}
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		switch c {
		case 0:
			b = append(b, 1, 1)
		case 1:
			b = append(b, 1, 2)
		default:
			b = append(b, c)
		}
	}
	return b
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// delegation returns the delegation point at or above name, below the
// origin: the highest name owning NS records, as zone.Zone.Delegation
// does, without allocating. name must be at or below the origin.
func (ix *index) delegation(name string) (string, bool) {
	if name == ix.z.Origin {
		return "", false
	}
	var offs [128]int
	n := 0
	for off, end := 0, false; !end && n < len(offs); off, end = dns.NextLabel(name, off) {
		offs[n] = off
		n++
	}
	for i := n - ix.labels - 1; i >= 0; i-- {
		if cut := name[offs[i]:]; ix.has(cut, dns.TypeNS) {
			return cut, true
		}
	}
	return "", false
}

// search returns the position of the first key not less than key.
func (ix *index) search(key string) int {
	lo, hi := 0, len(ix.names)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if ix.compare(key, m) > 0 {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// exists reports whether the name with this key owns authoritative
// records or is an empty non-terminal above some.
func (ix *index) exists(key string) bool {
	if ix.over != nil {
		return ix.over.exists(key)
	}
	i := ix.search(key)
	if i == len(ix.names) {
		return false
	}
	var kb [2 * 256]byte
	return strings.HasPrefix(unsafeString(appendKey(kb[:0], ix.names[i])), key)
}

// coverName returns the authoritative name before the name with this key
// in canonical order, wrapping around to the last; "" if there is none.
func (ix *index) coverName(key string) string {
	if ix.over != nil {
		return ix.over.cover(key)
	}
	if i := ix.coverAt(key); i >= 0 {
		return ix.names[i]
	}
	return ""
}

// first returns the first authoritative name (the origin), or "".
func (ix *index) first() string {
	if ix.over != nil {
		return ix.over.first()
	}
	if len(ix.names) == 0 {
		return ""
	}
	return ix.names[0]
}

// size returns the number of authoritative names.
func (ix *index) size() int {
	if ix.over != nil {
		return len(ix.over.base.names) - len(ix.over.gone) + len(ix.over.add)
	}
	return len(ix.names)
}

// coverAt returns the position of the authoritative name before the name
// with this key in canonical order, wrapping around to the last; -1 if
// there is none. ix must be flat.
func (ix *index) coverAt(key string) int {
	if len(ix.names) == 0 {
		return -1
	}
	i := ix.search(key) - 1
	if i < 0 {
		i = len(ix.names) - 1
	}
	return i
}

// cover returns the owner of the NSEC record that covers the name with
// this key, a name that does not exist: the authoritative name before it
// in canonical order, wrapping around to the last. It returns "" if that
// name owns no NSEC (the zone is not signed with NSEC).
func (ix *index) cover(key string) string {
	n := ix.coverName(key)
	if n == "" || !ix.has(n, dns.TypeNSEC) {
		return ""
	}
	return n
}

// closestEncloser returns the longest existing ancestor of the name with
// key (RFC 4592 §3.3.1), and its key: a prefix of key, since each label's
// key ends in 0x00. name must not exist itself.
func (ix *index) closestEncloser(name, key string) (string, string) {
	off, k := 0, len(key)-1 // k: the end of the current name's last label
	for k > 0 {
		next, end := dns.NextLabel(name, off)
		if end {
			break
		}
		off = next
		j := strings.LastIndexByte(key[:k], 0)
		parentKey := key[:j+1]
		if ix.exists(parentKey) {
			return name[off:], parentKey
		}
		k = j
	}
	return ix.z.Origin, canonicalKey(ix.z.Origin)
}

// isSubDomain reports whether child is parent or below it; both are
// fully qualified and in lower case. It is dns.IsSubDomain without the
// allocations.
func isSubDomain(parent, child string) bool {
	switch {
	case parent == ".":
		return true
	case len(child) < len(parent):
		return false
	case len(child) == len(parent):
		return child == parent
	}
	i := len(child) - len(parent)
	return child[i:] == parent && child[i-1] == '.' && !escapedAt(child, i-1)
}
