package dnsserver

import (
	"encoding/binary"
	"errors"
	"slices"
	"unsafe"

	"github.com/miekg/dns"

	"steward/zone"
)

// The UDP fast path answers the common queries of an authoritative server
// (referrals, DS, NXDOMAIN, apex data) from wire-format answers computed
// once per zone version, without parsing the query into a dns.Msg or
// packing a response. Everything else goes to the handler chain.
//
// When a version is installed, the answers the chain would give are
// computed with the chain's own lookup and packed by miekg/dns into
// "images": a message with a representative question B (the delegation
// point, or the zone's origin) whose bytes after the question are kept in
// one arena. An answer is a list of spans of images, each a run of whole
// records, and the section counts; several answers share spans (the DS
// RRset of a delegation is in its referral and in its DS answer, the NSEC
// of a name in every NXDOMAIN it proves).
//
// A response is the query's header and question (with the client's case)
// followed by the spans and, when the query had EDNS0, an OPT record. The
// compression pointers in a span point into B, which is a suffix of the
// query name, or into a span of the same image: each is moved by where B's
// suffix and that span end up in the response. The tables are flat slices
// of integers and bytes, which the garbage collector does not scan.

// Node kinds of the name table.
const (
	nodeApex = iota + 1
	nodeCut  // a delegation point
	nodeSlow // any other name that exists: answered by the chain
)

// Answers of a delegation point, indexes into fastNode.ans.
const (
	ansRef   = iota // referral, DO clear
	ansRefDO        // referral, DO set
	ansDS           // DS query at the cut
	ansDSDO
)

const noIndex = ^uint32(0)

// fastZone is the fast path's view of one zone version.
type fastZone struct {
	ix     *index
	origin []byte // the origin in wire format, lower case

	arena  []byte      // image bodies: the bytes after the question
	fixes  []uint32    // arena offsets of compression pointers, ascending
	images []fastImage // by image number
	spans  []fastSpan
	answrs []fastAnswer
	refs   []uint32 // span numbers of answers

	names []byte     // node names in wire format, lower case
	nodes []fastNode // the name table's entries
	table []uint32   // open addressing by hash of the name: node number + 1
	mask  uint32

	nsec      []uint32 // per index position: the span of its NSEC RRset and signatures
	apexTypes []apexAnswer
	apexOther [2]uint32 // NODATA at the apex (DO clear, set)
	soaNeg    [2]uint32 // span: the negative SOA; the SOA and its signatures
	wildCover uint32    // index position of the NSEC covering *.origin, or noIndex
	nxdomain  bool      // names that do not exist can be answered (no wildcard at the apex)
	signed    bool
}

type fastImage struct {
	start uint32 // arena offset of the body
	p0    uint16 // message offset of the body (12 + len(B) + 4)
	blen  uint16 // length of B in wire format
}

type fastSpan struct {
	off  uint32 // arena offset
	img  uint32
	fix0 uint32 // the span's pointers: fixes[fix0:fix0+fixN]
	n    uint16 // length
	fixN uint8
	rrs  uint8 // records in the span
}

type fastAnswer struct {
	bits       uint16 // AA (0x0400) and rcode, as in the header's second word
	an, ns, ar uint16
	ref0       uint32 // refs[ref0:ref0+nref]
	nref       uint32
}

type fastNode struct {
	name uint32 // offset in names
	nlen uint8
	kind uint8
	ans  [4]uint32 // answer numbers (cuts), noIndex when absent
}

type apexAnswer struct {
	qtype uint16
	ans   [2]uint32 // DO clear, set
}

var errFastUnsupported = errors.New("dnsserver: answer not precomputable")

// newFastZone computes the fast path's answers for a zone version. Names
// whose answers it cannot precompute are left to the chain. It gives up,
// returning nil, when keep (if not nil) reports false.
func newFastZone(z *zone.Zone, ix *index, keep func() bool) *fastZone {
	stopped := func(i int) bool { return keep != nil && i%4096 == 0 && !keep() }
	f := &fastZone{ix: ix, wildCover: noIndex, signed: ix.signed}
	origin, ok := wireName(z.Origin)
	if !ok || len(ix.keys) == 0 || ix.names[0] != z.Origin {
		return nil
	}
	f.origin = origin
	b := &fastBuilder{f: f, z: z}
	// Room for the usual: an NSEC image per name, a referral per name.
	f.arena = make([]byte, 0, 256*len(ix.names))
	f.fixes = make([]uint32, 0, 8*len(ix.names))
	f.spans = make([]fastSpan, 0, 5*len(ix.names))
	f.refs = make([]uint32, 0, 8*len(ix.names))
	f.answrs = make([]fastAnswer, 0, 4*len(ix.names))
	f.images = make([]fastImage, 0, 2*len(ix.names))

	// NSEC records, one image each, with the origin as B so that any
	// query name in the zone can use them.
	f.nsec = make([]uint32, len(ix.names))
	for i, n := range ix.names {
		if stopped(i) {
			return nil
		}
		f.nsec[i] = noIndex
		nsec := z.RRset(n, dns.TypeNSEC)
		if len(nsec) == 0 {
			continue
		}
		rrs := append(append([]dns.RR(nil), nsec...), z.Sigs(n, dns.TypeNSEC)...)
		img, err := b.image(z.Origin, [3][]dns.RR{nil, rrs, nil})
		if err != nil {
			continue
		}
		f.nsec[i] = b.span(img, 0, len(rrs)) // noIndex if too large
	}

	// The apex: NODATA (whose image holds the negative SOA the NXDOMAIN
	// answers use) and the answer to each type present.
	apex, err := b.build(z.Origin, 0xff00, true)
	if err != nil {
		return nil
	}
	f.apexOther[1] = apex.ans
	nsigs := len(z.Sigs(z.Origin, dns.TypeSOA))
	f.soaNeg[0] = b.span(apex.img, 0, 1)
	f.soaNeg[1] = b.span(apex.img, 0, 1+nsigs)
	if f.soaNeg[0] == noIndex || f.soaNeg[1] == noIndex {
		return nil
	}
	if other, err := b.build(z.Origin, 0xff00, false, apex); err == nil {
		f.apexOther[0] = other.ans
	} else {
		return nil
	}
	for _, t := range append(z.Types(z.Origin), dns.TypeNSEC, dns.TypeRRSIG) {
		if fastSlowType(t) || hasApexType(f.apexTypes, t) {
			continue
		}
		aa := apexAnswer{qtype: t}
		good := true
		for i, do := range []bool{false, true} {
			r, err := b.build(z.Origin, t, do, apex)
			if err != nil {
				good = false
				break
			}
			aa.ans[i] = r.ans
		}
		if !good {
			aa.ans = [2]uint32{noIndex, noIndex} // the chain answers it
		}
		f.apexTypes = append(f.apexTypes, aa)
	}
	f.nxdomain = !z.HasName("*." + z.Origin)
	if z.Origin == "." {
		f.nxdomain = !z.HasName("*.")
	}
	if c := ix.cover(ix.keys[0] + "*\x00"); c != "" {
		if i, ok := ix.position(c); ok {
			f.wildCover = uint32(i)
		}
	}

	// The name table: every authoritative name, and the empty
	// non-terminals above them.
	b.nodes = map[string]bool{}
	for i, n := range ix.names {
		if stopped(i) {
			return nil
		}
		var nd fastNode
		nd.ans = [4]uint32{noIndex, noIndex, noIndex, noIndex}
		switch cut, isCut := ix.delegation(n); {
		case n == z.Origin:
			nd.kind = nodeApex
		case isCut && cut == n:
			nd.kind = nodeCut
			if !b.delegation(n, i, &nd, apex) {
				nd.kind = nodeSlow
			}
		default:
			nd.kind = nodeSlow
		}
		b.addNode(n, nd)
		// Empty non-terminals between n and the origin.
		for off, end := dns.NextLabel(n, 0); !end && len(n)-off > len(z.Origin); off, end = dns.NextLabel(n, off) {
			p := n[off:]
			if z.HasName(p) {
				break
			}
			b.addNode(p, fastNode{kind: nodeSlow, ans: [4]uint32{noIndex, noIndex, noIndex, noIndex}})
		}
	}
	b.nodes = nil
	f.buildTable()
	f.arena = slices.Clip(append([]byte(nil), f.arena...))
	f.fixes = slices.Clip(append([]uint32(nil), f.fixes...))
	f.spans = slices.Clip(append([]fastSpan(nil), f.spans...))
	f.refs = slices.Clip(append([]uint32(nil), f.refs...))
	f.answrs = slices.Clip(append([]fastAnswer(nil), f.answrs...))
	f.images = slices.Clip(append([]fastImage(nil), f.images...))
	f.names = slices.Clip(append([]byte(nil), f.names...))
	f.nodes = slices.Clip(append([]fastNode(nil), f.nodes...))
	return f
}

func hasApexType(as []apexAnswer, t uint16) bool {
	for _, a := range as {
		if a.qtype == t {
			return true
		}
	}
	return false
}

// fastSlowType reports whether queries of type t always go to the chain:
// meta and obsolete types, transfers, ANY, and the types the limits
// handler refuses.
func fastSlowType(t uint16) bool {
	switch t {
	case 0, dns.TypeOPT, dns.TypeTKEY, dns.TypeTSIG, dns.TypeIXFR, dns.TypeAXFR,
		dns.TypeMAILB, dns.TypeMAILA, dns.TypeANY:
		return true
	}
	return false
}

// position returns the index position of an authoritative name.
func (ix *index) position(name string) (int, bool) {
	key := canonicalKey(name)
	i := ix.search(key)
	return i, i < len(ix.keys) && ix.keys[i] == key
}

// fastBuilder holds what building a fastZone needs and then drops.
type fastBuilder struct {
	f     *fastZone
	z     *zone.Zone
	nodes map[string]bool
	// ends[endsAt[i]:endsAt[i+1]] are the message offsets where the
	// records of image i end.
	ends   []uint32
	endsAt []uint32
	buf    []byte // for packing
	ptrs   []int  // for walk
	rrEnds []int
	msg    dns.Msg
}

func (b *fastBuilder) endsOf(img uint32) []uint32 {
	end := uint32(len(b.ends))
	if int(img)+1 < len(b.endsAt) {
		end = b.endsAt[img+1]
	}
	return b.ends[b.endsAt[img]:end]
}

// built is an image and the records in it, for answers to find spans in.
type built struct {
	img      uint32
	rrs      []dns.RR // the records of the image img, if built made one
	ans      uint32
	sections [3][]dns.RR // the answer's
}

// delegation builds the four answers of delegation point cut, at index
// position i: the referral from the chain's lookup, and the others from
// its records as the lookup would make them (TestFastPathMatchesChain
// checks that it does).
func (b *fastBuilder) delegation(cut string, i int, nd *fastNode, apex *built) bool {
	var cands []*built
	if n := b.f.nsec[i]; n != noIndex {
		s := b.f.spans[n]
		cands = append(cands, &built{img: s.img, rrs: b.nsecRRs(cut)})
	}
	cands = append(cands, apex)
	ref, err := b.build(cut, dns.TypeA, true, cands...)
	if err != nil {
		return false
	}
	nd.ans[ansRefDO] = ref.ans
	cands = append(cands, ref)
	// Without DO: the NS RRset alone in authority, the same glue.
	var ns, ds, dsSigs []dns.RR
	for _, rr := range ref.sections[1] {
		switch rr.Header().Rrtype {
		case dns.TypeNS:
			ns = append(ns, rr)
		case dns.TypeDS:
			ds = append(ds, rr)
		case dns.TypeRRSIG:
			if rr.(*dns.RRSIG).TypeCovered == dns.TypeDS {
				dsSigs = append(dsSigs, rr)
			}
		}
	}
	r, err := b.compose(cut, dns.RcodeSuccess, false, [3][]dns.RR{nil, ns, ref.sections[2]}, cands...)
	if err != nil {
		return false
	}
	nd.ans[ansRef] = r.ans
	// DS: the RRset with AA, or NODATA.
	var dsAns [2][3][]dns.RR
	if len(ds) > 0 {
		dsAns[0][0] = ds
		dsAns[1][0] = append(append([]dns.RR(nil), ds...), dsSigs...)
	} else {
		soa := apex.sections[1][:1]
		dsAns[0][1] = soa
		dsAns[1][1] = append(append([]dns.RR(nil), soa...), b.z.Sigs(b.z.Origin, dns.TypeSOA)...)
		if b.f.signed {
			dsAns[1][1] = append(dsAns[1][1], b.nsecRRs(cut)...)
		}
	}
	for j, sec := range dsAns {
		r, err := b.compose(cut, dns.RcodeSuccess, true, sec, cands...)
		if err != nil {
			return false
		}
		nd.ans[ansDS+j] = r.ans
	}
	return true
}

func (b *fastBuilder) nsecRRs(n string) []dns.RR {
	nsec := b.z.RRset(n, dns.TypeNSEC)
	return append(append([]dns.RR(nil), nsec...), b.z.Sigs(n, dns.TypeNSEC)...)
}

// build runs the chain's lookup for qtype at name (a name the zone has)
// and makes its answer with compose.
func (b *fastBuilder) build(name string, qtype uint16, do bool, cands ...*built) (*built, error) {
	m := new(dns.Msg)
	l := lookup{z: b.z, ix: b.f.ix, do: do, signed: b.f.ix.signed, m: m}
	l.run(name, qtype)
	extra := append(l.required, l.optional...)
	return b.compose(name, m.Rcode, m.Authoritative, [3][]dns.RR{m.Answer, m.Ns, extra}, cands...)
}

// compose makes an answer of the sections. Its records come from the
// images in cands where they are found there; the others go into a new
// image with name as B.
func (b *fastBuilder) compose(name string, rcode int, aa bool, sections [3][]dns.RR, cands ...*built) (*built, error) {
	if rcode > 0xf {
		return nil, errFastUnsupported
	}
	var rest [3][]dns.RR
	n := 0
	for s, rrs := range sections {
		for _, rr := range rrs {
			if _, _, ok := find(cands, rr); !ok {
				rest[s] = append(rest[s], rr)
				n++
			}
		}
	}
	res := &built{img: noIndex, sections: sections}
	if n > 0 {
		img, err := b.image(name, rest)
		if err != nil {
			return nil, err
		}
		res.img = img
		res.rrs = append(append(append([]dns.RR(nil), rest[0]...), rest[1]...), rest[2]...)
		cands = append([]*built{res}, cands...)
	}
	a := fastAnswer{an: uint16(len(sections[0])), ns: uint16(len(sections[1])), ar: uint16(len(sections[2])),
		ref0: uint32(len(b.f.refs)), bits: uint16(rcode)}
	if aa {
		a.bits |= 0x0400
	}
	for _, rrs := range sections {
		for j := 0; j < len(rrs); {
			c, k, _ := find(cands, rrs[j])
			e := j + 1
			for e < len(rrs) && k+e-j < len(c.rrs) && same(c.rrs[k+e-j], rrs[e]) {
				e++
			}
			sp := b.span(c.img, k, k+e-j)
			if sp == noIndex {
				b.f.refs = b.f.refs[:a.ref0]
				return nil, errFastUnsupported
			}
			b.f.refs = append(b.f.refs, sp)
			j = e
		}
	}
	a.nref = uint32(len(b.f.refs)) - a.ref0
	if !b.f.resolvable(a) {
		b.f.refs = b.f.refs[:a.ref0]
		return nil, errFastUnsupported
	}
	res.ans = uint32(len(b.f.answrs))
	b.f.answrs = append(b.f.answrs, a)
	return res, nil
}

// find returns the image holding rr and its position there.
func find(cands []*built, rr dns.RR) (*built, int, bool) {
	for _, c := range cands {
		for k, x := range c.rrs {
			if same(x, rr) {
				return c, k, true
			}
		}
	}
	return nil, 0, false
}

// same reports whether two records are the same record of the zone:
// owner, class, type, TTL and data. Zones may hand out a fresh copy of a
// record on each lookup, so identity is not enough.
func same(a, b dns.RR) bool {
	if a == b {
		return true
	}
	return a.Header().Ttl == b.Header().Ttl && dns.IsDuplicate(a, b)
}

// image packs the sections with question B = name and appends the bytes
// after the question to the arena. It returns the image number.
func (b *fastBuilder) image(name string, sections [3][]dns.RR) (uint32, error) {
	f := b.f
	m := &b.msg
	*m = dns.Msg{Question: m.Question[:0]}
	m.Question = append(m.Question, dns.Question{Name: name, Qtype: dns.TypeA, Qclass: dns.ClassINET})
	m.Answer, m.Ns, m.Extra = sections[0], sections[1], sections[2]
	m.Compress = true
	for _, rrs := range sections {
		for _, rr := range rrs {
			if !fastType(rr.Header().Rrtype) {
				return 0, errFastUnsupported
			}
		}
	}
	if b.buf == nil {
		b.buf = make([]byte, dns.MaxMsgSize)
	}
	msg, err := m.PackBuffer(b.buf)
	if err != nil {
		return 0, err
	}
	blen := 0
	for 12+blen < len(msg) && msg[12+blen] != 0 {
		blen += 1 + int(msg[12+blen])
	}
	blen++
	p0 := 12 + blen + 4
	if len(msg) >= 0x3fff || p0 > len(msg) {
		return 0, errFastUnsupported
	}
	img := fastImage{start: uint32(len(f.arena)), p0: uint16(p0), blen: uint16(blen)}
	ptrs, ends, err := walk(msg, p0, b.ptrs[:0], b.rrEnds[:0])
	b.ptrs, b.rrEnds = ptrs, ends
	if err != nil {
		return 0, err
	}
	f.arena = append(f.arena, msg[p0:]...)
	for _, p := range ptrs {
		f.fixes = append(f.fixes, img.start+uint32(p-p0))
	}
	f.images = append(f.images, img)
	n := uint32(len(f.images) - 1)
	b.endsAt = append(b.endsAt, uint32(len(b.ends)))
	for _, e := range ends {
		b.ends = append(b.ends, uint32(e))
	}
	return n, nil
}

// span returns a span of records [from, to) of image img.
func (b *fastBuilder) span(img uint32, from, to int) uint32 {
	f := b.f
	ends := b.endsOf(img)
	im := f.images[img]
	start := im.start
	if from > 0 {
		start = im.start + ends[from-1] - uint32(im.p0)
	}
	end := im.start + ends[to-1] - uint32(im.p0)
	lo := searchU32(f.fixes, start)
	hi := searchU32(f.fixes, end)
	if end-start > 0xffff || hi-lo > 0xff || to-from > 0xff {
		return noIndex
	}
	s := fastSpan{off: start, n: uint16(end - start), img: img, rrs: uint8(to - from), fix0: uint32(lo), fixN: uint8(hi - lo)}
	f.spans = append(f.spans, s)
	return uint32(len(f.spans) - 1)
}

func searchU32(a []uint32, v uint32) int {
	lo, hi := 0, len(a)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if a[m] < v {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// fastType reports whether records of type t may be in an image: types
// whose RDATA holds no compressed names, or whose compressed names walk
// finds.
func fastType(t uint16) bool {
	switch t {
	case dns.TypeA, dns.TypeAAAA, dns.TypeNS, dns.TypeSOA, dns.TypeDS, dns.TypeRRSIG, dns.TypeNSEC,
		dns.TypeDNSKEY, dns.TypeTXT, dns.TypeZONEMD, dns.TypeCDS, dns.TypeCDNSKEY, dns.TypeNSEC3PARAM,
		dns.TypeCNAME, dns.TypeMX, dns.TypePTR:
		return true
	}
	return false
}

// walk finds the compression pointers in the records of a packed message
// from offset p (after the question), and the end offset of each record.
func walk(msg []byte, p int, ptrs, ends []int) ([]int, []int, error) {
	var err error
	name := func(p int) (int, error) {
		for {
			if p >= len(msg) {
				return 0, errFastUnsupported
			}
			l := int(msg[p])
			switch {
			case l == 0:
				return p + 1, nil
			case l&0xc0 == 0xc0:
				if p+2 > len(msg) {
					return 0, errFastUnsupported
				}
				ptrs = append(ptrs, p)
				return p + 2, nil
			case l&0xc0 != 0:
				return 0, errFastUnsupported
			}
			p += 1 + l
		}
	}
	for p < len(msg) {
		if p, err = name(p); err != nil {
			return nil, nil, err
		}
		if p+10 > len(msg) {
			return nil, nil, errFastUnsupported
		}
		t := binary.BigEndian.Uint16(msg[p:])
		rd := p + 10
		end := rd + int(binary.BigEndian.Uint16(msg[p+8:]))
		if end > len(msg) {
			return nil, nil, errFastUnsupported
		}
		switch t {
		case dns.TypeNS, dns.TypeCNAME, dns.TypePTR:
			_, err = name(rd)
		case dns.TypeMX:
			_, err = name(rd + 2)
		case dns.TypeSOA:
			var q int
			if q, err = name(rd); err == nil {
				_, err = name(q)
			}
		}
		if err != nil {
			return nil, nil, err
		}
		p = end
		ends = append(ends, p)
	}
	return ptrs, ends, nil
}

// resolvable reports whether every pointer of the answer's spans points
// into B or into a span of the answer from the same image, so that
// respond can place it.
func (f *fastZone) resolvable(a fastAnswer) bool {
	for _, r := range f.refs[a.ref0 : a.ref0+a.nref] {
		s := f.spans[r]
		im := f.images[s.img]
		for _, fx := range f.fixes[s.fix0 : s.fix0+uint32(s.fixN)] {
			v := uint32(binary.BigEndian.Uint16(f.arena[fx:]) & 0x3fff)
			if v < uint32(im.p0) {
				if v < 12 || v >= 12+uint32(im.blen) {
					return false
				}
				continue
			}
			at := im.start + v - uint32(im.p0)
			ok := false
			for _, r2 := range f.refs[a.ref0 : a.ref0+a.nref] {
				s2 := f.spans[r2]
				if s2.img == s.img && s2.off <= at && at < s2.off+uint32(s2.n) {
					ok = true
					break
				}
			}
			if !ok {
				return false
			}
		}
	}
	return true
}

// addNode adds a name to the table's entries once.
func (b *fastBuilder) addNode(name string, nd fastNode) {
	if b.nodes[name] {
		return
	}
	w, ok := wireName(name)
	if !ok {
		return
	}
	b.nodes[name] = true
	nd.name = uint32(len(b.f.names))
	nd.nlen = uint8(len(w))
	b.f.names = append(b.f.names, w...)
	b.f.nodes = append(b.f.nodes, nd)
}

func (f *fastZone) buildTable() {
	size := uint32(16)
	for size < uint32(len(f.nodes))*2 {
		size <<= 1
	}
	f.table = make([]uint32, size)
	f.mask = size - 1
	for i, nd := range f.nodes {
		h := hashName(f.names[nd.name:nd.name+uint32(nd.nlen)]) & f.mask
		for f.table[h] != 0 {
			h = (h + 1) & f.mask
		}
		f.table[h] = uint32(i) + 1
	}
}

// hashName is FNV-1a over a name in wire format.
func hashName(b []byte) uint32 {
	h := uint32(2166136261)
	for _, c := range b {
		h ^= uint32(c)
		h *= 16777619
	}
	return h
}

// lookupNode returns the table entry of a lower-case wire name.
func (f *fastZone) lookupNode(name []byte) (*fastNode, bool) {
	h := hashName(name) & f.mask
	for {
		e := f.table[h]
		if e == 0 {
			return nil, false
		}
		nd := &f.nodes[e-1]
		if int(nd.nlen) == len(name) && string(f.names[nd.name:nd.name+uint32(nd.nlen)]) == string(name) {
			return nd, true
		}
		h = (h + 1) & f.mask
	}
}

// wireName returns a name in wire format, lower case, without compression.
func wireName(name string) ([]byte, bool) {
	buf := make([]byte, 256)
	n, err := dns.PackDomainName(dns.Fqdn(name), buf, 0, nil, false)
	if err != nil {
		return nil, false
	}
	buf = buf[:n]
	for i := 0; i < len(buf); {
		l := int(buf[i])
		for j := i + 1; j <= i+l; j++ {
			if c := buf[j]; 'A' <= c && c <= 'Z' {
				buf[j] = c + 'a' - 'A'
			}
		}
		i += 1 + l
		if l == 0 {
			break
		}
	}
	return buf, true
}

// bytes returns the memory the fast path's tables take.
func (f *fastZone) bytes() int {
	return cap(f.arena) + cap(f.fixes)*4 + cap(f.images)*int(unsafe.Sizeof(fastImage{})) +
		cap(f.spans)*int(unsafe.Sizeof(fastSpan{})) + cap(f.answrs)*int(unsafe.Sizeof(fastAnswer{})) +
		cap(f.refs)*4 + cap(f.names) + cap(f.nodes)*int(unsafe.Sizeof(fastNode{})) + cap(f.table)*4 + cap(f.nsec)*4
}
