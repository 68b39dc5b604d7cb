// Package zone holds immutable versions of a DNS zone and the lookups an
// authoritative server needs: RRsets by name and type, delegation points,
// canonical order (RFC 4034 §6.1) for NSEC and for transfers.
//
// A *Zone is never modified after New returns, so one version can be
// served by many goroutines while the next is built.
package zone

import (
	"fmt"
	"sort"
	"strings"

	"github.com/miekg/dns"
)

// Zone is one version of a zone.
type Zone struct {
	Origin string // fully qualified, lower case
	Serial uint32
	names  []string // owner names in canonical order
	sets   map[string]map[uint16][]dns.RR
}

// New builds a zone version from its records. Owner names are lowered; the
// zone must have exactly one SOA, at the origin, and every record must be
// at or below the origin.
func New(origin string, rrs []dns.RR) (*Zone, error) {
	origin = strings.ToLower(dns.Fqdn(origin))
	z := &Zone{Origin: origin, sets: map[string]map[uint16][]dns.RR{}}
	soas := 0
	for _, rr := range rrs {
		rr = dns.Copy(rr)
		h := rr.Header()
		h.Name = strings.ToLower(h.Name)
		if !dns.IsSubDomain(origin, h.Name) {
			return nil, fmt.Errorf("%s is outside the zone %s", h.Name, origin)
		}
		if h.Rrtype == dns.TypeSOA {
			if h.Name != origin {
				return nil, fmt.Errorf("SOA at %s, not at the origin %s", h.Name, origin)
			}
			soas++
			z.Serial = rr.(*dns.SOA).Serial
		}
		byType, ok := z.sets[h.Name]
		if !ok {
			byType = map[uint16][]dns.RR{}
			z.sets[h.Name] = byType
			z.names = append(z.names, h.Name)
		}
		byType[h.Rrtype] = append(byType[h.Rrtype], rr)
	}
	if soas != 1 {
		return nil, fmt.Errorf("zone %s has %d SOA records, want 1", origin, soas)
	}
	sort.Slice(z.names, func(i, j int) bool { return Compare(z.names[i], z.names[j]) < 0 })
	return z, nil
}

// Compare orders two domain names canonically (RFC 4034 §6.1): label by
// label from the root, case-insensitively, as unsigned bytes.
func Compare(a, b string) int {
	la, lb := dns.SplitDomainName(strings.ToLower(a)), dns.SplitDomainName(strings.ToLower(b))
	for i, j := len(la)-1, len(lb)-1; i >= 0 || j >= 0; i, j = i-1, j-1 {
		switch {
		case i < 0:
			return -1
		case j < 0:
			return 1
		}
		x, y := unescape(la[i]), unescape(lb[j])
		if c := strings.Compare(x, y); c != 0 {
			return c
		}
	}
	return 0
}

// unescape turns a presentation-format label into its wire bytes.
func unescape(label string) string {
	if !strings.Contains(label, `\`) {
		return label
	}
	var b strings.Builder
	for i := 0; i < len(label); i++ {
		c := label[i]
		if c != '\\' || i+1 >= len(label) {
			b.WriteByte(c)
			continue
		}
		if i+3 < len(label) && isDigit(label[i+1]) && isDigit(label[i+2]) && isDigit(label[i+3]) {
			b.WriteByte((label[i+1]-'0')*100 + (label[i+2]-'0')*10 + (label[i+3] - '0'))
			i += 3
			continue
		}
		b.WriteByte(label[i+1])
		i++
	}
	return b.String()
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// Names returns the owner names in canonical order. The slice must not be
// modified.
func (z *Zone) Names() []string { return z.names }

// RRset returns the records of a type at a name (nil if none). RRSIG
// records are returned by Sigs, not here.
func (z *Zone) RRset(name string, t uint16) []dns.RR {
	return z.sets[strings.ToLower(name)][t]
}

// Types returns the types present at a name, in ascending order.
func (z *Zone) Types(name string) []uint16 {
	var ts []uint16
	for t := range z.sets[strings.ToLower(name)] {
		ts = append(ts, t)
	}
	sort.Slice(ts, func(i, j int) bool { return ts[i] < ts[j] })
	return ts
}

// Sigs returns the RRSIGs at a name that cover the type.
func (z *Zone) Sigs(name string, covered uint16) []dns.RR {
	var out []dns.RR
	for _, rr := range z.sets[strings.ToLower(name)][dns.TypeRRSIG] {
		if rr.(*dns.RRSIG).TypeCovered == covered {
			out = append(out, rr)
		}
	}
	return out
}

// HasName reports whether records exist at name.
func (z *Zone) HasName(name string) bool {
	_, ok := z.sets[strings.ToLower(name)]
	return ok
}

// Exists reports whether name exists in the zone: it owns records, or it is
// an empty non-terminal (a name with descendants but no records).
func (z *Zone) Exists(name string) bool {
	name = strings.ToLower(dns.Fqdn(name))
	if z.HasName(name) {
		return true
	}
	// The first name after name in canonical order is a descendant if any is.
	i := sort.Search(len(z.names), func(i int) bool { return Compare(z.names[i], name) > 0 })
	return i < len(z.names) && dns.IsSubDomain(name, z.names[i])
}

// Delegation returns the delegation point at or above name (below the
// origin): the closest enclosing name that owns NS records, if any.
func (z *Zone) Delegation(name string) (string, bool) {
	name = strings.ToLower(dns.Fqdn(name))
	if !dns.IsSubDomain(z.Origin, name) {
		return "", false
	}
	labels := dns.SplitDomainName(name)
	origin := dns.CountLabel(z.Origin)
	// From the label just below the origin down to name itself.
	for n := origin + 1; n <= len(labels); n++ {
		cut := dns.Fqdn(strings.Join(labels[len(labels)-n:], "."))
		if len(z.sets[cut][dns.TypeNS]) > 0 {
			return cut, true
		}
	}
	return "", false
}

// Previous returns the name that precedes name in canonical order, wrapping
// around to the last name: the owner of the NSEC record that covers a name
// that does not exist.
func (z *Zone) Previous(name string) string {
	name = strings.ToLower(dns.Fqdn(name))
	i := sort.Search(len(z.names), func(i int) bool { return Compare(z.names[i], name) >= 0 })
	if i == 0 {
		return z.names[len(z.names)-1]
	}
	return z.names[i-1]
}

// Records returns every record in canonical order of owner names, the SOA
// first, and by type within a name.
func (z *Zone) Records() []dns.RR {
	var out []dns.RR
	out = append(out, z.sets[z.Origin][dns.TypeSOA]...)
	for _, n := range z.names {
		for _, t := range z.Types(n) {
			if n == z.Origin && t == dns.TypeSOA {
				continue
			}
			out = append(out, z.sets[n][t]...)
		}
	}
	return out
}

// SOA returns the zone's SOA record.
func (z *Zone) SOA() *dns.SOA { return z.sets[z.Origin][dns.TypeSOA][0].(*dns.SOA) }
