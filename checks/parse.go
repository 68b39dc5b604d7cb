package checks

import (
	"encoding/hex"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/miekg/dns"

	"steward"
)

// digestLen is the digest length of each DS digest type the checker can
// compute (RFC 4034, RFC 4509, RFC 6605).
var digestLen = map[uint8]int{dns.SHA1: 20, dns.SHA256: 32, dns.SHA384: 48}

func normalizeDS(ds steward.DS) (steward.DS, error) {
	b, err := hex.DecodeString(strings.TrimSpace(ds.Digest))
	if err != nil || len(b) == 0 {
		return ds, fmt.Errorf("DS %d: the digest is not hexadecimal", ds.KeyTag)
	}
	if n, ok := digestLen[ds.DigestType]; ok && len(b) != n {
		return ds, fmt.Errorf("DS %d: the digest has %d bytes; digest type %d has %d", ds.KeyTag, len(b), ds.DigestType, n)
	}
	if len(b) > 128 {
		return ds, fmt.Errorf("DS %d: the digest has %d bytes, more than any digest type", ds.KeyTag, len(b))
	}
	ds.Digest = strings.ToUpper(hex.EncodeToString(b))
	return ds, nil
}

// ParseNameServer parses a name server as the command line gives it:
// "NAME" or "NAME=ADDR[,ADDR]...", for example
// "ns1.example.org=192.0.2.1,2001:db8::1". Errors have code
// [steward.EINVALID].
func ParseNameServer(s string) (NameServer, error) {
	name, addrs, _ := strings.Cut(strings.TrimSpace(s), "=")
	n, ok := canonicalName(name)
	if !ok || n == "." || !validHostName(n) {
		return NameServer{}, steward.Errorf(steward.EINVALID, "name server %q is not a valid host name", name)
	}
	ns := NameServer{Name: n}
	if addrs == "" {
		return ns, nil
	}
	for _, a := range strings.Split(addrs, ",") {
		ip, err := netip.ParseAddr(strings.TrimSpace(a))
		if err != nil || ip.Zone() != "" {
			return NameServer{}, steward.Errorf(steward.EINVALID, "name server %s: %q is not an IP address", n, a)
		}
		ns.Addrs = append(ns.Addrs, ip.Unmap())
	}
	if len(ns.Addrs) > MaxAddrs {
		return NameServer{}, steward.Errorf(steward.EINVALID, "name server %s: %d addresses; at most %d", n, len(ns.Addrs), MaxAddrs)
	}
	return ns, nil
}

// ParseDS parses a DS record for zone, either its RDATA ("KEYTAG ALGORITHM
// DIGESTTYPE DIGEST", the digest possibly split by spaces) or a whole
// record in zone-file format whose owner must be zone. Errors have code
// [steward.EINVALID].
func ParseDS(zone, s string) (steward.DS, error) {
	s = strings.TrimSpace(s)
	fields := strings.Fields(s)
	if i := indexFold(fields, "DS"); i >= 0 {
		rr, err := dns.NewRR(s)
		if err != nil {
			return steward.DS{}, steward.Errorf(steward.EINVALID, "DS record %q: %v", s, err)
		}
		ds, ok := rr.(*dns.DS)
		if !ok {
			return steward.DS{}, steward.Errorf(steward.EINVALID, "%q is not a DS record", s)
		}
		if z, ok := canonicalName(zone); ok && dns.CanonicalName(ds.Hdr.Name) != z {
			return steward.DS{}, steward.Errorf(steward.EINVALID, "DS record for %s, not for %s", ds.Hdr.Name, z)
		}
		out, err := normalizeDS(steward.DS{KeyTag: ds.KeyTag, Algorithm: ds.Algorithm, DigestType: ds.DigestType, Digest: ds.Digest})
		if err != nil {
			return steward.DS{}, steward.Errorf(steward.EINVALID, "%v", err)
		}
		return out, nil
	}
	if len(fields) < 4 {
		return steward.DS{}, steward.Errorf(steward.EINVALID, "DS %q: want KEYTAG ALGORITHM DIGESTTYPE DIGEST", s)
	}
	tag, err1 := strconv.ParseUint(fields[0], 10, 16)
	alg, err2 := strconv.ParseUint(fields[1], 10, 8)
	dt, err3 := strconv.ParseUint(fields[2], 10, 8)
	if err1 != nil || err2 != nil || err3 != nil {
		return steward.DS{}, steward.Errorf(steward.EINVALID, "DS %q: key tag, algorithm and digest type must be numbers (0-65535, 0-255, 0-255)", s)
	}
	out, err := normalizeDS(steward.DS{KeyTag: uint16(tag), Algorithm: uint8(alg), DigestType: uint8(dt), Digest: strings.Join(fields[3:], "")})
	if err != nil {
		return steward.DS{}, steward.Errorf(steward.EINVALID, "%v", err)
	}
	return out, nil
}

func indexFold(fs []string, s string) int {
	for i, f := range fs {
		if strings.EqualFold(f, s) {
			return i
		}
	}
	return -1
}
