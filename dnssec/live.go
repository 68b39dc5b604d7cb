package dnssec

import (
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/miekg/dns"

	"steward/zone"
)

// ErrFullSign is returned by Patch for a change it does not sign on its
// own: the caller signs the whole zone instead (Update or UpdateZone).
var ErrFullSign = errors.New("the change needs the whole zone signed")

// Patch signs a change to a version of the zone this Signer signed (prev):
// each change gives every unsigned record a name below the apex owns in
// the new version (none: the name is removed), and serial is the new
// version's SOA serial. Only what the change touches is signed and
// rebuilt: the changed names' authoritative RRsets (at a delegation, its
// DS), the NSEC records of the changed names and of the names before them
// in the chain, and the SOA. The new version shares prev's storage (see
// zone.Patch), so that a change to one delegation of a zone of a million
// takes milliseconds.
//
// With digest set the version gets a ZONEMD (RFC 8976), whose SIMPLE
// scheme hashes the whole zone: time in proportion to the zone. Without,
// it has no ZONEMD (the apex's NSEC says so), and a later Patch with
// digest set and no changes adds it: the change is served at once and
// the digest follows.
//
// The keys must be those prev was signed with, the apex is not changed
// this way, and a change that adds or removes a delegation point above
// names it does not change too (their signing depends on it) is not signed
// alone: for those Patch returns an error wrapping ErrFullSign. Signatures
// of the RRsets it does not touch are kept as they are: refreshing them
// before they expire is the whole-zone signing's work. On error the Signer
// is unchanged.
func (s *Signer) Patch(prev *zone.Zone, changes []zone.Change, serial uint32, keys SigningKeys, now time.Time, digest bool) (*zone.Zone, Stats, error) {
	var st Stats
	origin, err := s.begin(now)
	if err != nil {
		return nil, st, err
	}
	if prev == nil || prev.Origin != origin {
		return nil, st, fmt.Errorf("sign %s: no previous version of the zone to patch", origin)
	}
	p := &patcher{s: s, origin: origin, prev: prev, serial: serial, digest: digest, t: s.times(now), st: &st}
	z, err := p.run(changes, keys)
	if err != nil {
		return nil, st, fmt.Errorf("sign %s: %w", origin, err)
	}
	p.remember()
	return z, st, nil
}

// patcher is the work of one Patch.
type patcher struct {
	s      *Signer
	origin string
	prev   *zone.Zone
	mid    *zone.Zone // prev with the changed names' unsigned records: the new version's names
	serial uint32
	digest bool
	t      sigTimes
	st     *Stats
	ks     *keySet
	soa    *dns.SOA
	class  uint16

	changed map[string]*owner // the changed names, with their new sets (none: removed)
	nsec    map[string]*rrset // the names whose NSEC is rebuilt
	signed  []*rrset          // every set signed, for the Signer's memory
	gone    []string          // names whose earlier signatures are forgotten
}

func (p *patcher) run(changes []zone.Change, keys SigningKeys) (*zone.Zone, error) {
	prevSOA := p.prev.SOA()
	p.class = prevSOA.Hdr.Class
	ks, err := prepareKeys(p.origin, p.class, p.s.dnskeyTTL(keys, prevSOA), keys)
	if err != nil {
		return nil, err
	}
	p.ks = ks
	if !sameRecords(p.prev.RRset(p.origin, dns.TypeDNSKEY), ks.dnskeys) {
		return nil, fmt.Errorf("%w: the DNSKEY RRset changed", ErrFullSign)
	}
	p.soa = dns.Copy(prevSOA).(*dns.SOA)
	p.soa.Serial = p.serial
	if err := p.collect(changes); err != nil {
		return nil, err
	}

	// The new version's names, unsigned where changed, to walk the chain.
	var unsigned []zone.Change
	for name, o := range p.changed {
		c := zone.Change{Name: name}
		for _, set := range o.sets {
			c.Records = append(c.Records, set.rrs...)
		}
		unsigned = append(unsigned, c)
	}
	if p.mid, err = p.prev.Patch(unsigned); err != nil {
		return nil, err
	}
	if err := p.classify(); err != nil {
		return nil, err
	}
	if err := p.buildNSEC(); err != nil {
		return nil, err
	}

	// Sign the changed sets, the rebuilt NSEC records and the SOA.
	soaSet := &rrset{name: p.origin, typ: dns.TypeSOA, rrs: []dns.RR{p.soa}, signed: true}
	if err := soaSet.finish(); err != nil {
		return nil, err
	}
	var jobs []job
	plan := func(set *rrset) {
		jobs = p.s.plan(jobs, set, p.ks.signersFor(set.typ), p.t, p.st)
		p.signed = append(p.signed, set)
	}
	plan(soaSet)
	for _, name := range slices.Sorted(maps.Keys(p.changed)) { // a fixed order of jobs
		for _, set := range p.changed[name].sets {
			if set.signed {
				plan(set)
			}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(p.nsec)) {
		plan(p.nsec[name])
	}
	if err := runJobs(jobs); err != nil {
		return nil, err
	}

	// The new content of every name touched.
	var out []zone.Change
	for name, o := range p.changed {
		c := zone.Change{Name: name}
		for _, set := range o.sets {
			if c.Records, err = appendSet(c.Records, set); err != nil {
				return nil, err
			}
		}
		if set := p.nsec[name]; set != nil {
			if c.Records, err = appendSet(c.Records, set); err != nil {
				return nil, err
			}
		}
		out = append(out, c)
	}
	for name, set := range p.nsec {
		if _, ok := p.changed[name]; ok || name == p.origin {
			continue
		}
		// An unchanged name: its records but the NSEC and its signatures.
		c := zone.Change{Name: name, Records: keepExcept(p.prev, name, dns.TypeNSEC)}
		if c.Records, err = appendSet(c.Records, set); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	apex, err := p.apex(soaSet)
	if err != nil {
		return nil, err
	}
	z, err := p.prev.Patch(append(out, apex))
	if err != nil {
		return nil, err
	}
	if !p.digest {
		return z, nil
	}

	// The ZONEMD over the version, then its signatures, at the apex.
	sum, err := Digest(z, dns.ZoneMDSchemeSimple, dns.ZoneMDHashAlgSHA384)
	if err != nil {
		return nil, fmt.Errorf("ZONEMD: %w", err)
	}
	md := &rrset{name: p.origin, typ: dns.TypeZONEMD, signed: true, rrs: []dns.RR{&dns.ZONEMD{
		Hdr:    dns.RR_Header{Name: p.origin, Rrtype: dns.TypeZONEMD, Class: p.class, Ttl: p.soa.Hdr.Ttl},
		Serial: p.serial, Scheme: dns.ZoneMDSchemeSimple, Hash: dns.ZoneMDHashAlgSHA384, Digest: hex.EncodeToString(sum),
	}}}
	if err := md.finish(); err != nil {
		return nil, err
	}
	if err := runJobs(p.s.plan(nil, md, p.ks.zsks, p.t, p.st)); err != nil {
		return nil, err
	}
	p.signed = append(p.signed, md)
	if apex.Records, err = appendSet(apex.Records, md); err != nil {
		return nil, err
	}
	return z.Patch([]zone.Change{apex})
}

// collect checks the changes and groups their records into sets in
// canonical form.
func (p *patcher) collect(changes []zone.Change) error {
	originKey, err := sortKey(p.origin)
	if err != nil {
		return err
	}
	p.changed = make(map[string]*owner, len(changes))
	for _, c := range changes {
		name, err := canonicalName(c.Name)
		if err != nil {
			return err
		}
		key, err := sortKey(name)
		if err != nil {
			return err
		}
		switch {
		case key == originKey:
			return fmt.Errorf("%w: a change at the apex", ErrFullSign)
		case !isBelow(key, originKey):
			return fmt.Errorf("%s is outside the zone %s", name, p.origin)
		case strings.HasPrefix(name, "*") && !strings.HasPrefix(name, "*."):
			return fmt.Errorf("%s: a label starting with '*' is only supported as the wildcard label", name)
		}
		if _, dup := p.changed[name]; dup {
			return fmt.Errorf("%s: changed twice", name)
		}
		o := &owner{name: name, key: key}
		for _, rr := range c.Records {
			if rr == nil {
				return fmt.Errorf("%s: a nil record", name)
			}
			h := rr.Header()
			owner, err := canonicalName(h.Name)
			switch {
			case err != nil:
				return err
			case owner != name:
				return fmt.Errorf("%s: a record of %s in its change", name, h.Name)
			case isDNSSECType(h.Rrtype):
				return fmt.Errorf("%s %s: a change gives unsigned records only", name, dns.Type(h.Rrtype))
			case isMetaType(h.Rrtype):
				return fmt.Errorf("%s: type %s cannot appear in a zone", name, dns.Type(h.Rrtype))
			case h.Rrtype == dns.TypeSOA:
				return fmt.Errorf("SOA at %s, not at the apex", name)
			case h.Rrtype == dns.TypeDNAME:
				return fmt.Errorf("%w: a DNAME at %s", ErrFullSign, name)
			case h.Class != p.class:
				return fmt.Errorf("%s %s: class %s, but the zone's is %s", name, dns.Type(h.Rrtype), dns.Class(h.Class), dns.Class(p.class))
			}
			cr, err := canonicalCopy(rr, name)
			if err != nil {
				return err
			}
			set := o.set(h.Rrtype)
			if set == nil {
				set = &rrset{name: name, typ: h.Rrtype}
				o.add(set)
			}
			set.rrs = append(set.rrs, cr)
		}
		for _, set := range o.sets {
			if err := set.finish(); err != nil {
				return err
			}
			if set.ttlMismatch {
				return fmt.Errorf("%s %s: the records' TTLs differ (RFC 2181 §5.2)", name, dns.Type(set.typ))
			}
		}
		p.changed[name] = o
	}
	return nil
}

// classify sets the kind of every changed name in the new version and
// which of its sets are signed, and refuses changes whose delegation
// points move above names they leave alone.
func (p *patcher) classify() error {
	for name, o := range p.changed {
		wasCut := slices.Contains(p.prev.Types(name), dns.TypeNS)
		isCut := o.set(dns.TypeNS) != nil
		if wasCut != isCut {
			// The names below change kind: each must be in the change.
			for d := p.prev.Next(name); d != "" && dns.IsSubDomain(name, d); d = p.prev.Next(d) {
				if _, ok := p.changed[d]; !ok {
					return fmt.Errorf("%w: %s becomes or stops being a delegation point above %s, which is not in the change", ErrFullSign, name, d)
				}
			}
		}
		switch {
		case p.occluded(name):
			o.kind = kindOccluded
		case isCut:
			o.kind = kindCut
		default:
			o.kind = kindAuth
		}
		for _, set := range o.sets {
			switch o.kind {
			case kindAuth:
				if set.typ == dns.TypeDS {
					return fmt.Errorf("DS at %s, which is not a delegation", name)
				}
				set.signed = true
			case kindCut:
				set.signed = set.typ == dns.TypeDS
			}
		}
	}
	return nil
}

// occluded reports whether a name of the new version is below a
// delegation point.
func (p *patcher) occluded(name string) bool {
	cut, ok := p.mid.Delegation(name)
	return ok && cut != name
}

// inChain reports whether a name of the new version has an NSEC record:
// it owns records and is not below a delegation point.
func (p *patcher) inChain(name string) bool {
	return name == p.origin || p.mid.HasName(name) && !p.occluded(name)
}

// nextInChain returns the name after name in the new version's NSEC
// chain, the apex after the last.
func (p *patcher) nextInChain(name string) string {
	for n := p.mid.Next(name); n != ""; n = p.mid.Next(n) {
		if p.inChain(n) {
			return n
		}
	}
	return p.origin
}

// prevInChain returns the name before name in the new version's NSEC
// chain (name being below the apex).
func (p *patcher) prevInChain(name string) string {
	for n := p.mid.Previous(name); ; n = p.mid.Previous(n) {
		if cut, ok := p.mid.Delegation(n); ok && cut != n {
			n = cut // glue: the delegation point precedes it
		}
		if p.inChain(n) {
			return n
		}
		if n == p.origin {
			return n
		}
	}
}

// buildNSEC makes the NSEC records that change: those of the changed names
// in the chain and of the names before each changed name.
func (p *patcher) buildNSEC() error {
	p.nsec = map[string]*rrset{}
	want := map[string]bool{}
	for name := range p.changed {
		if p.inChain(name) {
			want[name] = true
		}
		want[p.prevInChain(name)] = true
	}
	hadMD := slices.Contains(p.prev.Types(p.origin), dns.TypeZONEMD)
	if hadMD != p.digest {
		want[p.origin] = true // the apex's type bitmap changes
	}
	ttl := p.s.policy.NSECTTL
	if ttl == 0 {
		ttl = min(p.soa.Minttl, p.soa.Hdr.Ttl)
	}
	for name := range want {
		types := []uint16{dns.TypeRRSIG, dns.TypeNSEC}
		var have []uint16
		cut := false
		if o, ok := p.changed[name]; ok {
			for _, set := range o.sets {
				have = append(have, set.typ)
			}
			cut = o.kind == kindCut
		} else {
			have = p.prev.Types(name)
			cut = name != p.origin && slices.Contains(have, dns.TypeNS)
		}
		for _, t := range have {
			switch {
			case t == dns.TypeNSEC || t == dns.TypeRRSIG || t == dns.TypeZONEMD:
			case cut && t != dns.TypeNS && t != dns.TypeDS:
			default:
				types = append(types, t)
			}
		}
		if name == p.origin && p.digest {
			types = append(types, dns.TypeZONEMD)
		}
		slices.Sort(types)
		set := &rrset{name: name, typ: dns.TypeNSEC, signed: true, rrs: []dns.RR{&dns.NSEC{
			Hdr:        dns.RR_Header{Name: name, Rrtype: dns.TypeNSEC, Class: p.class, Ttl: ttl},
			NextDomain: p.nextInChain(name),
			TypeBitMap: types,
		}}}
		if err := set.finish(); err != nil {
			return err
		}
		p.nsec[name] = set
	}
	return nil
}

// apex returns the apex's new records: prev's with the new SOA, the NSEC
// if rebuilt, and no ZONEMD (run adds it when asked), each with its
// signatures.
func (p *patcher) apex(soa *rrset) (zone.Change, error) {
	c := zone.Change{Name: p.origin}
	drop := []uint16{dns.TypeSOA, dns.TypeZONEMD}
	nsec := p.nsec[p.origin]
	if nsec != nil {
		drop = append(drop, dns.TypeNSEC)
	}
	c.Records = keepExcept(p.prev, p.origin, drop...)
	var err error
	for _, set := range []*rrset{soa, nsec} {
		if set == nil {
			continue
		}
		if c.Records, err = appendSet(c.Records, set); err != nil {
			return c, err
		}
	}
	return c, nil
}

// remember updates the Signer's memory of signatures after a successful
// Patch, so that the next whole-zone signing reuses what Patch made.
func (p *patcher) remember() {
	if p.s.prev == nil {
		return
	}
	for name := range p.changed {
		for _, t := range p.prev.Types(name) {
			delete(p.s.prev, setKey{name, t})
		}
	}
	for _, set := range p.signed {
		p.s.prev[setKey{set.name, set.typ}] = &signedSet{sum: set.sum, sigs: set.sigs}
	}
	if !p.digest {
		delete(p.s.prev, setKey{p.origin, dns.TypeZONEMD})
	}
}

// dnskeyTTL is the TTL of the DNSKEY RRset: the policy's, else the first
// KSK's, else the SOA's.
func (s *Signer) dnskeyTTL(keys SigningKeys, soa *dns.SOA) uint32 {
	ttl := s.policy.DNSKEYTTL
	if ttl == 0 && len(keys.KSKs) > 0 && keys.KSKs[0] != nil && keys.KSKs[0].DNSKEY != nil {
		ttl = keys.KSKs[0].DNSKEY.Hdr.Ttl
	}
	if ttl == 0 {
		ttl = soa.Hdr.Ttl
	}
	return ttl
}

// keepExcept returns the records at name in z but those of the types
// given and the RRSIGs covering them.
func keepExcept(z *zone.Zone, name string, types ...uint16) []dns.RR {
	var out []dns.RR
	for _, t := range z.Types(name) {
		if slices.Contains(types, t) {
			continue
		}
		for _, rr := range z.RRset(name, t) {
			if sig, ok := rr.(*dns.RRSIG); ok && slices.Contains(types, sig.TypeCovered) {
				continue
			}
			out = append(out, rr)
		}
	}
	return out
}

// appendSet appends the records of a set and its signatures.
func appendSet(out []dns.RR, set *rrset) ([]dns.RR, error) {
	out = append(out, set.rrs...)
	for _, k := range set.sigs {
		rr, _, err := dns.UnpackRR(k.wire, 0)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", set.name, dns.Type(set.typ), err)
		}
		out = append(out, rr)
	}
	return out, nil
}

// sameRecords reports whether two RRsets hold the same records, in any
// order and case.
func sameRecords(a, b []dns.RR) bool {
	if len(a) != len(b) {
		return false
	}
	key := func(rrs []dns.RR) []string {
		out := make([]string, len(rrs))
		for i, rr := range rrs {
			c, err := canonicalRR(rr)
			if err != nil {
				return nil
			}
			out[i] = c.String()
		}
		slices.Sort(out)
		return out
	}
	ka, kb := key(a), key(b)
	return ka != nil && kb != nil && slices.Equal(ka, kb)
}
