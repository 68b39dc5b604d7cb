package rdap

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// bootstrapFile is an RFC 9224 bootstrap file, in the member order IANA
// publishes.
type bootstrapFile struct {
	Description string       `json:"description"`
	Publication string       `json:"publication"`
	Services    [][][]string `json:"services"`
	Version     string       `json:"version"`
}

// Bootstrap returns the RFC 9224 bootstrap file of the given name (dns.json,
// ipv4.json, ipv6.json or asn.json), generated from the registry: each
// entry names the RDAP service of the objects under it, the one a network
// or AS range names, else this service (base). The publication time is the
// time of the last ledger entry the snapshot reflects.
func (s *Snapshot) Bootstrap(name, base string) ([]byte, bool) {
	f := bootstrapFile{Version: "1.0", Publication: s.Updated.Time.UTC().Format(time.RFC3339), Services: [][][]string{}}
	svc := map[string][]string{}
	add := func(url, entry string) {
		if url == "" {
			url = base
		}
		svc[url] = append(svc[url], entry)
	}
	switch name {
	case "dns.json":
		f.Description = "RDAP bootstrap file for Domain Name System registrations"
		for _, n := range s.domainNames {
			add("", n)
		}
	case "ipv4.json", "ipv6.json":
		idx, kind := s.v4, "IPv4"
		if name == "ipv6.json" {
			idx, kind = s.v6, "IPv6"
		}
		f.Description = "RDAP bootstrap file for " + kind + " address allocations"
		for i, n := range idx.nets {
			if idx.parent[i] >= 0 {
				continue // only top-level allocations, as IANA lists
			}
			for _, p := range n.Prefixes {
				add(n.RDAPServer, p.String())
			}
		}
	case "asn.json":
		f.Description = "RDAP bootstrap file for Autonomous System Number allocations"
		for i, a := range s.asns.nums {
			if s.asns.parent[i] >= 0 {
				continue
			}
			add(a.RDAPServer, strconv.FormatUint(uint64(a.Start), 10)+"-"+strconv.FormatUint(uint64(a.End), 10))
		}
	default:
		return nil, false
	}
	urls := sortedKeys(svc)
	slices.SortStableFunc(urls, func(a, b string) int { return cmp.Compare(strings.ToLower(a), strings.ToLower(b)) })
	for _, u := range urls {
		f.Services = append(f.Services, [][]string{svc[u], {u}})
	}
	return marshal(f), true
}
