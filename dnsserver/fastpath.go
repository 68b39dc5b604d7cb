package dnsserver

import (
	"encoding/binary"
	"unsafe"

	"github.com/miekg/dns"

	"steward/zone"
)

// fastScratch is one worker's reusable state for respond.
type fastScratch struct {
	name   [256]byte // the query name, lower case
	labels [128]uint8
	pres   [256]byte // a name in presentation format, lower case
	key    [512]byte
	refs   [8]uint32
	placed [8]uint32
	comp   compressor
	ns     [64]nsTarget
}

// nsTarget is an NS record of a referral being composed: where its target
// name is in the response, and the target's position in the zone.
type nsTarget struct {
	z   *zone.Zone // the flat version with its records, nil if none
	pos int32
	off uint16
	in  bool // in-domain: below the delegation point (RFC 9471)
}

// respond answers the UDP query req into out from the precomputed
// answers and returns the response's length, its rcode and the query
// type. It returns n == 0 when the query must go to the handler chain:
// anything but a plain QUERY of class IN with one question and at most an
// OPT record (with at most the NSID, COOKIE and PADDING options, which the
// chain ignores as well), a name it has no answer for, or a response
// larger than the client takes. maxUDP is the server's EDNS0 payload size.
func (f *fastZone) respond(req, out []byte, maxUDP int, sc *fastScratch) (n, rcode int, qtype uint16) {
	if len(req) < 12+1+4 {
		return 0, 0, 0
	}
	// Header: a query (QR clear, opcode 0), one question, nothing in
	// answer and authority, at most one additional record.
	if req[2]&0xf8 != 0 || binary.BigEndian.Uint16(req[4:]) != 1 ||
		binary.BigEndian.Uint16(req[6:]) != 0 || binary.BigEndian.Uint16(req[8:]) != 0 {
		return 0, 0, 0
	}
	arcount := binary.BigEndian.Uint16(req[10:])
	if arcount > 1 {
		return 0, 0, 0
	}
	// The question name, without compression, folded to lower case.
	p, nl, nlabels := 12, 0, 0
	for {
		if p >= len(req) {
			return 0, 0, 0
		}
		l := int(req[p])
		if l&0xc0 != 0 || nlabels >= len(sc.labels) || nl+1+l > 255 || p+1+l > len(req) {
			return 0, 0, 0
		}
		sc.labels[nlabels] = uint8(nl)
		nlabels++
		sc.name[nl] = byte(l)
		for i := 1; i <= l; i++ {
			c := req[p+i]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			sc.name[nl+i] = c
		}
		nl += 1 + l
		p += 1 + l
		if l == 0 {
			break
		}
	}
	if p+4 > len(req) {
		return 0, 0, 0
	}
	qtype = binary.BigEndian.Uint16(req[p:])
	if binary.BigEndian.Uint16(req[p+2:]) != 1 || fastSlowType(qtype) {
		return 0, 0, 0
	}
	qend := p + 4
	size := 512
	edns, do := false, false
	if arcount == 1 {
		// OPT: root owner, type 41, version 0, last; options only those
		// the chain ignores too (NSID, COOKIE, PADDING), well formed.
		o := qend
		if o+11 > len(req) || req[o] != 0 || binary.BigEndian.Uint16(req[o+1:]) != 41 || req[o+6] != 0 ||
			o+11+int(binary.BigEndian.Uint16(req[o+9:])) != len(req) {
			return 0, 0, 0
		}
		for p := o + 11; p < len(req); {
			if p+4 > len(req) {
				return 0, 0, 0
			}
			switch binary.BigEndian.Uint16(req[p:]) {
			case 3, 10, 12: // NSID, COOKIE, PADDING
			default:
				return 0, 0, 0
			}
			p += 4 + int(binary.BigEndian.Uint16(req[p+2:]))
			if p > len(req) {
				return 0, 0, 0
			}
		}
		edns, do = true, req[o+7]&0x80 != 0
		size = min(max(int(binary.BigEndian.Uint16(req[o+3:])), 512), maxUDP)
	} else if qend != len(req) {
		return 0, 0, 0
	}
	name := sc.name[:nl]
	lim := min(size, len(out), 0x3fff)
	if edns {
		lim -= 11
	}
	w := fastWriter{b: out[:lim], n: qend}

	// The zone: its origin must end the name.
	if nlabels-1 < f.olabels {
		return 0, 0, 0
	}
	if string(name[sc.labels[nlabels-1-f.olabels]:]) != string(f.origin) {
		return 0, 0, 0
	}
	var a fastAnswer
	if nlabels-1 == f.olabels {
		// The apex: precomputed answers.
		ai := f.apexOther[b2i(do)]
		for _, at := range f.apexTypes {
			if at.qtype == qtype {
				ai = at.ans[b2i(do)]
				break
			}
		}
		if ai == noIndex {
			return 0, 0, 0
		}
		a = f.answrs[ai]
		if int(a.nref) > len(sc.refs) || !f.writeSpans(&w, f.refs[a.ref0:a.ref0+a.nref], nl, sc) {
			return 0, 0, 0
		}
	} else {
		// The name just below the apex decides: a delegation point
		// above the name (or the name itself), or a name that does not
		// exist; anything else goes to the chain.
		j := nlabels - 2 - f.olabels
		top := sc.labels[j]
		p, ok := presentation(name[top:], sc.pres[:0])
		if !ok {
			return 0, 0, 0
		}
		zz, pos := f.z.Locate(unsafeString(p))
		switch {
		case zz != nil:
			if first, end := zz.Span(pos, dns.TypeNS); first == end {
				return 0, 0, 0
			}
			if j == 0 && qtype == dns.TypeDS {
				ok = f.dsAnswer(&w, zz, pos, 12+int(top), nl, do, sc, &a)
			} else {
				ok = f.referral(&w, zz, pos, int(top), name, do, sc, &a)
			}
		case f.ix.ents[string(p)] || !f.nxdomain:
			return 0, 0, 0
		default:
			ok = f.nxdomainAnswer(&w, name, nl, do, sc, &a)
		}
		if !ok {
			return 0, 0, 0
		}
	}
	pos := w.n
	out[0], out[1] = req[0], req[1]
	out[2] = 0x80 | byte(a.bits>>8)&0x04 | req[2]&0x01 // QR, AA, RD
	out[3] = req[3]&0x10 | byte(a.bits)&0x0f           // CD, rcode
	binary.BigEndian.PutUint16(out[4:], 1)
	binary.BigEndian.PutUint16(out[6:], a.an)
	binary.BigEndian.PutUint16(out[8:], a.ns)
	ar := a.ar
	if edns {
		ar++
	}
	binary.BigEndian.PutUint16(out[10:], ar)
	copy(out[12:qend], req[12:qend])
	if edns {
		o := out[pos : pos+11]
		o[0] = 0
		binary.BigEndian.PutUint16(o[1:], 41)
		binary.BigEndian.PutUint16(o[3:], uint16(maxUDP))
		o[5], o[6], o[7], o[8] = 0, 0, 0, 0
		if do {
			o[7] = 0x80
		}
		o[9], o[10] = 0, 0
		pos += 11
	}
	return pos, int(a.bits & 0x0f), qtype
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// writeSpans writes spans of precomputed images and moves their
// compression pointers: into B (a suffix of the query name, nl octets
// long) or into a span of the same image among these.
func (f *fastZone) writeSpans(w *fastWriter, refs []uint32, nl int, sc *fastScratch) bool {
	for i, r := range refs {
		s := &f.spans[r]
		if w.n+int(s.n) > len(w.b) {
			return false
		}
		sc.placed[i] = uint32(w.n)
		copy(w.b[w.n:], f.arena[s.off:s.off+uint32(s.n)])
		w.n += int(s.n)
	}
	for i, r := range refs {
		s := &f.spans[r]
		im := &f.images[s.img]
		for _, fx := range f.fixes[s.fix0 : s.fix0+uint32(s.fixN)] {
			v := uint32(binary.BigEndian.Uint16(f.arena[fx:]) & 0x3fff)
			var nv uint32
			if v < uint32(im.p0) {
				// Into B, a suffix of the query name.
				nv = v + uint32(nl) - uint32(im.blen)
			} else {
				at := im.start + v - uint32(im.p0)
				found := false
				for j, r2 := range refs {
					s2 := &f.spans[r2]
					if s2.img == s.img && s2.off <= at && at < s2.off+uint32(s2.n) {
						nv = sc.placed[j] + at - s2.off
						found = true
						break
					}
				}
				if !found {
					return false
				}
			}
			binary.BigEndian.PutUint16(w.b[sc.placed[i]+fx-s.off:], 0xc000|uint16(nv))
		}
	}
	return true
}

// fastWriter appends to a response within its size.
type fastWriter struct {
	b []byte // the response, as long as it may be
	n int    // bytes written
}

// record appends record k of the zone, of type t, whose owner is the name
// at offset owner in the response.
func (w *fastWriter) record(z *zone.Zone, owner int, t uint16, k uint32) bool {
	ttl, class, rd := z.Record(k)
	if w.n+12+len(rd) > len(w.b) {
		return false
	}
	b := w.b[w.n:]
	binary.BigEndian.PutUint16(b, 0xc000|uint16(owner))
	binary.BigEndian.PutUint16(b[2:], t)
	binary.BigEndian.PutUint16(b[4:], class)
	binary.BigEndian.PutUint32(b[6:], ttl)
	binary.BigEndian.PutUint16(b[10:], uint16(len(rd)))
	copy(b[12:], rd)
	w.n += 12 + len(rd)
	return true
}

// rrset appends the RRset of type t at zone position pos, owned by the
// name at offset owner, and returns how many records it wrote.
func (w *fastWriter) rrset(z *zone.Zone, pos, owner int, t uint16) (int, bool) {
	first, end := z.Span(pos, t)
	for k := first; k < end; k++ {
		if !w.record(z, owner, t, k) {
			return 0, false
		}
	}
	return int(end - first), true
}

// sigs appends the RRSIGs at zone position pos that cover type t.
func (w *fastWriter) sigs(z *zone.Zone, pos, owner int, t uint16) (int, bool) {
	first, end := z.Span(pos, dns.TypeRRSIG)
	n := 0
	for k := first; k < end; k++ {
		if _, _, rd := z.Record(k); len(rd) < 2 || binary.BigEndian.Uint16(rd) != t {
			continue
		}
		if !w.record(z, owner, dns.TypeRRSIG, k) {
			return 0, false
		}
		n++
	}
	return n, true
}

// signed appends the RRset of type t at pos and, with do, its signatures;
// nothing if there is no such RRset.
func (w *fastWriter) signed(z *zone.Zone, pos, owner int, t uint16, do bool) (int, bool) {
	n, ok := w.rrset(z, pos, owner, t)
	if ok && do && n > 0 {
		var m int
		m, ok = w.sigs(z, pos, owner, t)
		n += m
	}
	return n, ok
}

// referral composes the chain's referral to the delegation point at zone
// position pos, whose name is the suffix cut of the query name at offset
// owner: the NS RRset in authority, with DO the DS RRset and its
// signatures or the NSEC proving there is none, and the glue in
// additional, in-domain first (required by RFC 9471), A before AAAA.
func (f *fastZone) referral(w *fastWriter, z *zone.Zone, pos, top int, name []byte, do bool, sc *fastScratch, a *fastAnswer) bool {
	owner, cut := 12+top, name[top:]
	*a = fastAnswer{}
	first, end := z.Span(pos, dns.TypeNS)
	if int(end-first) > len(sc.ns) {
		return false
	}
	c := &sc.comp
	c.reset(name, 0)
	targets := sc.ns[:0]
	for k := first; k < end; k++ {
		ttl, class, rd := z.Record(k)
		if w.n+12 > len(w.b) {
			return false
		}
		b := w.b[w.n:]
		binary.BigEndian.PutUint16(b, 0xc000|uint16(owner))
		binary.BigEndian.PutUint16(b[2:], dns.TypeNS)
		binary.BigEndian.PutUint16(b[4:], class)
		binary.BigEndian.PutUint32(b[6:], ttl)
		start := w.n
		w.n += 12
		t := nsTarget{off: uint16(w.n)}
		lower, ok := c.name(w, rd)
		if !ok {
			return false
		}
		binary.BigEndian.PutUint16(w.b[start+10:], uint16(w.n-start-12))
		p, ok := presentation(lower, sc.pres[:0])
		if !ok {
			return false
		}
		gz, gpos := f.z.Locate(unsafeString(p))
		t.z, t.pos = gz, int32(gpos)
		t.in = len(lower) >= len(cut) && string(lower[len(lower)-len(cut):]) == string(cut) &&
			(len(lower) == len(cut) || labelEndsAt(lower, len(lower)-len(cut)))
		targets = append(targets, t)
	}
	a.ns = uint16(end - first)
	if do {
		if n, ok := w.signed(z, pos, owner, dns.TypeDS, true); !ok {
			return false
		} else if n > 0 {
			a.ns += uint16(n)
		} else if f.signed {
			n, ok := w.signed(z, pos, owner, dns.TypeNSEC, true)
			if !ok {
				return false
			}
			a.ns += uint16(n)
		}
	}
	for _, in := range [2]bool{true, false} {
		for _, t := range [2]uint16{dns.TypeA, dns.TypeAAAA} {
			for _, g := range targets {
				if g.in != in || g.z == nil {
					continue
				}
				n, ok := w.rrset(g.z, int(g.pos), int(g.off), t)
				if !ok {
					return false
				}
				a.ar += uint16(n)
			}
		}
	}
	return true
}

// labelEndsAt reports whether offset i of a wire-format name is the start
// of a label.
func labelEndsAt(name []byte, i int) bool {
	for p := 0; p < len(name) && name[p] != 0; p += 1 + int(name[p]) {
		if p == i {
			return true
		}
		if p > i {
			return false
		}
	}
	return false
}

// dsAnswer composes the answer to a DS query at the delegation point at
// zone position pos (the query name): the DS RRset with AA, or NODATA
// with the negative SOA and, with DO in a signed zone, the NSEC at the
// delegation point.
func (f *fastZone) dsAnswer(w *fastWriter, z *zone.Zone, pos, owner, nl int, do bool, sc *fastScratch, a *fastAnswer) bool {
	*a = fastAnswer{bits: 0x0400}
	n, ok := w.signed(z, pos, owner, dns.TypeDS, do)
	if !ok {
		return false
	}
	if n > 0 {
		a.an = uint16(n)
		return true
	}
	soa := f.soaNeg[b2i(do)]
	sc.refs[0] = soa
	if !f.writeSpans(w, sc.refs[:1], nl, sc) {
		return false
	}
	a.ns = uint16(f.spans[soa].rrs)
	if do && f.signed {
		n, ok := w.signed(z, pos, owner, dns.TypeNSEC, true)
		if !ok {
			return false
		}
		a.ns += uint16(n)
	}
	return true
}

// nxdomainAnswer composes the NXDOMAIN answer for a name below the apex
// whose closest encloser is the apex, as the chain's lookup does: the
// negative SOA and, with DO in a signed zone, the NSEC covering the name
// and the one covering the wildcard at the apex.
func (f *fastZone) nxdomainAnswer(w *fastWriter, name []byte, nl int, do bool, sc *fastScratch, a *fastAnswer) bool {
	*a = fastAnswer{bits: 0x0400 | 3}
	soa := f.soaNeg[b2i(do)]
	sc.refs[0] = soa
	if !f.writeSpans(w, sc.refs[:1], nl, sc) {
		return false
	}
	a.ns = uint16(f.spans[soa].rrs)
	if !do || !f.signed {
		return true
	}
	key, ok := canonicalWireKey(name, sc.key[:0])
	if !ok {
		return false
	}
	cover := f.ix.coverName(unsafeString(key))
	// The origin in the question, for the owners' last labels.
	origin := 12 + nl - len(f.origin)
	for i, nsecName := range [2]string{cover, f.wildCover} {
		if nsecName == "" || (i == 1 && nsecName == cover) {
			continue
		}
		zz, pos := f.z.Locate(nsecName)
		if zz == nil {
			continue
		}
		if first, end := zz.Span(pos, dns.TypeNSEC); first == end {
			continue
		}
		owner := w.n
		if !w.owner(nsecName, len(f.z.Origin), origin) {
			return false
		}
		n, ok := w.named(zz, pos, owner, dns.TypeNSEC)
		if !ok {
			return false
		}
		a.ns += uint16(n)
	}
	return true
}

// owner appends a name in presentation format (lower case, in the zone
// whose origin is the last olen octets) in wire format: its labels, then a
// pointer to the origin at offset origin in the response (or the root
// label).
func (w *fastWriter) owner(name string, olen, origin int) bool {
	if name == "." || len(name) == olen {
		if olen == 1 { // the root
			if w.n+1 > len(w.b) {
				return false
			}
			w.b[w.n] = 0
			w.n++
			return true
		}
		if w.n+2 > len(w.b) {
			return false
		}
		binary.BigEndian.PutUint16(w.b[w.n:], 0xc000|uint16(origin))
		w.n += 2
		return true
	}
	labels := name[:len(name)-olen] // "a.b." before the origin
	if olen == 1 {
		labels = name
	}
	if w.n+len(labels)+2 > len(w.b) {
		return false
	}
	b := w.b[w.n:]
	i := 0
	for start := 0; start < len(labels); {
		end := start
		for end < len(labels) && labels[end] != '.' {
			c := labels[end]
			if !plainByte(c) {
				return false
			}
			end++
		}
		if end == start || end-start > 63 {
			return false
		}
		b[i] = byte(end - start)
		copy(b[i+1:], labels[start:end])
		i += 1 + end - start
		start = end + 1
	}
	if olen == 1 {
		b[i] = 0
		i++
	} else {
		binary.BigEndian.PutUint16(b[i:], 0xc000|uint16(origin))
		i += 2
	}
	w.n += i
	return true
}

// named appends the RRset of type t at zone position pos and its
// signatures after their owner name, just written at offset owner: the
// first record takes that name, the others point to it.
func (w *fastWriter) named(z *zone.Zone, pos, owner int, t uint16) (int, bool) {
	start := w.n
	n, ok := w.signed(z, pos, owner, t, true)
	if !ok || n == 0 {
		return 0, false
	}
	// The first record was written with a pointer to its own name.
	copy(w.b[start:], w.b[start+2:w.n])
	w.n -= 2
	return n, true
}

func plainByte(c byte) bool {
	return 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_'
}

// presentation appends a lower-case wire-format name in presentation
// format, or reports false for a name with octets other than letters,
// digits, '-' and '_'.
func presentation(name []byte, buf []byte) ([]byte, bool) {
	for p := 0; p < len(name); {
		l := int(name[p])
		if l == 0 {
			break
		}
		if l > 63 || p+1+l > len(name) {
			return nil, false
		}
		for _, c := range name[p+1 : p+1+l] {
			if !plainByte(c) {
				return nil, false
			}
		}
		buf = append(buf, name[p+1:p+1+l]...)
		buf = append(buf, '.')
		p += 1 + l
	}
	if len(buf) == 0 {
		buf = append(buf, '.')
	}
	return buf, true
}

func unsafeString(b []byte) string {
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// compressor compresses the target names of a referral's NS records
// against the query name and each other, case-insensitively.
type compressor struct {
	gen   uint32
	count int
	q     []byte // the query name, lower case
	slots [128]compSlot
	lower [4096]byte // lower-case copies of the names written
	used  int
	st    [128]uint8  // label starts of a name
	hs    [128]uint32 // hashes of its suffixes
}

type compSlot struct {
	gen  uint32
	hash uint32
	off  uint16 // offset of the suffix in the response
	at   uint16 // offset of its lower-case form: in lower, or in q if inQ
	n    uint8  // its length
	inQ  bool
}

// reset empties the table and enters the suffixes of the query name q
// (lower case, at offset 12 of the response) from offset from on.
func (c *compressor) reset(q []byte, from int) {
	c.gen++
	if c.gen == 0 {
		c.slots = [128]compSlot{}
		c.gen = 1
	}
	c.used, c.count, c.q = 0, 0, q
	st, hs := c.st[:], c.hs[:]
	k := 0
	for p := from; p < len(q) && q[p] != 0 && k < len(st); p += 1 + int(q[p]) {
		st[k] = uint8(p)
		k++
	}
	suffixHashes(q, st[:k], hs[:k])
	for i := range k {
		c.add(compSlot{hash: hs[i], off: uint16(12 + int(st[i])), at: uint16(st[i]), n: uint8(len(q) - int(st[i])), inQ: true})
	}
}

func (c *compressor) add(e compSlot) {
	if c.count >= len(c.slots)*3/4 {
		return
	}
	e.gen = c.gen
	for s := e.hash & 127; ; s = (s + 1) & 127 {
		sl := &c.slots[s]
		if sl.gen != c.gen {
			*sl = e
			c.count++
			return
		}
		if sl.hash == e.hash && sl.n == e.n {
			return // the first one stays
		}
	}
}

// suffixHashes sets hs[i] to a hash of the name's suffix from st[i] (label
// starts, in order), ending in the root label. It looks at each label's
// length and three of its octets: the hash only picks candidates, which
// find compares in full.
func suffixHashes(name []byte, st []uint8, hs []uint32) {
	h := uint32(2166136261)
	for i := len(st) - 1; i >= 0; i-- {
		p := int(st[i])
		l := int(name[p])
		x := uint32(l)<<24 | uint32(name[p+1])<<16 | uint32(name[p+1+l/2])<<8 | uint32(name[p+l])
		h = (h ^ x) * 0x9e3779b1
		h ^= h >> 15
		hs[i] = h
	}
}

// name appends the wire-format name at the start of rd (uncompressed, any
// case), compressed against the names entered, enters its suffixes, and
// returns its lower-case form.
func (c *compressor) name(w *fastWriter, rd []byte) ([]byte, bool) {
	// The name's length and labels.
	st, hs := c.st[:], c.hs[:]
	k := 0
	p := 0
	for {
		if p >= len(rd) || k == len(st) {
			return nil, false
		}
		l := int(rd[p])
		if l == 0 {
			break
		}
		if l > 63 {
			return nil, false
		}
		st[k] = uint8(p)
		k++
		p += 1 + l
	}
	n := p + 1
	if n > len(rd) || c.used+n > len(c.lower) {
		return nil, false
	}
	lower := c.lower[c.used : c.used+n]
	for i, b := range rd[:n] {
		if 'A' <= b && b <= 'Z' {
			b += 'a' - 'A'
		}
		lower[i] = b
	}
	suffixHashes(lower, st[:k], hs[:k])
	// The longest suffix already in the response.
	cut, ptr := k, -1
	for i := range k {
		if off, ok := c.find(hs[i], lower[st[i]:]); ok {
			cut, ptr = i, off
			break
		}
	}
	end := n // the octets written as they are
	size := n
	if ptr >= 0 {
		end = int(st[cut])
		size = end + 2
	}
	if w.n+size > len(w.b) {
		return nil, false
	}
	copy(w.b[w.n:], rd[:end])
	if ptr >= 0 {
		binary.BigEndian.PutUint16(w.b[w.n+end:], 0xc000|uint16(ptr))
	}
	for i := range cut {
		c.add(compSlot{hash: hs[i], off: uint16(w.n + int(st[i])), at: uint16(c.used + int(st[i])), n: uint8(n - int(st[i]))})
	}
	w.n += size
	c.used += n
	return lower, true
}

// find returns the response offset of a suffix entered before.
func (c *compressor) find(h uint32, suffix []byte) (int, bool) {
	for s := h & 127; ; s = (s + 1) & 127 {
		sl := &c.slots[s]
		if sl.gen != c.gen {
			return 0, false
		}
		if sl.hash != h || int(sl.n) != len(suffix) {
			continue
		}
		src := c.lower[:]
		if sl.inQ {
			src = c.q
		}
		if string(src[sl.at:int(sl.at)+int(sl.n)]) == string(suffix) {
			return int(sl.off), true
		}
	}
}

// canonicalWireKey appends the canonical key (see index) of a lower-case
// wire-format name to buf.
func canonicalWireKey(name []byte, buf []byte) ([]byte, bool) {
	var starts [128]int
	n := 0
	for p := 0; p < len(name) && name[p] != 0; p += 1 + int(name[p]) {
		if n == len(starts) {
			return nil, false
		}
		starts[n] = p
		n++
	}
	for i := n - 1; i >= 0; i-- {
		p := starts[i]
		for _, c := range name[p+1 : p+1+int(name[p])] {
			switch c {
			case 0:
				buf = append(buf, 1, 1)
			case 1:
				buf = append(buf, 1, 2)
			default:
				buf = append(buf, c)
			}
		}
		buf = append(buf, 0)
	}
	return buf, true
}

// answerFast answers a UDP query from the fast path into out and returns
// the response's length, or 0 when the handler chain must answer.
func (s *Server) answerFast(req, out []byte, sc *fastScratch) int {
	f := s.snap.Load().fast
	if f == nil {
		return 0
	}
	n, rcode, qtype := f.respond(req, out, int(s.cfg.UDPSize), sc)
	if n > 0 {
		s.metrics.count(qtype, rcode)
	}
	return n
}
