package dnssec

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"runtime"
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
	origin, err := s.begin(now)
	if err != nil {
		return Stats{}, err
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
	times zone.TextTimes
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
	if b, ok := zone.AppendText(t.buf, name, typ, class, ttl, rd, &t.times); ok {
		t.buf = append(b, '\n')
		return
	}
	rr, _, err := dns.UnpackRRWithHeader(dns.RR_Header{Name: name, Rrtype: typ, Class: class, Ttl: ttl, Rdlength: uint16(len(rd))}, w, off)
	if err != nil || rr == nil {
		rr = &dns.RFC3597{Hdr: dns.RR_Header{Name: name, Rrtype: typ, Class: class, Ttl: ttl, Rdlength: uint16(len(rd))}, Rdata: hex.EncodeToString(rd)}
	}
	t.buf = append(t.buf, rr.String()...)
	t.buf = append(t.buf, '\n')
}
