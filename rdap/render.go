package rdap

import (
	"encoding/json"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"steward/charter"
)

// Conformance is the rdapConformance of every response: RDAP level 0 (RFC
// 9083), redaction (RFC 9537) and the cidr0 extension (networks list their
// prefixes in cidr0_cidrs).
var Conformance = []string{"rdap_level_0", "redacted", "cidr0"}

// ContentType is the media type of RDAP responses (RFC 7480 §4.2).
const ContentType = "application/rdap+json"

type jLink struct {
	Value string `json:"value"`
	Rel   string `json:"rel"`
	Href  string `json:"href"`
	Type  string `json:"type,omitempty"`
}

type jEvent struct {
	Action string  `json:"eventAction"`
	Actor  string  `json:"eventActor,omitempty"`
	Date   string  `json:"eventDate"`
	Links  []jLink `json:"links,omitempty"`
}

type jNotice struct {
	Title       string   `json:"title,omitempty"`
	Type        string   `json:"type,omitempty"`
	Description []string `json:"description"`
	Links       []jLink  `json:"links,omitempty"`
}

type jRedactedName struct {
	Type        string `json:"type,omitempty"`
	Description string `json:"description,omitempty"`
}

type jRedacted struct {
	Name     jRedactedName  `json:"name"`
	PrePath  string         `json:"prePath,omitempty"`
	PostPath string         `json:"postPath,omitempty"`
	PathLang string         `json:"pathLang"`
	Method   string         `json:"method"`
	Reason   *jRedactedName `json:"reason,omitempty"`
}

type jTop struct {
	Conformance []string    `json:"rdapConformance,omitempty"`
	Notices     []jNotice   `json:"notices,omitempty"`
	Redacted    []jRedacted `json:"redacted,omitempty"`
}

type jEntity struct {
	jTop
	Class   string    `json:"objectClassName"`
	Handle  string    `json:"handle"`
	VCard   []any     `json:"vcardArray,omitempty"`
	Roles   []string  `json:"roles,omitempty"`
	Status  []string  `json:"status,omitempty"`
	Remarks []jNotice `json:"remarks,omitempty"`
	Links   []jLink   `json:"links"`
	Events  []jEvent  `json:"events,omitempty"`
}

type jIPs struct {
	V4 []string `json:"v4,omitempty"`
	V6 []string `json:"v6,omitempty"`
}

type jNameserver struct {
	jTop
	Class   string   `json:"objectClassName"`
	Handle  string   `json:"handle"`
	LDH     string   `json:"ldhName"`
	Unicode string   `json:"unicodeName,omitempty"`
	IPs     *jIPs    `json:"ipAddresses,omitempty"`
	Status  []string `json:"status,omitempty"`
	Links   []jLink  `json:"links"`
	Events  []jEvent `json:"events,omitempty"`
}

type jDSData struct {
	KeyTag     uint16 `json:"keyTag"`
	Algorithm  uint8  `json:"algorithm"`
	DigestType uint8  `json:"digestType"`
	Digest     string `json:"digest"`
}

type jSecureDNS struct {
	DelegationSigned bool      `json:"delegationSigned"`
	DSData           []jDSData `json:"dsData,omitempty"`
}

type jDomain struct {
	jTop
	Class       string        `json:"objectClassName"`
	Handle      string        `json:"handle"`
	LDH         string        `json:"ldhName"`
	Unicode     string        `json:"unicodeName,omitempty"`
	Status      []string      `json:"status"`
	Nameservers []jNameserver `json:"nameservers,omitempty"`
	SecureDNS   *jSecureDNS   `json:"secureDNS,omitempty"`
	Entities    []jEntity     `json:"entities,omitempty"`
	Links       []jLink       `json:"links"`
	Events      []jEvent      `json:"events"`
}

type jNetwork struct {
	jTop
	Class    string    `json:"objectClassName"`
	Handle   string    `json:"handle"`
	Start    string    `json:"startAddress"`
	End      string    `json:"endAddress"`
	Version  string    `json:"ipVersion"`
	Name     string    `json:"name,omitempty"`
	Type     string    `json:"type,omitempty"`
	Country  string    `json:"country,omitempty"`
	Parent   string    `json:"parentHandle,omitempty"`
	Status   []string  `json:"status,omitempty"`
	Entities []jEntity `json:"entities,omitempty"`
	Remarks  []jNotice `json:"remarks,omitempty"`
	Links    []jLink   `json:"links"`
	Events   []jEvent  `json:"events"`
	CIDRs    []jCIDR   `json:"cidr0_cidrs,omitempty"`
}

// jCIDR is a prefix of the cidr0 extension, which the regional registries
// use to list the prefixes that make up a network.
type jCIDR struct {
	V4     string `json:"v4prefix,omitempty"`
	V6     string `json:"v6prefix,omitempty"`
	Length int    `json:"length"`
}

type jAutnum struct {
	jTop
	Class    string    `json:"objectClassName"`
	Handle   string    `json:"handle"`
	Start    uint32    `json:"startAutnum"`
	End      uint32    `json:"endAutnum"`
	Name     string    `json:"name,omitempty"`
	Type     string    `json:"type,omitempty"`
	Country  string    `json:"country,omitempty"`
	Status   []string  `json:"status,omitempty"`
	Entities []jEntity `json:"entities,omitempty"`
	Remarks  []jNotice `json:"remarks,omitempty"`
	Links    []jLink   `json:"links"`
	Events   []jEvent  `json:"events"`
}

// renderer renders responses of one snapshot for one base URL: the
// absolute URL of the RDAP service, ending in "/rdap/".
type renderer struct {
	s    *Snapshot
	base string
	root string // the site's root URL, ending in "/"
	red  []jRedacted
}

func newRenderer(s *Snapshot, base string) *renderer {
	return &renderer{s: s, base: base, root: strings.TrimSuffix(base, "rdap/")}
}

func (r *renderer) self(path string) []jLink {
	u := r.base + path
	return []jLink{{Value: u, Rel: "self", Href: u, Type: ContentType}}
}

func date(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func (r *renderer) events(e Events, self string) []jEvent {
	var out []jEvent
	for _, x := range []struct {
		action string
		st     Stamp
	}{{"registration", e.Registered}, {"last changed", e.Changed}} {
		if x.st.Time.IsZero() {
			continue
		}
		out = append(out, jEvent{Action: x.action, Actor: x.st.Actor, Date: date(x.st.Time), Links: []jLink{{
			Value: self, Rel: "related", Type: "application/json",
			Href: r.root + "api/v1/log/entries/" + strconv.FormatInt(x.st.Seq, 10),
		}}})
	}
	return out
}

func (r *renderer) top() jTop {
	s := r.s
	n := []jNotice{{
		Title: "Terms of Use",
		Description: []string{
			"This is the public registry data of " + s.Instance + ", derived from its append-only ledger and read-only.",
			"The data is the registry as of ledger entry " + strconv.FormatInt(s.Head-1, 10) + "; each object's events link to the ledger entries that registered and last changed it, and steward audit rebuilds the registry from the ledger.",
			"The charter in force governs this data, including which personal data is published.",
		},
		Links: []jLink{
			{Value: r.base + "help", Rel: "terms-of-service", Href: r.root + "charter", Type: "text/html"},
			{Value: r.base + "help", Rel: "related", Href: r.root + "log/checkpoint", Type: "text/plain"},
		},
	}}
	return jTop{Conformance: Conformance, Notices: n}
}

// lastUpdate is the event every top-level object carries: when the data
// it was rendered from last changed.
func (r *renderer) lastUpdate() jEvent {
	return jEvent{Action: "last update of RDAP database", Date: date(r.s.Updated.Time)}
}

// redact records that a field of an entity was redacted; path is the
// JSONPath of the entity in the response ("$" for the response itself).
func (r *renderer) redact(path, field string) {
	reason := &jRedactedName{Description: "The charter in force does not publish this personal data (rdap.publish)"}
	names := map[string]string{
		charter.PersonalName: "Name", charter.PersonalEmail: "Email",
		charter.PersonalPhone: "Phone", charter.PersonalAddress: "Address",
	}
	prop := map[string]string{
		charter.PersonalName: "fn", charter.PersonalEmail: "email",
		charter.PersonalPhone: "tel", charter.PersonalAddress: "adr",
	}[field]
	red := jRedacted{Name: jRedactedName{Type: "Entity " + names[field]}, PathLang: "jsonpath", Reason: reason}
	if field == charter.PersonalName {
		red.Method = "emptyValue"
		red.PostPath = path + ".vcardArray[1][?(@[0]=='fn')][3]"
	} else {
		red.Method = "removal"
		red.PrePath = path + ".vcardArray[1][?(@[0]=='" + prop + "')]"
	}
	r.red = append(r.red, red)
}

func (r *renderer) entity(e *Entity, roles []string, path string) jEntity {
	pol := r.s.Policy
	person := e.Kind == KindIndividual
	show := func(field string, has bool) bool {
		if !has {
			return false
		}
		if person && !pol.Publishes(field) {
			r.redact(path, field)
			return false
		}
		return true
	}
	fn := e.Name
	if !show(charter.PersonalName, e.Name != "") {
		fn = ""
	}
	props := []any{
		[]any{"version", map[string]any{}, "text", "4.0"},
		[]any{"fn", map[string]any{}, "text", fn},
	}
	if e.Kind != "" {
		props = append(props, []any{"kind", map[string]any{}, "text", e.Kind})
	}
	if e.Org != "" {
		props = append(props, []any{"org", map[string]any{}, "text", e.Org})
	}
	if show(charter.PersonalEmail, len(e.Emails) > 0) {
		for _, m := range e.Emails {
			props = append(props, []any{"email", map[string]any{}, "text", m})
		}
	}
	if show(charter.PersonalPhone, len(e.Phones) > 0) {
		for _, p := range e.Phones {
			props = append(props, []any{"tel", map[string]any{"type": "voice"}, "uri", "tel:" + p})
		}
	}
	if show(charter.PersonalAddress, len(e.Address) > 0) {
		props = append(props, []any{"adr", map[string]any{"label": strings.Join(e.Address, "\n")}, "text", []any{"", "", "", "", "", "", e.Country}})
	} else if e.Country != "" && (!person || pol.Publishes(charter.PersonalAddress)) && len(e.Address) == 0 {
		props = append(props, []any{"adr", map[string]any{}, "text", []any{"", "", "", "", "", "", e.Country}})
	}
	self := "entity/" + pathEscape(e.Handle)
	j := jEntity{
		Class: "entity", Handle: e.Handle, VCard: []any{"vcard", props}, Roles: roles,
		Status: []string{"active"}, Links: r.self(self), Events: r.events(e.Events, r.base+self),
	}
	for _, rm := range e.Remarks {
		j.Remarks = append(j.Remarks, jNotice{Description: []string{rm}})
	}
	return j
}

func (r *renderer) refs(refs []EntityRef, path string) []jEntity {
	var out []jEntity
	for _, ref := range refs {
		p := path + ".entities[?(@.handle=='" + ref.Handle + "')]"
		if e := r.s.entities[ref.Handle]; e != nil {
			j := r.entity(e, ref.Roles, p)
			j.Events = nil
			out = append(out, j)
			continue
		}
		out = append(out, jEntity{Class: "entity", Handle: ref.Handle, Roles: ref.Roles, Links: r.self("entity/" + pathEscape(ref.Handle))})
	}
	return out
}

func (r *renderer) nameserver(n *Nameserver, withEvents bool) jNameserver {
	self := "nameserver/" + n.Name
	j := jNameserver{Class: "nameserver", Handle: n.Name, LDH: n.Name, Unicode: n.Unicode, Status: []string{"active", "associated"}, Links: r.self(self)}
	if len(n.V4)+len(n.V6) > 0 {
		j.IPs = &jIPs{V4: n.V4, V6: n.V6}
	}
	if withEvents {
		j.Events = r.events(n.Events, r.base+self)
	}
	return j
}

func (r *renderer) domain(d *Domain, path string) jDomain {
	self := "domain/" + d.Name
	j := jDomain{Class: "domain", Handle: d.Name, LDH: d.Name, Unicode: d.Unicode, Status: []string{"active"}, Links: r.self(self)}
	for _, ns := range d.Nameservers {
		j.Nameservers = append(j.Nameservers, r.nameserver(ns, false))
	}
	j.SecureDNS = &jSecureDNS{DelegationSigned: len(d.DS) > 0}
	for _, ds := range d.DS {
		j.SecureDNS.DSData = append(j.SecureDNS.DSData, jDSData{KeyTag: ds.KeyTag, Algorithm: ds.Algorithm, DigestType: ds.DigestType, Digest: ds.Digest})
	}
	var refs []EntityRef
	if d.Manager != "" {
		refs = append(refs, EntityRef{Handle: d.Manager, Roles: []string{"registrant"}})
	}
	for _, h := range d.Contacts {
		refs = append(refs, EntityRef{Handle: h, Roles: []string{"administrative", "technical"}})
	}
	if len(refs) > 0 {
		j.Entities = r.refs(refs, path)
	}
	j.Events = r.events(d.Events, r.base+self)
	return j
}

func (r *renderer) network(n *Network) jNetwork {
	self := "ip/" + networkPath(n)
	j := jNetwork{
		Class: "ip network", Handle: n.Handle, Start: n.Start.String(), End: n.End.String(),
		Version: "v6", Name: n.Name, Type: n.Type, Country: n.Country, Status: n.Status,
		Links: r.self(self), Events: r.events(n.Events, r.base+self),
	}
	if n.Start.Is4() {
		j.Version = "v4"
	}
	for _, p := range n.Prefixes {
		c := jCIDR{Length: p.Bits()}
		if p.Addr().Is4() {
			c.V4 = p.Addr().String()
		} else {
			c.V6 = p.Addr().String()
		}
		j.CIDRs = append(j.CIDRs, c)
	}
	if p := r.s.parentNetwork(n); p != nil {
		j.Parent = p.Handle
		u := r.base + "ip/" + networkPath(p)
		j.Links = append(j.Links, jLink{Value: r.base + self, Rel: "up", Href: u, Type: ContentType})
	}
	j.Entities = r.refs(n.Entities, "$")
	for _, rm := range append(slices.Clip(n.Remarks), n.Record.remarks()...) {
		j.Remarks = append(j.Remarks, jNotice{Description: []string{rm}})
	}
	return j
}

func networkPath(n *Network) string {
	if len(n.Prefixes) == 1 {
		return n.Prefixes[0].String()
	}
	return n.Start.String()
}

func (r *renderer) autnum(a *Autnum) jAutnum {
	self := "autnum/" + strconv.FormatUint(uint64(a.Start), 10)
	j := jAutnum{
		Class: "autnum", Handle: a.Handle, Start: a.Start, End: a.End, Name: a.Name, Type: a.Type,
		Country: a.Country, Status: a.Status, Links: r.self(self), Events: r.events(a.Events, r.base+self),
	}
	j.Entities = r.refs(a.Entities, "$")
	for _, rm := range append(slices.Clip(a.Remarks), a.Record.remarks()...) {
		j.Remarks = append(j.Remarks, jNotice{Description: []string{rm}})
	}
	return j
}

// parentNetwork finds the network that encloses n.
func (s *Snapshot) parentNetwork(n *Network) *Network {
	idx := s.v6
	if n.Start.Is4() {
		idx = s.v4
	}
	i := sort.Search(len(idx.nets), func(i int) bool { return netOrder(idx.nets[i], n) >= 0 })
	if i < len(idx.nets) && idx.nets[i] == n && idx.parent[i] >= 0 {
		return idx.nets[idx.parent[i]]
	}
	return nil
}

func marshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("rdap: " + err.Error()) // every response type marshals
	}
	return b
}

// pathEscape escapes a handle for a URL path segment.
func pathEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-._~", c) >= 0 {
			b.WriteByte(c)
		} else {
			b.WriteString("%" + strconv.FormatUint(uint64(c)>>4, 16) + strconv.FormatUint(uint64(c)&15, 16))
		}
	}
	return b.String()
}
