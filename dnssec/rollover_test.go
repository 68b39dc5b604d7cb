package dnssec

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"

	"steward"
)

const rollDay = 24 * time.Hour

// rollT0 is when the rollover tests' zone is first signed.
var rollT0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func rollTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// rollState is the zone at one instant, keys named by role and order of
// creation (KSK1, ZSK2, …).
type rollState struct {
	KSKs      string // sign the DNSKEY RRset
	ZSKs      string // sign everything else
	Published string // in the DNSKEY RRset without signing
	DS        string // at the parent (trust anchor published)
}

// rollStep is what one step did and the state after it.
type rollStep struct {
	At      string
	Actions string
	State   rollState
}

// rollVersion is a version of the zone and of the parent's DS RRset, in
// force from From until the next version's From.
type rollVersion struct {
	From                time.Time
	DNSKEYs, KSKs, ZSKs map[string]bool
	DS                  map[string]bool
}

// rollHarness drives a Schedule with a fake clock, naming keys and
// recording every step and every version of the zone.
type rollHarness struct {
	t        *testing.T
	clock    *steward.FakeClock
	s        *Schedule
	names    map[*ManagedKey]string
	counts   map[Role]int
	steps    []rollStep
	versions []rollVersion
	// lateBy, if set, delays each step past its due time (a signer that
	// wakes up late must stay safe).
	lateBy func(i int) time.Duration
	// onStep, if set, is called after every step.
	onStep func(now time.Time)
}

func newRollHarness(t *testing.T, p RolloverPolicy) *rollHarness {
	t.Helper()
	s, err := NewSchedule(".", p, nil)
	if err != nil {
		t.Fatal(err)
	}
	return &rollHarness{t: t, clock: steward.NewFakeClock(rollT0), s: s, names: map[*ManagedKey]string{}, counts: map[Role]int{}}
}

func (h *rollHarness) generate(origin string, alg uint8, role Role, now time.Time) (*ManagedKey, error) {
	// Draw again on a key tag already used, as KeyStore.Generate does.
	var k *Key
	for k == nil {
		var err error
		if k, err = GenerateKey(origin, alg, role == KSK); err != nil {
			return nil, err
		}
		for m := range h.names {
			if m.Tag() == k.Tag() {
				k = nil
				break
			}
		}
	}
	m := &ManagedKey{Key: k, Timing: Timing{Created: now}}
	h.counts[role]++
	h.names[m] = fmt.Sprintf("%s%d", role, h.counts[role])
	return m, nil
}

func (h *rollHarness) name(k *Key) string {
	for m, n := range h.names {
		if m.Key == k {
			return n
		}
	}
	return fmt.Sprintf("?%d", k.Tag())
}

func (h *rollHarness) nameKey(rr *dns.DNSKEY) string {
	for m, n := range h.names {
		if m.DNSKEY.PublicKey == rr.PublicKey {
			return n
		}
	}
	return fmt.Sprintf("?%d", rr.KeyTag())
}

// state returns the zone's state at now, as names and as sets.
func (h *rollHarness) state(now time.Time) (rollState, rollVersion) {
	ksks, zsks, published := h.s.SigningKeys(now)
	v := rollVersion{From: now, DNSKEYs: map[string]bool{}, KSKs: map[string]bool{}, ZSKs: map[string]bool{}, DS: map[string]bool{}}
	var st rollState
	list := func(names []string) string { sort.Strings(names); return strings.Join(names, " ") }
	var ns []string
	for _, k := range ksks {
		ns = append(ns, h.name(k))
		v.KSKs[h.name(k)], v.DNSKEYs[h.name(k)] = true, true
	}
	st.KSKs = list(ns)
	ns = nil
	for _, k := range zsks {
		ns = append(ns, h.name(k))
		v.ZSKs[h.name(k)], v.DNSKEYs[h.name(k)] = true, true
	}
	st.ZSKs = list(ns)
	ns = nil
	for _, rr := range published {
		ns = append(ns, h.nameKey(rr))
		v.DNSKEYs[h.nameKey(rr)] = true
	}
	st.Published = list(ns)
	ns = nil
	for _, k := range h.s.DSKeys(now) {
		ns = append(ns, h.name(k))
		v.DS[h.name(k)] = true
	}
	st.DS = list(ns)
	return st, v
}

// drive steps the schedule from the clock's time to until, each step at
// the time Next gives (or later, with lateBy).
func (h *rollHarness) drive(until time.Time) {
	h.t.Helper()
	for i := 0; ; i++ {
		if i > 10000 {
			h.t.Fatal("the schedule does not settle")
		}
		next, err := h.s.Next(h.clock.Now())
		if err != nil {
			h.t.Fatal(err)
		}
		if h.lateBy != nil {
			next = next.Add(h.lateBy(i))
		}
		if next.After(until) {
			return
		}
		h.clock.Set(next)
		now := h.clock.Now()
		acts, err := h.s.Run(now, Hooks{Generate: h.generate})
		if err != nil {
			h.t.Fatalf("%s: %v", now.Format(time.RFC3339), err)
		}
		if len(acts) == 0 {
			if h.lateBy == nil {
				h.t.Fatalf("%s: Next said a step was due, but Step did nothing", now.Format(time.RFC3339))
			}
			continue
		}
		var what []string
		for _, a := range acts {
			if a.Kind == Generate {
				what = append(what, fmt.Sprintf("%s %s", a.Kind, a.Role))
			} else {
				what = append(what, fmt.Sprintf("%s %s", a.Kind, h.names[a.Key]))
			}
		}
		st, v := h.state(now)
		h.steps = append(h.steps, rollStep{At: now.Format(time.RFC3339), Actions: strings.Join(what, ", "), State: st})
		h.versions = append(h.versions, v)
		if h.onStep != nil {
			h.onStep(now)
		}
	}
}

// checkSafe checks that at no instant a validator, whatever it has
// cached, could fail to validate the zone. A validator at time t may hold
// a DS RRset from any version in force during [t - (Dreg+DprpP) - TTLds, t],
// a DNSKEY RRset (with its RRSIGs) from any version in force during
// [t - Dprp - TTLkey, t], and any other RRset with its RRSIGs from any
// version in force during [t - Dsgn - Dprp - TTLsig, t], in any
// combination. Each combination must validate: some KSK that signs the
// DNSKEY RRset is in it and has its DS in the DS RRset; some ZSK that
// signed the data is in the DNSKEY RRset.
func (h *rollHarness) checkSafe(until time.Time) {
	h.t.Helper()
	for _, p := range h.unsafe(until) {
		h.t.Error(p)
	}
}

// unsafe returns the problems checkSafe reports, at most ten.
func (h *rollHarness) unsafe(until time.Time) []string {
	var problems []string
	report := func(format string, args ...any) {
		if len(problems) < 10 {
			problems = append(problems, fmt.Sprintf(format, args...))
		}
	}
	p := h.s.Policy()
	wDS := p.ParentPropagationDelay + p.DSTTL
	wKey := p.PropagationDelay + p.DNSKEYTTL
	wSig := p.SignDelay + p.PropagationDelay + p.MaxZoneTTL
	vs := h.versions
	// inForce returns the versions in force at some instant of [t-w, t].
	inForce := func(t time.Time, w time.Duration) []rollVersion {
		var out []rollVersion
		for i, v := range vs {
			if v.From.After(t) {
				break
			}
			if i+1 < len(vs) && !vs[i+1].From.After(t.Add(-w)) {
				continue
			}
			out = append(out, v)
		}
		return out
	}
	// The sets change only at a version boundary plus a window.
	var instants []time.Time
	for _, v := range vs {
		for _, w := range []time.Duration{0, wDS, wKey, wSig} {
			for _, d := range []time.Duration{-time.Nanosecond, 0, time.Nanosecond} {
				if at := v.From.Add(w + d); !at.Before(rollT0) && !at.After(until) {
					instants = append(instants, at)
				}
			}
		}
	}
	for _, t := range instants {
		for _, ds := range inForce(t, wDS) {
			for _, key := range inForce(t, wKey) {
				ok := false
				for k := range key.KSKs {
					ok = ok || ds.DS[k] && key.DNSKEYs[k]
				}
				if !ok {
					report("at %s a validator with the DS RRset of %s %v and the DNSKEY RRset of %s (signed by %v) fails",
						t.Format(time.RFC3339Nano), ds.From.Format(time.RFC3339), rollNames(ds.DS), key.From.Format(time.RFC3339), rollNames(key.KSKs))
				}
				for _, data := range inForce(t, wSig) {
					ok := false
					for z := range data.ZSKs {
						ok = ok || key.DNSKEYs[z]
					}
					if !ok {
						report("at %s a validator with the DNSKEY RRset of %s %v and data signed at %s by %v fails",
							t.Format(time.RFC3339Nano), key.From.Format(time.RFC3339), rollNames(key.DNSKEYs), data.From.Format(time.RFC3339), rollNames(data.ZSKs))
					}
				}
			}
		}
	}
	// The intervals themselves, key by key.
	for m, n := range h.names {
		tm := m.Timing
		bootstrap := tm.Published.Equal(rollT0) || tm.DSSubmitted.Equal(rollT0)
		switch m.Role() {
		case ZSK:
			if !tm.Active.IsZero() && !bootstrap && tm.Active.Sub(tm.Published) < p.PropagationDelay+p.DNSKEYTTL {
				report("%s signs %s after it was published: less than Dprp + TTLkey", n, tm.Active.Sub(tm.Published))
			}
			if !tm.Removed.IsZero() && tm.Removed.Sub(tm.Retired) < wSig {
				report("%s removed %s after it stopped signing: its signatures may still be cached", n, tm.Removed.Sub(tm.Retired))
			}
		case KSK:
			if !tm.Active.IsZero() && !bootstrap && tm.Active.Sub(tm.DSSubmitted) < wDS {
				report("%s signs %s after its DS was submitted: less than Dreg + DprpP + TTLds", n, tm.Active.Sub(tm.DSSubmitted))
			}
			if !tm.DSWithdrawn.IsZero() && tm.DSWithdrawn.Sub(tm.Removed) < wKey {
				report("%s's DS withdrawn %s after the key left the zone: DNSKEY RRsets holding it may still be cached", n, tm.DSWithdrawn.Sub(tm.Removed))
			}
		}
	}
	return problems
}

func rollNames(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestCheckSafeDetects makes sure the safety check finds the failures it
// is there to find: a ZSK that signs without pre-publication, a KSK used
// before its DS is everywhere, a DS withdrawn too early.
func TestCheckSafeDetects(t *testing.T) {
	set := func(names ...string) map[string]bool {
		m := map[string]bool{}
		for _, n := range names {
			m[n] = true
		}
		return m
	}
	v := func(at time.Duration, dnskeys, ksks, zsks, ds []string) rollVersion {
		return rollVersion{From: rollT0.Add(at), DNSKEYs: set(dnskeys...), KSKs: set(ksks...), ZSKs: set(zsks...), DS: set(ds...)}
	}
	l := func(s ...string) []string { return s }
	start := v(0, l("K1", "Z1"), l("K1"), l("Z1"), l("K1"))
	for _, tc := range []struct {
		name     string
		versions []rollVersion
		unsafe   bool
	}{
		{"steady", []rollVersion{start}, false},
		{"ZSK swapped at once", []rollVersion{start, v(10*rollDay, l("K1", "Z2"), l("K1"), l("Z2"), l("K1"))}, true},
		{"ZSK pre-published", []rollVersion{start,
			v(10*rollDay, l("K1", "Z1", "Z2"), l("K1"), l("Z1"), l("K1")),
			v(12*rollDay+2*time.Hour, l("K1", "Z1", "Z2"), l("K1"), l("Z2"), l("K1")),
			v(19*rollDay, l("K1", "Z2"), l("K1"), l("Z2"), l("K1"))}, false},
		{"ZSK pre-published too briefly", []rollVersion{start,
			v(10*rollDay, l("K1", "Z1", "Z2"), l("K1"), l("Z1"), l("K1")),
			v(11*rollDay, l("K1", "Z1", "Z2"), l("K1"), l("Z2"), l("K1")),
			v(19*rollDay, l("K1", "Z2"), l("K1"), l("Z2"), l("K1"))}, true},
		{"old ZSK removed too early", []rollVersion{start,
			v(10*rollDay, l("K1", "Z1", "Z2"), l("K1"), l("Z1"), l("K1")),
			v(12*rollDay+2*time.Hour, l("K1", "Z1", "Z2"), l("K1"), l("Z2"), l("K1")),
			v(14*rollDay, l("K1", "Z2"), l("K1"), l("Z2"), l("K1"))}, true},
		{"KSK swapped with its DS", []rollVersion{start, v(10*rollDay, l("K2", "Z1"), l("K2"), l("Z1"), l("K1", "K2"))}, true},
		{"double-DS", []rollVersion{start,
			v(10*rollDay, l("K1", "Z1"), l("K1"), l("Z1"), l("K1", "K2")),
			v(42*rollDay, l("K2", "Z1"), l("K2"), l("Z1"), l("K1", "K2")),
			v(45*rollDay, l("K2", "Z1"), l("K2"), l("Z1"), l("K2"))}, false},
		{"old DS withdrawn too early", []rollVersion{start,
			v(10*rollDay, l("K1", "Z1"), l("K1"), l("Z1"), l("K1", "K2")),
			v(42*rollDay, l("K2", "Z1"), l("K2"), l("Z1"), l("K1", "K2")),
			v(43*rollDay, l("K2", "Z1"), l("K2"), l("Z1"), l("K2"))}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newRollHarness(t, DefaultRolloverPolicy())
			h.versions = tc.versions
			problems := h.unsafe(rollT0.Add(100 * rollDay))
			if tc.unsafe != (len(problems) > 0) {
				t.Errorf("unsafe = %v, want %v: %v", len(problems) > 0, tc.unsafe, problems)
			}
		})
	}
}

const bootstrapActions = "generate KSK, generate ZSK, submit-ds KSK1, publish KSK1, activate KSK1, publish ZSK1, activate ZSK1"

// TestZSKRollover steps a fake clock through a full ZSK rollover by
// pre-publication with the default policy: Ipub = 1h + 48h + 1h = 50h,
// Iret = 0 + 1h + 144h + 1h = 146h, Lzsk = 90 days.
func TestZSKRollover(t *testing.T) {
	h := newRollHarness(t, DefaultRolloverPolicy())
	until := rollTime("2026-06-28T00:00:00Z")
	h.drive(until)
	want := []rollStep{
		{"2026-01-01T00:00:00Z", bootstrapActions, rollState{KSKs: "KSK1", ZSKs: "ZSK1", DS: "KSK1"}},
		// Tact(1) + Lzsk - Ipub = 2026-04-01 - 50h.
		{"2026-03-29T22:00:00Z", "generate ZSK, publish ZSK2", rollState{KSKs: "KSK1", ZSKs: "ZSK1", Published: "ZSK2", DS: "KSK1"}},
		// Tact(1) + Lzsk, which is Tpub(2) + Ipub.
		{"2026-04-01T00:00:00Z", "activate ZSK2, retire ZSK1", rollState{KSKs: "KSK1", ZSKs: "ZSK2", Published: "ZSK1", DS: "KSK1"}},
		// Tret(1) + Iret.
		{"2026-04-07T02:00:00Z", "remove ZSK1", rollState{KSKs: "KSK1", ZSKs: "ZSK2", DS: "KSK1"}},
		// And the next one: Tact(2) + Lzsk - Ipub = 2026-06-30 - 50h.
		{"2026-06-27T22:00:00Z", "generate ZSK, publish ZSK3", rollState{KSKs: "KSK1", ZSKs: "ZSK2", Published: "ZSK3", DS: "KSK1"}},
	}
	if diff := cmp.Diff(want, h.steps); diff != "" {
		t.Errorf("steps (-want +got):\n%s", diff)
	}
	h.checkSafe(until)
}

// TestKSKRollover steps a fake clock through a full KSK rollover by
// double-DS with the default policy (ZSK lifetime lengthened so that no
// ZSK rollover falls in between): IpubP = 30d + 24h + 1h = 31d1h,
// IretC = 1h + 48h + 1h = 50h, Lksk = 730 days.
func TestKSKRollover(t *testing.T) {
	p := DefaultRolloverPolicy()
	p.ZSKLifetime = 3 * 365 * rollDay
	h := newRollHarness(t, p)
	until := rollTime("2028-01-10T00:00:00Z")
	h.drive(until)
	want := []rollStep{
		{"2026-01-01T00:00:00Z", bootstrapActions, rollState{KSKs: "KSK1", ZSKs: "ZSK1", DS: "KSK1"}},
		// Tact(1) + Lksk - IpubP = 2028-01-01 - 31d1h.
		{"2027-11-30T23:00:00Z", "generate KSK, submit-ds KSK2", rollState{KSKs: "KSK1", ZSKs: "ZSK1", DS: "KSK1 KSK2"}},
		// Tact(1) + Lksk, which is Tsbm(2) + IpubP: the DNSKEY RRset
		// switches from KSK1 to KSK2.
		{"2028-01-01T00:00:00Z", "publish KSK2, activate KSK2, retire KSK1, remove KSK1", rollState{KSKs: "KSK2", ZSKs: "ZSK1", DS: "KSK1 KSK2"}},
		// Trem(1) + IretC.
		{"2028-01-03T02:00:00Z", "withdraw-ds KSK1", rollState{KSKs: "KSK2", ZSKs: "ZSK1", DS: "KSK2"}},
	}
	if diff := cmp.Diff(want, h.steps); diff != "" {
		t.Errorf("steps (-want +got):\n%s", diff)
	}
	h.checkSafe(until)

	// The trust anchor history: KSK1 valid until its DS was withdrawn,
	// KSK2 from its submission.
	ta, err := h.s.TrustAnchor()
	if err != nil {
		t.Fatal(err)
	}
	if len(ta.Digests) != 2 {
		t.Fatalf("trust anchor has %d keys", len(ta.Digests))
	}
	var k1, k2 *ManagedKey
	for m, n := range h.names {
		switch n {
		case "KSK1":
			k1 = m
		case "KSK2":
			k2 = m
		}
	}
	d1, d2 := ta.Digests[0], ta.Digests[1]
	if d1.KeyTag != k1.Tag() || !d1.ValidFrom.Equal(rollT0) || !d1.ValidUntil.Equal(rollTime("2028-01-03T02:00:00Z")) {
		t.Errorf("KSK1 anchor = %+v", d1)
	}
	if d2.KeyTag != k2.Tag() || !d2.ValidFrom.Equal(rollTime("2027-11-30T23:00:00Z")) || !d2.ValidUntil.IsZero() {
		t.Errorf("KSK2 anchor = %+v", d2)
	}
	if ds := ta.DS(rollTime("2028-01-02T00:00:00Z")); len(ds) != 2 {
		t.Errorf("anchors valid during the overlap: %v", ds)
	}
	if ds := ta.DS(until); len(ds) != 1 || ds[0].KeyTag != k2.Tag() {
		t.Errorf("anchors valid after the rollover: %v", ds)
	}
}

// TestRolloverSafety runs schedules for over two years, through every ZSK
// and KSK rollover they make (interleaved), on time and with steps taken
// late, and checks that no validator could fail at any instant.
func TestRolloverSafety(t *testing.T) {
	fast := DefaultRolloverPolicy()
	fast.ZSKLifetime = 20 * rollDay
	fast.KSKLifetime = 45 * rollDay
	fast.ParentPropagationDelay = 2 * rollDay
	fast.MaxZoneTTL = 3 * rollDay
	fast.SignatureRefresh = 4 * rollDay
	fast.SignDelay = 3 * time.Hour
	fast.PublishSafety, fast.RetireSafety = 0, 0
	for _, tc := range []struct {
		name   string
		p      RolloverPolicy
		lateBy func(int) time.Duration
	}{
		{"default", DefaultRolloverPolicy(), nil},
		{"fast", fast, nil},
		{"fast, late", fast, func(i int) time.Duration { return time.Duration(i*7919%97) * time.Hour }},
		{"default, late", DefaultRolloverPolicy(), func(i int) time.Duration { return time.Duration(i*104729%300) * time.Hour }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newRollHarness(t, tc.p)
			h.lateBy = tc.lateBy
			until := rollT0.Add(800 * rollDay)
			h.drive(until)
			h.checkSafe(until)
			kskRolls, zskRolls := 0, 0
			for _, s := range h.steps {
				kskRolls += strings.Count(s.Actions, "activate KSK")
				zskRolls += strings.Count(s.Actions, "activate ZSK")
			}
			// At least the first key of each role and one successor.
			if kskRolls < 2 || zskRolls < 8 {
				t.Errorf("%d KSK and %d ZSK activations in 800 days", kskRolls, zskRolls)
			}
			t.Logf("%d steps, %d KSKs and %d ZSKs activated", len(h.steps), kskRolls, zskRolls)
		})
	}
}

// TestRolloverSignedZones signs a small zone with the keys of every step
// of a ZSK and a KSK rollover and has dnssec-verify (BIND) check it. The
// schedule runs on the fake clock; the signatures are made at the wall
// clock's time, since dnssec-verify checks them against its own clock.
func TestRolloverSignedZones(t *testing.T) {
	verifier, err := exec.LookPath("dnssec-verify")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("dnssec-verify is not installed (apt-get install bind9-utils)")
		}
		t.Skip("dnssec-verify is not installed")
	}
	var unsigned []dns.RR
	for _, s := range []string{
		". 86400 IN SOA a.root-servers.test. nstld.example.org. 2026010100 1800 900 604800 86400",
		". 518400 IN NS a.root-servers.test.",
		"test. 172800 IN NS a.root-servers.test.",
		"a.root-servers.test. 172800 IN A 192.0.2.53",
		"example. 172800 IN NS ns1.example.",
		"example. 86400 IN DS 12345 13 2 6C3A1D1B0C1CF1C4F3B8E0A4A9D63E7AB0DFD0F1B4E7A0C6D5B4A3B2C1D0E9F8",
		"ns1.example. 172800 IN A 198.51.100.53",
		"org. 172800 IN NS ns.nic.org.",
		"ns.nic.org. 172800 IN AAAA 2001:db8:53::10",
	} {
		rr, err := dns.NewRR(s)
		if err != nil {
			t.Fatal(err)
		}
		unsigned = append(unsigned, rr)
	}
	wall := time.Now().UTC().Truncate(time.Second)
	p := DefaultRolloverPolicy()
	h := newRollHarness(t, p)
	dir := t.TempDir()
	checked := 0
	h.onStep = func(now time.Time) {
		keys := h.s.ZoneKeys(now)
		z, err := Sign(".", unsigned, keys, DefaultPolicy, wall)
		if err != nil {
			t.Fatalf("%s: signing: %v", now.Format(time.RFC3339), err)
		}
		if err := Verify(z, wall); err != nil {
			t.Errorf("%s: %v", now.Format(time.RFC3339), err)
		}
		var b strings.Builder
		for _, rr := range z.Records() {
			b.WriteString(rr.String())
			b.WriteByte('\n')
		}
		path := filepath.Join(dir, fmt.Sprintf("step%02d.zone", checked))
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(verifier, "-o", ".", path).CombinedOutput()
		if err != nil {
			t.Errorf("%s (%d KSK, %d ZSK, %d published only): dnssec-verify: %v\n%s",
				now.Format(time.RFC3339), len(keys.KSKs), len(keys.ZSKs), len(keys.Published), err, out)
		}
		checked++
	}
	// Through the first ZSK rollover and the first KSK rollover, with the
	// ZSK rollovers in between.
	h.drive(rollTime("2028-01-04T00:00:00Z"))
	if checked < 4 {
		t.Errorf("only %d steps checked", checked)
	}
	t.Logf("dnssec-verify accepted the zone at all %d steps", checked)
}

func TestRolloverPolicyValidate(t *testing.T) {
	if err := DefaultRolloverPolicy().Validate(); err != nil {
		t.Fatalf("the default policy: %v", err)
	}
	for _, tc := range []struct {
		name   string
		change func(*RolloverPolicy)
		want   string
	}{
		{"algorithm", func(p *RolloverPolicy) { p.Algorithm = 5 }, "algorithm 5"},
		{"zero ZSK lifetime", func(p *RolloverPolicy) { p.ZSKLifetime = 0 }, "ZSK lifetime must be positive"},
		{"negative propagation", func(p *RolloverPolicy) { p.PropagationDelay = -time.Second }, "propagation delay must not be negative"},
		{"fractional TTL", func(p *RolloverPolicy) { p.DSTTL = 1500 * time.Millisecond }, "DS TTL must be a whole number"},
		{"DNSKEY TTL above max", func(p *RolloverPolicy) { p.DNSKEYTTL = 7 * rollDay }, "larger than the maximum zone TTL"},
		{"short ZSK lifetime", func(p *RolloverPolicy) { p.ZSKLifetime = 100 * time.Hour }, "ZSK lifetime"},
		{"short KSK lifetime", func(p *RolloverPolicy) { p.KSKLifetime = 31 * rollDay }, "KSK lifetime"},
		{"refresh above validity", func(p *RolloverPolicy) { p.SignatureRefresh = 15 * rollDay }, "shorter than the signature validity"},
		{"refresh below TTL", func(p *RolloverPolicy) { p.SignatureRefresh = 6 * rollDay }, "outlives the cached copies"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := DefaultRolloverPolicy()
			tc.change(&p)
			err := p.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
			if _, err := NewSchedule(".", p, nil); err == nil {
				t.Error("NewSchedule took the invalid policy")
			}
		})
	}
}

// rollKey returns a ready key of the root with the timing.
func rollKey(t *testing.T, ksk bool, alg uint8, tm Timing) *ManagedKey {
	t.Helper()
	k, err := GenerateKey(".", alg, ksk)
	if err != nil {
		t.Fatal(err)
	}
	return &ManagedKey{Key: k, Timing: tm}
}

func TestScheduleRefuses(t *testing.T) {
	p := DefaultRolloverPolicy()
	on := Timing{Created: rollT0, Published: rollT0, Active: rollT0, DSSubmitted: rollT0}
	t.Run("clock went back", func(t *testing.T) {
		s, err := NewSchedule(".", p, []*ManagedKey{rollKey(t, true, 13, on), rollKey(t, false, 13, on)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Step(rollT0.Add(-time.Second)); err == nil || !strings.Contains(err.Error(), "before the last recorded") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("two signing ZSKs", func(t *testing.T) {
		ksk := rollKey(t, true, 13, on)
		z1, z2 := rollKey(t, false, 13, on), rollKey(t, false, 13, on)
		s, err := NewSchedule(".", p, []*ManagedKey{ksk, z1, z2})
		if err != nil {
			t.Fatal(err)
		}
		before := []Timing{ksk.Timing, z1.Timing, z2.Timing}
		if _, err := s.Step(rollT0.Add(100 * rollDay)); err == nil || !strings.Contains(err.Error(), "two ZSKs sign at once") {
			t.Errorf("err = %v", err)
		}
		if after := []Timing{ksk.Timing, z1.Timing, z2.Timing}; !slices.EqualFunc(before, after, Timing.equal) {
			t.Error("a refused step changed the keys")
		}
	})
	t.Run("published but inactive KSK", func(t *testing.T) {
		k := rollKey(t, true, 13, Timing{Created: rollT0, Published: rollT0})
		s, err := NewSchedule(".", p, []*ManagedKey{k})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Step(rollT0); err == nil || !strings.Contains(err.Error(), "not a double-DS state") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("algorithm rollover", func(t *testing.T) {
		s, err := NewSchedule(".", p, []*ManagedKey{rollKey(t, true, 13, on), rollKey(t, false, 13, on), rollKey(t, false, 15, Timing{Created: rollT0})})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Step(rollT0.Add(100 * rollDay)); err == nil || !strings.Contains(err.Error(), "algorithm rollovers are not supported") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("bad keys", func(t *testing.T) {
		other, err := GenerateKey("org.", 13, true)
		if err != nil {
			t.Fatal(err)
		}
		k := rollKey(t, true, 13, on)
		for name, keys := range map[string][]*ManagedKey{
			"another zone":   {{Key: other, Timing: on}},
			"twice":          {k, k},
			"retired before": {rollKey(t, false, 13, Timing{Created: rollT0, Published: rollT0, Active: rollT0, Retired: rollT0.Add(-time.Hour)})},
			"no signer":      {{Key: &Key{DNSKEY: k.DNSKEY}, Timing: on}},
		} {
			if _, err := NewSchedule(".", p, keys); err == nil {
				t.Errorf("%s: accepted", name)
			}
		}
	})
}

// TestRunHooks checks that Run publishes the DS before saving, saves what
// changed, and undoes a step whose DS could not be published.
func TestRunHooks(t *testing.T) {
	p := DefaultRolloverPolicy()
	p.ZSKLifetime = 3 * 365 * rollDay // no ZSK rollover in the way
	dir := t.TempDir()
	store, err := OpenKeyStore(dir, PassphraseUnlocker("p"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSchedule(".", p, store.Keys("."))
	if err != nil {
		t.Fatal(err)
	}
	var calls []string
	failDS := false
	hooks := Hooks{
		Generate: func(origin string, alg uint8, role Role, now time.Time) (*ManagedKey, error) {
			calls = append(calls, "generate "+string(role))
			return store.Generate(origin, alg, role, now)
		},
		PublishDS: func(s *Schedule, now time.Time) error {
			if failDS {
				calls = append(calls, "publish-ds failed")
				return errors.New("registry unreachable")
			}
			ta, err := s.TrustAnchor()
			if err != nil {
				return err
			}
			if _, err := ta.Marshal(); err != nil {
				return err
			}
			calls = append(calls, fmt.Sprintf("publish-ds %d", len(s.DSKeys(now))))
			return nil
		},
		Save: func(k *ManagedKey) error {
			calls = append(calls, "save "+string(k.Role()))
			return store.Put(k)
		},
	}
	if _, err := s.Run(rollT0, hooks); err != nil {
		t.Fatal(err)
	}
	want := []string{"generate KSK", "generate ZSK", "publish-ds 1", "save KSK", "save ZSK"}
	if diff := cmp.Diff(want, calls); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
	// The store holds the state: a schedule from it goes on the same way.
	reopened, err := OpenKeyStore(dir, PassphraseUnlocker("p"))
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range reopened.Keys(".") {
		if !k.Active.Equal(rollT0) || !k.Published.Equal(rollT0) {
			t.Errorf("stored %s: %+v", k, k.Timing)
		}
	}

	// The KSK successor's DS cannot be published: nothing is recorded.
	submit := rollT0.Add(p.KSKLifetime - p.DSPublishInterval())
	calls, failDS = nil, true
	acts, err := s.Run(submit, hooks)
	if err == nil || !strings.Contains(err.Error(), "registry unreachable") {
		t.Fatalf("err = %v", err)
	}
	if !acts.DSChanged() {
		t.Errorf("actions %v", acts)
	}
	for _, k := range s.Keys() {
		if k.Role() == KSK && !k.Active.Equal(rollT0) && !k.DSSubmitted.IsZero() {
			t.Errorf("the successor's DS is recorded as submitted although publishing failed")
		}
	}
	if diff := cmp.Diff([]string{"generate KSK", "publish-ds failed"}, calls); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
	// An hour later the parent is back: the waiting successor is used.
	calls, failDS = nil, false
	acts, err = s.Run(submit.Add(time.Hour), hooks)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"publish-ds 2", "save KSK"}, calls); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
	if len(acts) != 1 || acts[0].Kind != SubmitDS {
		t.Errorf("actions %v", acts)
	}
	// The swap waits IpubP from the late submission, not from the plan.
	next, err := s.Next(submit.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if want := submit.Add(time.Hour + p.DSPublishInterval()); !next.Equal(want) {
		t.Errorf("next step at %s, want %s", next, want)
	}
}

// TestStepDeterministic checks that Step depends only on the keys, the
// policy and the time.
func TestStepDeterministic(t *testing.T) {
	p := DefaultRolloverPolicy()
	ksk := rollKey(t, true, 13, Timing{Created: rollT0})
	zsk1 := rollKey(t, false, 13, Timing{Created: rollT0})
	zsk2 := rollKey(t, false, 13, Timing{Created: rollT0.Add(time.Hour)})
	clone := func() []*ManagedKey {
		var out []*ManagedKey
		for _, k := range []*ManagedKey{ksk, zsk1, zsk2} {
			c := *k
			out = append(out, &c)
		}
		return out
	}
	run := func(ks []*ManagedKey) string {
		s, err := NewSchedule(".", p, ks)
		if err != nil {
			t.Fatal(err)
		}
		var log []string
		for _, at := range []time.Time{rollT0.Add(time.Hour), rollT0.Add(89 * rollDay), rollT0.Add(90 * rollDay), rollT0.Add(97 * rollDay)} {
			acts, err := s.Step(at)
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range acts {
				log = append(log, at.Format(time.RFC3339)+" "+a.String())
			}
		}
		return strings.Join(log, "\n")
	}
	a, b := run(clone()), run(clone())
	if a != b {
		t.Errorf("two runs differ:\n%s\n---\n%s", a, b)
	}
	// The pre-generated ZSK is used as the successor: no Generate.
	if strings.Contains(a, "generate") {
		t.Errorf("a key was asked for although one was waiting:\n%s", a)
	}
}

// TestScheduleImportedKeys continues from keys made elsewhere: a signing
// RSA KSK whose DS was never recorded, and no ZSK.
func TestScheduleImportedKeys(t *testing.T) {
	ksk := rollKey(t, true, dns.RSASHA256, Timing{Created: rollT0, Published: rollT0, Active: rollT0})
	s, err := NewSchedule(".", DefaultRolloverPolicy(), []*ManagedKey{ksk})
	if err != nil {
		t.Fatal(err)
	}
	acts, err := s.Step(rollT0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"submit-ds KSK " + itoaTag(ksk) + " (alg 8)", "generate ZSK (alg 8)"}
	var got []string
	for _, a := range acts {
		got = append(got, a.String())
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("actions (-want +got):\n%s", diff)
	}
	// A ZSK of another algorithm than the KSK is refused.
	zsk := rollKey(t, false, dns.ECDSAP256SHA256, Timing{Created: rollT0.Add(time.Hour)})
	if err := s.Add(zsk); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Step(rollT0.Add(time.Hour)); err == nil || !strings.Contains(err.Error(), "algorithm rollovers are not supported") {
		t.Errorf("err = %v", err)
	}
}

func itoaTag(k *ManagedKey) string { return fmt.Sprint(k.Tag()) }
