package rdap

import (
	"context"
	"encoding/json"
	"net/netip"
	"strconv"
	"strings"

	"steward"
)

func init() {
	for _, fam := range steward.Families {
		projections = append(projections, projection{steward.BlockKeyPrefix(fam), projectBlockRecord})
	}
}

// projectBlockRecord projects a block kept in a record of its own, at its
// block key (blocks in chunk records are found by the tracker).
func projectBlockRecord(_ context.Context, m *model, _ steward.StateReader, key string, value []byte, ev Events, d *dirtySet) error {
	var b *steward.Block
	if value != nil {
		b = new(steward.Block)
		if err := json.Unmarshal(value, b); err != nil {
			return err
		}
	}
	return projectBlock(m, key, b, ev, d)
}

// rirNames are the regional registries' names, for their entities.
var rirNames = map[string]string{
	"afrinic": "African Network Information Centre (AFRINIC)",
	"apnic":   "Asia Pacific Network Information Centre (APNIC)",
	"arin":    "American Registry for Internet Numbers (ARIN)",
	"lacnic":  "Latin American and Caribbean Internet Addresses Registry (LACNIC)",
	"ripencc": "RIPE Network Coordination Centre (RIPE NCC)",
	"iana":    "Internet Assigned Numbers Authority (IANA)",
	"ietf":    "Internet Engineering Task Force (IETF)",
}

// BlockHandle is the RDAP handle of a number block: its range and the
// registry that recorded it, such as "192.0.2.0-192.0.2.255-RIPENCC" or
// "AS64496-AS64511-ARIN".
func BlockHandle(b *steward.Block) string {
	reg := strings.ToUpper(b.Registry)
	if b.Family == steward.FamilyASN {
		return "AS" + b.First + "-AS" + b.Last + "-" + reg
	}
	return b.First + "-" + b.Last + "-" + reg
}

// Status and role lists shared by every object that has them (read only):
// one object each rather than one per block, for the garbage collector.
var (
	statusActive    = []string{"active"}
	statusInactive  = []string{"inactive"}
	rolesRegistrant = []string{"registrant"}
	contactRoles    = map[string][]string{}
)

// blockStatus maps the statistics vocabulary to RDAP status values.
func blockStatus(s string) []string {
	switch s {
	case steward.StatusAllocated, steward.StatusAssigned:
		return statusActive
	}
	return statusInactive
}

// roleList returns the shared one-role list of a contact role.
func roleList(role string) []string {
	switch role {
	case "registrant", "administrative", "technical", "abuse", "noc", "billing":
		if r, ok := contactRoles[role]; ok {
			return r
		}
	}
	return []string{role}
}

func init() {
	for _, r := range []string{"registrant", "administrative", "technical", "abuse", "noc", "billing"} {
		contactRoles[r] = []string{r}
	}
}

// projectBlock turns a number block (by its block key,
// num/FAMILY/FIRST-LAST/REGISTRY; nil if removed) into an ip network or an
// autnum, with its holder and contacts as entities. The follower finds the
// changed blocks in the chunk records it replays (see tracker).
func projectBlock(m *model, key string, b *steward.Block, ev Events, d *dirtySet) error {
	var ents []*Entity
	var refs []EntityRef
	var rdapServer string
	if b != nil {
		if b.Holder != "" {
			e := &Entity{Handle: b.Holder, Kind: KindOrg, Name: rirNames[b.Holder], Events: ev}
			if e.Name == "" {
				e.Name = b.Holder
				if b.Name != "" && b.Status == steward.StatusAssigned {
					e.Name = b.Name
				}
			}
			ents = append(ents, e)
			refs = append(refs, EntityRef{Handle: b.Holder, Roles: rolesRegistrant})
		}
		for _, c := range b.Contacts {
			ents = append(ents, &Entity{Handle: c.Handle, Events: ev})
			refs = append(refs, EntityRef{Handle: c.Handle, Roles: roleList(c.Role)})
		}
		if b.IANA != nil {
			for _, u := range b.IANA.RDAP {
				if strings.HasPrefix(u, "https://") {
					rdapServer = u
					break
				}
			}
		}
	}
	if !sameEntities(m.others[key], ents) {
		m.setEntities(key, ents, d)
	}
	if strings.HasPrefix(key, steward.BlockKeyPrefix(steward.FamilyASN)) {
		var as []*Autnum
		if b != nil {
			first, _ := strconv.ParseUint(b.First, 10, 32)
			last, _ := strconv.ParseUint(b.Last, 10, 32)
			as = append(as, &Autnum{
				Handle: BlockHandle(b), Start: uint32(first), End: uint32(last), Name: blockName(b),
				Type: strings.ToUpper(b.Status), Country: b.Country, Status: blockStatus(b.Status), Entities: refs,
				Record: blockRecord(b), RDAPServer: rdapServer, Rank: steward.RegistryRank(b.Registry), Events: ev,
			})
		}
		m.setAutnums(key, as, d)
		return nil
	}
	var nets []*Network
	if b != nil {
		start, err1 := netip.ParseAddr(b.First)
		end, err2 := netip.ParseAddr(b.Last)
		if err1 == nil && err2 == nil {
			nets = append(nets, &Network{
				Handle: BlockHandle(b), Start: start, End: end, Prefixes: b.Prefixes(), Name: blockName(b),
				Type: strings.ToUpper(b.Status), Country: b.Country, Status: blockStatus(b.Status), Entities: refs,
				Record: blockRecord(b), RDAPServer: rdapServer, Rank: steward.RegistryRank(b.Registry), Events: ev,
			})
		}
	}
	m.setNetworks(key, nets, d)
	return nil
}

func blockName(b *steward.Block) string {
	if b.Name != "" {
		return b.Name
	}
	if b.IANA != nil && b.IANA.Designation != "" {
		return b.IANA.Designation
	}
	return strings.ToUpper(b.Registry) + "-" + strings.ToUpper(b.Status)
}

func blockRecord(b *steward.Block) Record {
	r := Record{Registry: b.Registry, Status: b.Status, Date: b.Date}
	if b.IANA != nil && b.IANA.Status != "" {
		r.IANAStatus, r.IANARegistry = b.IANA.Status, b.IANA.Registry
	}
	return r
}

func dateText(d string) string {
	if len(d) != 8 {
		return ""
	}
	return ", delegated on " + d[:4] + "-" + d[4:6] + "-" + d[6:]
}

// sameEntities reports whether two projections name the same entities with
// the same data, so that a block change that leaves its holder alone does
// not rebuild the entity index.
func sameEntities(a, b []*Entity) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Handle != b[i].Handle || a[i].Name != b[i].Name || a[i].Kind != b[i].Kind {
			return false
		}
	}
	return true
}
