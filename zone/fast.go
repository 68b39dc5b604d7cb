package zone

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"time"

	"github.com/miekg/dns"
)

// This file reads the zone files that signers and servers write, one
// record per line with absolute names and explicit TTL and class (as Write
// writes them), without making a dns.RR per record: each line's RDATA goes
// straight into the Builder's wire-format arena. Records of types it does
// not know are read by miekg/dns one line at a time. A line in any other
// form (a directive, parentheses, quotes, comments, escapes, relative or
// omitted owner names) makes it give up, and Load reads the whole file
// again with miekg/dns's zone parser. Both readers give the same records:
// FuzzLoad compares them.

// errNotSimple means the file is not in the one-record-per-line form.
var errNotSimple = errors.New("zone: not a one-record-per-line file")

// loadSimple reads a file in the one-record-per-line form into a zone
// version, or returns errNotSimple.
func loadSimple(r io.Reader, file string) (*Zone, error) {
	br := bufio.NewReaderSize(r, 1<<20)
	var b *Builder
	var pre [][]byte // lines before the SOA
	lineNo := 0
	var rdata []byte
	for {
		line, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			return nil, errNotSimple
		}
		if len(line) == 0 && err != nil {
			if err == io.EOF {
				break
			}
			return nil, err
		}
		lineNo++
		line = bytes.TrimRight(line, "\r\n")
		if len(bytes.TrimSpace(line)) == 0 {
			if err == io.EOF {
				break
			}
			continue
		}
		if special, quoted := scanLine(line); special || quoted || line[0] == ' ' || line[0] == '\t' {
			return nil, errNotSimple
		}
		var f [24][]byte
		fields := splitFields(line, f[:0])
		if len(fields) < 5 || !bytes.Equal(fields[2], []byte("IN")) {
			return nil, errNotSimple
		}
		owner := fields[0]
		if owner[len(owner)-1] != '.' || !plainBytes(owner) {
			return nil, errNotSimple
		}
		ttl, perr := strconv.ParseUint(string(fields[1]), 10, 32)
		if perr != nil {
			return nil, errNotSimple
		}
		typ, ok := dns.StringToType[string(fields[3])]
		if !ok {
			return nil, errNotSimple
		}
		if b == nil {
			if typ != dns.TypeSOA {
				pre = append(pre, bytes.Clone(line))
				if err == io.EOF {
					break
				}
				continue
			}
			b = NewBuilder(string(owner))
			for _, p := range pre {
				if aerr := addLine(b, file, 0, p, string(p)); aerr != nil {
					return nil, aerr
				}
			}
			pre = nil
		}
		var ok2 bool
		rdata, ok2 = packRdata(rdata[:0], typ, fields[4:])
		if ok2 {
			if aerr := b.addRdataBytes(owner, typ, dns.ClassINET, uint32(ttl), rdata); aerr != nil {
				return nil, fmt.Errorf("%s:%d: %w", file, lineNo, aerr)
			}
		} else if aerr := addLine(b, file, lineNo, line, ""); aerr != nil {
			return nil, aerr
		}
		if err == io.EOF {
			break
		}
	}
	if b == nil {
		return nil, errNotSimple
	}
	z, err := b.Zone()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return z, nil
}

// addLine reads one line with miekg/dns and adds its record.
func addLine(b *Builder, file string, lineNo int, line []byte, s string) error {
	if s == "" {
		s = string(line)
	}
	rr, err := dns.NewRR(s)
	if err != nil || rr == nil || empty(rr) {
		return errNotSimple // the full parser gives the error, with its line
	}
	if err := b.Add(rr); err != nil {
		return fmt.Errorf("%s:%d: %w", file, lineNo, err)
	}
	return nil
}

// splitFields splits a line at blanks.
func splitFields(line []byte, out [][]byte) [][]byte {
	i := 0
	for i < len(line) {
		for i < len(line) && (line[i] == ' ' || line[i] == '\t') {
			i++
		}
		start := i
		for i < len(line) && line[i] != ' ' && line[i] != '\t' {
			i++
		}
		if i > start {
			out = append(out, line[start:i])
		}
	}
	return out
}

// plainBytes reports whether a name has only letters, digits, '-', '_'
// and '*' in non-empty labels (or is the root).
func plainBytes(name []byte) bool {
	if len(name) == 1 && name[0] == '.' {
		return true
	}
	if len(name) > 254 {
		return false
	}
	label := 0
	for _, c := range name {
		switch {
		case c == '.':
			if label == 0 {
				return false
			}
			label = 0
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_', c == '*':
			if label++; label > 63 {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// appendName appends a plain absolute name in wire form.
func appendName(out, name []byte) ([]byte, bool) {
	if len(name) == 0 || name[len(name)-1] != '.' || !plainBytes(name) {
		return out, false
	}
	if len(name) == 1 {
		return append(out, 0), true
	}
	start := 0
	for i, c := range name {
		if c == '.' {
			out = append(out, byte(i-start))
			out = append(out, name[start:i]...)
			start = i + 1
		}
	}
	return append(out, 0), true
}

func atoi(f []byte, bits int) (uint64, bool) {
	if len(f) == 0 || len(f) > 10 {
		return 0, false
	}
	for _, c := range f {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	v, err := strconv.ParseUint(string(f), 10, bits)
	return v, err == nil
}

// packRdata appends the wire form of the RDATA of the types it knows, or
// reports false (for another type, or for anything it does not read
// exactly as miekg/dns does).
func packRdata(out []byte, typ uint16, f [][]byte) ([]byte, bool) {
	switch typ {
	case dns.TypeNS:
		if len(f) != 1 {
			return out, false
		}
		return appendName(out, f[0])
	case dns.TypeA:
		if len(f) != 1 {
			return out, false
		}
		a, err := netip.ParseAddr(string(f[0]))
		if err != nil || !a.Is4() {
			return out, false
		}
		b := a.As4()
		return append(out, b[:]...), true
	case dns.TypeAAAA:
		if len(f) != 1 || bytes.IndexByte(f[0], '.') >= 0 {
			return out, false
		}
		a, err := netip.ParseAddr(string(f[0]))
		if err != nil || !a.Is6() || a.Zone() != "" {
			return out, false
		}
		b := a.As16()
		return append(out, b[:]...), true
	case dns.TypeDS:
		if len(f) < 4 {
			return out, false
		}
		tag, ok1 := atoi(f[0], 16)
		alg, ok2 := atoi(f[1], 8)
		dt, ok3 := atoi(f[2], 8)
		if !ok1 || !ok2 || !ok3 {
			return out, false
		}
		out = binary.BigEndian.AppendUint16(out, uint16(tag))
		out = append(out, byte(alg), byte(dt))
		for _, h := range f[3:] {
			if len(h)%2 != 0 {
				return out, false
			}
			n := len(out)
			out = append(out, make([]byte, len(h)/2)...)
			if _, err := hex.Decode(out[n:], h); err != nil {
				return out, false
			}
		}
		return out, true
	case dns.TypeNSEC:
		if len(f) < 1 {
			return out, false
		}
		out, ok := appendName(out, f[0])
		if !ok {
			return out, false
		}
		var types []uint16
		for _, t := range f[1:] {
			v, ok := dns.StringToType[string(t)]
			if !ok {
				return out, false
			}
			types = append(types, v)
		}
		return appendBitmap(out, types)
	case dns.TypeRRSIG:
		if len(f) < 9 {
			return out, false
		}
		covered, ok := dns.StringToType[string(f[0])]
		alg, ok2 := atoi(f[1], 8)
		labels, ok3 := atoi(f[2], 8)
		ottl, ok4 := atoi(f[3], 32)
		exp, ok5 := rrsigTime(f[4])
		inc, ok6 := rrsigTime(f[5])
		tag, ok7 := atoi(f[6], 16)
		if !ok || !ok2 || !ok3 || !ok4 || !ok5 || !ok6 || !ok7 {
			return out, false
		}
		out = binary.BigEndian.AppendUint16(out, covered)
		out = append(out, byte(alg), byte(labels))
		out = binary.BigEndian.AppendUint32(out, uint32(ottl))
		out = binary.BigEndian.AppendUint32(out, exp)
		out = binary.BigEndian.AppendUint32(out, inc)
		out = binary.BigEndian.AppendUint16(out, uint16(tag))
		if out, ok = appendName(out, f[7]); !ok {
			return out, false
		}
		return appendBase64(out, f[8:])
	case dns.TypeDNSKEY:
		if len(f) < 4 {
			return out, false
		}
		flags, ok1 := atoi(f[0], 16)
		proto, ok2 := atoi(f[1], 8)
		alg, ok3 := atoi(f[2], 8)
		if !ok1 || !ok2 || !ok3 {
			return out, false
		}
		out = binary.BigEndian.AppendUint16(out, uint16(flags))
		out = append(out, byte(proto), byte(alg))
		return appendBase64(out, f[3:])
	}
	return out, false
}

// rrsigTime reads an RRSIG time as YYYYMMDDHHmmSS, as time.Parse with
// that layout does.
func rrsigTime(f []byte) (uint32, bool) {
	if len(f) != 14 {
		return 0, false
	}
	var v [14]int
	for i, c := range f {
		if c < '0' || c > '9' {
			return 0, false
		}
		v[i] = int(c - '0')
	}
	year := v[0]*1000 + v[1]*100 + v[2]*10 + v[3]
	month := v[4]*10 + v[5]
	day := v[6]*10 + v[7]
	hour, min, sec := v[8]*10+v[9], v[10]*10+v[11], v[12]*10+v[13]
	if month < 1 || month > 12 || day < 1 || day > daysIn(month, year) || hour > 23 || min > 59 || sec > 59 {
		return 0, false
	}
	t := time.Date(year, time.Month(month), day, hour, min, sec, 0, time.UTC).Unix()
	if t < 0 || t >= 1<<31 {
		return 0, false
	}
	return uint32(t), true // RFC 4034 §3.2: modulo 2^32
}

// daysIn returns the days of a month of the Gregorian calendar.
func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// appendBase64 appends the decoded concatenation of base64 fields.
func appendBase64(out []byte, f [][]byte) ([]byte, bool) {
	var s []byte
	if len(f) == 1 {
		s = f[0]
	} else {
		s = bytes.Join(f, nil)
	}
	n := len(out)
	out = append(out, make([]byte, base64.StdEncoding.DecodedLen(len(s)))...)
	m, err := base64.StdEncoding.Decode(out[n:], s)
	if err != nil || m == 0 {
		return out, false
	}
	return out[:n+m], true
}

// appendBitmap appends an NSEC type bitmap (RFC 4034 §4.1.2).
func appendBitmap(out []byte, types []uint16) ([]byte, bool) {
	if len(types) == 0 {
		return out, true
	}
	for i := 1; i < len(types); i++ {
		if types[i] <= types[i-1] {
			return out, false // miekg/dns keeps such lists as written
		}
	}
	for i := 0; i < len(types); {
		win := types[i] >> 8
		var bits [32]byte
		n := 0
		for ; i < len(types) && types[i]>>8 == win; i++ {
			lo := types[i] & 0xff
			bits[lo/8] |= 0x80 >> (lo % 8)
			n = int(lo/8) + 1
		}
		out = append(out, byte(win), byte(n))
		out = append(out, bits[:n]...)
	}
	return out, true
}
