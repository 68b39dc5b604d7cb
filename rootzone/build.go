package rootzone

import (
	"net/netip"
	"sort"

	"github.com/miekg/dns"

	"steward"
	"steward/zone"
)

// Build returns the unsigned root zone the registry describes, as a zone
// version with the given serial. The same apex, delegations and serial
// always give the same records. Glue shared by several delegations appears
// once.
func Build(apex *steward.Apex, tlds []steward.TLD, serial uint32) (*zone.Zone, error) {
	var rrs []dns.RR
	hdr := func(name string, t uint16, ttl uint32) dns.RR_Header {
		return dns.RR_Header{Name: name, Rrtype: t, Class: dns.ClassINET, Ttl: ttl}
	}
	rrs = append(rrs, &dns.SOA{Hdr: hdr(".", dns.TypeSOA, apex.SOATTL), Ns: apex.MName, Mbox: apex.RName,
		Serial: serial, Refresh: apex.Refresh, Retry: apex.Retry, Expire: apex.Expire, Minttl: apex.Minimum})
	for _, ns := range apex.NS {
		rrs = append(rrs, &dns.NS{Hdr: hdr(".", dns.TypeNS, apex.NSTTL), Ns: ns})
	}
	type glueKey struct{ name, addr string }
	glue := map[glueKey]uint32{}
	addGlue := func(gs []steward.Glue, ttl uint32) {
		for _, g := range gs {
			for _, a := range g.Addrs {
				k := glueKey{g.Name, a}
				if _, ok := glue[k]; !ok {
					glue[k] = ttl
				}
			}
		}
	}
	addGlue(apex.Glue, apex.NSTTL)
	for _, t := range tlds {
		owner := t.Name + "."
		for _, ns := range t.NS {
			rrs = append(rrs, &dns.NS{Hdr: hdr(owner, dns.TypeNS, apex.DelegationTTL), Ns: ns})
		}
		for _, d := range t.DS {
			rrs = append(rrs, &dns.DS{Hdr: hdr(owner, dns.TypeDS, apex.DSTTL), KeyTag: d.KeyTag, Algorithm: d.Algorithm, DigestType: d.DigestType, Digest: d.Digest})
		}
		addGlue(t.Glue, apex.DelegationTTL)
	}
	keys := make([]glueKey, 0, len(glue))
	for k := range glue {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].name != keys[j].name {
			return keys[i].name < keys[j].name
		}
		return keys[i].addr < keys[j].addr
	})
	for _, k := range keys {
		ip := netip.MustParseAddr(k.addr) // normalized by the registry
		if ip.Is4() {
			rrs = append(rrs, &dns.A{Hdr: hdr(k.name, dns.TypeA, glue[k]), A: ip.AsSlice()})
		} else {
			rrs = append(rrs, &dns.AAAA{Hdr: hdr(k.name, dns.TypeAAAA, glue[k]), AAAA: ip.AsSlice()})
		}
	}
	return zone.New(".", rrs)
}

// Hints returns root hints in the form of IANA's named.root: the apex NS
// records and their addresses, for resolvers' configuration.
func Hints(apex *steward.Apex) []dns.RR {
	var rrs []dns.RR
	const ttl = 3600000
	for _, ns := range apex.NS {
		rrs = append(rrs, &dns.NS{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeNS, Class: dns.ClassINET, Ttl: ttl}, Ns: ns})
		for _, g := range apex.Glue {
			if g.Name != ns {
				continue
			}
			for _, a := range g.Addrs {
				ip := netip.MustParseAddr(a)
				if ip.Is4() {
					rrs = append(rrs, &dns.A{Hdr: dns.RR_Header{Name: ns, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: ttl}, A: ip.AsSlice()})
				} else {
					rrs = append(rrs, &dns.AAAA{Hdr: dns.RR_Header{Name: ns, Rrtype: dns.TypeAAAA, Class: dns.ClassINET, Ttl: ttl}, AAAA: ip.AsSlice()})
				}
			}
		}
	}
	return rrs
}
