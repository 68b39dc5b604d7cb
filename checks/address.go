package checks

import (
	"net/netip"
)

// special is one entry of IANA's special-purpose address registries
// (RFC 6890 and the RFCs that added entries since): a prefix, its name,
// and whether the registry lists it as globally reachable.
type special struct {
	prefix   netip.Prefix
	name     string
	global   bool
	category category
}

type category int

const (
	catOther         category = iota // not globally reachable, for another reason
	catDocumentation                 // reserved for documentation
	catLoopback                      // loopback
	catPrivate                       // private-use, shared address space, unique-local
	catLinkLocal                     // link-local
)

func sp(p, name string, global bool, c category) special {
	return special{netip.MustParsePrefix(p), name, global, c}
}

// specialRegistry holds iana-ipv4-special-registry and
// iana-ipv6-special-registry. The most specific matching prefix decides,
// so 192.0.0.9/32 (globally reachable) overrides 192.0.0.0/24 (not).
// Entries the registry marks N/A (deprecated 6to4, Teredo, ORCHID) count as
// not globally reachable: no name server should use them.
var specialRegistry = []special{
	sp("0.0.0.0/8", "\"This network\" (RFC 791)", false, catOther),
	sp("0.0.0.0/32", "\"This host on this network\" (RFC 1122)", false, catOther),
	sp("10.0.0.0/8", "Private-Use (RFC 1918)", false, catPrivate),
	sp("100.64.0.0/10", "Shared Address Space (RFC 6598)", false, catPrivate),
	sp("127.0.0.0/8", "Loopback (RFC 1122)", false, catLoopback),
	sp("169.254.0.0/16", "Link Local (RFC 3927)", false, catLinkLocal),
	sp("172.16.0.0/12", "Private-Use (RFC 1918)", false, catPrivate),
	sp("192.0.0.0/24", "IETF Protocol Assignments (RFC 6890)", false, catOther),
	sp("192.0.0.0/29", "IPv4 Service Continuity Prefix (RFC 7335)", false, catOther),
	sp("192.0.0.8/32", "IPv4 dummy address (RFC 7600)", false, catOther),
	sp("192.0.0.9/32", "Port Control Protocol Anycast (RFC 7723)", true, catOther),
	sp("192.0.0.10/32", "Traversal Using Relays around NAT Anycast (RFC 8155)", true, catOther),
	sp("192.0.0.170/32", "NAT64/DNS64 Discovery (RFC 8880)", false, catOther),
	sp("192.0.0.171/32", "NAT64/DNS64 Discovery (RFC 8880)", false, catOther),
	sp("192.0.2.0/24", "Documentation (TEST-NET-1, RFC 5737)", false, catDocumentation),
	sp("192.31.196.0/24", "AS112-v4 (RFC 7535)", true, catOther),
	sp("192.52.193.0/24", "AMT (RFC 7450)", true, catOther),
	sp("192.88.99.0/24", "Deprecated (6to4 Relay Anycast, RFC 7526)", false, catOther),
	sp("192.168.0.0/16", "Private-Use (RFC 1918)", false, catPrivate),
	sp("192.175.48.0/24", "Direct Delegation AS112 Service (RFC 7534)", true, catOther),
	sp("198.18.0.0/15", "Benchmarking (RFC 2544)", false, catOther),
	sp("198.51.100.0/24", "Documentation (TEST-NET-2, RFC 5737)", false, catDocumentation),
	sp("203.0.113.0/24", "Documentation (TEST-NET-3, RFC 5737)", false, catDocumentation),
	sp("224.0.0.0/4", "Multicast (RFC 5771)", false, catOther),
	sp("240.0.0.0/4", "Reserved (RFC 1112)", false, catOther),
	sp("255.255.255.255/32", "Limited Broadcast (RFC 919)", false, catOther),

	sp("::/128", "Unspecified Address (RFC 4291)", false, catOther),
	sp("::1/128", "Loopback Address (RFC 4291)", false, catLoopback),
	sp("::ffff:0:0/96", "IPv4-mapped Address (RFC 4291)", false, catOther),
	sp("64:ff9b::/96", "IPv4-IPv6 Translation (RFC 6052)", true, catOther),
	sp("64:ff9b:1::/48", "Local-use IPv4/IPv6 Translation (RFC 8215)", false, catOther),
	sp("100::/64", "Discard-Only Address Block (RFC 6666)", false, catOther),
	sp("100:0:0:1::/64", "Dummy IPv6 Prefix (RFC 9780)", false, catOther),
	sp("2001::/23", "IETF Protocol Assignments (RFC 2928)", false, catOther),
	sp("2001::/32", "TEREDO (RFC 4380)", false, catOther),
	sp("2001:1::1/128", "Port Control Protocol Anycast (RFC 7723)", true, catOther),
	sp("2001:1::2/128", "Traversal Using Relays around NAT Anycast (RFC 8155)", true, catOther),
	sp("2001:1::3/128", "DNS-SD Service Registration Protocol Anycast (RFC 9665)", true, catOther),
	sp("2001:2::/48", "Benchmarking (RFC 5180)", false, catOther),
	sp("2001:3::/32", "AMT (RFC 7450)", true, catOther),
	sp("2001:4:112::/48", "AS112-v6 (RFC 7535)", true, catOther),
	sp("2001:10::/28", "Deprecated (previously ORCHID, RFC 4843)", false, catOther),
	sp("2001:20::/28", "ORCHIDv2 (RFC 7343)", true, catOther),
	sp("2001:30::/28", "Drone Remote ID Protocol Entity Tags (RFC 9374)", true, catOther),
	sp("2001:db8::/32", "Documentation (RFC 3849)", false, catDocumentation),
	sp("2002::/16", "6to4 (RFC 3056)", false, catOther),
	sp("2620:4f:8000::/48", "Direct Delegation AS112 Service (RFC 7534)", true, catOther),
	sp("3fff::/20", "Documentation (RFC 9637)", false, catDocumentation),
	sp("5f00::/16", "Segment Routing (SRv6) SIDs (RFC 9602)", false, catOther),
	sp("fc00::/7", "Unique-Local (RFC 4193)", false, catPrivate),
	sp("fe80::/10", "Link-Local Unicast (RFC 4291)", false, catLinkLocal),
	sp("ff00::/8", "Multicast (RFC 4291)", false, catOther),
}

// classify returns the most specific special-purpose entry covering a, or
// false when a is ordinary global unicast space.
func classify(a netip.Addr) (special, bool) {
	a = a.Unmap()
	best, found := special{}, false
	for _, s := range specialRegistry {
		if s.prefix.Contains(a) && (!found || s.prefix.Bits() > best.prefix.Bits()) {
			best, found = s, true
		}
	}
	return best, found
}

// addrVerdict says whether an address may be queried and used as a name
// server address under the options, and why.
type addrVerdict struct {
	allowed bool   // the address may be used (and is queried)
	global  bool   // globally reachable
	allowBy string // the option that allowed a non-global address
	entry   special
}

func judgeAddr(a netip.Addr, opt Options) addrVerdict {
	s, ok := classify(a)
	if !ok || s.global {
		return addrVerdict{allowed: true, global: true, entry: s}
	}
	v := addrVerdict{entry: s}
	switch {
	case s.category == catLoopback && opt.AllowLoopback:
		v.allowed, v.allowBy = true, "allow loopback"
	case s.category == catPrivate && opt.AllowPrivate:
		v.allowed, v.allowBy = true, "allow private"
	}
	return v
}
