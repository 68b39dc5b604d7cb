package dnssec

// Design note: what is signed, and why.
//
// Sign and Signer.Update turn an unsigned zone into a signed one the way the
// root zone is signed (RFC 4033-4035, RFC 9364), with NSEC (not NSEC3) and
// a ZONEMD digest (RFC 8976):
//
//   - Every DNSSEC record in the input (DNSKEY, RRSIG, NSEC, NSEC3,
//     NSEC3PARAM, ZONEMD) is dropped and derived again, so a signed zone can
//     be fed back in and the output depends only on the data, the keys, the
//     policy and the time.
//   - The apex DNSKEY RRset holds every KSK, every ZSK and every key given
//     to publish only (a pre-published or retiring key); it is signed by
//     every KSK and by nothing else, as the root's is.
//   - Every other authoritative RRset is signed by every ZSK (by the KSKs
//     when there are no ZSKs: a combined signing key). Because every
//     RRset carries a signature of every algorithm in the DNSKEY RRset (RFC
//     4035 §2.2), the KSKs and the ZSKs must cover the same algorithms and a
//     published key may not bring a new one.
//   - At a delegation only the DS and NSEC RRsets are signed: the NS RRset
//     there and the glue below it are the child's data, which the parent
//     serves without authority (RFC 4035 §2.2). Names below a zone cut (or
//     a DNAME) are left out of the NSEC chain.
//   - The NSEC chain runs over every authoritative name and delegation
//     point in canonical order (RFC 4034 §6.1); at a delegation it lists
//     only NS, DS, RRSIG and NSEC (RFC 4035 §2.3). Its TTL is the smaller of
//     the SOA MINIMUM and the SOA TTL (RFC 4034 §4, RFC 9077).
//   - A ZONEMD record (SIMPLE, SHA-384) at the apex digests the whole signed
//     zone except itself and its own signature (RFC 8976 §3.3), and is then
//     signed like any apex RRset. The serial is the SOA's: the caller owns
//     the SOA and must bump its serial when the content changes.
//
// Determinism: the same records, keys, policy and time always give the same
// records in the same order. Only the signature bytes may differ: ECDSA
// signatures are randomized (RFC 6979 deterministic ECDSA is not used),
// while Ed25519 and RSA PKCS #1 v1.5 signatures are deterministic, so a
// zone signed with those is byte-identical from run to run. A Signer's
// output also depends on the signatures it reuses, that is on when each
// RRset was last signed.
//
// Incremental signing: a Signer remembers, for every signed RRset, a hash of
// its canonical form and its signatures. The next version reuses a
// signature when the RRset is unchanged, the key that made it still signs
// that RRset, and more than Policy.Refresh of its validity remains; every
// other signature is made again. One changed delegation thus costs a
// handful of signatures (its DS, the NSEC records whose next name or
// bitmap changed, the SOA, the ZONEMD), not the whole zone. A signing key
// that appears signs every RRset it must; signatures of a key that left
// are dropped.

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"

	"steward/zone"
)

// Policy sets how long signatures are valid and when they are made again.
// The zero value is not usable; start from DefaultPolicy.
type Policy struct {
	// Validity is how long an RRSIG is valid from the signing time.
	Validity time.Duration
	// KeyValidity is the validity of the RRSIGs over the DNSKEY RRset,
	// which the KSKs make; 0 means Validity.
	KeyValidity time.Duration
	// Refresh: a signature with less than this much validity left is made
	// again by Signer.Update. It must be less than Validity (and
	// KeyValidity), leaving time for the version to reach every server.
	Refresh time.Duration
	// InceptionOffset puts the inception this far before the signing time,
	// so that validators whose clocks are behind accept the signatures.
	InceptionOffset time.Duration
	// NSECTTL is the TTL of NSEC records; 0 means the smaller of the SOA
	// MINIMUM field and the SOA TTL (RFC 4034 §4, RFC 9077).
	NSECTTL uint32
	// DNSKEYTTL is the TTL of the DNSKEY RRset; 0 means the TTL of the
	// first KSK's DNSKEY record (GenerateKey and the rollover Schedule set
	// it), or the SOA TTL if that is 0 too.
	DNSKEYTTL uint32
}

// DefaultPolicy is a policy like the root zone's: RRSIGs valid for 13
// days from signing (15 for the DNSKEY RRset), their inception an hour in
// the past, made again when fewer than 5 days remain; DNSKEY TTL from the
// keys, NSEC TTL from the SOA.
var DefaultPolicy = Policy{
	Validity:        13 * 24 * time.Hour,
	KeyValidity:     15 * 24 * time.Hour,
	Refresh:         5 * 24 * time.Hour,
	InceptionOffset: time.Hour,
}

// maxValidity keeps RRSIG times within RFC 1982 serial arithmetic on 32 bits.
const maxValidity = time.Duration(math.MaxInt32) * time.Second

func (p Policy) check() error {
	switch {
	case p.Validity <= 0 || p.Validity > maxValidity:
		return fmt.Errorf("policy: validity %v is not between 0 and 68 years", p.Validity)
	case p.KeyValidity < 0 || p.KeyValidity > maxValidity:
		return fmt.Errorf("policy: DNSKEY validity %v is not between 0 and 68 years", p.KeyValidity)
	case p.Refresh < 0 || p.Refresh >= p.Validity || p.Refresh >= p.keyValidity():
		return fmt.Errorf("policy: refresh %v must be at least 0 and less than the validity", p.Refresh)
	case p.InceptionOffset < 0 || p.InceptionOffset > maxValidity:
		return fmt.Errorf("policy: inception offset %v is negative or too large", p.InceptionOffset)
	}
	return nil
}

func (p Policy) keyValidity() time.Duration {
	if p.KeyValidity == 0 {
		return p.Validity
	}
	return p.KeyValidity
}

// SigningKeys are the keys of one zone version.
type SigningKeys struct {
	// KSKs sign the DNSKEY RRset. At least one is required.
	KSKs []*Key
	// ZSKs sign every other authoritative RRset. If there are none, the
	// KSKs sign everything (combined signing keys).
	ZSKs []*Key
	// Published are extra DNSKEYs to publish without signing with them,
	// e.g. a pre-published or a retiring key. Their algorithms must be
	// among those of the signing keys.
	Published []*dns.DNSKEY
}

// Stats counts the work of one signing run.
type Stats struct {
	// Signed is the number of signatures made.
	Signed int
	// Reused is the number of signatures carried over from the previous
	// version.
	Reused int
}

// Sign signs the zone at origin made of the unsigned records, with the keys
// and the policy, at the time now, as described in the package's design
// note: it drops the input's DNSSEC records, adds the DNSKEY RRset, signs
// every authoritative RRset, builds the NSEC chain and adds a ZONEMD. The
// unsigned records are not modified.
//
// It returns an error, and no zone, for a zone it cannot sign correctly:
// no SOA or several, a record outside the zone or of a meta type, records
// of several classes, an RRset whose TTLs differ, a DS anywhere but at a
// delegation, a key whose private half does not match its DNSKEY, KSKs and
// ZSKs of different algorithms, an invalid policy, or a zero time.
//
// Signing is spread over GOMAXPROCS goroutines, so every Key's Signer
// must be safe for concurrent use, as the standard library's keys are.
func Sign(origin string, unsigned []dns.RR, keys SigningKeys, p Policy, now time.Time) (*zone.Zone, error) {
	s := NewSigner(origin, p)
	s.once = true
	z, _, err := s.Update(unsigned, keys, now)
	return z, err
}

// SignZone is Sign for the unsigned records of a zone version (see
// Signer.UpdateZone). It returns the signed zone and the signing counts.
func SignZone(unsigned *zone.Zone, keys SigningKeys, p Policy, now time.Time) (*zone.Zone, Stats, error) {
	s := NewSigner(unsigned.Origin, p)
	s.once = true
	return s.UpdateZone(unsigned, keys, now)
}

// Signer signs successive versions of one zone, re-signing only what
// changed since the previous version (see the package's design note). A
// Signer is not safe for concurrent use; the zones it returns are
// immutable and may be shared freely.
type Signer struct {
	origin string
	policy Policy
	prev   map[setKey]*signedSet // the previous version's signatures, nil before the first
	once   bool                  // sign one version: keep nothing for the next
}

// setKey names an RRset: canonical owner name and type.
type setKey struct {
	name string
	typ  uint16
}

// signedSet is what a Signer remembers of a signed RRset.
type signedSet struct {
	sum  [sha256.Size]byte
	sigs []keyedSig
}

// NewSigner returns a Signer for the zone at origin with policy p. It has
// no previous version: its first Update signs everything.
func NewSigner(origin string, p Policy) *Signer {
	return &Signer{origin: origin, policy: p}
}

// Update signs a new version of the zone from its unsigned records (as
// Sign does) and reuses the previous version's signatures where the RRset
// is unchanged, the same key signs it, and more than Policy.Refresh of
// validity is left. On success the new version becomes the previous one;
// on error the Signer is unchanged.
func (s *Signer) Update(unsigned []dns.RR, keys SigningKeys, now time.Time) (*zone.Zone, Stats, error) {
	return s.updateFrom(keys, now, func(origin string) ([]*owner, *dns.SOA, error) { return collect(origin, unsigned) })
}

// begin checks the time and the policy of a signing run and returns the
// origin in canonical form.
func (s *Signer) begin(now time.Time) (string, error) {
	if now.IsZero() {
		return "", errors.New("sign: zero time")
	}
	if err := s.policy.check(); err != nil {
		return "", err
	}
	origin, err := canonicalName(s.origin)
	if err != nil {
		return "", fmt.Errorf("sign: origin: %w", err)
	}
	return origin, nil
}

// updateFrom checks the time and the policy, gathers the unsigned
// records and signs them.
func (s *Signer) updateFrom(keys SigningKeys, now time.Time, gather func(origin string) ([]*owner, *dns.SOA, error)) (*zone.Zone, Stats, error) {
	var st Stats
	origin, err := s.begin(now)
	if err != nil {
		return nil, st, err
	}
	owners, soa, err := gather(origin)
	if err != nil {
		return nil, st, fmt.Errorf("sign %s: %w", origin, err)
	}
	return s.update(origin, owners, soa, keys, now)
}

// UpdateZone is Update with the unsigned records given as a zone version,
// which it reads in wire form: for large zones it is faster and needs far
// less memory than Update with the version's Records.
func (s *Signer) UpdateZone(unsigned *zone.Zone, keys SigningKeys, now time.Time) (*zone.Zone, Stats, error) {
	return s.updateFrom(keys, now, func(origin string) ([]*owner, *dns.SOA, error) { return collectZone(origin, unsigned) })
}

// update signs the collected owners (see Update).
func (s *Signer) update(origin string, owners []*owner, soa *dns.SOA, keys SigningKeys, now time.Time) (*zone.Zone, Stats, error) {
	st, err := s.signOwners(origin, owners, soa, keys, now)
	if err != nil {
		return nil, st, err
	}
	// The zone is assembled from the wire forms at hand, not from dns.RR
	// values, a run of owners per goroutine: it keeps records in wire
	// format, in the order the owners and sets are already in.
	z, err := assemble(origin, owners)
	if err != nil {
		return nil, st, fmt.Errorf("sign %s: %w", origin, err)
	}
	var next map[setKey]*signedSet
	if !s.once {
		next = map[setKey]*signedSet{}
		for _, o := range owners {
			for _, set := range o.sets {
				if set.signed {
					next[setKey{set.name, set.typ}] = &signedSet{sum: set.sum, sigs: set.sigs}
				}
			}
		}
	}
	s.prev = next
	return z, st, nil
}

// signOwners adds the DNSKEY RRset, the NSEC chain and the ZONEMD to the
// collected owners and signs them (see Update), leaving the result in the
// owners' sets.
func (s *Signer) signOwners(origin string, owners []*owner, soa *dns.SOA, keys SigningKeys, now time.Time) (Stats, error) {
	var st Stats
	class := soa.Hdr.Class
	ks, err := prepareKeys(origin, class, s.dnskeyTTL(keys, soa), keys)
	if err != nil {
		return st, fmt.Errorf("sign %s: %w", origin, err)
	}

	apex := owners[0]
	dnskeys := &rrset{name: origin, typ: dns.TypeDNSKEY, rrs: ks.dnskeys}
	apex.add(dnskeys)
	md := &dns.ZONEMD{
		Hdr:    dns.RR_Header{Name: origin, Rrtype: dns.TypeZONEMD, Class: class, Ttl: soa.Hdr.Ttl},
		Serial: soa.Serial,
		Scheme: dns.ZoneMDSchemeSimple,
		Hash:   dns.ZoneMDHashAlgSHA384,
		Digest: strings.Repeat("00", sha512.Size384),
	}
	zonemd := &rrset{name: origin, typ: dns.TypeZONEMD, rrs: []dns.RR{md}}
	apex.add(zonemd)

	classify(owners)
	for _, o := range owners {
		for _, set := range o.sets {
			switch o.kind {
			case kindAuth:
				if set.typ == dns.TypeDS {
					if o == apex {
						return st, fmt.Errorf("sign %s: DS at the apex belongs in the parent zone", origin)
					}
					return st, fmt.Errorf("sign %s: DS at %s, which is not a delegation", origin, o.name)
				}
				set.signed = true
			case kindCut:
				set.signed = set.typ == dns.TypeDS
			}
		}
	}
	nsecTTL := s.policy.NSECTTL
	if nsecTTL == 0 {
		nsecTTL = min(soa.Minttl, soa.Hdr.Ttl)
	}
	addNSEC(owners, class, nsecTTL)
	for _, o := range owners {
		for _, set := range o.sets {
			if set.wires == nil {
				if err := set.finish(); err != nil {
					return st, fmt.Errorf("sign %s: %w", origin, err)
				}
			}
		}
	}

	if !s.once {
		// The hashes that tell whether a set changed since the previous
		// version.
		parallel(len(owners), func(i int) {
			for _, set := range owners[i].sets {
				if set.signed {
					set.hash()
				}
			}
		})
	}

	// Sign everything but the ZONEMD, then digest, then sign the ZONEMD.
	t := s.times(now)
	nsigned := 0
	for _, o := range owners {
		for _, set := range o.sets {
			if set.signed {
				nsigned++
			}
		}
	}
	jobs := make([]job, 0, nsigned*max(len(ks.zsks), len(ks.ksks)))
	for _, o := range owners {
		for _, set := range o.sets {
			if set.signed && set != zonemd {
				jobs = s.plan(jobs, set, ks.signersFor(set.typ), t, &st)
			}
		}
	}
	if err := runJobs(jobs); err != nil {
		return st, fmt.Errorf("sign %s: %w", origin, err)
	}
	digest, err := digestOwners(owners, dns.ZoneMDHashAlgSHA384)
	if err != nil {
		return st, fmt.Errorf("sign %s: ZONEMD: %w", origin, err)
	}
	md.Digest = hex.EncodeToString(digest)
	if err := zonemd.finish(); err != nil {
		return st, fmt.Errorf("sign %s: %w", origin, err)
	}
	if err := runJobs(s.plan(nil, zonemd, ks.zsks, t, &st)); err != nil {
		return st, fmt.Errorf("sign %s: %w", origin, err)
	}
	return st, nil
}

// assemblePart is how many owners assemble gives each goroutine at a time.
const assemblePart = 4096

// assemble builds the zone version of the owners, in canonical order with
// their sets' records and signatures in canonical wire form: at each owner
// the RRsets in type order, the RRSIGs of all its sets as the RRSIG RRset.
func assemble(origin string, owners []*owner) (*zone.Zone, error) {
	nparts := (len(owners) + assemblePart - 1) / assemblePart
	part := func(i int) []*owner { return owners[i*assemblePart : min((i+1)*assemblePart, len(owners))] }
	sizes := make([]zone.PartSize, nparts)
	parallel(nparts, func(i int) {
		p := &sizes[i]
		for _, o := range part(i) {
			p.Names++
			p.NameBytes += len(o.name)
			nsig, sigBytes := 0, 0
			for _, set := range o.sets {
				n := 0
				for _, w := range set.wires {
					n += len(w) - rdataOffset(w)
				}
				p.Add(len(set.wires), n)
				if !set.signed {
					continue
				}
				for _, k := range set.sigs {
					sigBytes += len(k.wire) - rdataOffset(k.wire)
				}
				nsig += len(set.sigs)
			}
			if nsig > 0 {
				p.Add(nsig, sigBytes)
			}
		}
	})
	return zone.Assemble(origin, sizes, func(i int, w *zone.PartWriter) error {
		for _, o := range part(i) {
			w.Name(o.name)
			sigsDone := false
			for _, set := range o.sets {
				if !sigsDone && set.typ > dns.TypeRRSIG {
					if err := writeSigs(w, o); err != nil {
						return err
					}
					sigsDone = true
				}
				for _, r := range set.wires {
					if err := writeWire(w, o.name, r); err != nil {
						return err
					}
				}
			}
			if !sigsDone {
				if err := writeSigs(w, o); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// writeSigs writes the signatures of every set of an owner.
func writeSigs(w *zone.PartWriter, o *owner) error {
	for _, set := range o.sets {
		if !set.signed {
			continue
		}
		for _, k := range set.sigs {
			if err := writeWire(w, o.name, k.wire); err != nil {
				return err
			}
		}
	}
	return nil
}

// writeWire writes a record in canonical wire form, owned by name.
func writeWire(w *zone.PartWriter, name string, r []byte) error {
	off := rdataOffset(r)
	if off < 10 || off > len(r) {
		return fmt.Errorf("%s: malformed record", name)
	}
	h := r[off-10:]
	w.Record(binary.BigEndian.Uint16(h), binary.BigEndian.Uint16(h[2:]), binary.BigEndian.Uint32(h[4:]), r[off:])
	return nil
}

// sigTimes are the RRSIG times of one signing run, as RRSIG fields.
type sigTimes struct {
	now        uint32
	inception  uint32
	expiration uint32 // for every RRset but the DNSKEY RRset
	keyExp     uint32 // for the DNSKEY RRset
}

func (s *Signer) times(now time.Time) sigTimes {
	p := s.policy
	return sigTimes{
		now:        uint32(now.Unix()),
		inception:  uint32(now.Add(-p.InceptionOffset).Unix()),
		expiration: uint32(now.Add(p.Validity).Unix()),
		keyExp:     uint32(now.Add(p.keyValidity()).Unix()),
	}
}

// plan decides, for each key that must sign set, whether the previous
// version's signature can be reused; it attaches reused signatures to the
// set and appends a job for every signature to make.
func (s *Signer) plan(jobs []job, set *rrset, keys []*signingKey, t sigTimes, st *Stats) []job {
	var prev *signedSet
	if p, ok := s.prev[setKey{set.name, set.typ}]; ok && p.sum == set.sum {
		prev = p
	}
	exp := t.expiration
	if set.typ == dns.TypeDNSKEY {
		exp = t.keyExp
	}
	refresh := int64(s.policy.Refresh / time.Second)
	set.sigs = set.sigs[:0]
nextKey:
	for _, k := range keys {
		if prev != nil {
			for _, old := range prev.sigs {
				// Serial arithmetic (RFC 1982) on the 32-bit RRSIG times.
				left := int64(int32(old.expiration - t.now))
				age := int64(int32(t.now - old.inception))
				if old.key == k.id && age >= 0 && left >= refresh {
					set.sigs = append(set.sigs, old)
					st.Reused++
					continue nextKey
				}
			}
		}
		jobs = append(jobs, job{set: set, key: k, expiration: exp, inception: t.inception})
		st.Signed++
	}
	return jobs
}

// job is one signature to make.
type job struct {
	set                   *rrset
	key                   *signingKey
	expiration, inception uint32
	slot                  int32 // where in set.sigs runJobs puts the signature
	err                   error
}

// run makes the signature (RFC 4034 §3.1.8.1) over the set's records in
// canonical form and order, which the set holds already, and its RRSIG
// record in canonical wire form.
func (j *job) run(arena *[]byte) {
	set, k := j.set, j.key
	w0 := set.wires[0]
	roff := rdataOffset(w0)
	owner := w0[:roff-10]
	class := w0[roff-8 : roff-6]
	labels := wireLabels(owner)
	if len(owner) > 2 && owner[0] == 1 && owner[1] == '*' {
		labels-- // a wildcard's own label is not counted
	}
	// The RRSIG record is made in one buffer, carved out of the arena:
	// header, then RDATA.
	size := len(owner) + 10 + 18 + len(k.signerWire) + k.sigLen
	if cap(*arena)-len(*arena) < size {
		*arena = make([]byte, 0, max(size, 64<<10))
	}
	wire := (*arena)[len(*arena):len(*arena)]
	wire = append(wire, owner...)
	wire = binary.BigEndian.AppendUint16(wire, dns.TypeRRSIG)
	wire = append(wire, class...)
	wire = binary.BigEndian.AppendUint32(wire, set.ttl)
	wire = append(wire, 0, 0) // RDLENGTH
	start := len(wire)
	wire = binary.BigEndian.AppendUint16(wire, set.typ)
	wire = append(wire, k.alg, byte(labels))
	wire = binary.BigEndian.AppendUint32(wire, set.ttl)
	wire = binary.BigEndian.AppendUint32(wire, j.expiration)
	wire = binary.BigEndian.AppendUint32(wire, j.inception)
	wire = binary.BigEndian.AppendUint16(wire, k.tag)
	wire = append(wire, k.signerWire...)
	sig, err := k.sign(wire[start:], set.wires)
	if err != nil {
		j.err = fmt.Errorf("%s %s: signing with key %d: %w", set.name, dns.Type(set.typ), k.tag, err)
		return
	}
	wire = append(wire, sig...)
	if len(wire)-start > 0xffff {
		j.err = fmt.Errorf("%s %s: signature too long", set.name, dns.Type(set.typ))
		return
	}
	binary.BigEndian.PutUint16(wire[start-2:], uint16(len(wire)-start))
	if len(wire) <= size {
		*arena = (*arena)[:len(*arena)+len(wire)]
	}
	wire = wire[:len(wire):len(wire)]
	set.sigs[j.slot] = keyedSig{key: k.id, alg: k.alg, tag: k.tag, covered: set.typ, expiration: j.expiration, inception: j.inception, wire: wire}
}

// wireLabels counts the labels of an uncompressed wire-format name.
func wireLabels(w []byte) int {
	n := 0
	for i := 0; i < len(w) && w[i] != 0; i += int(w[i]) + 1 {
		n++
	}
	return n
}

// runJobs makes the signatures, spread over GOMAXPROCS goroutines, and
// attaches them to their sets in a fixed order. A set's jobs must be
// adjacent, as plan appends them.
func runJobs(jobs []job) error {
	// Every set's signatures, those plan kept and those to make, in one
	// block; each job fills its slot.
	n := 0
	for i := range jobs {
		if i == 0 || jobs[i-1].set != jobs[i].set {
			n += len(jobs[i].set.sigs)
		}
		n++
	}
	block := make([]keyedSig, n)
	for i := 0; i < len(jobs); {
		set := jobs[i].set
		k := i + 1
		for k < len(jobs) && jobs[k].set == set {
			k++
		}
		kept := len(set.sigs)
		sigs := block[: kept+k-i : kept+k-i]
		block = block[kept+k-i:]
		copy(sigs, set.sigs)
		set.sigs = sigs
		for x := i; x < k; x++ {
			jobs[x].slot = int32(kept + x - i)
		}
		i = k
	}
	const run = 512 // jobs per goroutine at a time, sharing an arena
	parallel((len(jobs)+run-1)/run, func(r int) {
		var arena []byte
		for i := r * run; i < min((r+1)*run, len(jobs)); i++ {
			jobs[i].run(&arena)
		}
	})
	for i := range jobs {
		if jobs[i].err != nil {
			return jobs[i].err
		}
	}
	for i := range jobs {
		if i == 0 || jobs[i-1].set != jobs[i].set {
			sortSigs(jobs[i].set.sigs)
		}
	}
	return nil
}

// parallel calls f(0) … f(n-1) from up to GOMAXPROCS goroutines.
func parallel(n int, f func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	if workers <= 1 {
		for i := range n {
			f(i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				f(i)
			}
		})
	}
	wg.Wait()
}

// keyedSig is a signature, the identity of the key that made it, the
// RRSIG fields the signer needs, and the RRSIG record in canonical wire form.
type keyedSig struct {
	key                   string
	alg                   uint8
	tag                   uint16
	covered               uint16
	expiration, inception uint32
	wire                  []byte
}

// sortSigs orders the signatures of one RRset by algorithm, key tag and key,
// so that the output order never depends on the signature bytes.
func sortSigs(sigs []keyedSig) {
	slices.SortFunc(sigs, func(a, b keyedSig) int {
		if c := int(a.alg) - int(b.alg); c != 0 {
			return c
		}
		if c := int(a.tag) - int(b.tag); c != 0 {
			return c
		}
		return strings.Compare(a.key, b.key)
	})
}

// signingKey is a Key checked and ready to sign.
type signingKey struct {
	id         string // flags, protocol, algorithm and public key
	tag        uint16
	alg        uint8
	signerName string
	signerWire []byte // the signer name in canonical wire form
	sigLen     int    // a signature's length in octets
	signer     crypto.Signer
}

// keySet is the keys of one version.
type keySet struct {
	ksks, zsks []*signingKey
	dnskeys    []dns.RR
}

func (ks *keySet) signersFor(t uint16) []*signingKey {
	if t == dns.TypeDNSKEY {
		return ks.ksks
	}
	return ks.zsks
}

// keyID identifies a DNSKEY by its RDATA.
func keyID(k *dns.DNSKEY) string {
	return fmt.Sprintf("%d %d %d %s", k.Flags, k.Protocol, k.Algorithm, k.PublicKey)
}

// signingAlgorithms are the algorithms this package signs with: those RFC
// 8624 recommends or allows for signing.
var signingAlgorithms = map[uint8]bool{
	dns.RSASHA256:       true,
	dns.RSASHA512:       true,
	dns.ECDSAP256SHA256: true,
	dns.ECDSAP384SHA384: true,
	dns.ED25519:         true,
}

// prepareKeys checks the keys and builds the DNSKEY RRset.
func prepareKeys(origin string, class uint16, ttl uint32, keys SigningKeys) (*keySet, error) {
	if len(keys.KSKs) == 0 {
		return nil, errors.New("no KSK")
	}
	ks := &keySet{}
	seen := map[string]bool{}
	publish := func(k *dns.DNSKEY) {
		id := keyID(k)
		if seen[id] {
			return
		}
		seen[id] = true
		c := dns.Copy(k).(*dns.DNSKEY)
		c.Hdr = dns.RR_Header{Name: origin, Rrtype: dns.TypeDNSKEY, Class: class, Ttl: ttl}
		ks.dnskeys = append(ks.dnskeys, c)
	}
	prep := func(role string, list []*Key) ([]*signingKey, map[uint8]bool, error) {
		var out []*signingKey
		algs := map[uint8]bool{}
		ids := map[string]bool{}
		for i, k := range list {
			sk, err := checkKey(origin, class, k)
			if err != nil {
				return nil, nil, fmt.Errorf("%s %d: %w", role, i, err)
			}
			if ids[sk.id] {
				continue
			}
			ids[sk.id] = true
			publish(k.DNSKEY)
			out = append(out, sk)
			algs[sk.alg] = true
		}
		return out, algs, nil
	}
	var kalgs, zalgs map[uint8]bool
	var err error
	if ks.ksks, kalgs, err = prep("KSK", keys.KSKs); err != nil {
		return nil, err
	}
	if ks.zsks, zalgs, err = prep("ZSK", keys.ZSKs); err != nil {
		return nil, err
	}
	if len(ks.zsks) == 0 {
		ks.zsks, zalgs = ks.ksks, kalgs
	}
	if !sameAlgorithms(kalgs, zalgs) {
		return nil, fmt.Errorf("KSK algorithms %v and ZSK algorithms %v differ: every RRset must be signed with every algorithm of the DNSKEY RRset (RFC 4035 §2.2)", algList(kalgs), algList(zalgs))
	}
	for i, k := range keys.Published {
		if k == nil {
			return nil, fmt.Errorf("published key %d is nil", i)
		}
		if k.Protocol != 3 {
			return nil, fmt.Errorf("published key %d (tag %d): protocol %d, want 3", i, k.KeyTag(), k.Protocol)
		}
		if !kalgs[k.Algorithm] {
			return nil, fmt.Errorf("published key %d (tag %d): algorithm %s is not among the signing keys' %v: every RRset must be signed with every algorithm of the DNSKEY RRset (RFC 4035 §2.2)", i, k.KeyTag(), dns.AlgorithmToString[k.Algorithm], algList(kalgs))
		}
		publish(k)
	}
	return ks, nil
}

// checkKey checks that a key can sign for the zone: a zone key, an
// algorithm this package signs with, and a private half that matches the
// DNSKEY, which it proves by signing a probe RRset and verifying it with
// the DNSKEY.
func checkKey(origin string, class uint16, k *Key) (*signingKey, error) {
	if k == nil || k.DNSKEY == nil || k.Signer == nil {
		return nil, errors.New("missing DNSKEY or private key")
	}
	d := k.DNSKEY
	tag := d.KeyTag()
	switch {
	case d.Protocol != 3:
		return nil, fmt.Errorf("tag %d: protocol %d, want 3", tag, d.Protocol)
	case d.Flags&dns.ZONE == 0:
		return nil, fmt.Errorf("tag %d: not a zone key (flags %d)", tag, d.Flags)
	case !signingAlgorithms[d.Algorithm]:
		return nil, fmt.Errorf("tag %d: cannot sign with algorithm %d (%s)", tag, d.Algorithm, dns.AlgorithmToString[d.Algorithm])
	}
	pub := dns.Copy(d).(*dns.DNSKEY)
	pub.Hdr = dns.RR_Header{Name: origin, Rrtype: dns.TypeDNSKEY, Class: class, Ttl: 0}
	probe := []dns.RR{&dns.TXT{Hdr: dns.RR_Header{Name: origin, Rrtype: dns.TypeTXT, Class: class}, Txt: []string{"steward key check"}}}
	sig := &dns.RRSIG{Algorithm: d.Algorithm, KeyTag: tag, SignerName: origin, Expiration: 1, Inception: 0}
	if err := sig.Sign(k.Signer, probe); err != nil {
		return nil, fmt.Errorf("tag %d: private key cannot sign: %w", tag, err)
	}
	if err := sig.Verify(pub, probe); err != nil {
		return nil, fmt.Errorf("tag %d: private key does not match the DNSKEY: %w", tag, err)
	}
	wire := make([]byte, 256)
	n, err := dns.PackDomainName(origin, wire, 0, nil, false)
	if err != nil {
		return nil, fmt.Errorf("tag %d: signer name %s: %w", tag, origin, err)
	}
	lowerWireName(wire[:n])
	return &signingKey{id: keyID(d), tag: tag, alg: d.Algorithm, signerName: origin, signerWire: wire[:n:n], sigLen: sigLen(k.Signer.Public()), signer: k.Signer}, nil
}

func sameAlgorithms(a, b map[uint8]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if !b[k] {
			return false
		}
	}
	return true
}

func algList(algs map[uint8]bool) []string {
	var ids []int
	for a := range algs {
		ids = append(ids, int(a))
	}
	slices.Sort(ids)
	var out []string
	for _, a := range ids {
		out = append(out, dns.AlgorithmToString[uint8(a)])
	}
	return out
}

// owner is an owner name of a zone being signed or verified, with its
// RRsets in ascending type order.
type owner struct {
	name string // canonical
	key  string // sortKey(name)
	kind int    // kindAuth, kindCut or kindOccluded
	sets []*rrset
}

// set returns the RRset of a type at o, or nil.
func (o *owner) set(t uint16) *rrset {
	for _, s := range o.sets {
		if s.typ == t {
			return s
		}
	}
	return nil
}

// add inserts an RRset, keeping the type order.
func (o *owner) add(s *rrset) {
	i, _ := slices.BinarySearchFunc(o.sets, s.typ, func(x *rrset, t uint16) int { return int(x.typ) - int(t) })
	o.sets = slices.Insert(o.sets, i, s)
}

// rrset is an RRset in canonical form: records sorted by RDATA, without
// duplicates, each with its canonical wire form.
//
// A large zone has millions of sets: the fields are ordered so that none
// is padded.
type rrset struct {
	name        string
	rrs         []dns.RR
	wires       [][]byte
	sigs        []keyedSig
	sum         [sha256.Size]byte // of the wires, to notice change
	ttl         uint32            // of the first record
	typ         uint16
	ttlMismatch bool // the records' TTLs differ
	signed      bool
}

// finish sorts the records in canonical order, drops duplicates and
// computes their wire forms and the set's hash. The records must already
// be in canonical form.
func (s *rrset) finish() error {
	// Pack every record into one buffer.
	size := 0
	for _, rr := range s.rrs {
		size += dns.Len(rr) + 1
	}
	buf := make([]byte, size)
	wires := make([][]byte, len(s.rrs))
	off := 0
	for i, rr := range s.rrs {
		end, err := dns.PackRR(rr, buf, off, nil, false)
		if err != nil {
			return fmt.Errorf("%s %s: %w", rr.Header().Name, dns.Type(rr.Header().Rrtype), err)
		}
		wires[i] = buf[off:end:end]
		off = end
	}
	if len(s.rrs) > 1 {
		type rw struct {
			rr dns.RR
			w  []byte
		}
		rws := make([]rw, len(s.rrs))
		for i := range s.rrs {
			rws[i] = rw{s.rrs[i], wires[i]}
		}
		off := rdataOffset(wires[0]) // all records of a set share their owner name
		slices.SortFunc(rws, func(a, b rw) int {
			if c := bytes.Compare(a.w[off:], b.w[off:]); c != 0 {
				return c
			}
			return bytes.Compare(a.w, b.w)
		})
		rws = slices.CompactFunc(rws, func(a, b rw) bool { return bytes.Equal(a.w, b.w) })
		s.rrs, wires = s.rrs[:len(rws)], wires[:len(rws)]
		for i, x := range rws {
			s.rrs[i], wires[i] = x.rr, x.w
		}
	}
	s.finishWires(wires)
	return nil
}

// finishWires takes the set's records in canonical wire form, sorted and
// without duplicates, and computes the TTL and the hash.
func (s *rrset) finishWires(wires [][]byte) {
	s.setWires(wires)
	s.hash()
}

// setWires takes the set's records in canonical wire form, sorted and
// without duplicates, and computes the TTL: finishWires without the hash,
// which only a Signer that keeps its signatures for the next version needs.
func (s *rrset) setWires(wires [][]byte) {
	s.wires = wires
	s.ttl = wireTTL(wires[0])
	s.ttlMismatch = false
	for _, w := range wires[1:] {
		if wireTTL(w) != s.ttl {
			s.ttlMismatch = true
		}
	}
}

// hash computes the hash of the set's wires.
func (s *rrset) hash() {
	if len(s.wires) == 1 {
		s.sum = sha256.Sum256(s.wires[0])
	} else {
		h := sha256.New()
		for _, w := range s.wires {
			h.Write(w)
		}
		h.Sum(s.sum[:0])
	}
}

// wireTTL returns the TTL of a record in uncompressed wire form.
func wireTTL(w []byte) uint32 {
	off := rdataOffset(w)
	return binary.BigEndian.Uint32(w[off-6:])
}

// finishAll finishes every set of the owners, spread over GOMAXPROCS
// goroutines, and returns the first error in canonical order.
func finishAll(owners []*owner) error {
	errs := make([]error, len(owners))
	parallel(len(owners), func(i int) {
		for _, set := range owners[i].sets {
			if err := set.finish(); err != nil {
				errs[i] = err
				return
			}
		}
	})
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// isDNSSECType reports whether records of type t are derived by the signer.
func isDNSSECType(t uint16) bool {
	switch t {
	case dns.TypeDNSKEY, dns.TypeRRSIG, dns.TypeNSEC, dns.TypeNSEC3, dns.TypeNSEC3PARAM, dns.TypeZONEMD:
		return true
	}
	return false
}

// isMetaType reports whether t can only appear in messages, never in a
// zone (RFC 6895 §3.1: OPT and the range 128-255).
func isMetaType(t uint16) bool {
	return t == dns.TypeNone || t == dns.TypeOPT || t >= 128 && t <= 255
}

// collect canonicalizes and groups the unsigned records, without their
// DNSSEC records, into owners in canonical order, the apex first.
func collect(origin string, in []dns.RR) ([]*owner, *dns.SOA, error) {
	originKey, err := sortKey(origin)
	if err != nil {
		return nil, nil, err
	}
	byName := map[string]*owner{} // by the name as given, and by canonical name
	var owners []*owner
	var class uint16
	for i, rr := range in {
		if rr == nil {
			return nil, nil, fmt.Errorf("record %d is nil", i)
		}
		h := rr.Header()
		if isDNSSECType(h.Rrtype) {
			continue
		}
		if isMetaType(h.Rrtype) {
			return nil, nil, fmt.Errorf("%s: type %s cannot appear in a zone", h.Name, dns.Type(h.Rrtype))
		}
		if class == 0 {
			class = h.Class
		} else if h.Class != class {
			return nil, nil, fmt.Errorf("%s %s: class %s, but the zone's is %s", h.Name, dns.Type(h.Rrtype), dns.Class(h.Class), dns.Class(class))
		}
		o := byName[h.Name]
		if o == nil {
			name, err := canonicalName(h.Name)
			if err != nil {
				return nil, nil, err
			}
			if o = byName[name]; o == nil {
				key, err := sortKey(name)
				if err != nil {
					return nil, nil, err
				}
				if key != originKey && !isBelow(key, originKey) {
					return nil, nil, fmt.Errorf("%s is outside the zone %s", name, origin)
				}
				if strings.HasPrefix(name, "*") && !strings.HasPrefix(name, "*.") {
					// miekg/dns would count such a label as a wildcard.
					return nil, nil, fmt.Errorf("%s: a label starting with '*' is only supported as the wildcard label", name)
				}
				o = &owner{name: name, key: key}
				byName[name] = o
				owners = append(owners, o)
			}
			byName[h.Name] = o
		}
		c, err := canonicalCopy(rr, o.name)
		if err != nil {
			return nil, nil, err
		}
		set := o.set(h.Rrtype)
		if set == nil {
			set = &rrset{name: o.name, typ: h.Rrtype}
			o.add(set)
		}
		set.rrs = append(set.rrs, c)
	}
	slices.SortFunc(owners, func(a, b *owner) int { return strings.Compare(a.key, b.key) })
	if len(owners) == 0 || owners[0].key != originKey || owners[0].set(dns.TypeSOA) == nil {
		return nil, nil, errors.New("no SOA record at the apex")
	}
	if err := finishAll(owners); err != nil {
		return nil, nil, err
	}
	if err := checkSets(owners); err != nil {
		return nil, nil, err
	}
	soas := owners[0].set(dns.TypeSOA).rrs
	if len(soas) != 1 {
		return nil, nil, fmt.Errorf("%d SOA records, want 1", len(soas))
	}
	return owners, soas[0].(*dns.SOA), nil
}

// checkSets checks what collecting a zone's records found: every RRset's
// records have one TTL, and the only SOA is at the apex.
func checkSets(owners []*owner) error {
	for _, o := range owners {
		for _, set := range o.sets {
			if set.ttlMismatch {
				return fmt.Errorf("%s %s: the records' TTLs differ (RFC 2181 §5.2)", o.name, dns.Type(set.typ))
			}
			if set.typ == dns.TypeSOA && o != owners[0] {
				return fmt.Errorf("SOA at %s, not at the apex", o.name)
			}
		}
	}
	return nil
}

// ownersFromZone reads a zone back into owners: canonical form, canonical
// order, the RRSIGs of a name as one set, cuts classified.
func ownersFromZone(z *zone.Zone) ([]*owner, error) {
	origin, err := canonicalName(z.Origin)
	if err != nil {
		return nil, err
	}
	originKey, err := sortKey(origin)
	if err != nil {
		return nil, err
	}
	byName := map[string]*owner{}
	var owners []*owner
	for _, rr := range z.Records() {
		c, err := canonicalRR(rr)
		if err != nil {
			return nil, err
		}
		h := c.Header()
		o := byName[h.Name]
		if o == nil {
			key, err := sortKey(h.Name)
			if err != nil {
				return nil, err
			}
			if key != originKey && !isBelow(key, originKey) {
				return nil, fmt.Errorf("%s is outside the zone %s", h.Name, origin)
			}
			o = &owner{name: h.Name, key: key}
			byName[h.Name] = o
			owners = append(owners, o)
		}
		set := o.set(h.Rrtype)
		if set == nil {
			set = &rrset{name: o.name, typ: h.Rrtype}
			o.add(set)
		}
		set.rrs = append(set.rrs, c)
	}
	slices.SortFunc(owners, func(a, b *owner) int { return strings.Compare(a.key, b.key) })
	if len(owners) == 0 || owners[0].key != originKey {
		return nil, fmt.Errorf("zone %s has no records at its apex", origin)
	}
	if err := finishAll(owners); err != nil {
		return nil, err
	}
	classify(owners)
	return owners, nil
}

// maxProblems bounds the problems Verify reports one by one.
const maxProblems = 20

// Verify checks a signed zone as a validator would, in process, at the time
// now: the apex has a DNSKEY RRset; every RRSIG is valid at now and
// verifies with a DNSKEY of the zone; every authoritative RRset (and every
// DS and NSEC RRset at a delegation) is signed with every algorithm of the
// DNSKEY RRset (RFC 4035 §2.2); nothing else (delegation NS, glue) is
// signed; RRsets have one TTL; the NSEC chain covers exactly the
// authoritative names and delegation points in canonical order, closes at
// the apex, and lists the right types; and, if the zone has an apex ZONEMD,
// VerifyZONEMD passes. It returns nil or an error listing the first
// problems found. Use it as a check before publishing a version.
func Verify(z *zone.Zone, now time.Time) error {
	if now.IsZero() {
		return errors.New("verify: zero time")
	}
	owners, err := ownersFromZone(z)
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	var problems []error
	extra := 0
	fail := func(format string, args ...any) {
		if len(problems) < maxProblems {
			problems = append(problems, fmt.Errorf(format, args...))
		} else {
			extra++
		}
	}
	done := func() error {
		if extra > 0 {
			problems = append(problems, fmt.Errorf("and %d more problems", extra))
		}
		if len(problems) == 0 {
			return nil
		}
		return fmt.Errorf("zone %s does not verify: %w", owners[0].name, errors.Join(problems...))
	}

	apex := owners[0]
	keys := map[uint16][]*dns.DNSKEY{}
	algs := map[uint8]bool{}
	if set := apex.set(dns.TypeDNSKEY); set != nil {
		for _, rr := range set.rrs {
			k := rr.(*dns.DNSKEY)
			if k.Protocol == 3 && k.Flags&dns.ZONE != 0 {
				keys[k.KeyTag()] = append(keys[k.KeyTag()], k)
				algs[k.Algorithm] = true
			}
		}
	}
	if len(keys) == 0 {
		fail("%s: no zone DNSKEY at the apex", apex.name)
		return done()
	}

	// Which RRsets must be signed, and the signatures to check.
	type check struct {
		set *rrset
		sig *dns.RRSIG
		ok  bool
	}
	var checks []*check
	mustSign := func(o *owner, t uint16) bool {
		switch o.kind {
		case kindAuth:
			return true
		case kindCut:
			return t == dns.TypeDS || t == dns.TypeNSEC
		}
		return false
	}
	for _, o := range owners {
		for _, set := range o.sets {
			if set.typ != dns.TypeRRSIG && set.ttlMismatch {
				fail("%s %s: the records' TTLs differ", o.name, dns.Type(set.typ))
			}
			if set.typ != dns.TypeRRSIG {
				continue
			}
			for _, rr := range set.rrs {
				sig := rr.(*dns.RRSIG)
				covered := o.set(sig.TypeCovered)
				switch {
				case covered == nil || sig.TypeCovered == dns.TypeRRSIG:
					fail("%s: RRSIG over %s, which is not there", o.name, dns.Type(sig.TypeCovered))
				case !mustSign(o, sig.TypeCovered):
					fail("%s %s: signed, but the zone is not authoritative for it", o.name, dns.Type(sig.TypeCovered))
				case sig.SignerName != apex.name:
					fail("%s %s: RRSIG signer %s is not the zone", o.name, dns.Type(sig.TypeCovered), sig.SignerName)
				case !sig.ValidityPeriod(now):
					fail("%s %s: RRSIG by key %d is not valid at %s (%s to %s)", o.name, dns.Type(sig.TypeCovered), sig.KeyTag,
						now.UTC().Format(time.RFC3339), dns.TimeToString(sig.Inception), dns.TimeToString(sig.Expiration))
				default:
					checks = append(checks, &check{set: covered, sig: sig})
				}
			}
		}
	}
	parallel(len(checks), func(i int) {
		c := checks[i]
		for _, k := range keys[c.sig.KeyTag] {
			if c.sig.Verify(k, c.set.rrs) == nil {
				c.ok = true
				return
			}
		}
	})
	signedWith := map[*rrset]map[uint8]bool{}
	for _, c := range checks {
		if !c.ok {
			fail("%s %s: RRSIG by key %d does not verify", c.set.name, dns.Type(c.set.typ), c.sig.KeyTag)
			continue
		}
		if signedWith[c.set] == nil {
			signedWith[c.set] = map[uint8]bool{}
		}
		signedWith[c.set][c.sig.Algorithm] = true
	}
	for _, o := range owners {
		for _, set := range o.sets {
			if set.typ == dns.TypeRRSIG || !mustSign(o, set.typ) {
				continue
			}
			for alg := range algs {
				if !signedWith[set][alg] {
					fail("%s %s: no valid signature with algorithm %s", o.name, dns.Type(set.typ), dns.AlgorithmToString[alg])
				}
			}
		}
	}
	checkNSEC(owners, fail)
	if apex.set(dns.TypeZONEMD) != nil {
		if err := VerifyZONEMD(z); err != nil {
			fail("%s: %v", apex.name, err)
		}
	}
	return done()
}

// sigLen returns the length of the signatures a public key's private half
// makes in DNSSEC's encoding.
func sigLen(pub crypto.PublicKey) int {
	switch p := pub.(type) {
	case *ecdsa.PublicKey:
		return 2 * ((p.Curve.Params().BitSize + 7) / 8)
	case *rsa.PublicKey:
		return p.Size()
	case ed25519.PublicKey:
		return ed25519.SignatureSize
	}
	return 512
}
