package zone

import (
	"bufio"
	"fmt"
	"io"
	"reflect"

	"github.com/miekg/dns"
)

// ReadFile reads the records of a zone file in presentation format (RFC
// 1035 §5), with origin for relative names until a $ORIGIN. $INCLUDE is
// refused. An error names the file (as given) and the line.
func ReadFile(r io.Reader, file, origin string) ([]dns.RR, error) {
	zp := dns.NewZoneParser(r, dns.Fqdn(origin), file)
	var rrs []dns.RR
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		if empty(rr) {
			// miekg/dns reads a record without RDATA as a dynamic
			// update's (RFC 2136 §2.5), which a zone cannot hold.
			h := rr.Header()
			return nil, fmt.Errorf("%s: %s %s has no data", file, h.Name, dns.Type(h.Rrtype))
		}
		rrs = append(rrs, rr)
	}
	if err := zp.Err(); err != nil {
		return nil, err
	}
	return rrs, nil
}

// empty reports whether rr has no RDATA at all: every field zero.
func empty(rr dns.RR) bool {
	switch x := rr.(type) {
	case *dns.NS:
		return x.Ns == ""
	case *dns.A:
		return x.A == nil
	case *dns.AAAA:
		return x.AAAA == nil
	case *dns.DS:
		return x.Digest == "" && x.KeyTag == 0 && x.Algorithm == 0 && x.DigestType == 0
	case *dns.SOA:
		return x.Ns == ""
	case *dns.RRSIG:
		return x.SignerName == ""
	case *dns.NSEC:
		return x.NextDomain == ""
	case *dns.DNSKEY:
		return x.PublicKey == "" && x.Flags == 0 && x.Algorithm == 0 && x.Protocol == 0
	}
	h := *rr.Header()
	newFn, ok := dns.TypeToRR[h.Rrtype]
	if !ok {
		u, ok := rr.(*dns.RFC3597)
		return ok && u.Rdata == ""
	}
	zero := newFn()
	*zero.Header() = h
	return reflect.DeepEqual(rr, zero)
}

// Write writes every record of the zone to w in presentation format, one
// per line, in the order of Records.
func (z *Zone) Write(w io.Writer) error {
	bw, ok := w.(*bufio.Writer)
	if !ok {
		bw = bufio.NewWriter(w)
	}
	for _, rr := range z.Records() {
		if _, err := bw.WriteString(rr.String()); err != nil {
			return err
		}
		if err := bw.WriteByte('\n'); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// Load reads a zone file (as ReadFile does) into a zone version whose
// origin is the owner of its SOA record. The records go into the zone's
// compact form as they are read, so that a large zone never exists as
// dns.RR values all at once.
func Load(r io.Reader, file, origin string) (*Zone, error) {
	zp := dns.NewZoneParser(bufio.NewReaderSize(r, 1<<20), dns.Fqdn(origin), file)
	var b *Builder
	var before []dns.RR // records before the SOA, which names the zone
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		h := rr.Header()
		if empty(rr) {
			return nil, fmt.Errorf("%s: %s %s has no data", file, h.Name, dns.Type(h.Rrtype))
		}
		if b == nil {
			if h.Rrtype != dns.TypeSOA {
				before = append(before, rr)
				continue
			}
			b = NewBuilder(h.Name)
			for _, x := range before {
				if err := b.Add(x); err != nil {
					return nil, fmt.Errorf("%s: %w", file, err)
				}
			}
			before = nil
		}
		if err := b.Add(rr); err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
	}
	if err := zp.Err(); err != nil {
		return nil, err
	}
	if b == nil {
		return nil, fmt.Errorf("%s: no SOA record", file)
	}
	z, err := b.Zone()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return z, nil
}
