package dnsserver

import (
	"encoding/binary"
)

// fastScratch is one worker's reusable state for respond.
type fastScratch struct {
	name   [256]byte // the query name, lower case
	labels [128]uint8
	key    [512]byte
	refs   [8]uint32
	placed [8]uint32 // response offset of each of refs
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

	// The longest suffix of the name in the table.
	var nd *fastNode
	k := 0
	for ; k < nlabels; k++ {
		if x, ok := f.lookupNode(name[sc.labels[k]:]); ok {
			nd = x
			break
		}
	}
	if nd == nil {
		return 0, 0, 0 // outside the zone
	}
	di := 0
	if do {
		di = 1
	}
	var a *fastAnswer
	var nxdomain fastAnswer
	switch nd.kind {
	case nodeCut:
		i := ansRef + di
		if k == 0 && qtype == 43 { // DS
			i = ansDS + di
		}
		if nd.ans[i] == noIndex {
			return 0, 0, 0
		}
		a = &f.answrs[nd.ans[i]]
	case nodeApex:
		if k > 0 {
			if !f.nxdomain || !f.nxdomainAnswer(name, sc, do, &nxdomain) {
				return 0, 0, 0
			}
			a = &nxdomain
			break
		}
		ai := f.apexOther[di]
		for _, at := range f.apexTypes {
			if at.qtype == qtype {
				ai = at.ans[di]
				break
			}
		}
		if ai == noIndex {
			return 0, 0, 0
		}
		a = &f.answrs[ai]
	default:
		return 0, 0, 0
	}
	refs := sc.refs[:0]
	if a != &nxdomain {
		if int(a.nref) > len(sc.refs) {
			return 0, 0, 0
		}
		refs = append(refs, f.refs[a.ref0:a.ref0+a.nref]...)
	} else {
		refs = sc.refs[:a.nref]
	}

	// Header, question, spans, OPT.
	total := qend // header and question as in the query
	for _, r := range refs {
		total += int(f.spans[r].n)
	}
	if edns {
		total += 11
	}
	if total > size || total > len(out) || total >= 0x3fff {
		return 0, 0, 0
	}
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
	pos := qend
	for i, r := range refs {
		sc.placed[i] = uint32(pos)
		s := &f.spans[r]
		copy(out[pos:], f.arena[s.off:s.off+uint32(s.n)])
		pos += int(s.n)
	}
	// Move the compression pointers.
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
					return 0, 0, 0
				}
			}
			binary.BigEndian.PutUint16(out[sc.placed[i]+fx-s.off:], 0xc000|uint16(nv))
		}
	}
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

// nxdomainAnswer composes the NXDOMAIN answer for a name below the apex
// that does not exist, as the chain's lookup does: the negative SOA and,
// with DO in a signed zone, the NSEC covering the name and the one
// covering the wildcard at the apex. The spans go to sc.refs.
func (f *fastZone) nxdomainAnswer(name []byte, sc *fastScratch, do bool, a *fastAnswer) bool {
	*a = fastAnswer{bits: 0x0400 | 3}
	soa := f.soaNeg[0]
	if do {
		soa = f.soaNeg[1]
	}
	sc.refs[0] = soa
	a.ns = uint16(f.spans[soa].rrs)
	a.nref = 1
	if !do || !f.signed {
		return true
	}
	key, ok := canonicalWireKey(name, sc.key[:0])
	if !ok {
		return false
	}
	keys := f.ix.keys
	lo, hi := 0, len(keys)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if keys[m] < string(key) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	cover := lo - 1
	if cover < 0 {
		cover = len(keys) - 1
	}
	for _, c := range [2]uint32{uint32(cover), f.wildCover} {
		if c == noIndex || f.nsec[c] == noIndex {
			continue
		}
		if a.nref == 2 && sc.refs[1] == f.nsec[c] {
			continue
		}
		sc.refs[a.nref] = f.nsec[c]
		a.ns += uint16(f.spans[f.nsec[c]].rrs)
		a.nref++
	}
	return true
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
