package dnssec

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// RolloverPolicy sets the lifetimes of a zone's keys and the delays their
// rollovers must respect. Every duration is in wall-clock time; TTLs are
// durations too (172800 s is 48*time.Hour). Start from
// DefaultRolloverPolicy; Validate says what is wrong with a policy.
//
// # Timing
//
// The names in brackets are RFC 7583's. The publication and retire safety
// margins are added to its intervals as BIND's dnssec-policy adds its
// publish-safety and retire-safety.
//
// ZSK rollover by pre-publication (RFC 6781 §4.1.1.1; RFC 7583 §3.2.1 and
// its Figure 1). Key N became active at Tact(N):
//
//	Ipub      = Dprp + TTLkey + PublishSafety
//	Tpub(N+1) = Tact(N) + Lzsk - Ipub          successor published
//	Tact(N+1) = max(Tact(N) + Lzsk, Tpub(N+1) + Ipub)
//	Tret(N)   = Tact(N+1)                      old key stops signing
//	Iret      = Dsgn + Dprp + TTLsig + RetireSafety
//	Trem(N)   = Tret(N) + Iret                 old DNSKEY removed
//
// so every validator holding a DNSKEY RRset has the new ZSK before any
// signature by it is served, and the old ZSK stays published until every
// signature it made has expired from caches.
//
// KSK rollover by double-DS (RFC 6781 §4.1.2; RFC 7583 §3.3.2):
//
//	IpubP     = Dreg + DprpP + TTLds + PublishSafety
//	Tsbm(N+1) = Tact(N) + Lksk - IpubP         successor DS submitted
//	Tact(N+1) = max(Tact(N) + Lksk, Tsbm(N+1) + IpubP)
//	          = Tpub(N+1) = Tret(N) = Trem(N)  DNSKEY RRset switches keys
//	IretC     = Dprp + TTLkey + RetireSafety
//	Tdsw(N)   = Trem(N) + IretC                old DS withdrawn
//
// so every cached DS RRset holds the new DS before the new KSK signs, and
// the old DS stays until no cached DNSKEY RRset holds the old KSK. For a
// root zone the parent is the trust anchor publication (root-anchors.xml,
// see TrustAnchorXML): "submitting the DS" publishes the new trust anchor,
// ParentPropagationDelay is the time operators are given to install it,
// and withdrawing the DS sets its validUntil. Double-DS never shows the new
// KSK in the DNSKEY RRset before it signs, so validators that follow RFC
// 5011 do not learn it automatically: they must take the published trust
// anchor.
type RolloverPolicy struct {
	// Algorithm is the algorithm of a zone's first keys (13, 15 or 8).
	// New keys take the algorithm of the zone's keys, and all the keys in
	// use must share one: algorithm rollovers (RFC 6781 §4.1.4) are not
	// done by a Schedule.
	Algorithm uint8
	// ZSKLifetime is how long a ZSK signs (Lzsk).
	ZSKLifetime time.Duration
	// KSKLifetime is how long a KSK signs (Lksk).
	KSKLifetime time.Duration
	// DNSKEYTTL is the TTL of the DNSKEY RRset (TTLkey).
	DNSKEYTTL time.Duration
	// DSTTL is the TTL of the DS RRset at the parent (TTLds).
	DSTTL time.Duration
	// MaxZoneTTL is the largest TTL of any signed RRset in the zone
	// (TTLsig): how long a signature may stay in a cache.
	MaxZoneTTL time.Duration
	// PropagationDelay is how long a new zone version takes to reach every
	// authoritative server (Dprp). A secondary that cannot reach the
	// primary may serve an old version until the SOA expire: set it that
	// long to survive that.
	PropagationDelay time.Duration
	// ParentPropagationDelay is how long from submitting a DS until every
	// server of the parent publishes it (Dreg + DprpP). For a root zone:
	// how long from publishing a trust anchor until validators may be
	// expected to have installed it.
	ParentPropagationDelay time.Duration
	// SignDelay is how long the signer takes to re-sign the whole zone
	// with a new ZSK (Dsgn); 0 when it re-signs everything at once.
	SignDelay time.Duration
	// PublishSafety and RetireSafety are margins added to the publication
	// and retire intervals, for clock skew and slow caches.
	PublishSafety time.Duration
	RetireSafety  time.Duration
	// SignatureValidity is the validity period of a signature, from its
	// inception; SignatureRefresh is how long before its expiration it is
	// replaced. They are for the signer; the rollover timing does not
	// depend on them.
	SignatureValidity time.Duration
	SignatureRefresh  time.Duration
}

// DefaultRolloverPolicy returns the policy for a root-like zone: ECDSA
// P-256; ZSKs for 90 days and KSKs for two years; the root zone's TTLs
// (DNSKEY 2 days, DS 1 day, apex NS 6 days, the largest); one hour to
// reach every server; 30 days for validators to take a new trust anchor
// (RFC 5011's add hold-down); one-hour safety margins; signatures valid 14
// days and refreshed 7 days before they expire.
func DefaultRolloverPolicy() RolloverPolicy {
	const day = 24 * time.Hour
	return RolloverPolicy{
		Algorithm:              dns.ECDSAP256SHA256,
		ZSKLifetime:            90 * day,
		KSKLifetime:            730 * day,
		DNSKEYTTL:              172800 * time.Second,
		DSTTL:                  86400 * time.Second,
		MaxZoneTTL:             518400 * time.Second,
		PropagationDelay:       time.Hour,
		ParentPropagationDelay: 30 * day,
		SignDelay:              0,
		PublishSafety:          time.Hour,
		RetireSafety:           time.Hour,
		SignatureValidity:      14 * day,
		SignatureRefresh:       7 * day,
	}
}

// ZSKPublishInterval returns Ipub: how long a new ZSK is published before
// it signs.
func (p RolloverPolicy) ZSKPublishInterval() time.Duration {
	return p.PropagationDelay + p.DNSKEYTTL + p.PublishSafety
}

// ZSKRetireInterval returns Iret: how long a retired ZSK stays published.
func (p RolloverPolicy) ZSKRetireInterval() time.Duration {
	return p.SignDelay + p.PropagationDelay + p.MaxZoneTTL + p.RetireSafety
}

// DSPublishInterval returns IpubP: how long a new KSK's DS is at the parent
// (or its trust anchor published) before the KSK signs.
func (p RolloverPolicy) DSPublishInterval() time.Duration {
	return p.ParentPropagationDelay + p.DSTTL + p.PublishSafety
}

// KSKRetireInterval returns IretC: how long after a KSK leaves the DNSKEY
// RRset its DS is withdrawn.
func (p RolloverPolicy) KSKRetireInterval() time.Duration {
	return p.PropagationDelay + p.DNSKEYTTL + p.RetireSafety
}

// Validate reports the first thing wrong with the policy.
func (p RolloverPolicy) Validate() error {
	switch p.Algorithm {
	case dns.ECDSAP256SHA256, dns.ED25519, dns.RSASHA256:
	default:
		return fmt.Errorf("dnssec: policy: algorithm %d is not supported: use 13, 15 or 8", p.Algorithm)
	}
	type d struct {
		name string
		v    time.Duration
	}
	for _, x := range []d{{"ZSK lifetime", p.ZSKLifetime}, {"KSK lifetime", p.KSKLifetime}, {"DNSKEY TTL", p.DNSKEYTTL},
		{"DS TTL", p.DSTTL}, {"maximum zone TTL", p.MaxZoneTTL}, {"signature validity", p.SignatureValidity}, {"signature refresh", p.SignatureRefresh}} {
		if x.v <= 0 {
			return fmt.Errorf("dnssec: policy: %s must be positive", x.name)
		}
	}
	for _, x := range []d{{"propagation delay", p.PropagationDelay}, {"parent propagation delay", p.ParentPropagationDelay},
		{"sign delay", p.SignDelay}, {"publish safety", p.PublishSafety}, {"retire safety", p.RetireSafety}} {
		if x.v < 0 {
			return fmt.Errorf("dnssec: policy: %s must not be negative", x.name)
		}
	}
	for _, x := range []d{{"DNSKEY TTL", p.DNSKEYTTL}, {"DS TTL", p.DSTTL}, {"maximum zone TTL", p.MaxZoneTTL}} {
		if x.v%time.Second != 0 || x.v > (1<<31-1)*time.Second {
			return fmt.Errorf("dnssec: policy: %s must be a whole number of seconds below 2^31", x.name)
		}
	}
	if p.DNSKEYTTL > p.MaxZoneTTL {
		return errors.New("dnssec: policy: the DNSKEY TTL is larger than the maximum zone TTL")
	}
	if p.ZSKLifetime <= p.ZSKPublishInterval() || p.ZSKLifetime <= p.ZSKRetireInterval() {
		return fmt.Errorf("dnssec: policy: the ZSK lifetime %s must be longer than its publication interval %s and its retire interval %s",
			p.ZSKLifetime, p.ZSKPublishInterval(), p.ZSKRetireInterval())
	}
	if p.KSKLifetime <= p.DSPublishInterval() || p.KSKLifetime <= p.KSKRetireInterval() {
		return fmt.Errorf("dnssec: policy: the KSK lifetime %s must be longer than its DS publication interval %s and its retire interval %s",
			p.KSKLifetime, p.DSPublishInterval(), p.KSKRetireInterval())
	}
	if p.SignatureRefresh >= p.SignatureValidity {
		return errors.New("dnssec: policy: the signature refresh must be shorter than the signature validity")
	}
	if p.SignatureRefresh <= p.PropagationDelay+p.MaxZoneTTL {
		return fmt.Errorf("dnssec: policy: the signature refresh %s must be longer than the propagation delay plus the maximum zone TTL (%s), so every signature outlives the cached copies of its RRset",
			p.SignatureRefresh, p.PropagationDelay+p.MaxZoneTTL)
	}
	return nil
}

// ActionKind names a step of a rollover.
type ActionKind string

// The kinds of action Step reports.
const (
	// Generate asks the caller for a new key of the Action's Role and
	// Algorithm: generate it (KeyStore.Generate), Add it to the schedule
	// and call Step again. It is the only action Step cannot take itself.
	Generate ActionKind = "generate"
	// Publish: the key's DNSKEY has entered the DNSKEY RRset.
	Publish ActionKind = "publish"
	// Activate: the key now signs.
	Activate ActionKind = "activate"
	// Retire: the key no longer signs.
	Retire ActionKind = "retire"
	// Remove: the key's DNSKEY has left the DNSKEY RRset.
	Remove ActionKind = "remove"
	// SubmitDS: the KSK's DS must now be at the parent (for a root zone:
	// its trust anchor published).
	SubmitDS ActionKind = "submit-ds"
	// WithdrawDS: the KSK's DS must now leave the parent (for a root zone:
	// its trust anchor gets a validUntil).
	WithdrawDS ActionKind = "withdraw-ds"
)

// Action is one step of a rollover, done by Step at a time now (and
// recorded in the key's Timing) or, for Generate, asked of the caller.
type Action struct {
	Kind      ActionKind
	Role      Role
	Algorithm uint8       // the algorithm of the key (to generate)
	Key       *ManagedKey // nil for Generate
}

func (a Action) String() string {
	if a.Key == nil {
		return fmt.Sprintf("%s %s (alg %d)", a.Kind, a.Role, a.Algorithm)
	}
	return fmt.Sprintf("%s %s", a.Kind, a.Key)
}

// Actions is what one Step did or asks for, in order.
type Actions []Action

// ZoneChanged reports whether the DNSKEY RRset or the signing keys changed:
// the zone must be re-signed with Schedule.SigningKeys.
func (as Actions) ZoneChanged() bool {
	for _, a := range as {
		switch a.Kind {
		case Publish, Activate, Retire, Remove:
			return true
		}
	}
	return false
}

// DSChanged reports whether the DS RRset the parent must publish changed:
// publish Schedule.DSKeys (for a root zone, Schedule.TrustAnchor).
func (as Actions) DSChanged() bool {
	for _, a := range as {
		if a.Kind == SubmitDS || a.Kind == WithdrawDS {
			return true
		}
	}
	return false
}

// Schedule drives the key rollovers of one zone: a pure state machine over
// its keys' Timings and a RolloverPolicy (see RolloverPolicy for the
// timing). Step moves it to a time; SigningKeys says which keys sign then.
// It never reads a clock, generates keys or does I/O: Run does the rest
// through Hooks. A Schedule is not safe for concurrent use.
type Schedule struct {
	origin string
	policy RolloverPolicy
	keys   []*ManagedKey
}

// NewSchedule returns the schedule of the zone origin with its keys (all
// of them: removed ones are kept for the trust anchor history). The
// policy must be valid and every key must belong to origin.
func NewSchedule(origin string, policy RolloverPolicy, keys []*ManagedKey) (*Schedule, error) {
	o, err := keyOrigin(origin)
	if err != nil {
		return nil, err
	}
	if err := policy.Validate(); err != nil {
		return nil, err
	}
	s := &Schedule{origin: o, policy: policy}
	for _, k := range keys {
		if err := s.Add(k); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Origin returns the zone's name.
func (s *Schedule) Origin() string { return s.origin }

// Policy returns the schedule's policy.
func (s *Schedule) Policy() RolloverPolicy { return s.policy }

// Keys returns every key of the zone, in order of creation. The slice is
// a copy; the keys are shared.
func (s *Schedule) Keys() []*ManagedKey { return append([]*ManagedKey(nil), s.keys...) }

// Add adds a key: a newly generated successor (with only Created set),
// or an existing key. It refuses a key of another zone, an unsupported or
// inconsistent one, and one whose tag and algorithm are already taken.
func (s *Schedule) Add(k *ManagedKey) error {
	if k == nil || k.Key == nil || k.DNSKEY == nil {
		return errors.New("dnssec: schedule: incomplete key")
	}
	if !strings.EqualFold(k.Origin(), s.origin) {
		return fmt.Errorf("dnssec: schedule %s: key %s belongs to %s", s.origin, k, k.Origin())
	}
	if err := k.check(); err != nil {
		return fmt.Errorf("dnssec: schedule %s: key %d: %w", s.origin, k.Tag(), err)
	}
	for _, o := range s.keys {
		if o == k || (o.Tag() == k.Tag() && o.Algorithm() == k.Algorithm()) {
			return fmt.Errorf("dnssec: schedule %s: key %s is already in the schedule", s.origin, k)
		}
	}
	s.keys = append(s.keys, k)
	sortManagedKeys(s.keys)
	return nil
}

// keyLive reports whether a key is still in the zone or, for a KSK, at the
// parent: not yet done with.
func keyLive(k *ManagedKey) bool {
	if k.Removed.IsZero() {
		return true
	}
	return k.Role() == KSK && !k.DSSubmitted.IsZero() && k.DSWithdrawn.IsZero()
}

// rollEvent is a transition that becomes due at a time (a zero time: at once).
type rollEvent struct {
	at   time.Time
	role Role
	gen  bool // a Generate request
	do   func(now time.Time) Actions
}

// events returns the transitions the keys' state calls for next, each with
// the time it is due.
func (s *Schedule) events() ([]rollEvent, error) {
	var first *ManagedKey
	for _, k := range s.keys {
		if !keyLive(k) {
			continue
		}
		if first == nil {
			first = k
		} else if k.Algorithm() != first.Algorithm() {
			return nil, fmt.Errorf("%s has algorithm %d but %s has %d: algorithm rollovers are not supported", k, k.Algorithm(), first, first.Algorithm())
		}
	}
	var evs []rollEvent
	for _, role := range []Role{KSK, ZSK} {
		var keys []*ManagedKey
		for _, k := range s.keys {
			if k.Role() == role && keyLive(k) {
				keys = append(keys, k)
			}
		}
		var e []rollEvent
		var err error
		if role == KSK {
			e, err = s.kskEvents(keys)
		} else {
			e, err = s.zskEvents(keys)
		}
		if err != nil {
			return nil, err
		}
		evs = append(evs, e...)
	}
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].at.Before(evs[j].at) })
	return evs, nil
}

// classifyKeys splits a role's live keys into the current (signing) key, the
// successor under way and the keys generated but not yet used.
func classifyKeys(keys []*ManagedKey, started func(*ManagedKey) bool) (cur, next *ManagedKey, waiting []*ManagedKey, err error) {
	for _, k := range keys {
		switch {
		case !k.Active.IsZero() && k.Retired.IsZero():
			if cur != nil {
				return nil, nil, nil, fmt.Errorf("two %ss sign at once (%d and %d): the schedule cannot tell which one to roll", k.Role(), cur.Tag(), k.Tag())
			}
			cur = k
		case k.Active.IsZero() && started(k):
			if next != nil {
				return nil, nil, nil, fmt.Errorf("two %s successors under way (%d and %d)", k.Role(), next.Tag(), k.Tag())
			}
			next = k
		case k.Active.IsZero():
			waiting = append(waiting, k)
		}
	}
	return cur, next, waiting, nil
}

func rollAction(kind ActionKind, k *ManagedKey) Action {
	return Action{Kind: kind, Role: k.Role(), Algorithm: k.Algorithm(), Key: k}
}

func laterTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// zskEvents: pre-publication, RFC 7583 §3.2.1.
func (s *Schedule) zskEvents(keys []*ManagedKey) ([]rollEvent, error) {
	p := s.policy
	var evs []rollEvent
	for _, k := range keys {
		if !k.Retired.IsZero() {
			evs = append(evs, rollEvent{at: k.Retired.Add(p.ZSKRetireInterval()), role: ZSK, do: func(now time.Time) Actions {
				k.Removed = now
				return Actions{rollAction(Remove, k)}
			}})
		}
	}
	cur, next, waiting, err := classifyKeys(keys, func(k *ManagedKey) bool { return !k.Published.IsZero() })
	if err != nil {
		return nil, err
	}
	if cur == nil {
		// No ZSK signs: the zone's first ZSK, or one lost. Sign at once.
		k := next
		if k == nil && len(waiting) > 0 {
			k = waiting[0]
		}
		if k == nil {
			return append(evs, rollEvent{role: ZSK, gen: true, do: func(time.Time) Actions {
				return Actions{{Kind: Generate, Role: ZSK, Algorithm: s.algorithm()}}
			}}), nil
		}
		return append(evs, rollEvent{role: ZSK, do: func(now time.Time) Actions {
			var as Actions
			if k.Published.IsZero() {
				k.Published = now
				as = append(as, rollAction(Publish, k))
			}
			k.Active = now
			return append(as, rollAction(Activate, k))
		}}), nil
	}
	end := cur.Active.Add(p.ZSKLifetime)
	if next == nil {
		at := end.Add(-p.ZSKPublishInterval())
		if len(waiting) == 0 {
			return append(evs, rollEvent{at: at, role: ZSK, gen: true, do: func(time.Time) Actions {
				return Actions{{Kind: Generate, Role: ZSK, Algorithm: cur.Algorithm()}}
			}}), nil
		}
		k := waiting[0]
		return append(evs, rollEvent{at: at, role: ZSK, do: func(now time.Time) Actions {
			k.Published = now
			return Actions{rollAction(Publish, k)}
		}}), nil
	}
	at := laterTime(end, next.Published.Add(p.ZSKPublishInterval()))
	return append(evs, rollEvent{at: at, role: ZSK, do: func(now time.Time) Actions {
		next.Active = now
		cur.Retired = now
		return Actions{rollAction(Activate, next), rollAction(Retire, cur)}
	}}), nil
}

// kskEvents: double-DS, RFC 7583 §3.3.2.
func (s *Schedule) kskEvents(keys []*ManagedKey) ([]rollEvent, error) {
	p := s.policy
	var evs []rollEvent
	for _, k := range keys {
		if !k.Published.IsZero() && k.Active.IsZero() {
			return nil, fmt.Errorf("KSK %d is published but does not sign: not a double-DS state", k.Tag())
		}
		if !k.Removed.IsZero() && k.DSWithdrawn.IsZero() {
			evs = append(evs, rollEvent{at: k.Removed.Add(p.KSKRetireInterval()), role: KSK, do: func(now time.Time) Actions {
				k.DSWithdrawn = now
				return Actions{rollAction(WithdrawDS, k)}
			}})
		}
	}
	var inZone []*ManagedKey
	for _, k := range keys {
		if k.Removed.IsZero() {
			inZone = append(inZone, k)
		}
	}
	cur, next, waiting, err := classifyKeys(inZone, func(k *ManagedKey) bool { return !k.DSSubmitted.IsZero() })
	if err != nil {
		return nil, err
	}
	if cur != nil && cur.DSSubmitted.IsZero() {
		// A signing KSK whose DS was never submitted (an imported key).
		return append(evs, rollEvent{role: KSK, do: func(now time.Time) Actions {
			cur.DSSubmitted = now
			return Actions{rollAction(SubmitDS, cur)}
		}}), nil
	}
	if cur == nil {
		// No KSK signs: the zone's first KSK. Submit its DS and sign at once.
		k := next
		if k == nil && len(waiting) > 0 {
			k = waiting[0]
		}
		if k == nil {
			return append(evs, rollEvent{role: KSK, gen: true, do: func(time.Time) Actions {
				return Actions{{Kind: Generate, Role: KSK, Algorithm: s.algorithm()}}
			}}), nil
		}
		return append(evs, rollEvent{role: KSK, do: func(now time.Time) Actions {
			var as Actions
			if k.DSSubmitted.IsZero() {
				k.DSSubmitted = now
				as = append(as, rollAction(SubmitDS, k))
			}
			k.Published, k.Active = now, now
			return append(as, rollAction(Publish, k), rollAction(Activate, k))
		}}), nil
	}
	end := cur.Active.Add(p.KSKLifetime)
	if next == nil {
		at := end.Add(-p.DSPublishInterval())
		if len(waiting) == 0 {
			return append(evs, rollEvent{at: at, role: KSK, gen: true, do: func(time.Time) Actions {
				return Actions{{Kind: Generate, Role: KSK, Algorithm: cur.Algorithm()}}
			}}), nil
		}
		k := waiting[0]
		return append(evs, rollEvent{at: at, role: KSK, do: func(now time.Time) Actions {
			k.DSSubmitted = now
			return Actions{rollAction(SubmitDS, k)}
		}}), nil
	}
	at := laterTime(end, next.DSSubmitted.Add(p.DSPublishInterval()))
	return append(evs, rollEvent{at: at, role: KSK, do: func(now time.Time) Actions {
		next.Published, next.Active = now, now
		cur.Retired, cur.Removed = now, now
		return Actions{rollAction(Publish, next), rollAction(Activate, next), rollAction(Retire, cur), rollAction(Remove, cur)}
	}}), nil
}

// algorithm returns the algorithm of new keys: that of the zone's keys,
// or the policy's for a zone without keys.
func (s *Schedule) algorithm() uint8 {
	for _, k := range s.keys {
		if keyLive(k) {
			return k.Algorithm()
		}
	}
	return s.policy.Algorithm
}

// latest returns the time of the latest event recorded in any key.
func (s *Schedule) latest() time.Time {
	var l time.Time
	for _, k := range s.keys {
		l = laterTime(l, k.latest())
	}
	return l
}

// Step moves the schedule to now: it makes every transition that is due
// by now, in order, recording now in the keys' Timings, and returns what
// it did. When a successor key is needed it returns a Generate action and
// goes no further for that role: generate the key, Add it, and Step again
// at the same now (Run does this). Step is deterministic: the same keys,
// policy and now give the same actions.
//
// Step fails, changing nothing, if now is before an event already recorded
// (the clock went back) or the keys are in a state the schedule cannot
// continue from (two signing keys of a role, a published but inactive KSK,
// a successor of another algorithm).
func (s *Schedule) Step(now time.Time) (Actions, error) {
	now = now.UTC()
	if l := s.latest(); now.Before(l) {
		return nil, fmt.Errorf("dnssec: schedule %s: now (%s) is before the last recorded key event (%s)", s.origin, now.Format(time.RFC3339), l.Format(time.RFC3339))
	}
	before := make([]Timing, len(s.keys))
	for i, k := range s.keys {
		before[i] = k.Timing
	}
	fail := func(err error) (Actions, error) {
		for i, k := range s.keys {
			k.Timing = before[i]
		}
		return nil, fmt.Errorf("dnssec: schedule %s: %w", s.origin, err)
	}
	var out Actions
	asked := map[Role]bool{}
	for range 1000 {
		evs, err := s.events()
		if err != nil {
			return fail(err)
		}
		fired := false
		for _, e := range evs {
			if e.at.After(now) || (e.gen && asked[e.role]) {
				continue
			}
			if e.gen {
				asked[e.role] = true
			}
			out = append(out, e.do(now)...)
			fired = true
			break
		}
		if !fired {
			return out, nil
		}
	}
	return fail(fmt.Errorf("no fixed point at %s", now.Format(time.RFC3339)))
}

// Next returns when Step next has something to do: the time of the next
// transition, or now if one is due (or a Generate request is outstanding).
func (s *Schedule) Next(now time.Time) (time.Time, error) {
	evs, err := s.events()
	if err != nil {
		return time.Time{}, fmt.Errorf("dnssec: schedule %s: %w", s.origin, err)
	}
	now = now.UTC()
	if len(evs) == 0 {
		return time.Time{}, nil
	}
	return laterTime(evs[0].at, now), nil
}

// in reports whether the interval [from, to) holds t; a zero to is open.
func withinPeriod(t, from, to time.Time) bool {
	return !from.IsZero() && !t.Before(from) && (to.IsZero() || t.Before(to))
}

// SigningKeys says how the zone is signed at now (after Step(now)): the
// KSKs that sign the DNSKEY RRset, the ZSKs that sign every other RRset,
// and the DNSKEY records that are in the DNSKEY RRset without signing (a
// pre-published or a retired ZSK), with the policy's DNSKEY TTL. Each
// list is ordered by key tag. These are the fields of the signer's
// SigningKeys; ZoneKeys returns them in one.
func (s *Schedule) SigningKeys(now time.Time) (ksks, zsks []*Key, published []*dns.DNSKEY) {
	now = now.UTC()
	ordered := append([]*ManagedKey(nil), s.keys...)
	sort.SliceStable(ordered, func(i, j int) bool { return ordered[i].Tag() < ordered[j].Tag() })
	for _, k := range ordered {
		switch {
		case withinPeriod(now, k.Active, k.Retired) && k.Role() == KSK:
			ksks = append(ksks, k.Key)
		case withinPeriod(now, k.Active, k.Retired):
			zsks = append(zsks, k.Key)
		case withinPeriod(now, k.Published, k.Removed):
			rr := dns.Copy(k.DNSKEY).(*dns.DNSKEY)
			rr.Hdr.Ttl = uint32(s.policy.DNSKEYTTL / time.Second)
			published = append(published, rr)
		}
	}
	return ksks, zsks, published
}

// ZoneKeys returns SigningKeys(now) as the signer takes them.
func (s *Schedule) ZoneKeys(now time.Time) SigningKeys {
	ksks, zsks, published := s.SigningKeys(now)
	return SigningKeys{KSKs: ksks, ZSKs: zsks, Published: published}
}

// DSKeys returns the KSKs whose DS the parent must publish at now (whose
// trust anchor is valid, for a root zone): submitted and not withdrawn.
func (s *Schedule) DSKeys(now time.Time) []*Key {
	var out []*Key
	for _, k := range s.keys {
		if k.Role() == KSK && withinPeriod(now, k.DSSubmitted, k.DSWithdrawn) {
			out = append(out, k.Key)
		}
	}
	return out
}

// TrustAnchor returns the zone's trust anchor document: every KSK whose DS
// was ever submitted, valid from its submission until its withdrawal (as
// IANA keeps KSK-2010 in root-anchors.xml with a validUntil).
func (s *Schedule) TrustAnchor() (*TrustAnchor, error) {
	var ksks []*Key
	from, until := map[uint16]time.Time{}, map[uint16]time.Time{}
	for _, k := range s.keys {
		if k.Role() != KSK || k.DSSubmitted.IsZero() {
			continue
		}
		ksks = append(ksks, k.Key)
		from[k.Tag()] = k.DSSubmitted
		if !k.DSWithdrawn.IsZero() {
			until[k.Tag()] = k.DSWithdrawn
		}
	}
	return NewTrustAnchor(s.origin, ksks, from, until)
}

// Hooks connect a Schedule to the world for Run. A nil hook is skipped.
type Hooks struct {
	// Generate makes, stores and returns a new key created at now
	// (KeyStore.Generate fits).
	Generate func(origin string, alg uint8, role Role, now time.Time) (*ManagedKey, error)
	// PublishDS publishes the zone's DS RRset (Schedule.DSKeys) at the
	// parent when it changes. For a root zone this is the hook that
	// publishes the trust anchor (Schedule.TrustAnchor, DSRecords). It is
	// called before the new state is saved: a failure undoes the step.
	PublishDS func(s *Schedule, now time.Time) error
	// Save persists a key whose Timing changed (KeyStore.Put fits).
	Save func(*ManagedKey) error
}

// Run steps the schedule to now, generating the keys it asks for, then
// publishes a changed DS RRset and saves the changed keys, in that order,
// so a DS is never recorded as submitted unless it was. On any error the
// keys' Timings are restored as they were (generated keys stay, unused)
// and the error is returned.
func (s *Schedule) Run(now time.Time, h Hooks) (Actions, error) {
	before := map[*ManagedKey]Timing{}
	for _, k := range s.keys {
		before[k] = k.Timing
	}
	undo := func() {
		for _, k := range s.keys {
			if t, ok := before[k]; ok {
				k.Timing = t
			}
		}
	}
	var all Actions
	for range 4 {
		acts, err := s.Step(now)
		all = append(all, acts...)
		if err != nil {
			undo()
			return all, err
		}
		generated := false
		for _, a := range acts {
			if a.Kind != Generate || h.Generate == nil {
				continue
			}
			k, err := h.Generate(s.origin, a.Algorithm, a.Role, now)
			if err != nil {
				undo()
				return all, fmt.Errorf("dnssec: schedule %s: generating a %s: %w", s.origin, a.Role, err)
			}
			if err := s.Add(k); err != nil {
				undo()
				return all, err
			}
			before[k] = k.Timing
			generated = true
		}
		if !generated {
			break
		}
	}
	if all.DSChanged() && h.PublishDS != nil {
		if err := h.PublishDS(s, now); err != nil {
			undo()
			return all, fmt.Errorf("dnssec: schedule %s: publishing the DS RRset: %w", s.origin, err)
		}
	}
	if h.Save != nil {
		for _, k := range s.keys {
			if !k.Timing.equal(before[k]) {
				if err := h.Save(k); err != nil {
					undo()
					return all, fmt.Errorf("dnssec: schedule %s: saving key %d: %w", s.origin, k.Tag(), err)
				}
			}
		}
	}
	return all, nil
}
