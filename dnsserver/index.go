package dnsserver

import (
	"sort"
	"strings"

	"github.com/miekg/dns"

	"steward/zone"
)

// index holds what the answer path needs beyond a zone version's own
// lookups, precomputed once per version so that a query allocates little:
// the authoritative names (the apex, names in the zone proper, delegation
// points; not the glue below them) as canonical keys in canonical order.
// A name's key is its labels from the root down, each unescaped, lower
// case and terminated by 0x00 (0x00 and 0x01 in labels escaped as 0x01
// 0x01 and 0x01 0x02), so that comparing keys as strings is canonical
// order (RFC 4034 §6.1) and an ancestor's key is a prefix of its
// descendants' keys.
type index struct {
	z      *zone.Zone
	labels int      // labels in the origin
	keys   []string // authoritative names' keys, sorted
	names  []string // the names, in the same order
	signed bool     // the apex has an NSEC record
}

func newIndex(z *zone.Zone) *index {
	ix := &index{z: z, labels: dns.CountLabel(z.Origin)}
	ix.signed = len(z.RRset(z.Origin, dns.TypeNSEC)) > 0
	for _, n := range z.Names() {
		if cut, ok := ix.delegation(n); ok && cut != n {
			continue // glue or occluded
		}
		ix.names = append(ix.names, n)
		ix.keys = append(ix.keys, canonicalKey(n))
	}
	// z.Names is in canonical order already; sort all the same in case
	// the two orders ever disagree on an odd name.
	if !sort.StringsAreSorted(ix.keys) {
		sort.Sort(byKey{ix})
	}
	return ix
}

type byKey struct{ ix *index }

func (b byKey) Len() int           { return len(b.ix.keys) }
func (b byKey) Less(i, j int) bool { return b.ix.keys[i] < b.ix.keys[j] }
func (b byKey) Swap(i, j int) {
	b.ix.keys[i], b.ix.keys[j] = b.ix.keys[j], b.ix.keys[i]
	b.ix.names[i], b.ix.names[j] = b.ix.names[j], b.ix.names[i]
}

// canonicalKey returns the key of a name in presentation format.
func canonicalKey(name string) string {
	var b strings.Builder
	b.Grow(len(name) + 1)
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
		writeLabel(&b, name[start:end])
		b.WriteByte(0)
		end = start - 1
	}
	return b.String()
}

// escapedAt reports whether the byte at i is escaped by backslashes.
func escapedAt(s string, i int) bool {
	n := 0
	for j := i - 1; j >= 0 && s[j] == '\\'; j-- {
		n++
	}
	return n%2 == 1
}

func writeLabel(b *strings.Builder, label string) {
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
			b.WriteString("\x01\x01")
		case 1:
			b.WriteString("\x01\x02")
		default:
			b.WriteByte(c)
		}
	}
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
		if cut := name[offs[i]:]; len(ix.z.RRset(cut, dns.TypeNS)) > 0 {
			return cut, true
		}
	}
	return "", false
}

// search returns the position of the first key not less than key.
func (ix *index) search(key string) int {
	return sort.SearchStrings(ix.keys, key)
}

// exists reports whether the name with this key owns authoritative
// records or is an empty non-terminal above some.
func (ix *index) exists(key string) bool {
	i := ix.search(key)
	return i < len(ix.keys) && strings.HasPrefix(ix.keys[i], key)
}

// cover returns the owner of the NSEC record that covers the name with
// this key, a name that does not exist: the authoritative name before it
// in canonical order, wrapping around to the last. It returns "" if that
// name owns no NSEC (the zone is not signed with NSEC).
func (ix *index) cover(key string) string {
	if len(ix.keys) == 0 {
		return ""
	}
	i := ix.search(key) - 1
	if i < 0 {
		i = len(ix.keys) - 1
	}
	if len(ix.z.RRset(ix.names[i], dns.TypeNSEC)) == 0 {
		return ""
	}
	return ix.names[i]
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
