package rdap

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode"

	"golang.org/x/net/idna"

	"steward"
	"steward/charter"
)

// model is the follower's working copy of the RDAP objects, updated record
// by record; snapshot turns it into an immutable Snapshot.
type model struct {
	instance string
	policy   charter.RDAP
	tlds     map[string]tldRec     // by TLD name
	contacts map[string][]string   // a TLD's contacts (participant handles), by TLD name
	people   map[string]*Entity    // participants, by handle
	others   map[string][]*Entity  // entities projected from other records, by state key
	nets     map[string][]*Network // by state key
	asns     map[string][]*Autnum  // by state key

	netList []*Network // every network, in netOrder
	asList  []*Autnum  // every AS range, in asOrder
}

type tldRec struct {
	tld    steward.TLD
	events Events
}

func newModel() *model {
	return &model{
		tlds: map[string]tldRec{}, contacts: map[string][]string{}, people: map[string]*Entity{}, others: map[string][]*Entity{},
		nets: map[string][]*Network{}, asns: map[string][]*Autnum{},
	}
}

// dirtySet says which parts of the snapshot must be rebuilt.
type dirtySet struct {
	all      bool // the instance or the charter changed
	domains  bool
	entities bool
	// Networks and AS ranges that left or joined the model.
	netsOut, netsIn []*Network
	asOut, asIn     []*Autnum
}

// A projection turns the state records under a prefix into RDAP objects.
// value is nil when the record was deleted.
type projection struct {
	prefix string
	apply  func(ctx context.Context, m *model, r steward.StateReader, key string, value []byte, ev Events, d *dirtySet) error
}

// projections are the state records RDAP follows. Other files add theirs
// in init.
var projections = []projection{
	{"instance", projectInstance},
	{"charter/current", projectInstance},
	{"tld/", projectTLD},
	{"participant/", projectParticipant},
	{"contact/tld:", projectContact},
}

func (m *model) project(ctx context.Context, r steward.StateReader, key string, value []byte, ev Events, d *dirtySet) error {
	for _, p := range projections {
		if strings.HasPrefix(key, p.prefix) {
			if err := p.apply(ctx, m, r, key, value, ev, d); err != nil {
				return fmt.Errorf("rdap: %s: %w", key, err)
			}
			return nil
		}
	}
	return nil
}

func projectInstance(ctx context.Context, m *model, r steward.StateReader, _ string, _ []byte, _ Events, d *dirtySet) error {
	if in, err := steward.LoadInstance(ctx, r); err == nil {
		m.instance = in.Name
	}
	if c, err := steward.CurrentCharter(ctx, r); err == nil {
		m.policy = c.RDAP
	}
	d.all = true
	return nil
}

func projectTLD(_ context.Context, m *model, _ steward.StateReader, key string, value []byte, ev Events, d *dirtySet) error {
	d.domains, d.entities = true, true
	name := strings.TrimPrefix(key, "tld/")
	if value == nil {
		delete(m.tlds, name)
		return nil
	}
	var t steward.TLD
	if err := json.Unmarshal(value, &t); err != nil {
		return err
	}
	m.tlds[name] = tldRec{tld: t, events: ev}
	return nil
}

// projectContact follows the index of TLD contacts, contact/tld:NAME/HANDLE.
func projectContact(_ context.Context, m *model, _ steward.StateReader, key string, value []byte, _ Events, d *dirtySet) error {
	name, handle, ok := strings.Cut(strings.TrimPrefix(key, "contact/tld:"), "/")
	if !ok {
		return nil
	}
	d.domains = true
	cs := slices.DeleteFunc(m.contacts[name], func(h string) bool { return h == handle })
	if value != nil {
		cs = append(cs, handle)
		slices.Sort(cs)
	}
	if len(cs) == 0 {
		delete(m.contacts, name)
	} else {
		m.contacts[name] = cs
	}
	return nil
}

func projectParticipant(_ context.Context, m *model, _ steward.StateReader, key string, value []byte, ev Events, d *dirtySet) error {
	d.entities = true
	h := strings.TrimPrefix(key, "participant/")
	if value == nil {
		delete(m.people, h)
		return nil
	}
	var p steward.Participant
	if err := json.Unmarshal(value, &p); err != nil {
		return err
	}
	m.people[h] = &Entity{
		Handle: p.Handle, Kind: KindIndividual, Name: p.Name, Org: p.Affiliation, Events: ev,
		Remarks: []string{"Participant of stakeholder group " + p.Group + ", region " + p.Region + "."},
	}
	return nil
}

// setNetworks replaces the networks projected from key.
func (m *model) setNetworks(key string, nets []*Network, d *dirtySet) {
	d.netsOut = append(d.netsOut, m.nets[key]...)
	d.netsIn = append(d.netsIn, nets...)
	if len(nets) == 0 {
		delete(m.nets, key)
	} else {
		m.nets[key] = nets
	}
}

// setAutnums replaces the AS ranges projected from key.
func (m *model) setAutnums(key string, as []*Autnum, d *dirtySet) {
	d.asOut = append(d.asOut, m.asns[key]...)
	d.asIn = append(d.asIn, as...)
	if len(as) == 0 {
		delete(m.asns, key)
	} else {
		m.asns[key] = as
	}
}

// setEntities replaces the entities projected from key.
func (m *model) setEntities(key string, es []*Entity, d *dirtySet) {
	d.entities = true
	if len(es) == 0 {
		delete(m.others, key)
	} else {
		m.others[key] = es
	}
}

// OrgHandle is the handle RDAP gives an organisation known only by its
// name, such as a TLD's manager: "ORG-" and the name's letters and digits
// in upper case, words joined by dashes.
func OrgHandle(name string) string {
	var b strings.Builder
	b.WriteString("ORG-")
	dash := false
	for _, r := range strings.ToUpper(name) {
		switch {
		case r < 0x80 && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			if dash && b.Len() > 4 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
		default:
			dash = true
		}
		if b.Len() >= 64 {
			break
		}
	}
	return b.String()
}

// mergeSorted returns sorted without out and with in, in order.
func mergeSorted[T comparable](sorted, out, in []T, order func(a, b T) int) []T {
	gone := make(map[T]bool, len(out))
	for _, x := range out {
		gone[x] = true
	}
	in = slices.Clone(in)
	slices.SortFunc(in, order)
	res := make([]T, 0, len(sorted)+len(in))
	i := 0
	for _, x := range sorted {
		if gone[x] {
			continue
		}
		for i < len(in) && order(in[i], x) < 0 {
			res = append(res, in[i])
			i++
		}
		res = append(res, x)
	}
	return append(res, in[i:]...)
}

// snapshot builds a new snapshot, sharing with prev what did not change.
func (m *model) snapshot(prev *Snapshot, d dirtySet) *Snapshot {
	s := &Snapshot{Instance: m.instance, Policy: m.policy}
	if prev == nil {
		prev = &Snapshot{v4: newIPIndex(nil), v6: newIPIndex(nil), asns: newASIndex(nil)}
		d.all = true
	}
	if d.all {
		d.domains, d.entities = true, true
	}
	if d.domains {
		m.buildDomains(s)
	} else {
		s.domains, s.domainNames, s.nameservers, s.nsNames, s.nsByAddr, s.nsDomains = prev.domains, prev.domainNames, prev.nameservers, prev.nsNames, prev.nsByAddr, prev.nsDomains
	}
	if d.entities {
		m.buildEntities(s)
	} else {
		s.entities, s.byHandle, s.byName = prev.entities, prev.byHandle, prev.byName
	}
	s.v4, s.v6 = prev.v4, prev.v6
	if len(d.netsOut)+len(d.netsIn) > 0 {
		m.netList = mergeSorted(m.netList, d.netsOut, d.netsIn, netOrder)
		i, _ := slices.BinarySearchFunc(m.netList, true, func(n *Network, _ bool) int {
			if n.Start.Is4() {
				return -1
			}
			return 1
		})
		s.v4, s.v6 = newIPIndex(m.netList[:i:i]), newIPIndex(m.netList[i:])
	}
	s.asns = prev.asns
	if len(d.asOut)+len(d.asIn) > 0 {
		m.asList = mergeSorted(m.asList, d.asOut, d.asIn, asOrder)
		s.asns = newASIndex(m.asList)
	}
	return s
}

func (m *model) buildDomains(s *Snapshot) {
	s.domains = make(map[string]*Domain, len(m.tlds))
	s.nameservers = map[string]*Nameserver{}
	s.nsByAddr = nil
	s.nsDomains = map[string][]string{}
	for name, rec := range m.tlds {
		t := rec.tld
		d := &Domain{Name: name, DS: t.DS, Events: rec.events}
		if u, err := idna.ToUnicode(name); err == nil && u != name {
			d.Unicode = u
		}
		if t.Manager != "" {
			d.Manager = OrgHandle(t.Manager)
		}
		d.Contacts = m.contacts[name]
		for _, host := range t.NS {
			n := strings.TrimSuffix(host, ".")
			ns := s.nameservers[n]
			if ns == nil {
				ns = &Nameserver{Name: n, Events: rec.events}
				if u, err := idna.ToUnicode(n); err == nil && u != n {
					ns.Unicode = u
				}
				s.nameservers[n] = ns
			} else {
				ns.Events.span(rec.events)
			}
			for _, g := range t.Glue {
				if g.Name != host {
					continue
				}
				for _, a := range g.Addrs {
					if strings.Contains(a, ":") {
						if !slices.Contains(ns.V6, a) {
							ns.V6 = append(ns.V6, a)
						}
					} else if !slices.Contains(ns.V4, a) {
						ns.V4 = append(ns.V4, a)
					}
				}
			}
			d.Nameservers = append(d.Nameservers, ns)
			s.nsDomains[n] = append(s.nsDomains[n], name)
		}
		s.domains[name] = d
	}
	for _, ds := range s.nsDomains {
		slices.Sort(ds)
	}
	s.domainNames = sortedKeys(s.domains)
	s.nsNames = sortedKeys(s.nameservers)
	s.nsByAddr = nsAddrIndex(s)
}

func (m *model) buildEntities(s *Snapshot) {
	s.entities = make(map[string]*Entity, len(m.people)+len(m.tlds))
	for h, p := range m.people {
		s.entities[h] = p
	}
	for _, es := range m.others {
		for _, e := range es {
			s.entities[e.Handle] = e
		}
	}
	// Organisations named as TLD managers.
	orgs := map[string]*Entity{}
	for _, name := range sortedKeys(m.tlds) {
		rec := m.tlds[name]
		if rec.tld.Manager == "" {
			continue
		}
		h := OrgHandle(rec.tld.Manager)
		if e := orgs[h]; e != nil {
			e.Events.span(rec.events)
			continue
		}
		if _, taken := s.entities[h]; taken {
			continue
		}
		orgs[h] = &Entity{Handle: h, Kind: KindOrg, Name: rec.tld.Manager, Events: rec.events}
		s.entities[h] = orgs[h]
	}
	s.byHandle = make([]keyed, 0, len(s.entities))
	s.byName = make([]keyed, 0, len(s.entities))
	for h, e := range s.entities {
		s.byHandle = append(s.byHandle, keyed{fold(h), h})
		if e.Name != "" && (e.Kind == KindOrg || m.policy.Publishes(charter.PersonalName)) {
			s.byName = append(s.byName, keyed{fold(e.Name), h})
		}
	}
	order := func(a, b keyed) int {
		if c := cmp.Compare(a.key, b.key); c != 0 {
			return c
		}
		return cmp.Compare(a.handle, b.handle)
	}
	slices.SortFunc(s.byHandle, order)
	slices.SortFunc(s.byName, order)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
