package checks

import (
	"strings"
)

// Case describes one test case the checker runs. IDs and titles are
// Zonemaster's (https://doc.zonemaster.net, test case specifications); Note
// says where steward's check differs from the specification.
type Case struct {
	ID     string `json:"id"`
	Module string `json:"module"`
	Title  string `json:"title"`
	Note   string `json:"note,omitempty"`
}

var catalog = []Case{
	{"BASIC00", "BASIC", "Domain name must be valid", "the delegation as submitted: zone and host names, addresses, DS records; nothing is queried when it fails"},
	{"BASIC02", "BASIC", "The domain must have at least one working name server", ""},
	{"ADDRESS01", "ADDRESS", "Name server address must be globally reachable", "loopback and private-use space may be allowed for lab instances; addresses not allowed are never queried"},
	{"CONNECTIVITY01", "CONNECTIVITY", "UDP connectivity", "a server fails when it does not answer SOA and NS over UDP or answers with an RCODE other than NOERROR; the AA bit is DELEGATION04's"},
	{"CONNECTIVITY02", "CONNECTIVITY", "TCP connectivity", "as CONNECTIVITY01, over TCP"},
	{"CONSISTENCY01", "CONSISTENCY", "SOA serial number consistency", "different serials are an error"},
	{"CONSISTENCY02", "CONSISTENCY", "SOA RNAME consistency", ""},
	{"CONSISTENCY03", "CONSISTENCY", "SOA timers consistency", ""},
	{"CONSISTENCY04", "CONSISTENCY", "Name server NS consistency", "NS sets are compared by name server names"},
	{"CONSISTENCY05", "CONSISTENCY", "Consistency between glue and authoritative data", "in-bailiwick names only: the child's A and AAAA records must equal the glue"},
	{"CONSISTENCY06", "CONSISTENCY", "SOA MNAME consistency", ""},
	{"DELEGATION01", "DELEGATION", "Minimum number of name servers", "at least two name server names, in the delegation and in the child's NS set"},
	{"DELEGATION02", "DELEGATION", "Name servers must have distinct IP addresses", ""},
	{"DELEGATION03", "DELEGATION", "No truncation of referrals", "also warns when the whole referral (every NS, all glue, the DS set) for the zone apex exceeds 512 octets"},
	{"DELEGATION04", "DELEGATION", "Name server is authoritative", "SOA and NS, over UDP and TCP"},
	{"DELEGATION05", "DELEGATION", "Name server must not point at CNAME alias", "in-bailiwick names, from the child's answers"},
	{"DELEGATION06", "DELEGATION", "Existence of SOA", "authoritative answers only"},
	{"DELEGATION07", "DELEGATION", "Parent glue name records present in child", "the delegation's NS names and the child's must be the same set"},
	{"DNSSEC01", "DNSSEC", "Legal values for the DS hash digest algorithm", ""},
	{"DNSSEC02", "DNSSEC", "DS must match a valid DNSKEY in the child zone", "the key must be a zone key with the SEP flag and sign the DNSKEY RRset with an RRSIG valid at the time of the run; a DS failing this is an error when no DS passes, a warning otherwise (a standby key)"},
	{"DNSSEC05", "DNSSEC", "Check for invalid DNSKEY algorithms", "RFC 8624's recommendations"},
	{"DNSSEC07", "DNSSEC", "If DNSKEY at child, parent should have DS", "also: a DS without any DNSKEY at the child is an error"},
	{"DNSSEC08", "DNSSEC", "Valid RRSIG for DNSKEY", "the DNSKEY RRset needs at least one RRSIG by one of its keys that verifies and is valid at the time of the run"},
	{"DNSSEC09", "DNSSEC", "RRSIG(SOA) must be valid and created by a valid DNSKEY", "the SOA RRset needs at least one RRSIG by a key of the DNSKEY RRset that verifies and is valid at the time of the run"},
	{"NAMESERVER01", "NAMESERVER", "A name server should not be a recursor", "asks for the root's NS with recursion desired; RA in the answer means a recursor"},
	{"NAMESERVER06", "NAMESERVER", "NS can be resolved", "every name server needs an address, given as glue or resolved"},
}

// Catalog returns the test cases the checker runs, in the order their
// results appear in a report.
func Catalog() []Case { return append([]Case(nil), catalog...) }

// LookupCase returns the test case with the id (case-insensitive).
func LookupCase(id string) (Case, bool) {
	for _, c := range catalog {
		if strings.EqualFold(c.ID, id) {
			return c, true
		}
	}
	return Case{}, false
}

func moduleOf(id string) string {
	if c, ok := LookupCase(id); ok {
		return c.Module
	}
	return strings.TrimRight(id, "0123456789")
}
