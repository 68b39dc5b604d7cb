package dnssec

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/miekg/dns"

	"steward/zone"
)

// collectZone is collect for records held by a zone version: it builds
// each record's canonical wire form from the zone's wire data, with no
// dns.RR in between but for the rare types whose RDATA names it cannot
// find in wire form.
func collectZone(origin string, z *zone.Zone) ([]*owner, *dns.SOA, error) {
	originKey, err := sortKey(origin)
	if err != nil {
		return nil, nil, err
	}
	var owners []*owner
	var o *owner
	var ownerWire []byte
	var class uint16
	var buf [256]byte
	last := ""
	var set *rrset
	var pending [][]byte
	// Owners, sets, the sets' lists of wires and the wires themselves are
	// carved out of larger blocks: a large zone is millions of each.
	var ownerSlab []owner
	var setSlab []rrset
	var listSlab [][]byte
	var arena []byte
	alloc := func(n int) []byte {
		if cap(arena)-len(arena) < n {
			arena = make([]byte, 0, max(n, 1<<20))
		}
		start := len(arena)
		arena = arena[:start+n]
		return arena[start : start+n : start+n]
	}
	flush := func() {
		if set != nil {
			if set.wires == nil && len(pending) <= 4 {
				// The usual case: a new set of a few records.
				if cap(listSlab)-len(listSlab) < len(pending) {
					listSlab = make([][]byte, 0, 4096)
				}
				start := len(listSlab)
				listSlab = append(listSlab, pending...)
				set.wires = listSlab[start:len(listSlab):len(listSlab)]
			} else {
				set.wires = slices.Concat(set.wires, pending)
			}
			pending = pending[:0]
			set = nil
		}
	}
	err = z.EachRdata(func(name string, typ, cl uint16, ttl uint32, rdata []byte) error {
		if isDNSSECType(typ) {
			return nil
		}
		if isMetaType(typ) {
			return fmt.Errorf("%s: type %s cannot appear in a zone", name, dns.Type(typ))
		}
		if class == 0 {
			class = cl
		} else if cl != class {
			return fmt.Errorf("%s %s: class %s, but the zone's is %s", name, dns.Type(typ), dns.Class(cl), dns.Class(class))
		}
		if o == nil || name != last {
			flush()
			last = name
			cname, err := canonicalName(name)
			if err != nil {
				return err
			}
			key, err := sortKey(cname)
			if err != nil {
				return err
			}
			if key != originKey && !isBelow(key, originKey) {
				return fmt.Errorf("%s is outside the zone %s", cname, origin)
			}
			if strings.HasPrefix(cname, "*") && !strings.HasPrefix(cname, "*.") {
				return fmt.Errorf("%s: a label starting with '*' is only supported as the wildcard label", cname)
			}
			if len(owners) > 0 && owners[len(owners)-1].name == cname {
				o = owners[len(owners)-1] // two spellings of one name
			} else {
				if len(ownerSlab) == 0 {
					ownerSlab = make([]owner, 4096)
				}
				o = &ownerSlab[0]
				ownerSlab = ownerSlab[1:]
				*o = owner{name: cname, key: key}
				owners = append(owners, o)
			}
			set = nil
			n, err := dns.PackDomainName(cname, buf[:], 0, nil, false)
			if err != nil {
				return fmt.Errorf("bad domain name %q: %w", cname, err)
			}
			ownerWire = alloc(n)
			copy(ownerWire, buf[:n])
			lowerWireName(ownerWire)
		}
		if set == nil || set.typ != typ {
			flush()
			if set = o.set(typ); set == nil {
				if len(setSlab) == 0 {
					setSlab = make([]rrset, 4096)
				}
				set = &setSlab[0]
				setSlab = setSlab[1:]
				*set = rrset{name: o.name, typ: typ}
				o.add(set)
			}
		}
		w := alloc(len(ownerWire) + 10 + len(rdata))
		copy(w, ownerWire)
		h := w[len(ownerWire):]
		binary.BigEndian.PutUint16(h, typ)
		binary.BigEndian.PutUint16(h[2:], cl)
		binary.BigEndian.PutUint32(h[4:], ttl)
		binary.BigEndian.PutUint16(h[8:], uint16(len(rdata)))
		copy(h[10:], rdata)
		if !lowerRdataNames(typ, h[10:]) {
			c, err := canonicalFromWire(o.name, typ, cl, ttl, rdata)
			if err != nil {
				return err
			}
			w = c
		}
		pending = append(pending, w)
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	flush()
	if !slices.IsSortedFunc(owners, func(a, b *owner) int { return strings.Compare(a.key, b.key) }) {
		slices.SortStableFunc(owners, func(a, b *owner) int { return strings.Compare(a.key, b.key) })
		owners = mergeOwners(owners)
	}
	if len(owners) == 0 || owners[0].key != originKey || owners[0].set(dns.TypeSOA) == nil {
		return nil, nil, errors.New("no SOA record at the apex")
	}
	parallel(len(owners), func(i int) {
		for _, s := range owners[i].sets {
			s.finishWires(sortedWires(s.wires))
		}
	})
	if err := checkSets(owners); err != nil {
		return nil, nil, err
	}
	soas := owners[0].set(dns.TypeSOA).wires
	if len(soas) != 1 {
		return nil, nil, fmt.Errorf("%d SOA records, want 1", len(soas))
	}
	soa := z.SOA()
	return owners, soa, nil
}

// mergeOwners merges adjacent owners of the same name (names the zone
// spelled differently, such as \065 and A), keeping the first.
func mergeOwners(owners []*owner) []*owner {
	out := owners[:0]
	for _, o := range owners {
		if len(out) == 0 || out[len(out)-1].key != o.key {
			out = append(out, o)
			continue
		}
		into := out[len(out)-1]
		for _, s := range o.sets {
			if t := into.set(s.typ); t != nil {
				t.wires = append(t.wires, s.wires...)
			} else {
				s.name = into.name
				into.add(s)
			}
		}
	}
	return out
}

// sortedWires sorts the canonical wire forms of one RRset in canonical
// order and drops duplicates, as finish does.
func sortedWires(wires [][]byte) [][]byte {
	if len(wires) > 1 {
		sortWires(wires)
		wires = slices.CompactFunc(wires, func(a, b []byte) bool { return string(a) == string(b) })
	}
	return wires
}

// lowerRdataNames lowers, in place, the domain names in the RDATA of the
// types RFC 4034 §6.2 lists (as RFC 6840 §5.1 corrects it), for the types
// whose names it can find in wire form; it reports false for the others of
// the list, whose records the caller canonicalizes by way of dns.RR.
func lowerRdataNames(typ uint16, rd []byte) bool {
	switch typ {
	case dns.TypeNS, dns.TypeMD, dns.TypeMF, dns.TypeCNAME, dns.TypeMB, dns.TypeMG, dns.TypeMR, dns.TypePTR, dns.TypeDNAME:
		return lowerNames(rd, 1)
	case dns.TypeSOA, dns.TypeMINFO, dns.TypeRP:
		return lowerNames(rd, 2)
	case dns.TypeMX, dns.TypeAFSDB, dns.TypeRT, dns.TypeKX:
		return len(rd) >= 2 && lowerNames(rd[2:], 1)
	case dns.TypePX:
		return len(rd) >= 2 && lowerNames(rd[2:], 2)
	case dns.TypeSRV:
		return len(rd) >= 6 && lowerNames(rd[6:], 1)
	case dns.TypeNAPTR, dns.TypeSIG, dns.TypeNXT:
		return false
	}
	return true
}

// lowerNames lowers the first n uncompressed names in w. Length octets
// are at most 63, below 'A', so lowering every octet of a name is safe.
func lowerNames(w []byte, n int) bool {
	i := 0
	for ; n > 0; n-- {
		for {
			if i >= len(w) {
				return false
			}
			l := int(w[i])
			if l == 0 {
				i++
				break
			}
			if l > 63 || i+1+l > len(w) {
				return false
			}
			lowerWireName(w[i+1 : i+1+l])
			i += 1 + l
		}
	}
	return true
}

// canonicalFromWire returns the canonical wire form of a record by way of
// dns.RR, for the types lowerRdataNames leaves.
func canonicalFromWire(name string, typ, class uint16, ttl uint32, rdata []byte) ([]byte, error) {
	h := dns.RR_Header{Name: name, Rrtype: typ, Class: class, Ttl: ttl, Rdlength: uint16(len(rdata))}
	rr, _, err := dns.UnpackRRWithHeader(h, rdata, 0)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", name, dns.Type(typ), err)
	}
	c, err := canonicalCopy(rr, name)
	if err != nil {
		return nil, err
	}
	return packCanonical(c)
}
