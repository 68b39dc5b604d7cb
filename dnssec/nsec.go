package dnssec

import (
	"encoding/binary"
	"fmt"
	"slices"
	"strings"

	"github.com/miekg/dns"
)

// This file holds what the NSEC chain (RFC 4034 §4, RFC 4035 §2.3) needs:
// canonical names and their order (RFC 4034 §6.1), the classification of
// owner names against zone cuts, and the chain itself.

// canonicalName returns name in the canonical presentation form used
// throughout this package: fully qualified, every ASCII letter lower-cased,
// and escaped exactly as miekg/dns prints names read from the wire. Going
// through the wire form makes "A.example.", "a.example." and
// "\065.example." one name, and rejects names that cannot exist (labels over
// 63 octets, names over 255, empty labels).
func canonicalName(name string) (string, error) {
	if isPlainCanonical(name) {
		return name, nil
	}
	return canonicalNameWire(name)
}

// canonicalNameWire is canonicalName by way of the wire form, for any name.
func canonicalNameWire(name string) (string, error) {
	var buf [256]byte
	n, err := dns.PackDomainName(dns.Fqdn(name), buf[:], 0, nil, false)
	if err != nil {
		return "", fmt.Errorf("bad domain name %q: %w", name, err)
	}
	lowerWireName(buf[:n])
	out, _, err := dns.UnpackDomainName(buf[:n], 0)
	if err != nil {
		return "", fmt.Errorf("bad domain name %q: %w", name, err)
	}
	return out, nil
}

// isPlainCanonical reports whether name is a fully qualified name of
// lower-case letters, digits, '-', '_' and '*' only, with no empty or
// over-long label and at most 255 octets in wire form: a name that is
// already canonical and whose labels are their own wire octets. Most
// names are, and need no packing to check.
func isPlainCanonical(name string) bool {
	if name == "." {
		return true
	}
	if len(name) == 0 || len(name) > 254 || name[len(name)-1] != '.' {
		return false
	}
	label := 0
	for i := 0; i < len(name); i++ {
		switch c := name[i]; {
		case c == '.':
			if label == 0 {
				return false
			}
			label = 0
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '_', c == '*':
			if label++; label > 63 {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// lowerWireName lower-cases the ASCII letters of an uncompressed wire-format
// name in place. Length octets are at most 63, below 'A', so they are never
// touched.
func lowerWireName(w []byte) {
	for i, c := range w {
		if c >= 'A' && c <= 'Z' {
			w[i] = c + 'a' - 'A'
		}
	}
}

// sortKey returns a byte string whose plain lexicographic order is the
// canonical order of names (RFC 4034 §6.1): labels from the root down, each
// compared as lower-cased unsigned octets, a label sorting before any longer
// label it is a prefix of, and a name before its descendants. Each label is
// written with 0x00 escaped as 0x00 0x01 and ended by 0x00 0x00, so a label
// end sorts before any octet of a longer label. The name must already be
// canonical (see canonicalName).
func sortKey(name string) (string, error) {
	if isPlainCanonical(name) {
		// The labels are their own octets, none of them 0.
		key := make([]byte, 0, len(name)+2*strings.Count(name, "."))
		end := len(name) - 1 // the final dot
		for end > 0 {
			start := strings.LastIndexByte(name[:end], '.') + 1
			key = append(key, name[start:end]...)
			key = append(key, 0, 0)
			end = start - 1
		}
		return string(key), nil
	}
	return sortKeyWire(name)
}

// sortKeyWire is sortKey by way of the wire form, for any name.
func sortKeyWire(name string) (string, error) {
	var buf [256]byte
	n, err := dns.PackDomainName(name, buf[:], 0, nil, false)
	if err != nil {
		return "", fmt.Errorf("bad domain name %q: %w", name, err)
	}
	w := buf[:n]
	lowerWireName(w)
	// Offsets of the labels, from the left.
	var offs [128]int
	nl := 0
	for i := 0; i < len(w) && w[i] != 0; i += int(w[i]) + 1 {
		offs[nl] = i
		nl++
	}
	key := make([]byte, 0, n+2*nl)
	for l := nl - 1; l >= 0; l-- {
		o := offs[l]
		for _, c := range w[o+1 : o+1+int(w[o])] {
			if c == 0 {
				key = append(key, 0, 1)
			} else {
				key = append(key, c)
			}
		}
		key = append(key, 0, 0)
	}
	return string(key), nil
}

// isBelow reports whether the sort key child belongs to a strict
// descendant of the name whose sort key is parent.
func isBelow(child, parent string) bool {
	return len(child) > len(parent) && strings.HasPrefix(child, parent)
}

// Kinds of owner names, as RFC 4035 §2.2 and §2.3 treat them.
const (
	// kindAuth is authoritative data, the apex included: every RRset is
	// signed and the name is in the NSEC chain.
	kindAuth = iota
	// kindCut is a delegation point: only the DS and NSEC RRsets are
	// signed (the NS RRset and any other data there belong to the child),
	// and the name is in the NSEC chain.
	kindCut
	// kindOccluded is a name below a zone cut (glue) or below a DNAME:
	// its data is served and digested, but neither signed nor in the
	// NSEC chain.
	kindOccluded
)

// classify sets the kind of every owner. owners must be in canonical order
// and the first must be the apex. In canonical order every descendant of a
// name follows it directly, so one remembered cut is enough.
func classify(owners []*owner) {
	cut := "" // sort key of the last delegation point or DNAME owner
	for i, o := range owners {
		if cut != "" && isBelow(o.key, cut) {
			o.kind = kindOccluded
			continue
		}
		cut = ""
		o.kind = kindAuth
		if i > 0 && o.set(dns.TypeNS) != nil {
			o.kind = kindCut
			cut = o.key
		} else if o.set(dns.TypeDNAME) != nil {
			cut = o.key
		}
	}
}

// nsecTypes returns the type bitmap of the NSEC record at an owner, in
// ascending order. At a delegation only NS, DS, RRSIG and NSEC are listed:
// the parent is authoritative for nothing else there (RFC 4035 §2.3).
func nsecTypes(o *owner) []uint16 {
	return appendNSECTypes(nil, o)
}

// addNSEC builds the NSEC chain over every authoritative name and
// delegation point, in canonical order, the last pointing back to the apex,
// and adds each record to its owner as a set to be signed. The records are
// made in canonical wire form straight away, a run of owners per
// goroutine, each run's records in one buffer. Every owner in the chain
// must have a set whose wires are computed.
func addNSEC(owners []*owner, class uint16, ttl uint32) {
	var chain []*owner
	for _, o := range owners {
		if o.kind != kindOccluded {
			chain = append(chain, o)
		}
	}
	const run = 4096
	parallel((len(chain)+run-1)/run, func(r int) {
		lo, hi := r*run, min((r+1)*run, len(chain))
		sets := make([]rrset, hi-lo)
		wires := make([][]byte, hi-lo)
		var buf []byte
		var types []uint16
		for i := lo; i < hi; i++ {
			o, next := chain[i], chain[(i+1)%len(chain)]
			owner := ownerWire(o)
			nextWire := ownerWire(next)
			types = appendNSECTypes(types[:0], o)
			need := len(owner) + 10 + len(nextWire) + 2 + 34*8
			if cap(buf)-len(buf) < need {
				buf = make([]byte, 0, max(need, 64<<10))
			}
			start := len(buf)
			buf = append(buf, owner...)
			buf = binary.BigEndian.AppendUint16(buf, dns.TypeNSEC)
			buf = binary.BigEndian.AppendUint16(buf, class)
			buf = binary.BigEndian.AppendUint32(buf, ttl)
			buf = append(buf, 0, 0)
			rd := len(buf)
			buf = append(buf, nextWire...)
			buf = appendTypeBitmap(buf, types)
			binary.BigEndian.PutUint16(buf[rd-2:], uint16(len(buf)-rd))
			set := &sets[i-lo]
			*set = rrset{name: o.name, typ: dns.TypeNSEC, signed: true}
			wires[i-lo] = buf[start:len(buf):len(buf)]
			set.setWires(wires[i-lo : i-lo+1 : i-lo+1])
			o.add(set)
		}
	})
}

// ownerWire returns the canonical wire form of an owner's name, taken from
// the first of its records whose wire form is computed.
func ownerWire(o *owner) []byte {
	for _, s := range o.sets {
		if len(s.wires) > 0 {
			w := s.wires[0]
			return w[:rdataOffset(w)-10]
		}
	}
	panic("dnssec: an owner without records in wire form: " + o.name)
}

// appendNSECTypes appends the types of nsecTypes to ts, in ascending order.
func appendNSECTypes(ts []uint16, o *owner) []uint16 {
	ts = append(ts, dns.TypeRRSIG, dns.TypeNSEC)
	for _, s := range o.sets {
		switch {
		case s.typ == dns.TypeNSEC || s.typ == dns.TypeRRSIG:
		case o.kind == kindCut && s.typ != dns.TypeNS && s.typ != dns.TypeDS:
		default:
			ts = append(ts, s.typ)
		}
	}
	slices.Sort(ts)
	return ts
}

// appendTypeBitmap appends the type bit maps field of an NSEC record (RFC
// 4034 §4.1.2) for types in ascending order without duplicates.
func appendTypeBitmap(out []byte, types []uint16) []byte {
	for i := 0; i < len(types); {
		window := types[i] >> 8
		var bits [32]byte
		n := 0
		for ; i < len(types) && types[i]>>8 == window; i++ {
			lo := types[i] & 0xff
			bits[lo/8] |= 0x80 >> (lo % 8)
			n = int(lo/8) + 1
		}
		out = append(out, byte(window), byte(n))
		out = append(out, bits[:n]...)
	}
	return out
}

// checkNSEC checks the NSEC records of a zone against its names: owners in
// canonical order, classified. It reports problems through fail.
func checkNSEC(owners []*owner, fail func(format string, args ...any)) {
	var chain []*owner
	for _, o := range owners {
		nsecs := o.set(dns.TypeNSEC)
		if o.kind == kindOccluded {
			if nsecs != nil {
				fail("%s: NSEC below a zone cut", o.name)
			}
			continue
		}
		chain = append(chain, o)
	}
	for i, o := range chain {
		s := o.set(dns.TypeNSEC)
		if s == nil {
			fail("%s: no NSEC record", o.name)
			continue
		}
		if len(s.rrs) != 1 {
			fail("%s: %d NSEC records, want 1", o.name, len(s.rrs))
			continue
		}
		nsec := s.rrs[0].(*dns.NSEC)
		want := chain[(i+1)%len(chain)].name
		if next, err := canonicalName(nsec.NextDomain); err != nil || next != want {
			fail("%s: NSEC next name is %s, want %s", o.name, nsec.NextDomain, want)
		}
		got := slices.Clone(nsec.TypeBitMap)
		slices.Sort(got)
		if wantTypes := nsecTypes(o); !slices.Equal(got, wantTypes) {
			fail("%s: NSEC types are %s, want %s", o.name, typeList(got), typeList(wantTypes))
		}
	}
}

// typeList prints types as in a zone file.
func typeList(ts []uint16) string {
	var b strings.Builder
	for i, t := range ts {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(dns.Type(t).String())
	}
	return b.String()
}
