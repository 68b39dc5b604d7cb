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
// find in wire form. A flat version is read in runs of names, one per
// goroutine at a time.
func collectZone(origin string, z *zone.Zone) ([]*owner, *dns.SOA, error) {
	originKey, err := sortKey(origin)
	if err != nil {
		return nil, nil, err
	}
	var owners []*owner
	if n := z.FlatNames(); n > 0 {
		// The zone's class is that of its first record.
		var class uint16
		errFirst := errors.New("first")
		z.EachRdataIn(0, 1, func(_ string, _, cl uint16, _ uint32, _ []byte) error {
			class = cl
			return errFirst
		})
		const run = 8192
		runs := make([]collector, (n+run-1)/run)
		parallel(len(runs), func(i int) {
			c := &runs[i]
			c.origin, c.originKey, c.class = origin, originKey, class
			c.err = z.EachRdataIn(i*run, min((i+1)*run, n), c.add)
			c.flush()
		})
		total := 0
		for i := range runs {
			if runs[i].err != nil {
				return nil, nil, runs[i].err
			}
			total += len(runs[i].owners)
		}
		owners = make([]*owner, 0, total)
		for i := range runs {
			owners = append(owners, runs[i].owners...)
			runs[i] = collector{}
		}
		owners = mergeOwners(owners) // a name spelled two ways across runs
	} else {
		c := &collector{origin: origin, originKey: originKey}
		if err := z.EachRdata(c.add); err != nil {
			return nil, nil, err
		}
		c.flush()
		owners = c.owners
	}
	if !slices.IsSortedFunc(owners, func(a, b *owner) int { return strings.Compare(a.key, b.key) }) {
		slices.SortStableFunc(owners, func(a, b *owner) int { return strings.Compare(a.key, b.key) })
		owners = mergeOwners(owners)
	}
	if len(owners) == 0 || owners[0].key != originKey || owners[0].set(dns.TypeSOA) == nil {
		return nil, nil, errors.New("no SOA record at the apex")
	}
	parallel(len(owners), func(i int) {
		for _, s := range owners[i].sets {
			s.setWires(sortedWires(s.wires))
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

// collector gathers the records of a run of a zone's names into owners,
// carving owners, sets, the sets' lists of wires and the wires themselves
// out of larger blocks: a large zone has millions of each.
type collector struct {
	origin, originKey string
	class             uint16 // the zone's, 0 until known
	owners            []*owner
	o                 *owner
	last              string
	ownerWire         []byte
	set               *rrset
	pending           [][]byte
	ownerSlab         []owner
	setSlab           []rrset
	listSlab          [][]byte
	arena             []byte
	err               error
}

// alloc returns n octets from the collector's arena.
func (c *collector) alloc(n int) []byte {
	if cap(c.arena)-len(c.arena) < n {
		c.arena = make([]byte, 0, max(n, 1<<20))
	}
	start := len(c.arena)
	c.arena = c.arena[:start+n]
	return c.arena[start : start+n : start+n]
}

// flush ends the current set: its pending wires become its wires.
func (c *collector) flush() {
	set := c.set
	if set == nil {
		return
	}
	if set.wires == nil && len(c.pending) <= 4 {
		// The usual case: a new set of a few records.
		if cap(c.listSlab)-len(c.listSlab) < len(c.pending) {
			c.listSlab = make([][]byte, 0, 4096)
		}
		start := len(c.listSlab)
		c.listSlab = append(c.listSlab, c.pending...)
		set.wires = c.listSlab[start:len(c.listSlab):len(c.listSlab)]
	} else {
		set.wires = slices.Concat(set.wires, c.pending)
	}
	c.pending = c.pending[:0]
	c.set = nil
}

// add adds one record, as zone.Zone.EachRdata gives it.
func (c *collector) add(name string, typ, cl uint16, ttl uint32, rdata []byte) error {
	if isDNSSECType(typ) {
		return nil
	}
	if isMetaType(typ) {
		return fmt.Errorf("%s: type %s cannot appear in a zone", name, dns.Type(typ))
	}
	if c.class == 0 {
		c.class = cl
	} else if cl != c.class {
		return fmt.Errorf("%s %s: class %s, but the zone's is %s", name, dns.Type(typ), dns.Class(cl), dns.Class(c.class))
	}
	if c.o == nil || name != c.last {
		c.flush()
		c.last = name
		cname, err := canonicalName(name)
		if err != nil {
			return err
		}
		key, err := sortKey(cname)
		if err != nil {
			return err
		}
		if key != c.originKey && !isBelow(key, c.originKey) {
			return fmt.Errorf("%s is outside the zone %s", cname, c.origin)
		}
		if strings.HasPrefix(cname, "*") && !strings.HasPrefix(cname, "*.") {
			return fmt.Errorf("%s: a label starting with '*' is only supported as the wildcard label", cname)
		}
		if len(c.owners) > 0 && c.owners[len(c.owners)-1].name == cname {
			c.o = c.owners[len(c.owners)-1] // two spellings of one name
		} else {
			if len(c.ownerSlab) == 0 {
				c.ownerSlab = make([]owner, 4096)
			}
			c.o = &c.ownerSlab[0]
			c.ownerSlab = c.ownerSlab[1:]
			*c.o = owner{name: cname, key: key}
			c.owners = append(c.owners, c.o)
		}
		var buf [256]byte
		n, err := dns.PackDomainName(cname, buf[:], 0, nil, false)
		if err != nil {
			return fmt.Errorf("bad domain name %q: %w", cname, err)
		}
		c.ownerWire = c.alloc(n)
		copy(c.ownerWire, buf[:n])
		lowerWireName(c.ownerWire)
	}
	if c.set == nil || c.set.typ != typ {
		c.flush()
		if c.set = c.o.set(typ); c.set == nil {
			if len(c.setSlab) == 0 {
				c.setSlab = make([]rrset, 4096)
			}
			c.set = &c.setSlab[0]
			c.setSlab = c.setSlab[1:]
			*c.set = rrset{name: c.o.name, typ: typ}
			c.o.add(c.set)
		}
	}
	ow := c.ownerWire
	w := c.alloc(len(ow) + 10 + len(rdata))
	copy(w, ow)
	h := w[len(ow):]
	binary.BigEndian.PutUint16(h, typ)
	binary.BigEndian.PutUint16(h[2:], cl)
	binary.BigEndian.PutUint32(h[4:], ttl)
	binary.BigEndian.PutUint16(h[8:], uint16(len(rdata)))
	copy(h[10:], rdata)
	if !lowerRdataNames(typ, h[10:]) {
		cw, err := canonicalFromWire(c.o.name, typ, cl, ttl, rdata)
		if err != nil {
			return err
		}
		w = cw
	}
	c.pending = append(c.pending, w)
	return nil
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
