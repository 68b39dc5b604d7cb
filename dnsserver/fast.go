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
// (referrals, DS, NXDOMAIN, apex data) in wire format, without parsing
// the query into a dns.Msg or packing a response. Everything else goes to
// the handler chain.
//
// Referrals, DS answers and NXDOMAIN proofs are composed for each query
// from the zone's own wire-format records (fastpath.go), so that a zone
// version costs the fast path nothing per name. The answers at the apex
// and the negative SOA are computed once per version with the chain's own
// lookup and packed by miekg/dns into "images": a message with the
// origin as its question B whose bytes after the question are kept in one
// arena. An apex answer is a list of spans of images, each a run of whole
// records, and the section counts.
//
// The compression pointers in a span point into B, which is a suffix of
// the query name, or into a span of the same image: each is moved by where
// B's suffix and that span end up in the response. The tables are flat
// slices of integers and bytes, which the garbage collector does not scan.

const noIndex = ^uint32(0)

// fastZone is the fast path's view of one zone version.
type fastZone struct {
	z       *zone.Zone
	ix      *index
	origin  []byte // the origin in wire format, lower case
	olabels int    // labels in the origin

	arena  []byte      // image bodies: the bytes after the question
	fixes  []uint32    // arena offsets of compression pointers, ascending
	images []fastImage // by image number
	spans  []fastSpan
	answrs []fastAnswer
	refs   []uint32 // span numbers of answers

	apexTypes []apexAnswer
	apexOther [2]uint32 // NODATA at the apex (DO clear, set)
	soaNeg    [2]uint32 // span: the negative SOA; the SOA and its signatures
	wildCover string    // the owner of the NSEC covering *.origin, or ""
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

type apexAnswer struct {
	qtype uint16
	ans   [2]uint32 // DO clear, set
}

var errFastUnsupported = errors.New("dnsserver: answer not precomputable")

// newFastZone computes the fast path's answers at the apex of a zone
// version; it returns nil when the zone cannot be served by the fast path
// at all.
func newFastZone(z *zone.Zone, ix *index) *fastZone {
	f := &fastZone{z: z, ix: ix, signed: ix.signed, olabels: ix.labels}
	origin, ok := wireName(z.Origin)
	if !ok || ix.first() != z.Origin {
		return nil
	}
	f.origin = origin
	b := &fastBuilder{f: f, z: z}

	// The apex: NODATA (whose image holds the negative SOA the NXDOMAIN
	// and DS NODATA answers use) and the answer to each type present.
	apex, err := b.build(z.Origin, 0xff00, true)
	if err != nil {
		return nil
	}
	f.apexOther[1] = apex.ans
	nsigs := len(z.Sigs(z.Origin, dns.TypeSOA))
	f.soaNeg[0] = b.span(apex.img, 0, 1)
	f.soaNeg[1] = b.span(apex.img, 0, 1+nsigs)
	for _, sp := range f.soaNeg {
		// The negative SOA is copied alone: its pointers must stay
		// within it or point into B.
		a := fastAnswer{ref0: uint32(len(f.refs)), nref: 1}
		f.refs = append(f.refs, sp)
		if sp == noIndex || !f.resolvable(a) {
			return nil
		}
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
	f.wildCover = ix.coverName(canonicalKey(z.Origin) + "*\x00")
	f.arena = slices.Clip(f.arena)
	f.fixes = slices.Clip(f.fixes)
	f.spans = slices.Clip(f.spans)
	f.refs = slices.Clip(f.refs)
	f.answrs = slices.Clip(f.answrs)
	f.images = slices.Clip(f.images)
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

// fastBuilder holds what building a fastZone needs and then drops.
type fastBuilder struct {
	f *fastZone
	z *zone.Zone
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
		cap(f.refs)*4
}
