package dnssec

import (
	"bufio"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"net/netip"
	"runtime"
	"strconv"
	"time"

	"github.com/miekg/dns"

	"steward/zone"
)

// SignZoneTo is SignZone writing the signed zone to w in presentation
// format, one record per line, in the order and the form zone.Zone.Write
// writes the zone SignZone returns, without ever holding that zone: the
// text is made from the signer's own wire forms by up to GOMAXPROCS
// goroutines, a run of names each, and written in order. For a large zone
// it is faster and needs less memory than SignZone and Write.
func SignZoneTo(w io.Writer, unsigned *zone.Zone, keys SigningKeys, p Policy, now time.Time) (Stats, error) {
	s := NewSigner(unsigned.Origin, p)
	s.once = true
	var owners []*owner
	var origin string
	st, err := s.signWith(keys, now, func(o string) ([]*owner, *dns.SOA, error) {
		origin = o
		var soa *dns.SOA
		var err error
		owners, soa, err = collectZone(o, unsigned)
		return owners, soa, err
	})
	if err != nil {
		return st, err
	}
	if err := writeOwners(w, owners); err != nil {
		return st, fmt.Errorf("sign %s: %w", origin, err)
	}
	return st, nil
}

// signWith is updateFrom up to the signing: it checks the time and the
// policy, gathers the records and signs them, leaving the result in the
// owners gather returned.
func (s *Signer) signWith(keys SigningKeys, now time.Time, gather func(origin string) ([]*owner, *dns.SOA, error)) (Stats, error) {
	if now.IsZero() {
		return Stats{}, fmt.Errorf("sign: zero time")
	}
	if err := s.policy.check(); err != nil {
		return Stats{}, err
	}
	origin, err := canonicalName(s.origin)
	if err != nil {
		return Stats{}, fmt.Errorf("sign: origin: %w", err)
	}
	owners, soa, err := gather(origin)
	if err != nil {
		return Stats{}, fmt.Errorf("sign %s: %w", origin, err)
	}
	return s.signOwners(origin, owners, soa, keys, now)
}

// writeOwners writes the signed owners as zone.Zone.Write writes a zone:
// the SOA first, then every owner's RRsets in type order, the RRSIGs of
// all its sets as the RRSIG RRset.
func writeOwners(w io.Writer, owners []*owner) error {
	const run = 4096 // owners per piece
	workers := runtime.GOMAXPROCS(0)
	type piece struct {
		buf  []byte
		done chan struct{}
	}
	// The pieces' buffers go round: a large zone's text is gigabytes,
	// which would otherwise all be garbage.
	free := make(chan []byte, 3*workers)
	queue := make(chan *piece, 2*workers)
	go func() {
		defer close(queue)
		sem := make(chan struct{}, workers)
		for lo := 0; lo < len(owners); lo += run {
			p := &piece{done: make(chan struct{})}
			sem <- struct{}{}
			var buf []byte
			select {
			case buf = <-free:
			default:
			}
			go func(lo int) {
				defer func() { <-sem }()
				defer close(p.done)
				t := textWriter{buf: buf[:0]}
				for i, o := range owners[lo:min(lo+run, len(owners))] {
					t.owner(o, lo+i == 0)
				}
				p.buf = t.buf
			}(lo)
			queue <- p
		}
	}()
	var err error
	for p := range queue {
		<-p.done
		if err == nil {
			_, err = w.Write(p.buf)
		}
		select {
		case free <- p.buf:
		default:
		}
	}
	if bw, ok := w.(*bufio.Writer); ok && err == nil {
		err = bw.Flush()
	}
	return err
}

// textWriter makes the presentation form of records in canonical wire
// form, as miekg/dns prints them, for one goroutine.
type textWriter struct {
	buf   []byte
	times [2]struct {
		t uint32
		s string
	}
}

// owner appends the records of an owner, the SOA first at the apex.
func (t *textWriter) owner(o *owner, apex bool) {
	if apex {
		if soa := o.set(dns.TypeSOA); soa != nil {
			t.set(o, soa)
		}
	}
	sigsDone := false
	for _, set := range o.sets {
		if !sigsDone && set.typ > dns.TypeRRSIG {
			t.sigs(o)
			sigsDone = true
		}
		if apex && set.typ == dns.TypeSOA {
			continue
		}
		t.set(o, set)
	}
	if !sigsDone {
		t.sigs(o)
	}
}

func (t *textWriter) set(o *owner, set *rrset) {
	for _, w := range set.wires {
		t.record(o.name, w)
	}
}

func (t *textWriter) sigs(o *owner) {
	for _, set := range o.sets {
		if set.signed {
			for _, k := range set.sigs {
				t.record(o.name, k.wire)
			}
		}
	}
}

// record appends one record and a newline.
func (t *textWriter) record(name string, w []byte) {
	off := rdataOffset(w)
	h := w[off-10 : off]
	typ := binary.BigEndian.Uint16(h)
	class := binary.BigEndian.Uint16(h[2:])
	ttl := binary.BigEndian.Uint32(h[4:])
	rd := w[off:]
	start := len(t.buf)
	if class == dns.ClassINET && isPlainCanonical(name) && t.fast(name, typ, ttl, rd) {
		t.buf = append(t.buf, '\n')
		return
	}
	t.buf = t.buf[:start]
	rr, _, err := dns.UnpackRRWithHeader(dns.RR_Header{Name: name, Rrtype: typ, Class: class, Ttl: ttl, Rdlength: uint16(len(rd))}, w, off)
	if err != nil || rr == nil {
		rr = &dns.RFC3597{Hdr: dns.RR_Header{Name: name, Rrtype: typ, Class: class, Ttl: ttl, Rdlength: uint16(len(rd))}, Rdata: hex.EncodeToString(rd)}
	}
	t.buf = append(t.buf, rr.String()...)
	t.buf = append(t.buf, '\n')
}

// fast appends the record's text for the types a large zone is made of,
// and reports false, leaving garbage to cut, for any other or any RDATA
// it does not print exactly as miekg/dns does.
func (t *textWriter) fast(name string, typ uint16, ttl uint32, rd []byte) bool {
	b := t.buf
	b = append(b, name...)
	b = append(b, '\t')
	b = strconv.AppendUint(b, uint64(ttl), 10)
	b = append(b, "\tIN\t"...)
	ok := true
	switch typ {
	case dns.TypeNS:
		b = append(b, "NS\t"...)
		var n int
		b, n, ok = appendPlainName(b, rd)
		ok = ok && n == len(rd)
	case dns.TypeA:
		if len(rd) != 4 {
			return false
		}
		b = append(b, "A\t"...)
		b = netip.AddrFrom4([4]byte(rd)).AppendTo(b)
	case dns.TypeAAAA:
		if len(rd) != 16 {
			return false
		}
		a := netip.AddrFrom16([16]byte(rd))
		if a.Is4In6() {
			return false
		}
		b = append(b, "AAAA\t"...)
		b = a.AppendTo(b)
	case dns.TypeDS:
		if len(rd) < 5 {
			return false
		}
		b = append(b, "DS\t"...)
		b = strconv.AppendUint(b, uint64(binary.BigEndian.Uint16(rd)), 10)
		b = append(b, ' ')
		b = strconv.AppendUint(b, uint64(rd[2]), 10)
		b = append(b, ' ')
		b = strconv.AppendUint(b, uint64(rd[3]), 10)
		b = append(b, ' ')
		b = appendUpperHex(b, rd[4:])
	case dns.TypeRRSIG:
		if len(rd) < 19 {
			return false
		}
		covered, known := dns.TypeToString[binary.BigEndian.Uint16(rd)]
		if !known {
			return false
		}
		b = append(b, "RRSIG\t"...)
		b = append(b, covered...)
		b = append(b, ' ')
		b = strconv.AppendUint(b, uint64(rd[2]), 10)
		b = append(b, ' ')
		b = strconv.AppendUint(b, uint64(rd[3]), 10)
		b = append(b, ' ')
		b = strconv.AppendUint(b, uint64(binary.BigEndian.Uint32(rd[4:])), 10)
		b = append(b, ' ')
		b = append(b, t.time(binary.BigEndian.Uint32(rd[8:]), 0)...)
		b = append(b, ' ')
		b = append(b, t.time(binary.BigEndian.Uint32(rd[12:]), 1)...)
		b = append(b, ' ')
		b = strconv.AppendUint(b, uint64(binary.BigEndian.Uint16(rd[16:])), 10)
		b = append(b, ' ')
		var n int
		b, n, ok = appendPlainName(b, rd[18:])
		if ok {
			b = append(b, ' ')
			b = base64.StdEncoding.AppendEncode(b, rd[18+n:])
		}
	case dns.TypeNSEC:
		b = append(b, "NSEC\t"...)
		var n int
		b, n, ok = appendPlainName(b, rd)
		if ok {
			b, ok = appendBitmapText(b, rd[n:])
		}
	default:
		return false
	}
	t.buf = b
	return ok
}

// time returns an RRSIG time as miekg/dns prints it, remembering the last
// one in each of two slots (a zone's signatures share a few times).
func (t *textWriter) time(v uint32, slot int) string {
	c := &t.times[slot]
	if c.s == "" || c.t != v {
		c.t, c.s = v, dns.TimeToString(v)
	}
	return c.s
}

// appendPlainName appends an uncompressed wire-format name at the start of
// w as text, if its labels hold only lower-case letters, digits, '-' and
// '_' (which print as themselves), and returns the octets it took.
func appendPlainName(b, w []byte) ([]byte, int, bool) {
	i := 0
	for {
		if i >= len(w) {
			return b, 0, false
		}
		l := int(w[i])
		if l == 0 {
			if i == 0 {
				b = append(b, '.')
			}
			return b, i + 1, true
		}
		if l > 63 || i+1+l > len(w) {
			return b, 0, false
		}
		for _, c := range w[i+1 : i+1+l] {
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
				return b, 0, false
			}
		}
		b = append(b, w[i+1:i+1+l]...)
		b = append(b, '.')
		i += 1 + l
	}
}

// appendUpperHex appends v in upper-case hexadecimal.
func appendUpperHex(b, v []byte) []byte {
	const digits = "0123456789ABCDEF"
	for _, c := range v {
		b = append(b, digits[c>>4], digits[c&15])
	}
	return b
}

// appendBitmapText appends the types of an NSEC type bit map, each after
// a space, if every type has a name.
func appendBitmapText(b, m []byte) ([]byte, bool) {
	for len(m) > 0 {
		if len(m) < 2 || m[1] == 0 || m[1] > 32 || len(m) < 2+int(m[1]) {
			return b, false
		}
		window := int(m[0]) << 8
		for i, octet := range m[2 : 2+int(m[1])] {
			for bit := 0; bit < 8; bit++ {
				if octet&(0x80>>bit) != 0 {
					name, ok := dns.TypeToString[uint16(window+i*8+bit)]
					if !ok {
						return b, false
					}
					b = append(b, ' ')
					b = append(b, name...)
				}
			}
		}
		m = m[2+int(m[1]):]
	}
	return b, true
}
