package checks

import (
	"encoding/hex"
	"fmt"
	"net"
	"strings"

	"github.com/miekg/dns"
)

// Referral TTLs as the root zone publishes them; they do not change sizes.
const (
	referralTTL = 172800
	dsTTL       = 86400
)

// parentOf returns the zone's parent: the name without its first label.
func parentOf(zone string) string {
	labels := dns.SplitDomainName(zone)
	if len(labels) <= 1 {
		return "."
	}
	return dns.Fqdn(strings.Join(labels[1:], "."))
}

// longestName returns the longest name under zone: 255 octets in wire
// format, or 254 when the remainder cannot hold a label.
func longestName(zone string) string {
	wire := len(zone) + 1
	if zone == "." {
		wire = 1
	}
	need := 255 - wire
	var labels []string
	for need >= 64 {
		labels = append(labels, strings.Repeat("a", 63))
		need -= 64
	}
	if need >= 2 {
		labels = append(labels, strings.Repeat("a", need-1))
	}
	if zone == "." {
		return strings.Join(labels, ".") + "."
	}
	return strings.Join(labels, ".") + "." + zone
}

// referral builds the referral the parent would send for qname: the NS
// set in the authority section, then (when withDS) the DS set, and glue in
// the additional section: one A and one AAAA (minimal) or every address
// of every name server inside the parent's bailiwick (full).
func (a *analysis) referral(qname string, minimal, withDS bool) *dns.Msg {
	m := new(dns.Msg)
	m.Response = true
	m.Compress = true
	m.Question = []dns.Question{{Name: qname, Qtype: dns.TypeA, Qclass: dns.ClassINET}}
	parent := parentOf(a.d.Zone)
	for _, ns := range a.d.NS {
		m.Ns = append(m.Ns, &dns.NS{Hdr: dns.RR_Header{Name: a.d.Zone, Rrtype: dns.TypeNS, Class: dns.ClassINET, Ttl: referralTTL}, Ns: ns.Name})
	}
	if withDS {
		for _, ds := range a.d.DS {
			m.Ns = append(m.Ns, &dns.DS{Hdr: dns.RR_Header{Name: a.d.Zone, Rrtype: dns.TypeDS, Class: dns.ClassINET, Ttl: dsTTL},
				KeyTag: ds.KeyTag, Algorithm: ds.Algorithm, DigestType: ds.DigestType, Digest: ds.Digest})
		}
	}
	// Zonemaster's rule for the minimal referral: glue is needed for a
	// family only when every name server name with an address of that
	// family is inside the parent's bailiwick.
	allInParent := map[bool]bool{true: true, false: true}
	for _, ns := range a.d.NS {
		for _, ip := range a.glue(ns) {
			if !dns.IsSubDomain(parent, ns.Name) {
				allInParent[ip.Is4()] = false
			}
		}
	}
	have := map[bool]bool{}
	for _, ns := range a.d.NS {
		if !dns.IsSubDomain(parent, ns.Name) {
			continue
		}
		for _, ip := range a.glue(ns) {
			v4 := ip.Is4()
			if minimal && (have[v4] || !allInParent[v4]) {
				continue
			}
			have[v4] = true
			hdr := dns.RR_Header{Name: ns.Name, Class: dns.ClassINET, Ttl: referralTTL}
			if v4 {
				hdr.Rrtype = dns.TypeA
				m.Extra = append(m.Extra, &dns.A{Hdr: hdr, A: net.IP(ip.AsSlice())})
			} else {
				hdr.Rrtype = dns.TypeAAAA
				m.Extra = append(m.Extra, &dns.AAAA{Hdr: hdr, AAAA: net.IP(ip.AsSlice())})
			}
		}
	}
	return m
}

func packedLen(m *dns.Msg) (int, error) {
	b, err := m.Pack()
	return len(b), err
}

func (a *analysis) delegation03() {
	for _, ds := range a.d.DS {
		if _, err := hex.DecodeString(ds.Digest); err != nil {
			return // Normalize prevents this; the analysis never packs garbage
		}
	}
	minimal := a.referral(longestName(a.d.Zone), true, false)
	full := a.referral(a.d.Zone, false, true)
	nmin, err1 := packedLen(minimal)
	nfull, err2 := packedLen(full)
	if err1 != nil || err2 != nil {
		a.add("DELEGATION03", "REFERRAL_NOT_PACKED", ERROR, fmt.Sprintf("The referral cannot be encoded: %v", firstErr(err1, err2)))
		return
	}
	ev := []string{
		fmt.Sprintf("minimal referral (query for a 255-octet name, every NS, one A and one AAAA glue): %d octets: %s", nmin, msgText(minimal)),
		fmt.Sprintf("full referral (query for the apex, every NS, the DS set, all glue in the parent's bailiwick): %d octets: %s", nfull, msgText(full)),
	}
	if nmin > 512 {
		a.add("DELEGATION03", "REFERRAL_SIZE_TOO_LARGE", ERROR,
			fmt.Sprintf("The referral for %s takes %d octets; it must fit in 512 so that resolvers without EDNS get it untruncated.", a.d.Zone, nmin), ev...)
	} else {
		a.add("DELEGATION03", "REFERRAL_SIZE_OK", OK, fmt.Sprintf("The referral for %s fits in 512 octets (%d).", a.d.Zone, nmin), ev...)
	}
	if nfull > 512 {
		a.add("DELEGATION03", "REFERRAL_FULL_SIZE_TOO_LARGE", WARNING,
			fmt.Sprintf("The whole referral for %s with all its glue and DS set takes %d octets, more than 512: resolvers without EDNS get part of the glue.", a.d.Zone, nfull), ev...)
	}
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

func msgText(m *dns.Msg) string {
	var parts []string
	for _, rr := range append(append([]dns.RR{}, m.Ns...), m.Extra...) {
		parts = append(parts, strings.ReplaceAll(rr.String(), "\t", " "))
	}
	return strings.Join(parts, "; ")
}
