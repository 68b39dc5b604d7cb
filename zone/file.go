package zone

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"reflect"
	"runtime"

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
// per line, in the order of Records. The text is made by up to GOMAXPROCS
// goroutines, a run of names each, and written in order.
func (z *Zone) Write(w io.Writer) error {
	if z.over != nil {
		return z.writePatched(w)
	}
	const chunk = 4096 // names per piece
	workers := runtime.GOMAXPROCS(0)
	type piece struct {
		buf  []byte
		done chan struct{}
	}
	format := func(p *piece, lo, hi int) {
		defer close(p.done)
		var b []byte
		var tc TextTimes
		if lo == 0 {
			b = append(b, z.soa.String()...)
			b = append(b, '\n')
		}
		for i := lo; i < hi; i++ {
			for k := z.first[i]; k < z.first[i+1]; k++ {
				s := &z.sets[k]
				if s.typ == dns.TypeSOA && i == 0 && z.names[i] == z.Origin {
					continue
				}
				for r := s.first; r < s.first+s.n; r++ {
					var ok bool
					if b, ok = appendText(b, z.names[i], s.typ, z.data[z.recs[r]:], &tc); !ok {
						b = append(b, z.decode(i, s.typ, r).String()...)
					}
					b = append(b, '\n')
				}
			}
		}
		p.buf = b
	}
	n := len(z.names)
	queue := make(chan *piece, 2*workers)
	go func() {
		defer close(queue)
		sem := make(chan struct{}, workers)
		for lo := 0; lo < max(n, 1); lo += chunk {
			p := &piece{done: make(chan struct{})}
			sem <- struct{}{}
			go func(lo int) {
				defer func() { <-sem }()
				format(p, lo, min(lo+chunk, n))
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
	}
	if bw, ok := w.(*bufio.Writer); ok && err == nil {
		err = bw.Flush()
	}
	return err
}

// LoadFile is Load of the file at path.
func LoadFile(path, origin string) (*Zone, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Load(f, path, origin)
}

// Load reads a zone file (as ReadFile does) into a zone version whose
// origin is the owner of its SOA record. The records go into the zone's
// compact form as they are read, so that a large zone never exists as
// dns.RR values all at once.
func Load(r io.Reader, file, origin string) (*Zone, error) {
	if rs, ok := r.(io.ReadSeeker); ok {
		start, err := rs.Seek(0, io.SeekCurrent)
		if ra, ok := r.(io.ReaderAt); ok && err == nil {
			// A large file in canonical order: in chunks on all cores.
			end, err := rs.Seek(0, io.SeekEnd)
			if err == nil {
				z, err := loadParallel(ra, start, end-start)
				if err != errNotSimple {
					return z, err
				}
			}
			if _, err := rs.Seek(start, io.SeekStart); err != nil {
				return nil, err
			}
		}
		if err == nil {
			z, err := loadSimple(rs, file)
			if err != errNotSimple {
				return z, err
			}
			if _, err := rs.Seek(start, io.SeekStart); err != nil {
				return nil, err
			}
		}
	}
	return loadParsed(r, file, origin)
}

// loadParsed is Load by way of miekg/dns's zone parser, for any file.
func loadParsed(r io.Reader, file, origin string) (*Zone, error) {
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
