package rdap

import (
	"net/netip"
	"sync/atomic"
	"time"

	"steward"
)

// Stamp is a ledger entry an object's event comes from.
type Stamp struct {
	Seq   int64
	Time  time.Time
	Actor string
}

// Events are the ledger entries that registered and last changed an
// object.
type Events struct {
	Registered Stamp
	Changed    Stamp
}

// span widens e to cover o.
func (e *Events) span(o Events) {
	if e.Registered.Time.IsZero() || o.Registered.Seq < e.Registered.Seq {
		e.Registered = o.Registered
	}
	if o.Changed.Seq > e.Changed.Seq || e.Changed.Time.IsZero() {
		e.Changed = o.Changed
	}
}

// Domain is a TLD of the root zone as RDAP shows it.
type Domain struct {
	Name        string // A-label, lower case, no trailing dot
	Unicode     string // U-label, if it differs from Name
	Nameservers []*Nameserver
	DS          []steward.DS
	Manager     string   // handle of the managing organisation, or ""
	Contacts    []string // handles of the TLD's contacts (participants)
	Events      Events
	cache       atomic.Pointer[rendered]
}

// Nameserver is a name server of one or more TLDs.
type Nameserver struct {
	Name    string // lower case, no trailing dot
	Unicode string
	V4, V6  []string // glue addresses, as the root zone holds them
	Events  Events
	cache   atomic.Pointer[rendered]
}

// Entity kinds (jCard kind).
const (
	KindIndividual = "individual"
	KindOrg        = "org"
)

// Entity is a participant, an organisation or a contact.
type Entity struct {
	Handle  string
	Kind    string // KindIndividual or KindOrg
	Name    string // full name (jCard fn)
	Org     string // affiliation (jCard org)
	Emails  []string
	Phones  []string
	Address []string // postal address lines
	Country string   // ISO 3166 alpha-2
	Remarks []string
	Events  Events
	cache   atomic.Pointer[rendered]
}

// EntityRef is an entity in a role, as another object embeds it.
type EntityRef struct {
	Handle string
	Roles  []string // RFC 9083 §10.2.4: registrant, technical, administrative, abuse, …
}

// Network is an IP address block (RDAP "ip network").
type Network struct {
	Handle   string
	Start    netip.Addr
	End      netip.Addr
	Prefixes []netip.Prefix // the CIDR prefixes that cover Start..End exactly
	Name     string
	Type     string // e.g. "ALLOCATED", "ASSIGNED PA"
	Country  string
	Status   []string
	Entities []EntityRef
	Remarks  []string
	// Record is what the number registry says of the network, rendered as
	// remarks (kept as fields rather than texts: fewer objects).
	Record Record
	// RDAPServer is the base URL of the RDAP service that holds the
	// network's details, if it is not this one (bootstrap files name it).
	RDAPServer string
	// Rank orders networks of the same range: the delegating registry's
	// record (lower rank) holds the delegated one's.
	Rank   int
	Events Events
	cache  atomic.Pointer[rendered]
}

// Autnum is a range of AS numbers.
type Autnum struct {
	Handle   string
	Start    uint32
	End      uint32
	Name     string
	Type     string
	Country  string
	Status   []string
	Entities []EntityRef
	Remarks  []string
	Record   Record
	// RDAPServer and Rank are as for Network.
	RDAPServer string
	Rank       int
	Events     Events
	cache      atomic.Pointer[rendered]
}

// Record is what a number block's record says beyond the RDAP fields: who
// recorded it, its status and date, and IANA's status word.
type Record struct {
	Registry, Status, Date, IANAStatus, IANARegistry string
}

// remarks returns the record as remark texts, none for the zero Record.
func (r *Record) remarks() []string {
	if r.Registry == "" {
		return nil
	}
	out := []string{"Recorded by " + r.Registry + " with status " + r.Status + dateText(r.Date) + "."}
	if r.IANAStatus != "" {
		out = append(out, "IANA status "+r.IANAStatus+" ("+r.IANARegistry+").")
	}
	return out
}

// rendered is an object's response body for one base URL.
type rendered struct {
	base string
	head int64 // the snapshot it was rendered from
	body []byte
}
