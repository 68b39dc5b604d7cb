// Package publish turns the registry's root zone into what steward
// publishes: it gives new content a serial in the ledger (zone.published),
// builds the unsigned zone from exactly that content, runs the DNSSEC key
// schedule, signs incrementally, hands the signed version to the DNS
// server, and keeps the files served over HTTP (the zone, the trust anchor,
// root hints), each naming the ledger entry it was built from.
package publish

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"steward"
	"steward/dnssec"
	"steward/ledger"
	"steward/rootzone"
	"steward/zone"
)

// ActorPublisher is the actor of zone.published entries.
const ActorPublisher = "system:publisher"

// Store is what the publisher needs of a store.
type Store interface {
	Do(ctx context.Context, cmd steward.Command) (any, error)
	// Head returns the size of the ledger (and the state digest).
	Head(ctx context.Context) (int64, ledger.Digest, error)
}

// recheck is the longest the publisher goes without re-signing checks
// while the ledger does not grow and no key transition is due.
const recheck = time.Hour

// ZoneSink receives each new signed version (the DNS server).
type ZoneSink interface {
	SetZone(z *zone.Zone)
}

// Config configures a Publisher.
type Config struct {
	Store    Store
	Keys     *dnssec.KeyStore
	Rollover dnssec.RolloverPolicy
	Signing  dnssec.Policy
	Clock    steward.Clock
	Logger   *slog.Logger
	Sink     ZoneSink // may be nil
	Interval time.Duration
}

// Artifacts are the published files of one zone version.
type Artifacts struct {
	Serial     uint32
	Entry      int64 // the zone.published ledger entry
	Built      time.Time
	Zone       *zone.Zone
	ZoneFile   []byte // the signed zone, one record per line, canonical order
	AnchorsXML []byte // the trust anchor in IANA's root-anchors.xml format
	AnchorsDS  []byte // the trust anchor as DS records
	Hints      []byte // root hints in named.root form
	Stats      dnssec.Stats
}

// Publisher keeps the published root zone current.
type Publisher struct {
	cfg     Config
	log     *slog.Logger
	sched   *dnssec.Schedule
	signer  *dnssec.Signer
	mu      sync.Mutex // serializes Step
	current atomic.Pointer[Artifacts]

	// Owned by Step: the ledger size after the last full step, and when
	// the next full step is due even if the ledger does not grow.
	lastHead int64
	nextFull time.Time
	unsigned *zone.Zone // the unsigned version last signed
	wholeAt  time.Time  // when the whole zone was last signed

	wake chan struct{} // Kick's signal to Run
}

// New makes a publisher for the root zone from the keys in the store.
func New(cfg Config) (*Publisher, error) {
	if cfg.Clock == nil {
		cfg.Clock = steward.SystemClock{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Interval == 0 {
		cfg.Interval = time.Second
	}
	sched, err := dnssec.NewSchedule(".", cfg.Rollover, cfg.Keys.Keys("."))
	if err != nil {
		return nil, err
	}
	return &Publisher{cfg: cfg, log: cfg.Logger.With("component", "publish"), sched: sched, signer: dnssec.NewSigner(".", cfg.Signing), wake: make(chan struct{}, 1)}, nil
}

// Current returns the latest artifacts, or nil before the first.
func (p *Publisher) Current() *Artifacts { return p.current.Load() }

// Kick asks Run to publish now rather than at its next interval: the
// registry changed. It never blocks.
func (p *Publisher) Kick() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// Run publishes every interval, and when kicked, until ctx ends.
func (p *Publisher) Run(ctx context.Context) {
	t := time.NewTicker(p.cfg.Interval)
	defer t.Stop()
	for {
		if err := p.Step(ctx); err != nil && ctx.Err() == nil {
			p.log.Error("publish", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-p.wake:
		}
	}
}

// Step publishes once: new content gets a serial, keys roll as scheduled,
// and the zone is re-signed when its content, its keys or its signatures'
// age call for it. It returns nil without publishing while the registry
// has no root zone.
func (p *Publisher) Step(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	head, _, err := p.cfg.Store.Head(ctx)
	if err != nil {
		return err
	}
	if head == p.lastHead && p.cfg.Clock.Now().Before(p.nextFull) {
		return nil // nothing new in the ledger, no signature or key due
	}
	if err := p.step(ctx); err != nil {
		return err
	}
	// The head read before the step: entries committed while it ran (a
	// change implemented meanwhile) must make the next step look again.
	// The step's own publication costs one more look that finds nothing.
	p.lastHead = head
	now := p.cfg.Clock.Now()
	p.nextFull = now.Add(recheck)
	if next, err := p.sched.Next(now); err == nil && next.Before(p.nextFull) {
		p.nextFull = next
	}
	return nil
}

func (p *Publisher) step(ctx context.Context) error {
	began := time.Now()
	zc, err := p.publish(ctx, false)
	if zc == nil || err != nil {
		return err
	}
	recorded := time.Since(began)
	now := p.cfg.Clock.Now()
	acts, err := p.sched.Run(now, dnssec.Hooks{Generate: p.cfg.Keys.Generate, Save: p.cfg.Keys.Put})
	if err != nil {
		return fmt.Errorf("key schedule: %w", err)
	}
	for _, a := range acts {
		p.log.Info("key rollover", "action", a.String())
	}
	prev := p.current.Load()
	var z *zone.Zone
	var stats dnssec.Stats
	if zc.Changed && prev != nil && len(acts) == 0 {
		// New content, the same keys: sign what changed.
		z, stats, err = p.patch(zc, prev.Zone, now)
	} else {
		z, stats, err = p.sign(zc, now)
	}
	if err != nil {
		return err
	}
	if !zc.Changed && (prev == nil || stats.Signed > 0 || len(acts) > 0) {
		// The same content with new signatures or keys, or the first
		// version this process signs: a new serial, so that secondaries
		// take it.
		if zc, err = p.publish(ctx, true); err != nil {
			return err
		}
		more := stats
		if z, stats, err = p.sign(zc, now); err != nil {
			return err
		}
		stats.Signed += more.Signed
	} else if !zc.Changed {
		return nil // nothing changed
	}
	// The DNS server first; the files after.
	if p.cfg.Sink != nil {
		p.cfg.Sink.SetZone(z)
	}
	served := time.Since(began)
	a, err := p.artifacts(zc, z, stats, now)
	if err != nil {
		return err
	}
	p.current.Store(a)
	p.log.Info("published", "serial", z.Serial, "entry", zc.Publication.Entry, "signed", stats.Signed, "reused", stats.Reused,
		"recorded_seconds", recorded.Seconds(), "served_seconds", served.Seconds(), "seconds", time.Since(began).Seconds())
	return nil
}

// publish records the registry's content in the ledger and returns it, or
// nil while there is no root zone.
func (p *Publisher) publish(ctx context.Context, force bool) (*steward.ZoneContent, error) {
	v, err := p.cfg.Store.Do(ctx, steward.PublishZone(ActorPublisher, force))
	if steward.ErrorCode(err) == steward.ENOTFOUND {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return v.(*steward.ZoneContent), nil
}

// sign builds the unsigned zone from the content and signs it with the
// schedule's keys at now.
func (p *Publisher) sign(zc *steward.ZoneContent, now time.Time) (*zone.Zone, dnssec.Stats, error) {
	unsigned, err := rootzone.Build(&zc.Apex, zc.TLDs, zc.Publication.Serial)
	if err != nil {
		return nil, dnssec.Stats{}, err
	}
	return p.signWhole(unsigned, now)
}

func (p *Publisher) signWhole(unsigned *zone.Zone, now time.Time) (*zone.Zone, dnssec.Stats, error) {
	z, st, err := p.signer.UpdateZone(unsigned, p.sched.ZoneKeys(now), now)
	if err != nil {
		return nil, st, fmt.Errorf("sign: %w", err)
	}
	p.unsigned, p.wholeAt = unsigned, now
	return z, st, nil
}

// patch signs new content as a change to the signed version prev: the
// names whose records changed, the NSEC records around them, the SOA and
// the ZONEMD (dnssec.Signer.Patch). It signs the whole zone instead when
// the apex or the keys changed, when prev has drifted far from its flat
// base, or when the last whole-zone signing is recheck old.
func (p *Publisher) patch(zc *steward.ZoneContent, prev *zone.Zone, now time.Time) (*zone.Zone, dnssec.Stats, error) {
	unsigned, err := rootzone.Build(&zc.Apex, zc.TLDs, zc.Publication.Serial)
	if err != nil {
		return nil, dnssec.Stats{}, err
	}
	if p.unsigned == nil || now.Sub(p.wholeAt) >= recheck {
		// The whole zone at least every recheck, so that the signatures
		// a stream of changes leaves alone are refreshed in time.
		return p.signWhole(unsigned, now)
	}
	changes, ok := unsignedChanges(p.unsigned, unsigned)
	drift, _ := prev.Patched()
	if !ok || len(drift)+len(changes) > maxPatched(len(unsigned.Names())) {
		return p.signWhole(unsigned, now)
	}
	z, st, err := p.signer.Patch(prev, changes, unsigned.Serial, p.sched.ZoneKeys(now), now, true)
	if errors.Is(err, dnssec.ErrFullSign) {
		return p.signWhole(unsigned, now)
	}
	if err != nil {
		return nil, st, fmt.Errorf("sign: %w", err)
	}
	p.unsigned = unsigned
	return z, st, nil
}

func (p *Publisher) artifacts(zc *steward.ZoneContent, z *zone.Zone, st dnssec.Stats, now time.Time) (*Artifacts, error) {
	a := &Artifacts{Serial: z.Serial, Entry: zc.Publication.Entry, Built: now, Zone: z, Stats: st}
	var b bytes.Buffer
	fmt.Fprintf(&b, "; The root zone, serial %d, built from ledger entry %d (zone.published) at %s.\n", z.Serial, zc.Publication.Entry, now.UTC().Format(time.RFC3339))
	fmt.Fprintf(&b, "; Rebuild it from the log: steward audit replays the ledger to that entry.\n")
	if err := z.Write(&b); err != nil {
		return nil, err
	}
	a.ZoneFile = b.Bytes()
	ta, err := p.sched.TrustAnchor()
	if err != nil {
		return nil, fmt.Errorf("trust anchor: %w", err)
	}
	if a.AnchorsXML, err = ta.Marshal(); err != nil {
		return nil, err
	}
	var ds bytes.Buffer
	fmt.Fprintf(&ds, "; Trust anchor of the root zone, serial %d, ledger entry %d.\n", z.Serial, zc.Publication.Entry)
	ds.WriteString(dnssec.DSText(dnssec.DSRecords(p.sched.DSKeys(now), 86400)))
	a.AnchorsDS = ds.Bytes()
	var h bytes.Buffer
	fmt.Fprintf(&h, "; Root hints for the root zone served by steward, ledger entry %d.\n", zc.Publication.Entry)
	for _, rr := range rootzone.Hints(&zc.Apex) {
		h.WriteString(rr.String())
		h.WriteByte('\n')
	}
	a.Hints = h.Bytes()
	return a, nil
}
