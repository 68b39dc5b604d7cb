package dnssec

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"

	"github.com/miekg/dns"

	"steward/zone"
)

// digestZone computes the ZONEMD SIMPLE digest of z (see Digest) in one
// pass over its records in wire form, without decoding them: the zone
// keeps names in canonical order and RRsets by type, so only the records
// of one RRset need sorting. One goroutine puts the records in canonical
// form into blocks; the caller's hashes the blocks as they come, so that
// the two overlap. It works on patched versions as on flat ones.
func digestZone(z *zone.Zone, alg uint8) ([]byte, error) {
	h := newHash(alg)
	if h == nil {
		return nil, fmt.Errorf("ZONEMD hash algorithm %d is not implemented", alg)
	}
	const blockSize = 1 << 20
	blocks := make(chan []byte, 4)
	free := make(chan []byte, 4)
	errc := make(chan error, 1)
	go func() {
		defer close(blocks)
		d := &digester{origin: z.Origin, out: make([]byte, 0, blockSize)}
		d.emit = func() {
			blocks <- d.out
			select {
			case b := <-free:
				d.out = b[:0]
			default:
				d.out = make([]byte, 0, blockSize)
			}
		}
		err := z.EachRdata(d.add)
		if err == nil {
			d.flushSet()
			if len(d.out) > 0 {
				blocks <- d.out
			}
		}
		errc <- err
	}()
	for b := range blocks {
		h.Write(b)
		select {
		case free <- b:
		default:
		}
	}
	if err := <-errc; err != nil {
		return nil, err
	}
	return h.Sum(nil), nil
}

// digester gathers one RRset at a time in canonical form and writes it,
// sorted and without duplicates, to out.
type digester struct {
	origin string
	out    []byte
	emit   func() // hands a full out on and replaces it

	name  string
	owner []byte // the name in canonical wire form
	typ   uint16
	set   []byte   // the current RRset's records, canonical wire form
	wires [][]byte // the records, slices of set
}

func (d *digester) add(name string, typ, class uint16, ttl uint32, rdata []byte) error {
	if name != d.name || typ != d.typ {
		d.flushSet()
		if name != d.name {
			owner, err := canonicalWireName(name, d.owner[:0])
			if err != nil {
				return err
			}
			d.name, d.owner = name, owner
		}
		d.typ = typ
	}
	apex := name == d.origin
	if apex && typ == dns.TypeZONEMD {
		return nil
	}
	if apex && typ == dns.TypeRRSIG && len(rdata) >= 2 && binary.BigEndian.Uint16(rdata) == dns.TypeZONEMD {
		return nil
	}
	start := len(d.set)
	d.set = append(d.set, d.owner...)
	d.set = binary.BigEndian.AppendUint16(d.set, typ)
	d.set = binary.BigEndian.AppendUint16(d.set, class)
	d.set = binary.BigEndian.AppendUint32(d.set, ttl)
	d.set = binary.BigEndian.AppendUint16(d.set, uint16(len(rdata)))
	rstart := len(d.set)
	d.set = append(d.set, rdata...)
	if !lowerRdataNames(typ, d.set[rstart:]) {
		w, err := canonicalFromWire(name, typ, class, ttl, rdata)
		if err != nil {
			return err
		}
		d.set = append(d.set[:start], w...)
	}
	d.wires = append(d.wires, d.set[start:len(d.set):len(d.set)])
	return nil
}

// flushSet writes the gathered RRset in canonical order, duplicates once.
func (d *digester) flushSet() {
	ws := d.wires
	if len(ws) > 1 {
		sortWires(ws)
		ws = slices.CompactFunc(ws, bytes.Equal)
	}
	for _, w := range ws {
		if len(d.out)+len(w) > cap(d.out) && len(d.out) > 0 {
			d.emit()
		}
		d.out = append(d.out, w...)
	}
	d.set, d.wires = d.set[:0], d.wires[:0]
}

// canonicalWireName appends the uncompressed wire form of a name in lower
// case to buf.
func canonicalWireName(name string, buf []byte) ([]byte, error) {
	if strings.IndexByte(name, '\\') < 0 && len(name) <= 254 {
		// Labels as they are written, lowered.
		rest := strings.TrimSuffix(name, ".")
		for rest != "" {
			label, after, _ := strings.Cut(rest, ".")
			if label == "" || len(label) > 63 {
				return nil, fmt.Errorf("bad domain name %q", name)
			}
			buf = append(buf, byte(len(label)))
			for i := 0; i < len(label); i++ {
				c := label[i]
				if 'A' <= c && c <= 'Z' {
					c += 'a' - 'A'
				}
				buf = append(buf, c)
			}
			rest = after
		}
		return append(buf, 0), nil
	}
	var w [256]byte
	n, err := dns.PackDomainName(dns.Fqdn(name), w[:], 0, nil, false)
	if err != nil {
		return nil, fmt.Errorf("bad domain name %q: %w", name, err)
	}
	lowerWireName(w[:n])
	return append(buf, w[:n]...), nil
}
