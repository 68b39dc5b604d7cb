package dnssec

import (
	"bytes"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"slices"

	"github.com/miekg/dns"

	"steward/zone"
)

// This file implements message digests for DNS zones (ZONEMD, RFC 8976)
// with the SIMPLE scheme: one hash over every record of the zone in
// canonical form and canonical order.

// Errors from VerifyZONEMD. Callers may test for them with errors.Is.
var (
	// ErrNoZONEMD means the zone has no ZONEMD record at its apex.
	ErrNoZONEMD = errors.New("no ZONEMD record at the zone apex")
	// ErrZONEMDUnsupported means no apex ZONEMD record has a scheme and
	// hash algorithm this package implements (SIMPLE with SHA-384 or
	// SHA-512) and a serial equal to the SOA serial.
	ErrZONEMDUnsupported = errors.New("no usable ZONEMD record (scheme SIMPLE, SHA-384 or SHA-512, serial of the SOA)")
	// ErrZONEMDMismatch means a usable ZONEMD record exists but no digest
	// matches the zone's content.
	ErrZONEMDMismatch = errors.New("ZONEMD digest does not match the zone")
)

// newHash returns the hash of a ZONEMD hash algorithm, or nil if it is not
// implemented.
func newHash(alg uint8) hash.Hash {
	switch alg {
	case dns.ZoneMDHashAlgSHA384:
		return sha512.New384()
	case dns.ZoneMDHashAlgSHA512:
		return sha512.New()
	}
	return nil
}

// Digest computes the ZONEMD digest of z (RFC 8976 §3) with the given
// scheme and hash algorithm: every record in canonical form (RFC 4034
// §6.2, each with its own TTL) and canonical order, glue and occluded data
// included, duplicates counted once, and the apex ZONEMD RRset and the
// RRSIGs covering it left out. Only the SIMPLE scheme
// (dns.ZoneMDSchemeSimple) with SHA-384 or SHA-512 is implemented; other
// combinations return an error.
func Digest(z *zone.Zone, scheme, alg uint8) ([]byte, error) {
	if scheme != dns.ZoneMDSchemeSimple || newHash(alg) == nil {
		return nil, fmt.Errorf("ZONEMD scheme %d with hash algorithm %d is not implemented", scheme, alg)
	}
	return digestZone(z, alg)
}

// VerifyZONEMD checks the apex ZONEMD RRset of z as a recipient does (RFC
// 8976 §4): records whose serial differs from the SOA's, or whose scheme or
// hash algorithm is not implemented, are ignored; two records with the
// same scheme and algorithm are an error; the zone verifies if the
// digest of any usable record matches. It returns nil, or an error wrapping
// ErrNoZONEMD, ErrZONEMDUnsupported or ErrZONEMDMismatch, or another error
// for a malformed zone. It does not check DNSSEC signatures: Verify does.
func VerifyZONEMD(z *zone.Zone) error {
	var usable []*dns.ZONEMD
	seen := map[[2]uint8]bool{}
	rrs := z.RRset(z.Origin, dns.TypeZONEMD)
	if len(rrs) == 0 {
		return ErrNoZONEMD
	}
	serial := z.SOA().Serial
	for _, rr := range rrs {
		md := rr.(*dns.ZONEMD)
		pair := [2]uint8{md.Scheme, md.Hash}
		if seen[pair] {
			// RFC 8976 §2.4: at most one record per scheme and algorithm.
			return fmt.Errorf("two ZONEMD records with scheme %d and hash algorithm %d", md.Scheme, md.Hash)
		}
		seen[pair] = true
		if md.Serial == serial && md.Scheme == dns.ZoneMDSchemeSimple && newHash(md.Hash) != nil {
			usable = append(usable, md)
		}
	}
	if len(usable) == 0 {
		return ErrZONEMDUnsupported
	}
	for _, md := range usable {
		want, err := hex.DecodeString(md.Digest)
		if err != nil || len(want) < 12 {
			continue // RFC 8976 §2.2.4: a digest shorter than 12 octets is invalid
		}
		got, err := digestZone(z, md.Hash)
		if err != nil {
			return err
		}
		if bytes.Equal(got, want) {
			return nil
		}
	}
	return fmt.Errorf("%w (serial %d)", ErrZONEMDMismatch, serial)
}

// digestOwners hashes the owners, in canonical order, for the ZONEMD
// SIMPLE scheme. Every set must be canonicalized (its wires computed).
// RRSIGs are taken both from an RRSIG set at the owner (zones read back)
// and from the signatures attached to each set (zones being signed).
func digestOwners(owners []*owner, alg uint8) ([]byte, error) {
	h := newHash(alg)
	if h == nil {
		return nil, fmt.Errorf("ZONEMD hash algorithm %d is not implemented", alg)
	}
	apex := true
	for _, o := range owners {
		sigs, err := sigWires(o, apex)
		if err != nil {
			return nil, err
		}
		done := false // RRSIG group written
		for _, s := range o.sets {
			if !done && s.typ > dns.TypeRRSIG {
				writeAll(h, sigs)
				done = true
			}
			if s.typ == dns.TypeRRSIG || apex && s.typ == dns.TypeZONEMD {
				continue
			}
			writeAll(h, s.wires)
		}
		if !done {
			writeAll(h, sigs)
		}
		apex = false
	}
	return h.Sum(nil), nil
}

func writeAll(h hash.Hash, wires [][]byte) {
	for _, w := range wires {
		h.Write(w)
	}
}

// sigWires returns the canonical wire forms of the RRSIGs at an owner, in
// canonical order without duplicates, leaving out those covering the apex
// ZONEMD RRset.
func sigWires(o *owner, apex bool) ([][]byte, error) {
	var wires [][]byte
	keep := func(rr dns.RR) bool { return !apex || rr.(*dns.RRSIG).TypeCovered != dns.TypeZONEMD }
	for _, s := range o.sets {
		if s.typ == dns.TypeRRSIG {
			for i, rr := range s.rrs {
				if keep(rr) {
					wires = append(wires, s.wires[i])
				}
			}
		}
		for _, ks := range s.sigs {
			if !apex || ks.covered != dns.TypeZONEMD {
				wires = append(wires, ks.wire)
			}
		}
	}
	if len(wires) > 1 {
		sortWires(wires)
		wires = slices.CompactFunc(wires, bytes.Equal)
	}
	return wires, nil
}

// packCanonical packs a record that is already in canonical form
// (canonicalRR) into its uncompressed wire format.
func packCanonical(rr dns.RR) ([]byte, error) {
	buf := make([]byte, dns.Len(rr)+1)
	n, err := dns.PackRR(rr, buf, 0, nil, false)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", rr.Header().Name, dns.Type(rr.Header().Rrtype), err)
	}
	return buf[:n], nil
}

// rdataOffset returns where the RDATA starts in the uncompressed wire form
// of a record: after the owner name, type, class, TTL and RDLENGTH.
func rdataOffset(w []byte) int {
	i := 0
	for i < len(w) && w[i] != 0 {
		i += int(w[i]) + 1
	}
	return min(i+1+10, len(w))
}

// sortWires sorts the wire forms of the records of one owner and type in
// canonical order (RFC 4034 §6.3: by RDATA as unsigned octets), breaking
// ties on the whole record so that the order never depends on the input.
func sortWires(wires [][]byte) {
	slices.SortFunc(wires, func(a, b []byte) int {
		if c := bytes.Compare(a[rdataOffset(a):], b[rdataOffset(b):]); c != 0 {
			return c
		}
		return bytes.Compare(a, b)
	})
}

// canonicalRR returns rr in canonical form (RFC 4034 §6.2 as corrected by
// RFC 6840 §5.1): the owner name and the domain names in the RDATA of the
// types listed there lower-cased; the TTL is left as it is. It returns rr
// itself if it is already canonical, else a copy: rr is never modified,
// and the result must not be modified either.
func canonicalRR(rr dns.RR) (dns.RR, error) {
	name, err := canonicalName(rr.Header().Name)
	if err != nil {
		return nil, err
	}
	return canonicalCopy(rr, name)
}

// canonicalCopy is canonicalRR for a record whose owner name is already
// known in canonical form.
func canonicalCopy(rr dns.RR, owner string) (dns.RR, error) {
	var fixed [2]string
	names, n := rdataNames(rr)
	same := rr.Header().Name == owner
	for i, p := range names[:n] {
		c, err := canonicalName(*p)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", owner, dns.Type(rr.Header().Rrtype), err)
		}
		fixed[i] = c
		same = same && c == *p
	}
	if same {
		return rr, nil
	}
	rr = dns.Copy(rr)
	rr.Header().Name = owner
	names, n = rdataNames(rr)
	for i, p := range names[:n] {
		*p = fixed[i]
	}
	return rr, nil
}

// rdataNames returns the domain names in the RDATA of rr that canonical
// form lower-cases: those of the types RFC 4034 §6.2 lists, less NSEC and
// HINFO (RFC 6840 §5.1).
func rdataNames(rr dns.RR) (names [2]*string, n int) {
	switch x := rr.(type) {
	case *dns.NS:
		return [2]*string{&x.Ns}, 1
	case *dns.MD:
		return [2]*string{&x.Md}, 1
	case *dns.MF:
		return [2]*string{&x.Mf}, 1
	case *dns.CNAME:
		return [2]*string{&x.Target}, 1
	case *dns.SOA:
		return [2]*string{&x.Ns, &x.Mbox}, 2
	case *dns.MB:
		return [2]*string{&x.Mb}, 1
	case *dns.MG:
		return [2]*string{&x.Mg}, 1
	case *dns.MR:
		return [2]*string{&x.Mr}, 1
	case *dns.PTR:
		return [2]*string{&x.Ptr}, 1
	case *dns.MINFO:
		return [2]*string{&x.Rmail, &x.Email}, 2
	case *dns.MX:
		return [2]*string{&x.Mx}, 1
	case *dns.RP:
		return [2]*string{&x.Mbox, &x.Txt}, 2
	case *dns.AFSDB:
		return [2]*string{&x.Hostname}, 1
	case *dns.RT:
		return [2]*string{&x.Host}, 1
	case *dns.SIG:
		return [2]*string{&x.SignerName}, 1
	case *dns.PX:
		return [2]*string{&x.Map822, &x.Mapx400}, 2
	case *dns.NAPTR:
		return [2]*string{&x.Replacement}, 1
	case *dns.KX:
		return [2]*string{&x.Exchanger}, 1
	case *dns.SRV:
		return [2]*string{&x.Target}, 1
	case *dns.DNAME:
		return [2]*string{&x.Target}, 1
	case *dns.RRSIG:
		return [2]*string{&x.SignerName}, 1
	}
	return names, 0
}
