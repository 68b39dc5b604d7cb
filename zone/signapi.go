package zone

import (
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"runtime"
	"sync"

	"github.com/miekg/dns"
)

// This file lets a producer that already holds a zone's records in
// canonical order (the signer) build the zone version in parallel and
// without the Builder's name index and sort: it states how much each part
// of the zone holds, and goroutines then write the parts straight into the
// version's tables.

// PartSize is how much one part of a zone holds: its owner names, the
// octets of those names, its RRsets, its records and the octets of their
// RDATA.
type PartSize struct {
	Names, NameBytes, Sets, Records, RdataBytes int
}

// Add adds the size of one RRset of n records holding rdata octets of
// RDATA in all.
func (p *PartSize) Add(n, rdata int) {
	p.Sets++
	p.Records += n
	p.RdataBytes += rdata
}

// PartWriter writes the names and records of one part of a zone being
// assembled, in order: Name starts an owner name, Record adds a record at
// it.
type PartWriter struct {
	z                      *Zone
	block                  []byte // the names' octets
	name, set, rec, data   int    // next index or offset
	endName, endSet, endRc int
	endData                int
	started                bool // a name was started
	err                    error
}

// Name starts the next owner name, which must be in canonical form
// (lower case, fully qualified) and follow the previous one in canonical
// order (RFC 4034 §6.1).
func (w *PartWriter) Name(name string) {
	if w.err != nil {
		return
	}
	if w.name >= w.endName || len(name) > len(w.block) {
		w.err = fmt.Errorf("zone %s: more names than the part's size", w.z.Origin)
		return
	}
	n := copy(w.block, name)
	w.z.names[w.name] = unsafeString(w.block[:n:n])
	w.block = w.block[n:]
	w.z.first[w.name] = uint32(w.set)
	w.name++
	w.started = true
}

// Record adds a record at the current name. Records of one type must be
// adjacent, types in ascending order. The RDATA is copied.
func (w *PartWriter) Record(typ, class uint16, ttl uint32, rdata []byte) {
	if w.err != nil {
		return
	}
	z := w.z
	switch {
	case !w.started:
		w.err = fmt.Errorf("zone %s: a record before any name", z.Origin)
		return
	case len(rdata) > 0xffff:
		w.err = fmt.Errorf("zone %s: RDATA of %d octets", z.Origin, len(rdata))
		return
	case w.rec >= w.endRc || w.data+recHeader+len(rdata) > w.endData:
		w.err = fmt.Errorf("zone %s: more records than the part's size", z.Origin)
		return
	}
	if w.set == int(z.first[w.name-1]) || z.sets[w.set-1].typ != typ {
		if w.set >= w.endSet {
			w.err = fmt.Errorf("zone %s: more RRsets than the part's size", z.Origin)
			return
		}
		if w.set > int(z.first[w.name-1]) && z.sets[w.set-1].typ > typ {
			w.err = fmt.Errorf("zone %s: %s: types out of order", z.Origin, z.names[w.name-1])
			return
		}
		z.sets[w.set] = rrset{typ: typ, first: uint32(w.rec)}
		w.set++
	}
	z.sets[w.set-1].n++
	z.recs[w.rec] = uint32(w.data)
	w.rec++
	d := z.data[w.data:]
	binary.BigEndian.PutUint32(d, ttl)
	binary.BigEndian.PutUint16(d[4:], class)
	binary.BigEndian.PutUint16(d[6:], uint16(len(rdata)))
	copy(d[recHeader:], rdata)
	w.data += recHeader + len(rdata)
}

// Assemble builds a zone version from parts of the given sizes, calling
// fill for every part, from up to GOMAXPROCS goroutines at once. The parts
// follow each other: the names of part i+1 come after those of part i in
// canonical order. Every part must write exactly what its size states. The
// zone must have exactly one SOA record, at the origin, which must be the
// first name.
func Assemble(origin string, parts []PartSize, fill func(part int, w *PartWriter) error) (*Zone, error) {
	var total PartSize
	starts := make([]PartSize, len(parts))
	for i, p := range parts {
		if p.Names < 0 || p.NameBytes < 0 || p.Sets < 0 || p.Records < 0 || p.RdataBytes < 0 {
			return nil, fmt.Errorf("zone %s: part %d has a negative size", origin, i)
		}
		starts[i] = total
		total.Names += p.Names
		total.NameBytes += p.NameBytes
		total.Sets += p.Sets
		total.Records += p.Records
		total.RdataBytes += p.RdataBytes + recHeader*p.Records
	}
	if total.Names == 0 {
		return nil, fmt.Errorf("zone %s has no records", origin)
	}
	if uint64(total.RdataBytes) > 1<<32-1 || uint64(total.Records) > 1<<32-1 || uint64(total.Names) > 1<<31-1 {
		return nil, fmt.Errorf("zone %s: too large", origin)
	}
	z := &Zone{
		Origin: origin,
		seed:   maphash.MakeSeed(),
		nrec:   total.Records,
		names:  make([]string, total.Names),
		first:  make([]uint32, total.Names+1),
		sets:   make([]rrset, total.Sets),
		recs:   make([]uint32, total.Records),
		data:   make([]byte, total.RdataBytes),
	}
	block := make([]byte, total.NameBytes)
	errs := make([]error, len(parts))
	var next int
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(parts)) {
		wg.Go(func() {
			for {
				mu.Lock()
				i := next
				next++
				mu.Unlock()
				if i >= len(parts) {
					return
				}
				s, p := starts[i], parts[i]
				w := &PartWriter{
					z:     z,
					block: block[s.NameBytes : s.NameBytes+p.NameBytes],
					name:  s.Names, set: s.Sets, rec: s.Records, data: s.RdataBytes,
					endName: s.Names + p.Names, endSet: s.Sets + p.Sets, endRc: s.Records + p.Records,
					endData: s.RdataBytes + p.RdataBytes + recHeader*p.Records,
				}
				err := fill(i, w)
				if err == nil {
					err = w.err
				}
				if err == nil && (w.name != w.endName || w.set != w.endSet || w.rec != w.endRc || w.data != w.endData || len(w.block) != 0) {
					err = fmt.Errorf("zone %s: part %d holds less than its size", origin, i)
				}
				errs[i] = err
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	z.first[total.Names] = uint32(total.Sets)
	if z.names[0] != origin {
		return nil, fmt.Errorf("zone %s: the first name is %s", origin, z.names[0])
	}
	soas := 0
	for i := range z.names {
		if s := z.set(i, dns.TypeSOA); s != nil {
			if i != 0 {
				return nil, fmt.Errorf("SOA at %s, not at the origin %s", z.names[i], origin)
			}
			soas += int(s.n)
		}
	}
	if soas != 1 {
		return nil, fmt.Errorf("zone %s has %d SOA records, want 1", origin, soas)
	}

	if err := z.finish(); err != nil {
		return nil, err
	}
	return z, nil
}

// FlatNames returns the number of owner names of a flat version (any but
// one made by Patch), whose records EachRdataIn reaches by the names'
// index, or -1 for a patched version.
func (z *Zone) FlatNames() int {
	if z.over != nil {
		return -1
	}
	return len(z.names)
}

// EachRdataIn is EachRdata for the names of index lo to hi-1 (in
// canonical order) of a flat version; see FlatNames.
func (z *Zone) EachRdataIn(lo, hi int, f func(name string, typ, class uint16, ttl uint32, rdata []byte) error) error {
	if z.over != nil {
		return fmt.Errorf("zone %s: EachRdataIn on a patched version", z.Origin)
	}
	for i := max(lo, 0); i < min(hi, len(z.names)); i++ {
		if err := z.rdataAt(i, z.names[i], f); err != nil {
			return err
		}
	}
	return nil
}
