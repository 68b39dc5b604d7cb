package zone

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"sync"
	"weak"

	"github.com/miekg/dns"
)

// Change is the new content of one owner name in a patched version: every
// record the name owns there. No records removes the name.
type Change struct {
	Name    string
	Records []dns.RR
}

// overlay is how a patched version holds its content: a flat version (the
// base) and a small flat zone of the names the patches changed. A name in
// changed is looked up in mini only (absent there: removed); any other in
// base. Building one costs time in proportion to the changes since the
// base, not to the zone, so that one delegation of a zone of a million can
// be changed and served in milliseconds; Flatten makes a flat version
// again (in the background, between bursts of changes).
type overlay struct {
	base    *Zone
	mini    *Zone
	changed map[string]bool // lower case; true when the name has records in mini
	order   []string        // the keys of changed, in canonical order
	pos     []int           // pos[j]: how many names of base precede order[j]
	exact   []bool          // exact[j]: base has order[j] itself

	parent weak.Pointer[Zone] // the version Patch made this one from (not kept alive by it)
	latest []string           // the names that Patch changed, in canonical order

	namesOnce sync.Once
	names     []string // the merged names, made on first use
}

// Patch returns a new version of the zone: z with the records at each
// changed name replaced by the change's (its owner names are the change's
// name; case is ignored). The version shares z's storage: its cost is in
// proportion to the names changed since z's flat base, not to the zone's
// size. The serial is the SOA's, which a change at the origin gives; a
// patch must leave exactly one SOA, at the origin. z is unchanged.
func (z *Zone) Patch(changes []Change) (*Zone, error) {
	base := z
	if z.over != nil {
		base = z.over.base
	}
	fresh := make(map[string][]dns.RR, len(changes))
	for _, c := range changes {
		name := strings.ToLower(dns.Fqdn(c.Name))
		if !dns.IsSubDomain(z.Origin, name) {
			return nil, fmt.Errorf("patch %s: %s is outside the zone", z.Origin, name)
		}
		for _, rr := range c.Records {
			if !strings.EqualFold(dns.Fqdn(rr.Header().Name), name) {
				return nil, fmt.Errorf("patch %s: a record of %s in the change of %s", z.Origin, rr.Header().Name, name)
			}
		}
		fresh[name] = c.Records
	}
	if len(fresh) == 0 {
		return z, nil
	}
	_, originChanged := fresh[z.Origin]
	if z.over != nil {
		_, originChanged = z.over.changed[z.Origin]
		_, again := fresh[z.Origin]
		originChanged = originChanged || again
	}

	// The small zone: the changed names' records, and an SOA at the
	// origin, which the Builder wants; unless the origin changed, base's
	// answers for the origin (mini's SOA is not looked at).
	b := NewBuilder(z.Origin)
	if !originChanged {
		if err := b.Add(base.SOA()); err != nil {
			return nil, fmt.Errorf("patch %s: %w", z.Origin, err)
		}
	}
	o := &overlay{base: base, changed: make(map[string]bool, len(fresh)), order: make([]string, 0, len(fresh))}
	nrec := base.nrec
	where := map[string][2]int{} // known positions in base: pos, exact
	if old := z.over; old != nil {
		// The names an earlier patch changed keep their content, copied
		// in wire form, unless this one changes them again.
		nrec = z.nrec
		for j, name := range old.order {
			where[name] = [2]int{old.pos[j], boolInt(old.exact[j])}
			if _, again := fresh[name]; again {
				continue
			}
			present := old.changed[name]
			if present {
				if err := old.mini.copyName(b, name); err != nil {
					return nil, fmt.Errorf("patch %s: %w", z.Origin, err)
				}
			}
			o.changed[name] = present
			o.order = append(o.order, name)
		}
	}
	for name, rrs := range fresh {
		for _, rr := range rrs {
			rr = dns.Copy(rr)
			rr.Header().Name = name
			if err := b.Add(rr); err != nil {
				return nil, fmt.Errorf("patch %s: %w", z.Origin, err)
			}
		}
		// The records the name had in z go, the change's come.
		if z.over != nil {
			if _, ok := z.over.changed[name]; ok {
				if i := z.over.mini.lookup(name); z.over.changed[name] && i >= 0 {
					nrec -= z.over.mini.countAt(i)
				}
			} else if i := base.lookup(name); i >= 0 {
				nrec -= base.countAt(i)
			}
		} else if i := base.lookup(name); i >= 0 {
			nrec -= base.countAt(i)
		}
		nrec += len(rrs)
		if _, ok := o.changed[name]; !ok {
			o.order = append(o.order, name)
		}
		o.changed[name] = len(rrs) > 0
	}
	mini, err := b.Zone()
	if err != nil {
		if originChanged {
			return nil, fmt.Errorf("patch %s: the origin's change: %w", z.Origin, err)
		}
		return nil, fmt.Errorf("patch %s: %w", z.Origin, err)
	}
	o.mini = mini
	slices.SortFunc(o.order, func(a, b string) int { return compareKeys(a, b) })
	o.pos, o.exact = make([]int, len(o.order)), make([]bool, len(o.order))
	for j, name := range o.order {
		if w, ok := where[name]; ok {
			o.pos[j], o.exact[j] = w[0], w[1] == 1
			continue
		}
		i := sort.Search(len(base.names), func(i int) bool { return compareKeys(base.names[i], name) >= 0 })
		o.pos[j], o.exact[j] = i, i < len(base.names) && base.names[i] == name
	}

	o.parent = weak.Make(z)
	for name := range fresh {
		o.latest = append(o.latest, name)
	}
	slices.SortFunc(o.latest, compareKeys)
	p := &Zone{Origin: z.Origin, nrec: nrec, over: o}
	soaZone := base
	if o.changed[z.Origin] {
		soaZone = mini
	} else if originChanged {
		return nil, fmt.Errorf("patch %s: the change removes the origin", z.Origin)
	}
	if soaZone.lookup(z.Origin) < 0 || soaZone.set(soaZone.lookup(z.Origin), dns.TypeSOA) == nil {
		return nil, fmt.Errorf("patch %s: no SOA at the origin", z.Origin)
	}
	if soaZone == mini {
		if n := mini.set(mini.lookup(z.Origin), dns.TypeSOA).n; n != 1 {
			return nil, fmt.Errorf("patch %s: %d SOA records, want 1", z.Origin, n)
		}
	}
	for name, present := range o.changed {
		if present && name != z.Origin && mini.set(mini.lookup(name), dns.TypeSOA) != nil {
			return nil, fmt.Errorf("patch %s: SOA at %s, not at the origin", z.Origin, name)
		}
	}
	p.soa = soaZone.soa
	if soaZone == mini {
		p.soa = mini.soa
	}
	p.Serial = p.soa.Serial
	return p, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// copyName adds the records at name, in wire form, to b.
func (z *Zone) copyName(b *Builder, name string) error {
	i := z.lookup(name)
	if i < 0 {
		return nil
	}
	return z.rdataAt(i, name, b.AddRdata)
}

// compareKeys orders lower-case names canonically.
func compareKeys(a, b string) int {
	if a == b {
		return 0
	}
	return Compare(a, b)
}

// countAt returns the number of records at name index i.
func (z *Zone) countAt(i int) int {
	n := 0
	for k := z.first[i]; k < z.first[i+1]; k++ {
		n += int(z.sets[k].n)
	}
	return n
}

// Patched reports whether z is a patched version (see Patch) and returns
// the names its patches changed since its flat base, in canonical order.
func (z *Zone) Patched() ([]string, bool) {
	if z.over == nil {
		return nil, false
	}
	return z.over.order, true
}

// PatchedFrom returns the version Patch made z from and the names that
// patch changed, in canonical order; nil if z is flat or if that version
// is no longer in use (a version does not keep the one before alive).
func (z *Zone) PatchedFrom() (*Zone, []string) {
	if z.over == nil {
		return nil, nil
	}
	return z.over.parent.Value(), z.over.latest
}

// Base returns the flat version a patched version was made from, or z
// itself if it is flat.
func (z *Zone) Base() *Zone {
	if z.over == nil {
		return z
	}
	return z.over.base
}

// Flatten returns z as a flat version (the same records, serial and
// order): for a patched version, a copy that no longer shares the base,
// made in time proportional to the zone. A flat z is returned as it is.
func (z *Zone) Flatten() (*Zone, error) {
	if z.over == nil {
		return z, nil
	}
	b := NewBuilder(z.Origin)
	b.Grow(z.nrec, len(z.over.base.data))
	err := z.EachRdata(func(name string, typ, class uint16, ttl uint32, rdata []byte) error {
		return b.AddRdata(name, typ, class, ttl, rdata)
	})
	if err != nil {
		return nil, err
	}
	return b.Zone()
}

// pick returns the flat zone that holds name's records.
func (z *Zone) pick(name string) *Zone {
	o := z.over
	if _, ok := o.changed[name]; ok {
		return o.mini
	}
	if lower := strings.ToLower(name); lower != name {
		if _, ok := o.changed[lower]; ok {
			return o.mini
		}
	}
	return o.base
}

// inBase reports whether a lower-case name of the base is looked up there
// (no patch changed it).
func (o *overlay) inBase(name string) bool {
	_, ok := o.changed[name]
	return !ok
}

// after returns the first name of the patched version after name (or at
// it, if equal is set) in canonical order, or "" if none.
func (o *overlay) after(name string, equal bool) string {
	bn := o.base.names
	i := sort.Search(len(bn), func(i int) bool {
		c := compareKeys(bn[i], name)
		return c > 0 || equal && c == 0
	})
	for i < len(bn) && !o.inBase(bn[i]) {
		i++
	}
	j := sort.Search(len(o.order), func(j int) bool {
		c := compareKeys(o.order[j], name)
		return c > 0 || equal && c == 0
	})
	for j < len(o.order) && !o.changed[o.order[j]] {
		j++
	}
	switch {
	case i == len(bn) && j == len(o.order):
		return ""
	case i == len(bn):
		return o.order[j]
	case j == len(o.order):
		return bn[i]
	case compareKeys(bn[i], o.order[j]) <= 0:
		return bn[i]
	default:
		return o.order[j]
	}
}

// before returns the last name of the patched version before name in
// canonical order, or "" if none.
func (o *overlay) before(name string) string {
	bn := o.base.names
	i := sort.Search(len(bn), func(i int) bool { return compareKeys(bn[i], name) >= 0 }) - 1
	for i >= 0 && !o.inBase(bn[i]) {
		i--
	}
	j := sort.Search(len(o.order), func(j int) bool { return compareKeys(o.order[j], name) >= 0 }) - 1
	for j >= 0 && !o.changed[o.order[j]] {
		j--
	}
	switch {
	case i < 0 && j < 0:
		return ""
	case i < 0:
		return o.order[j]
	case j < 0:
		return bn[i]
	case compareKeys(bn[i], o.order[j]) >= 0:
		return bn[i]
	default:
		return o.order[j]
	}
}

// last returns the last name of the patched version.
func (o *overlay) last() string {
	bn := o.base.names
	i := len(bn) - 1
	for i >= 0 && !o.inBase(bn[i]) {
		i--
	}
	j := len(o.order) - 1
	for j >= 0 && !o.changed[o.order[j]] {
		j--
	}
	switch {
	case i < 0:
		return o.order[j]
	case j < 0 || compareKeys(bn[i], o.order[j]) >= 0:
		return bn[i]
	default:
		return o.order[j]
	}
}

// mergedNames returns the patched version's names in canonical order.
func (o *overlay) mergedNames() []string {
	o.namesOnce.Do(func() {
		out := make([]string, 0, len(o.base.names)+len(o.order))
		o.each(func(name string, _ *Zone, _ int) bool {
			out = append(out, name)
			return true
		})
		o.names = out
	})
	return o.names
}

// each calls f with every name of the patched version in canonical order,
// with the flat zone holding its records and its index there, until f
// returns false. The base's names between two changed ones need no
// comparison: pos says where each changed name falls.
func (o *overlay) each(f func(name string, z *Zone, i int) bool) {
	bn := o.base.names
	i := 0
	for j, name := range o.order {
		for ; i < o.pos[j]; i++ {
			if !f(bn[i], o.base, i) {
				return
			}
		}
		if o.exact[j] {
			i++ // the base's own version of the name is replaced
		}
		if o.changed[name] && !f(name, o.mini, o.mini.lookup(name)) {
			return
		}
	}
	for ; i < len(bn); i++ {
		if !f(bn[i], o.base, i) {
			return
		}
	}
}

// Next returns the first name after name in canonical order, or "" if
// name is the last or after it.
func (z *Zone) Next(name string) string {
	name = strings.ToLower(dns.Fqdn(name))
	if z.over != nil {
		return z.over.after(name, false)
	}
	i := sort.Search(len(z.names), func(i int) bool { return compareKeys(z.names[i], name) > 0 })
	if i == len(z.names) {
		return ""
	}
	return z.names[i]
}

// writePatched is Write for a patched version, one name after the other.
func (z *Zone) writePatched(w io.Writer) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	var err error
	z.Each(func(rr dns.RR) bool {
		if _, err = bw.WriteString(rr.String()); err == nil {
			err = bw.WriteByte('\n')
		}
		return err == nil
	})
	if err != nil {
		return err
	}
	return bw.Flush()
}

// PatchSerial is Patch with the origin's records kept as they are but the
// SOA, which gets the serial given: a change to names below the origin
// under a new serial, as an unsigned zone's updates make it.
func (z *Zone) PatchSerial(changes []Change, serial uint32) (*Zone, error) {
	soa := dns.Copy(z.SOA()).(*dns.SOA)
	soa.Serial = serial
	apex := Change{Name: z.Origin, Records: []dns.RR{soa}}
	for _, t := range z.Types(z.Origin) {
		if t != dns.TypeSOA {
			apex.Records = append(apex.Records, z.RRset(z.Origin, t)...)
		}
	}
	return z.Patch(append(slices.Clip(changes), apex))
}

// EachNameOf calls f with every name of a or b, in canonical order, saying
// which of the two has it, until f returns false: the walk two versions'
// comparisons make.
func EachNameOf(a, b *Zone, f func(name string, inA, inB bool) bool) {
	an, bn := a.Names(), b.Names()
	i, j := 0, 0
	for i < len(an) || j < len(bn) {
		var c int
		switch {
		case i == len(an):
			c = 1
		case j == len(bn):
			c = -1
		case an[i] == bn[j]:
			c = 0
		default:
			c = Compare(an[i], bn[j])
		}
		var ok bool
		switch {
		case c < 0:
			ok = f(an[i], true, false)
			i++
		case c > 0:
			ok = f(bn[j], false, true)
			j++
		default:
			ok = f(an[i], true, true)
			i++
			j++
		}
		if !ok {
			return
		}
	}
}
