// Package zone holds immutable versions of a DNS zone and the lookups an
// authoritative server needs: RRsets by name and type, delegation points,
// canonical order (RFC 4034 §6.1) for NSEC and for transfers.
//
// A *Zone is never modified after it is built, so one version can be
// served by many goroutines while the next is built.
//
// Representation: a zone of a million delegations holds millions of
// records, and one heap object per record (a dns.RR) costs far more memory
// and garbage-collection time than the records' bytes. A Zone therefore
// keeps its owner names in canonical order (their bytes in one block), an
// open-addressing table from name to index, a table of RRsets (by name,
// then type) and every record's TTL, class and RDATA in wire format in one
// byte arena. The accessors decode records on demand: RRset, Sigs and
// Records return new dns.RR values on each call, which callers may keep and
// modify.
package zone

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/maphash"
	"slices"
	"sort"
	"strings"

	"github.com/miekg/dns"
)

// Zone is one version of a zone.
type Zone struct {
	Origin string // fully qualified, lower case
	Serial uint32
	names  []string // owner names in canonical order
	first  []uint32 // first[i] is the index in sets of names[i]'s first RRset; len(names)+1 entries
	sets   []rrset  // by name, then ascending type
	recs   []uint32 // offsets in data of the records, by set
	data   []byte   // per record: TTL (4 octets), class (2), RDLENGTH (2), RDATA
	table  []uint32 // open addressing: name index + 1, 0 for an empty slot
	seed   maphash.Seed
	soa    *dns.SOA
	nrec   int
	over   *overlay // a patched version's content (see Patch); nil when flat
}

// rrset is one RRset's place in the tables.
type rrset struct {
	typ   uint16
	first uint32 // index in recs
	n     uint32
}

// recHeader is the size of the fixed part of a record in data.
const recHeader = 8

// New builds a zone version from its records. Owner names are lowered; the
// zone must have exactly one SOA, at the origin, and every record must be
// at or below the origin. The records are not kept: the zone holds their
// wire form.
func New(origin string, rrs []dns.RR) (*Zone, error) {
	b := NewBuilder(origin)
	for _, rr := range rrs {
		if err := b.Add(rr); err != nil {
			return nil, err
		}
	}
	return b.Zone()
}

// Builder collects the records of a zone version in any order; Zone
// builds the version. A Builder is for one version and one goroutine.
type Builder struct {
	origin string
	index  map[string]int32 // owner name → its number, in order of appearance
	names  []string
	recs   []pending
	data   []byte
	buf    []byte
	soas   int
	err    error
}

// pending is a record added to a Builder.
type pending struct {
	name int32
	typ  uint16
	off  uint32 // in Builder.data
}

// NewBuilder returns a Builder for the zone at origin.
func NewBuilder(origin string) *Builder {
	return &Builder{origin: strings.ToLower(dns.Fqdn(origin)), index: map[string]int32{}}
}

// Grow makes room for about records more records holding bytes octets of
// RDATA in all, so that adding them does not copy what was added before.
func (b *Builder) Grow(records, bytes int) {
	if records > 0 {
		b.recs = slices.Grow(b.recs, records)
	}
	if bytes > 0 || records > 0 {
		b.data = slices.Grow(b.data, bytes+recHeader*records)
	}
}

// Add adds a record. Its owner name is lowered.
func (b *Builder) Add(rr dns.RR) error {
	h := rr.Header()
	if cap(b.buf) < dns.Len(rr)+1 {
		b.buf = make([]byte, dns.Len(rr)+256)
	}
	buf := b.buf[:cap(b.buf)]
	end, err := dns.PackRR(rr, buf, 0, nil, false)
	if err != nil {
		return fmt.Errorf("%s %s: %w", h.Name, dns.Type(h.Rrtype), err)
	}
	// The RDATA follows the owner name and the fixed header.
	i := 0
	for i < end && buf[i] != 0 {
		i += int(buf[i]) + 1
	}
	start := i + 1 + 10
	if start > end {
		return fmt.Errorf("%s %s: cannot pack the record", h.Name, dns.Type(h.Rrtype))
	}
	return b.AddRdata(h.Name, h.Rrtype, h.Class, h.Ttl, buf[start:end])
}

// addRdataBytes is AddRdata with the owner name as bytes, which are
// copied only for a name not seen before.
func (b *Builder) addRdataBytes(name []byte, typ, class uint16, ttl uint32, rdata []byte) error {
	if _, ok := b.index[string(name)]; ok {
		return b.AddRdata(unsafeString(name), typ, class, ttl, rdata)
	}
	return b.AddRdata(string(name), typ, class, ttl, rdata)
}

// AddRdata adds a record given its RDATA in uncompressed wire format, as a
// caller holding records in wire form has it. The RDATA is copied. RDATA
// that does not unpack as its type's is returned by the accessors in the
// generic form of RFC 3597.
func (b *Builder) AddRdata(name string, typ, class uint16, ttl uint32, rdata []byte) error {
	if len(rdata) > 0xffff {
		return fmt.Errorf("%s %s: RDATA of %d octets", name, dns.Type(typ), len(rdata))
	}
	idx, ok := b.index[name]
	if !ok {
		lower := strings.ToLower(name)
		if idx, ok = b.index[lower]; !ok {
			if !dns.IsSubDomain(b.origin, lower) {
				return fmt.Errorf("%s is outside the zone %s", lower, b.origin)
			}
			if len(b.names) >= 1<<31-1 {
				return fmt.Errorf("zone %s: too many names", b.origin)
			}
			idx = int32(len(b.names))
			b.names = append(b.names, lower)
			b.index[lower] = idx
		}
		b.index[name] = idx
	}
	if typ == dns.TypeSOA {
		if b.names[idx] != b.origin {
			return fmt.Errorf("SOA at %s, not at the origin %s", b.names[idx], b.origin)
		}
		b.soas++
	}
	if uint64(len(b.data))+recHeader+uint64(len(rdata)) > 1<<32-1 {
		return fmt.Errorf("zone %s: more than 4 GiB of records", b.origin)
	}
	b.recs = append(b.recs, pending{name: idx, typ: typ, off: uint32(len(b.data))})
	b.data = binary.BigEndian.AppendUint32(b.data, ttl)
	b.data = binary.BigEndian.AppendUint16(b.data, class)
	b.data = binary.BigEndian.AppendUint16(b.data, uint16(len(rdata)))
	b.data = append(b.data, rdata...)
	return nil
}

// Zone builds the zone version from the records added. The Builder must
// not be used afterwards.
func (b *Builder) Zone() (*Zone, error) {
	if b.soas != 1 {
		return nil, fmt.Errorf("zone %s has %d SOA records, want 1", b.origin, b.soas)
	}
	z := &Zone{Origin: b.origin, seed: maphash.MakeSeed(), nrec: len(b.recs)}

	// Canonical order of the names: rank[i] is the position of name i.
	order := canonicalOrder(b.names)
	rank := make([]uint32, len(b.names))
	for pos, i := range order {
		rank[i] = uint32(pos)
	}
	// The names' bytes in one block.
	size := 0
	for _, n := range b.names {
		size += len(n)
	}
	block := make([]byte, 0, size)
	z.names = make([]string, len(b.names))
	for pos, i := range order {
		start := len(block)
		block = append(block, b.names[i]...)
		z.names[pos] = unsafeString(block[start:])
	}
	b.names, b.index = nil, nil

	// Counting sort of the records by name, keeping their order within a
	// name; then by type within a name (stable, so records keep the
	// order they were added in).
	count := make([]uint32, len(order)+1)
	for _, r := range b.recs {
		count[rank[r.name]+1]++
	}
	for i := 1; i < len(count); i++ {
		count[i] += count[i-1]
	}
	sorted := make([]pending, len(b.recs))
	next := append([]uint32(nil), count[:len(order)]...)
	for _, r := range b.recs {
		p := rank[r.name]
		sorted[next[p]] = r
		next[p]++
	}
	b.recs, next, rank = nil, nil, nil

	z.recs = make([]uint32, len(sorted))
	z.first = make([]uint32, len(order)+1)
	for pos := range order {
		recs := sorted[count[pos]:count[pos+1]]
		sort.SliceStable(recs, func(i, j int) bool { return recs[i].typ < recs[j].typ })
		z.first[pos] = uint32(len(z.sets))
		for i, r := range recs {
			k := int(count[pos]) + i
			z.recs[k] = r.off
			if i == 0 || recs[i-1].typ != r.typ {
				z.sets = append(z.sets, rrset{typ: r.typ, first: uint32(k)})
			}
			z.sets[len(z.sets)-1].n++
		}
	}
	z.first[len(order)] = uint32(len(z.sets))
	z.sets = z.sets[:len(z.sets):len(z.sets)]
	z.data = b.data
	b.data = nil

	if err := z.finish(); err != nil {
		return nil, err
	}
	return z, nil
}

// finish builds the name table of a zone whose names, sets, records and
// data are in place, and reads its SOA.
func (z *Zone) finish() error {
	// The name table: a power of two at least twice the names.
	slots := 16
	for slots < 2*len(z.names) {
		slots *= 2
	}
	z.table = make([]uint32, slots)
	mask := uint64(slots - 1)
	for i, n := range z.names {
		for s := maphash.String(z.seed, n) & mask; ; s = (s + 1) & mask {
			if z.table[s] == 0 {
				z.table[s] = uint32(i) + 1
				break
			}
		}
	}

	soa := z.RRset(z.Origin, dns.TypeSOA)
	if len(soa) == 0 {
		return fmt.Errorf("zone %s has no SOA record at its origin", z.Origin)
	}
	s, ok := soa[0].(*dns.SOA)
	if !ok {
		return fmt.Errorf("zone %s: the SOA record has no data", z.Origin)
	}
	z.soa, z.Serial = s, s.Serial
	return nil
}

// lookup returns the index of a lower-case name, or -1.
func (z *Zone) lookup(name string) int {
	mask := uint64(len(z.table) - 1)
	for s := maphash.String(z.seed, name) & mask; ; s = (s + 1) & mask {
		i := z.table[s]
		if i == 0 {
			return -1
		}
		if z.names[i-1] == name {
			return int(i - 1)
		}
	}
}

// find returns the index of a name in any case, or -1.
func (z *Zone) find(name string) int {
	if i := z.lookup(name); i >= 0 {
		return i
	}
	if lower := strings.ToLower(name); lower != name {
		return z.lookup(lower)
	}
	return -1
}

// set returns the RRset of a type at name index i, or nil.
func (z *Zone) set(i int, t uint16) *rrset {
	for k := z.first[i]; k < z.first[i+1]; k++ {
		if s := &z.sets[k]; s.typ == t {
			return s
		} else if s.typ > t {
			break
		}
	}
	return nil
}

// decode returns record k of the zone (an index in recs) at name index i.
func (z *Zone) decode(i int, typ uint16, k uint32) dns.RR {
	off := int(z.recs[k])
	d := z.data
	h := dns.RR_Header{
		Name:     z.names[i],
		Rrtype:   typ,
		Ttl:      binary.BigEndian.Uint32(d[off:]),
		Class:    binary.BigEndian.Uint16(d[off+4:]),
		Rdlength: binary.BigEndian.Uint16(d[off+6:]),
	}
	start := off + recHeader
	rr, _, err := dns.UnpackRRWithHeader(h, d[:start+int(h.Rdlength)], start)
	if err != nil || rr == nil {
		// Only RDATA given to AddRdata can be malformed: keep its bytes
		// in the generic form (RFC 3597) rather than fail.
		return &dns.RFC3597{Hdr: h, Rdata: hex.EncodeToString(d[start : start+int(h.Rdlength)])}
	}
	return rr
}

// rdata returns the RDATA of record k.
func (z *Zone) rdata(k uint32) []byte {
	off := int(z.recs[k])
	n := int(binary.BigEndian.Uint16(z.data[off+6:]))
	return z.data[off+recHeader : off+recHeader+n]
}

func (z *Zone) appendSet(out []dns.RR, i int, s *rrset) []dns.RR {
	for k := s.first; k < s.first+s.n; k++ {
		out = append(out, z.decode(i, s.typ, k))
	}
	return out
}

// Compare orders two domain names canonically (RFC 4034 §6.1): label by
// label from the root, case-insensitively, as unsigned bytes.
func Compare(a, b string) int {
	if strings.IndexByte(a, '\\') >= 0 || strings.IndexByte(b, '\\') >= 0 {
		return compareEscaped(a, b)
	}
	// Label by label from the right, without splitting.
	ea, eb := len(a), len(b)
	if ea > 0 && a[ea-1] == '.' {
		ea--
	}
	if eb > 0 && b[eb-1] == '.' {
		eb--
	}
	for {
		switch {
		case ea <= 0 && eb <= 0:
			return 0
		case ea <= 0:
			return -1
		case eb <= 0:
			return 1
		}
		sa := strings.LastIndexByte(a[:ea], '.') + 1
		sb := strings.LastIndexByte(b[:eb], '.') + 1
		if c := compareFold(a[sa:ea], b[sb:eb]); c != 0 {
			return c
		}
		ea, eb = sa-1, sb-1
	}
}

// compareFold compares two labels as their lower-case bytes.
func compareFold(x, y string) int {
	for i := 0; i < len(x) && i < len(y); i++ {
		cx, cy := x[i], y[i]
		if 'A' <= cx && cx <= 'Z' {
			cx += 'a' - 'A'
		}
		if 'A' <= cy && cy <= 'Z' {
			cy += 'a' - 'A'
		}
		if cx != cy {
			if cx < cy {
				return -1
			}
			return 1
		}
	}
	switch {
	case len(x) < len(y):
		return -1
	case len(x) > len(y):
		return 1
	}
	return 0
}

// compareEscaped is Compare for names with escapes in their labels.
func compareEscaped(a, b string) int {
	la, lb := dns.SplitDomainName(strings.ToLower(a)), dns.SplitDomainName(strings.ToLower(b))
	for i, j := len(la)-1, len(lb)-1; i >= 0 || j >= 0; i, j = i-1, j-1 {
		switch {
		case i < 0:
			return -1
		case j < 0:
			return 1
		}
		x, y := unescape(la[i]), unescape(lb[j])
		if c := strings.Compare(x, y); c != 0 {
			return c
		}
	}
	return 0
}

// unescape turns a presentation-format label into its wire bytes.
func unescape(label string) string {
	if !strings.Contains(label, `\`) {
		return label
	}
	var b strings.Builder
	for i := 0; i < len(label); i++ {
		c := label[i]
		if c != '\\' || i+1 >= len(label) {
			b.WriteByte(c)
			continue
		}
		if i+3 < len(label) && isDigit(label[i+1]) && isDigit(label[i+2]) && isDigit(label[i+3]) {
			b.WriteByte((label[i+1]-'0')*100 + (label[i+2]-'0')*10 + (label[i+3] - '0'))
			i += 3
			continue
		}
		b.WriteByte(label[i+1])
		i++
	}
	return b.String()
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// Names returns the owner names in canonical order. The slice must not be
// modified.
func (z *Zone) Names() []string {
	if z.over != nil {
		return z.over.mergedNames()
	}
	return z.names
}

// Len returns the number of records in the zone.
func (z *Zone) Len() int { return z.nrec }

// RRset returns the records of a type at a name (nil if none), decoded
// anew on each call. The RRSIGs at a name are the RRset of type RRSIG;
// Sigs selects those covering one type.
func (z *Zone) RRset(name string, t uint16) []dns.RR {
	if z.over != nil {
		return z.pick(name).RRset(name, t)
	}
	i := z.find(name)
	if i < 0 {
		return nil
	}
	s := z.set(i, t)
	if s == nil {
		return nil
	}
	return z.appendSet(make([]dns.RR, 0, s.n), i, s)
}

// Types returns the types present at a name, in ascending order.
func (z *Zone) Types(name string) []uint16 {
	if z.over != nil {
		return z.pick(name).Types(name)
	}
	i := z.find(name)
	if i < 0 {
		return nil
	}
	ts := make([]uint16, 0, z.first[i+1]-z.first[i])
	for k := z.first[i]; k < z.first[i+1]; k++ {
		ts = append(ts, z.sets[k].typ)
	}
	return ts
}

// Sigs returns the RRSIGs at a name that cover the type.
func (z *Zone) Sigs(name string, covered uint16) []dns.RR {
	if z.over != nil {
		return z.pick(name).Sigs(name, covered)
	}
	i := z.find(name)
	if i < 0 {
		return nil
	}
	s := z.set(i, dns.TypeRRSIG)
	if s == nil {
		return nil
	}
	var out []dns.RR
	for k := s.first; k < s.first+s.n; k++ {
		if rd := z.rdata(k); len(rd) >= 2 && binary.BigEndian.Uint16(rd) == covered {
			out = append(out, z.decode(i, dns.TypeRRSIG, k))
		}
	}
	return out
}

// HasName reports whether records exist at name.
func (z *Zone) HasName(name string) bool {
	if z.over != nil {
		return z.pick(name).find(name) >= 0
	}
	return z.find(name) >= 0
}

// Exists reports whether name exists in the zone: it owns records, or it is
// an empty non-terminal (a name with descendants but no records).
func (z *Zone) Exists(name string) bool {
	name = strings.ToLower(dns.Fqdn(name))
	if z.HasName(name) {
		return true
	}
	if z.over != nil {
		next := z.over.after(name, false)
		return next != "" && dns.IsSubDomain(name, next)
	}
	// The first name after name in canonical order is a descendant if any is.
	i := sort.Search(len(z.names), func(i int) bool { return Compare(z.names[i], name) > 0 })
	return i < len(z.names) && dns.IsSubDomain(name, z.names[i])
}

// Delegation returns the delegation point at or above name (below the
// origin): the closest enclosing name that owns NS records, if any.
func (z *Zone) Delegation(name string) (string, bool) {
	name = strings.ToLower(dns.Fqdn(name))
	if !dns.IsSubDomain(z.Origin, name) {
		return "", false
	}
	labels := dns.SplitDomainName(name)
	origin := dns.CountLabel(z.Origin)
	// From the label just below the origin down to name itself.
	for n := origin + 1; n <= len(labels); n++ {
		cut := dns.Fqdn(strings.Join(labels[len(labels)-n:], "."))
		zz := z
		if z.over != nil {
			zz = z.pick(cut)
		}
		if i := zz.lookup(cut); i >= 0 && zz.set(i, dns.TypeNS) != nil {
			return cut, true
		}
	}
	return "", false
}

// Previous returns the name that precedes name in canonical order, wrapping
// around to the last name: the owner of the NSEC record that covers a name
// that does not exist.
func (z *Zone) Previous(name string) string {
	name = strings.ToLower(dns.Fqdn(name))
	if z.over != nil {
		if p := z.over.before(name); p != "" {
			return p
		}
		return z.over.last()
	}
	i := sort.Search(len(z.names), func(i int) bool { return Compare(z.names[i], name) >= 0 })
	if i == 0 {
		return z.names[len(z.names)-1]
	}
	return z.names[i-1]
}

// Records returns every record in canonical order of owner names, the SOA
// first, and by type within a name.
func (z *Zone) Records() []dns.RR {
	out := make([]dns.RR, 0, z.nrec)
	out = append(out, dns.Copy(z.soa))
	z.eachName(func(name string, zz *Zone, i int) bool {
		for k := zz.first[i]; k < zz.first[i+1]; k++ {
			s := &zz.sets[k]
			if s.typ == dns.TypeSOA && name == z.Origin {
				continue
			}
			out = zz.appendSet(out, i, s)
		}
		return true
	})
	return out
}

// eachName calls f with every name in canonical order, the flat zone that
// holds its records and its index there, until f returns false.
func (z *Zone) eachName(f func(name string, zz *Zone, i int) bool) {
	if z.over != nil {
		z.over.each(f)
		return
	}
	for i, name := range z.names {
		if !f(name, z, i) {
			return
		}
	}
}

// Each calls f with every record in the order of Records, decoding one at
// a time, until f returns false.
func (z *Zone) Each(f func(dns.RR) bool) {
	if !f(dns.Copy(z.soa)) {
		return
	}
	z.eachName(func(name string, zz *Zone, i int) bool {
		for k := zz.first[i]; k < zz.first[i+1]; k++ {
			s := &zz.sets[k]
			if s.typ == dns.TypeSOA && name == z.Origin {
				continue
			}
			for r := s.first; r < s.first+s.n; r++ {
				if !f(zz.decode(i, s.typ, r)) {
					return false
				}
			}
		}
		return true
	})
}

// SOA returns a copy of the zone's SOA record: packing a record into a
// message writes its header (miekg/dns sets RDLENGTH), so one shared by
// every goroutine would be written by all.
func (z *Zone) SOA() *dns.SOA { return dns.Copy(z.soa).(*dns.SOA) }

// EachRdata calls f for every record, in canonical order of owner names and
// by type within a name, with its RDATA in uncompressed wire format: the
// records without decoding them. rdata must not be modified, and is valid
// as long as the zone. It stops at the first error f returns.
func (z *Zone) EachRdata(f func(name string, typ, class uint16, ttl uint32, rdata []byte) error) error {
	var err error
	z.eachName(func(name string, zz *Zone, i int) bool {
		err = zz.rdataAt(i, name, f)
		return err == nil
	})
	return err
}

// rdataAt calls f, as EachRdata does, for every record at name index i of
// a flat zone, with name as the owner.
func (z *Zone) rdataAt(i int, name string, f func(name string, typ, class uint16, ttl uint32, rdata []byte) error) error {
	for k := z.first[i]; k < z.first[i+1]; k++ {
		s := &z.sets[k]
		for r := s.first; r < s.first+s.n; r++ {
			off := int(z.recs[r])
			d := z.data[off:]
			n := int(binary.BigEndian.Uint16(d[6:]))
			if err := f(name, s.typ, binary.BigEndian.Uint16(d[4:]), binary.BigEndian.Uint32(d), d[recHeader:recHeader+n:recHeader+n]); err != nil {
				return err
			}
		}
	}
	return nil
}
