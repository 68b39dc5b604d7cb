package zone

import (
	"encoding/base64"
	"encoding/binary"
	"net"
	"strconv"

	"github.com/miekg/dns"
)

// appendText appends a record in presentation format as miekg/dns's
// String gives it, straight from its wire form (d: TTL, class, RDATA
// length, RDATA), for the types a signed delegation-only zone is made of.
// It reports false, having appended nothing, for anything else: another
// type or class, a name that would need escapes, RDATA that does not read;
// the caller then decodes the record.
func appendText(b []byte, owner string, typ uint16, d []byte, tc *TextTimes) ([]byte, bool) {
	n := int(binary.BigEndian.Uint16(d[6:]))
	return AppendText(b, owner, typ, binary.BigEndian.Uint16(d[4:]), binary.BigEndian.Uint32(d), d[recHeader:recHeader+n], tc)
}

// AppendText appends a record, given its owner, type, class, TTL and RDATA
// in uncompressed wire form, in presentation format as miekg/dns's String
// gives it, for the types a signed delegation-only zone is made of (NS, A,
// AAAA, DS, DNSKEY, RRSIG, NSEC). It reports false, having appended
// nothing, for anything else: another type or class, a name that would
// need escapes, RDATA that does not read; the caller then decodes the
// record. tc remembers RRSIG times between calls of one goroutine.
func AppendText(b []byte, owner string, typ, class uint16, ttl uint32, rd []byte, tc *TextTimes) ([]byte, bool) {
	start := len(b)
	fail := func() ([]byte, bool) { return b[:start], false }
	if !plainText(owner) || class != dns.ClassINET {
		return fail()
	}
	b = append(b, owner...)
	b = append(b, '\t')
	b = strconv.AppendUint(b, uint64(ttl), 10)
	b = append(b, "\tIN\t"...)
	b = append(b, dns.Type(typ).String()...)
	b = append(b, '\t')
	var ok bool
	switch typ {
	case dns.TypeNS:
		var rest []byte
		b, rest, ok = appendWireName(b, rd)
		ok = ok && len(rest) == 0
	case dns.TypeA:
		if ok = len(rd) == net.IPv4len; ok {
			b = append(b, net.IP(rd).String()...)
		}
	case dns.TypeAAAA:
		if ok = len(rd) == net.IPv6len; ok {
			ip := net.IP(rd)
			if ip.To4() != nil {
				b = append(b, "::ffff:"...)
			}
			b = append(b, ip.String()...)
		}
	case dns.TypeDS:
		if ok = len(rd) > 4; ok {
			b = strconv.AppendUint(b, uint64(binary.BigEndian.Uint16(rd)), 10)
			b = append(b, ' ')
			b = strconv.AppendUint(b, uint64(rd[2]), 10)
			b = append(b, ' ')
			b = strconv.AppendUint(b, uint64(rd[3]), 10)
			b = append(b, ' ')
			b = appendHexUpper(b, rd[4:])
		}
	case dns.TypeDNSKEY:
		if ok = len(rd) > 4; ok {
			b = strconv.AppendUint(b, uint64(binary.BigEndian.Uint16(rd)), 10)
			b = append(b, ' ')
			b = strconv.AppendUint(b, uint64(rd[2]), 10)
			b = append(b, ' ')
			b = strconv.AppendUint(b, uint64(rd[3]), 10)
			b = append(b, ' ')
			b = base64.StdEncoding.AppendEncode(b, rd[4:])
		}
	case dns.TypeRRSIG:
		if len(rd) < 19 {
			return fail()
		}
		b = append(b, dns.Type(binary.BigEndian.Uint16(rd)).String()...)
		b = append(b, ' ')
		b = strconv.AppendUint(b, uint64(rd[2]), 10)
		b = append(b, ' ')
		b = strconv.AppendUint(b, uint64(rd[3]), 10)
		b = append(b, ' ')
		b = strconv.AppendUint(b, uint64(binary.BigEndian.Uint32(rd[4:])), 10)
		b = append(b, ' ')
		b = tc.append(b, binary.BigEndian.Uint32(rd[8:]))
		b = append(b, ' ')
		b = tc.append(b, binary.BigEndian.Uint32(rd[12:]))
		b = append(b, ' ')
		b = strconv.AppendUint(b, uint64(binary.BigEndian.Uint16(rd[16:])), 10)
		b = append(b, ' ')
		var sig []byte
		if b, sig, ok = appendWireName(b, rd[18:]); ok && len(sig) > 0 {
			b = append(b, ' ')
			b = base64.StdEncoding.AppendEncode(b, sig)
		} else {
			ok = false
		}
	case dns.TypeNSEC:
		var bitmap []byte
		if b, bitmap, ok = appendWireName(b, rd); ok {
			b, ok = appendBitmapText(b, bitmap)
		}
	}
	if !ok {
		return fail()
	}
	return b, true
}

// TextTimes remembers the text of the last two RRSIG times written, which
// most signatures of a zone share.
type TextTimes struct {
	t    [2]uint32
	s    [2]string
	next int
}

func (c *TextTimes) append(b []byte, t uint32) []byte {
	for i := range c.t {
		if c.s[i] != "" && c.t[i] == t {
			return append(b, c.s[i]...)
		}
	}
	s := dns.TimeToString(t)
	c.t[c.next], c.s[c.next] = t, s
	c.next = 1 - c.next
	return append(b, s...)
}

// plainText reports whether a name in presentation format prints as it
// is: letters, digits, '-', '_' and '*' in labels, or the root.
func plainText(name string) bool {
	return name == "." || len(name) > 0 && name[len(name)-1] == '.' && plainLabels(name, true)
}

// appendWireName appends the uncompressed wire-format name at the start
// of rd in presentation format and returns the octets after it; false for
// a name that would need escapes or does not read.
func appendWireName(b, rd []byte) ([]byte, []byte, bool) {
	p := 0
	for {
		if p >= len(rd) {
			return b, nil, false
		}
		l := int(rd[p])
		if l == 0 {
			break
		}
		if l > 63 || p+1+l > len(rd) {
			return b, nil, false
		}
		for _, c := range rd[p+1 : p+1+l] {
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '*') {
				return b, nil, false
			}
		}
		b = append(b, rd[p+1:p+1+l]...)
		b = append(b, '.')
		p += 1 + l
	}
	if p == 0 {
		b = append(b, '.')
	}
	return b, rd[p+1:], true
}

// appendHexUpper appends octets in upper-case hexadecimal.
func appendHexUpper(b, x []byte) []byte {
	const digits = "0123456789ABCDEF"
	for _, c := range x {
		b = append(b, digits[c>>4], digits[c&0xf])
	}
	return b
}

// appendBitmapText appends the types of an NSEC type bitmap (RFC 4034
// §4.1.2), each after a space; false for a bitmap miekg/dns would not
// read the same way.
func appendBitmapText(b, bm []byte) ([]byte, bool) {
	last := -1
	for len(bm) > 0 {
		if len(bm) < 2 {
			return b, false
		}
		win, n := int(bm[0]), int(bm[1])
		if n == 0 || n > 32 || len(bm) < 2+n || win <= last {
			return b, false
		}
		last = win
		for i, c := range bm[2 : 2+n] {
			for bit := 0; bit < 8; bit++ {
				if c&(0x80>>bit) != 0 {
					b = append(b, ' ')
					b = append(b, dns.Type(uint16(win<<8|i*8+bit)).String()...)
				}
			}
		}
		bm = bm[2+n:]
	}
	return b, true
}
