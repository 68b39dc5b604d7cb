package rdap

import (
	"cmp"
	"net/netip"
	"slices"
	"sort"
	"time"

	"steward/charter"
)

// MaxResults is the most objects a search returns; a search that matches
// more says that its result set was truncated.
const MaxResults = 100

// Snapshot is the registry as RDAP serves it, at one size of the ledger.
// It is immutable and safe for concurrent use; the objects it holds are
// shared with later snapshots when they did not change.
type Snapshot struct {
	Head     int64 // the size of the ledger when it was built
	Updated  Stamp // the last entry that changed what RDAP shows
	Built    time.Time
	Instance string // the instance's name
	Policy   charter.RDAP

	domains     map[string]*Domain
	domainNames []string // sorted
	nameservers map[string]*Nameserver
	nsNames     []string // sorted
	nsByAddr    map[netip.Addr][]string
	nsDomains   map[string][]string // name server → the TLDs it serves, sorted
	entities    map[string]*Entity
	byHandle    []keyed // folded handle → handle
	byName      []keyed // folded name → handle, only names RDAP may show
	v4, v6      *ipIndex
	asns        *asIndex
}

// keyed is one entry of a sorted search index.
type keyed struct{ key, handle string }

// Domain returns the domain (a TLD) named by a lower-case A-label.
func (s *Snapshot) Domain(name string) *Domain { return s.domains[name] }

// Nameserver returns the name server with the lower-case name.
func (s *Snapshot) Nameserver(name string) *Nameserver { return s.nameservers[name] }

// Entity returns the entity with the handle.
func (s *Snapshot) Entity(handle string) *Entity { return s.entities[handle] }

// Network returns the most specific network that covers the whole prefix.
func (s *Snapshot) Network(p netip.Prefix) *Network {
	idx := s.v6
	if p.Addr().Is4() {
		idx = s.v4
	}
	return idx.lookup(p.Addr(), lastAddr(p))
}

// Autnum returns the AS number range holding n.
func (s *Snapshot) Autnum(n uint32) *Autnum { return s.asns.lookup(n) }

// Counts reports how many objects of each class the snapshot holds.
func (s *Snapshot) Counts() map[string]int {
	return map[string]int{
		"domain": len(s.domains), "nameserver": len(s.nameservers), "entity": len(s.entities),
		"ip network": len(s.v4.nets) + len(s.v6.nets), "autnum": len(s.asns.nums),
	}
}

// prefixSearch returns the names in sorted that the pattern matches, at
// most limit, and whether there were more. It looks only at the names that
// start with the pattern's literal, so a pattern never scans the index.
func prefixSearch(sorted []string, p Pattern, limit int) ([]string, bool) {
	if !p.Partial {
		if _, ok := slices.BinarySearch(sorted, p.Prefix); ok {
			return []string{p.Prefix}, false
		}
		return nil, false
	}
	i := sort.SearchStrings(sorted, p.Prefix)
	var out []string
	for ; i < len(sorted) && p.Match(sorted[i]); i++ {
		if len(out) == limit {
			return out, true
		}
		out = append(out, sorted[i])
	}
	return out, false
}

// SearchDomains returns the domains whose names match.
func (s *Snapshot) SearchDomains(p Pattern) ([]*Domain, bool) {
	names, more := prefixSearch(s.domainNames, p, MaxResults)
	out := make([]*Domain, len(names))
	for i, n := range names {
		out[i] = s.domains[n]
	}
	return out, more
}

// SearchNameservers returns the name servers whose names match.
func (s *Snapshot) SearchNameservers(p Pattern) ([]*Nameserver, bool) {
	names, more := prefixSearch(s.nsNames, p, MaxResults)
	out := make([]*Nameserver, len(names))
	for i, n := range names {
		out[i] = s.nameservers[n]
	}
	return out, more
}

// SearchDomainsByNameserver returns the domains served by a name server
// whose name matches (domains?nsLdhName=), or, if addr is valid, by a name
// server with that glue address (domains?nsIp=).
func (s *Snapshot) SearchDomainsByNameserver(p Pattern, addr netip.Addr) ([]*Domain, bool) {
	var names []string
	more := false
	if addr.IsValid() {
		names = s.nsByAddr[addr.Unmap()]
	} else {
		names, more = prefixSearch(s.nsNames, p, MaxResults)
	}
	seen := map[string]bool{}
	var out []*Domain
	for _, n := range names {
		for _, d := range s.nsDomains[n] {
			if seen[d] {
				continue
			}
			if len(out) == MaxResults {
				return out, true
			}
			seen[d] = true
			out = append(out, s.domains[d])
		}
	}
	slices.SortFunc(out, func(a, b *Domain) int { return cmp.Compare(a.Name, b.Name) })
	return out, more
}

// NameserversByAddr returns the name servers with glue address a.
func (s *Snapshot) NameserversByAddr(a netip.Addr) ([]*Nameserver, bool) {
	names := s.nsByAddr[a.Unmap()]
	more := len(names) > MaxResults
	if more {
		names = names[:MaxResults]
	}
	out := make([]*Nameserver, len(names))
	for i, n := range names {
		out[i] = s.nameservers[n]
	}
	return out, more
}

// SearchEntities returns the entities whose handle (byName false) or full
// name (byName true) match, ignoring case. Names that RDAP redacts are not
// searchable.
func (s *Snapshot) SearchEntities(p Pattern, byName bool) ([]*Entity, bool) {
	idx := s.byHandle
	if byName {
		idx = s.byName
	}
	i, _ := slices.BinarySearchFunc(idx, p.Prefix, func(k keyed, t string) int { return cmp.Compare(k.key, t) })
	var out []*Entity
	seen := map[string]bool{}
	for ; i < len(idx) && p.Match(idx[i].key); i++ {
		if seen[idx[i].handle] {
			continue
		}
		if len(out) == MaxResults {
			return out, true
		}
		seen[idx[i].handle] = true
		out = append(out, s.entities[idx[i].handle])
	}
	return out, false
}

// ipIndex finds the most specific network holding an address range. The
// networks of a registry nest (each lies inside its parent and overlaps no
// sibling), so sorted by start, and by size from the largest among equal
// starts, the network that holds a range is the last one starting at or
// before it, or one of that one's ancestors.
type ipIndex struct {
	nets   []*Network // sorted by Start, then End descending
	parent []int32    // index of each network's enclosing network, or -1
}

func netOrder(a, b *Network) int {
	if c := a.Start.Compare(b.Start); c != 0 {
		return c
	}
	if c := b.End.Compare(a.End); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Rank, b.Rank); c != 0 {
		return c
	}
	return cmp.Compare(a.Handle, b.Handle)
}

func newIPIndex(nets []*Network) *ipIndex {
	ix := &ipIndex{nets: nets, parent: make([]int32, len(nets))}
	var stack []int32
	for i, n := range nets {
		for len(stack) > 0 && nets[stack[len(stack)-1]].End.Less(n.Start) {
			stack = stack[:len(stack)-1]
		}
		ix.parent[i] = -1
		if len(stack) > 0 {
			ix.parent[i] = stack[len(stack)-1]
		}
		stack = append(stack, int32(i))
	}
	return ix
}

func (ix *ipIndex) lookup(start, end netip.Addr) *Network {
	i := sort.Search(len(ix.nets), func(i int) bool { return start.Less(ix.nets[i].Start) }) - 1
	for i >= 0 {
		n := ix.nets[i]
		if !end.Less(n.Start) && !n.End.Less(end) && !start.Less(n.Start) {
			return n
		}
		i = int(ix.parent[i])
	}
	return nil
}

// asIndex is ipIndex for AS number ranges.
type asIndex struct {
	nums   []*Autnum
	parent []int32
}

func asOrder(a, b *Autnum) int {
	if c := cmp.Compare(a.Start, b.Start); c != 0 {
		return c
	}
	if c := cmp.Compare(b.End, a.End); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Rank, b.Rank); c != 0 {
		return c
	}
	return cmp.Compare(a.Handle, b.Handle)
}

func newASIndex(nums []*Autnum) *asIndex {
	ix := &asIndex{nums: nums, parent: make([]int32, len(nums))}
	var stack []int32
	for i, n := range nums {
		for len(stack) > 0 && nums[stack[len(stack)-1]].End < n.Start {
			stack = stack[:len(stack)-1]
		}
		ix.parent[i] = -1
		if len(stack) > 0 {
			ix.parent[i] = stack[len(stack)-1]
		}
		stack = append(stack, int32(i))
	}
	return ix
}

func (ix *asIndex) lookup(n uint32) *Autnum {
	i := sort.Search(len(ix.nums), func(i int) bool { return n < ix.nums[i].Start }) - 1
	for i >= 0 {
		a := ix.nums[i]
		if a.Start <= n && n <= a.End {
			return a
		}
		i = int(ix.parent[i])
	}
	return nil
}

// lastAddr returns the last address of a prefix.
func lastAddr(p netip.Prefix) netip.Addr {
	a := p.Masked().Addr()
	b := a.AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	out, _ := netip.AddrFromSlice(b)
	return out
}

// Prefixes returns the CIDR prefixes that cover start..end exactly, in
// order.
func Prefixes(start, end netip.Addr) []netip.Prefix {
	var out []netip.Prefix
	for !end.Less(start) {
		bits := start.BitLen()
		// The shortest prefix starting at start that does not pass end.
		n := bits
		for n > 0 {
			p := netip.PrefixFrom(start, n-1)
			if p.Masked().Addr() != start || end.Less(lastAddr(p)) {
				break
			}
			n--
		}
		p := netip.PrefixFrom(start, n)
		out = append(out, p)
		last := lastAddr(p)
		next := last.Next()
		if !next.IsValid() || next.Less(start) || len(out) > 256 {
			break
		}
		start = next
	}
	return out
}

func nsAddrIndex(s *Snapshot) map[netip.Addr][]string {
	m := map[netip.Addr][]string{}
	for _, n := range s.nsNames {
		ns := s.nameservers[n]
		for _, a := range append(slices.Clone(ns.V4), ns.V6...) {
			if ip, err := netip.ParseAddr(a); err == nil {
				m[ip.Unmap()] = append(m[ip.Unmap()], n)
			}
		}
	}
	return m
}
