// Package dnsserver serves zones authoritatively over UDP and TCP and feeds
// standard secondaries (NSD, Knot, BIND) by AXFR and IXFR after NOTIFY.
//
// It is steward's hidden primary and, with the same code, one of the servers
// that answer resolvers. It reads immutable zone versions (*zone.Zone) and
// never writes anything: the registry builds and signs a version, and
// [Server.SetZone] switches to it atomically.
//
// # Handler chain
//
// A query passes through a chain of handlers, each a protocol feature that
// answers or hands on to the next, as CoreDNS plugins do. The order is
// declared once, in the chain variable of chain.go:
//
//	metrics → limits → tsig → notify → chaos → transfer → authoritative
//
// The handlers:
//
//   - metrics counts answers by rcode and query type and turns a panic
//     into SERVFAIL.
//   - limits drops responses, answers malformed or unsupported requests
//     with FORMERR, NOTIMP or REFUSED, and handles EDNS0 (RFC 6891): the
//     OPT echo, BADVERS, the response size.
//   - tsig checks a request's TSIG (RFC 8945): an unknown key or a bad MAC
//     gets NOTAUTH with BADKEY or BADSIG, a stale time BADTIME; a signed
//     request gets a signed answer.
//   - notify answers an incoming NOTIFY with NOTIMP: this server is the
//     primary.
//   - chaos answers id.server and hostname.bind in class CH.
//   - transfer serves AXFR (RFC 5936) and IXFR (RFC 1995) over TCP to
//     clients allowed by the zone's transfer policy.
//   - authoritative answers from the zone: answers with AA, referrals with
//     glue, DS from the parent side, NXDOMAIN and NODATA with NSEC proofs
//     when the DO bit is set (RFC 4035 §3.1), minimal ANY answers (RFC
//     8482), REFUSED outside the served zones.
//
// # UDP fast path
//
// Most of an authoritative server's queries are alike: referrals, DS,
// NXDOMAIN, the apex's SOA, NS and DNSKEY. The fast path (fast.go,
// fastpath.go) answers them in wire format from the zone version's own
// bytes: zone.Zone keeps every record's TTL, class and RDATA in wire
// format, so a referral is the NS records copied with their owner pointing
// into the question, the NS targets compressed against the question and
// each other, the DS RRset and its signatures (or the NSEC proving there
// is none) and the glue, looked up by name, A before AAAA, in-domain
// first; an NXDOMAIN is the negative SOA and the NSEC records found by a
// binary search of the index. Nothing is computed per name when a version
// is installed: SetZone builds the index in one pass over the names (well
// under a second for a million delegations), and the answers at the apex, which
// the chain's own lookup makes and miekg/dns packs into "images" (a
// message with the origin as its question, whose bytes after the question
// are kept, with the places of their compression pointers), in a moment
// after it; until then the handler chain answers.
//
// A UDP query is first read by the fast path (fastpath.go), which parses
// the header, the question and an OPT record from the bytes, looks up the
// name's label just below the origin in the zone, and writes the header,
// the question as asked (0x20 case kept), the answer and an OPT record,
// without allocating. Names compressed against the question take the
// client's case, as NSD and Knot answer; the handler chain compresses only
// against the same case. Everything else goes on to the chain: TCP, other
// classes and opcodes, EDNS versions and options other than cookies, NSID
// and padding, TSIG, ANY, transfers, wildcards, CNAMEs, names below the
// apex that own data other than a delegation, empty non-terminals and
// names below them, names with octets other than letters, digits, '-' and
// '_', several zones served, an answer larger than the client takes (the
// chain then drops optional glue or sets TC), malformed packets.
// TestFastPathMatchesChain asks both over the real root zone (every TLD,
// names below and glue names, types, DO, EDNS sizes, random case,
// nonexistent names, the apex) and over a zone with wildcards and CNAMEs;
// FuzzFastPath checks the parser and the answers.
//
// On Linux, a UDP socket bound to one address is served by GOMAXPROCS
// workers (udp_linux.go) that read up to 32 queries with one recvmmsg,
// answer those the fast path can and send the answers with one sendmmsg,
// with buffers reused for every batch; they hand the rest to miekg/dns.
// A wildcard socket is read by miekg/dns, whose sessions keep each query's
// destination address, and the fast path answers in front of its reads.
// Metrics count fast-path answers as any other.
//
// # Zone versions
//
// The zones served are one immutable snapshot behind an atomic pointer, so a
// switch never drops or mixes a query: the fast path's answers belong to
// the snapshot too. SetZone computes the difference from
// the previous version of the same zone and keeps the last Config.Versions
// versions' differences, from which IXFR is answered; a client whose serial
// is older or unknown gets the whole zone in AXFR form (RFC 1995 §4). When a
// new serial is installed, each secondary in the zone's transfer policy gets
// a NOTIFY, retried with back-off until it answers (RFC 1996 §3.6).
//
// # Compatibility
//
// interop_test.go runs NSD and Knot as secondaries of this server: each
// takes the real root zone by AXFR and a change by IXFR after NOTIFY, with
// TSIG, and must then answer a sample of queries as this server does:
// same rcode, flags, OPT, answer and authority sections. Where they
// legitimately differ, the test documents it:
//
//   - Additional data is the server's choice (RFC 1034 §4.3.2). Knot fills
//     less of a 1232-byte answer with the root servers' addresses, and
//     servers pick different sibling glue to fill 512 bytes; what must
//     match is the in-domain glue of a referral (RFC 9471).
//   - A referral whose in-domain glue does not fit gets TC (RFC 9471 §3)
//     with the NS RRset and what glue fits, as Knot answers; NSD 4.6
//     predates RFC 9471 and leaves the glue out without TC.
//   - NSD adds the apex NS RRset and its addresses to positive answers
//     unless minimal-responses is set; this server, Knot and the root
//     servers answer minimally.
//   - To ANY (RFC 8482) this server and Knot answer with the RRset of the
//     lowest type (NS at the root), NSD with the SOA.
//
// Zones are expected to be signed with NSEC; NSEC3 zones are served
// without denial proofs, and DNAME is served as data without synthesis.
package dnsserver
