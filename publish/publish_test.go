package publish_test

import (
	"context"
	"crypto/rand"
	"os"
	"os/exec"
	"path/filepath"
	"steward/internal/testdata"
	"steward/internal/testproc"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"steward"
	"steward/charter"
	"steward/dnssec"
	"steward/publish"
	"steward/rootzone"
	"steward/sqlite"
	"steward/sqlstore"
	"steward/zone"
)

type sink struct{ zones []*zone.Zone }

func (s *sink) SetZone(z *zone.Zone) { s.zones = append(s.zones, z) }

type fixture struct {
	store *sqlstore.Store
	clock *steward.FakeClock
	keys  *dnssec.KeyStore
	sink  *sink
	pub   *publish.Publisher
}

func newFixture(t *testing.T) *fixture {
	return newFixtureWith(t, dnssec.DefaultRolloverPolicy())
}

func newFixtureWith(t *testing.T, rp dnssec.RolloverPolicy) *fixture {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	w, r, err := sqlite.Open(filepath.Join(dir, "steward.db"), false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close(); r.Close() })
	skey, _, err := note.GenerateKey(rand.Reader, "steward.example/publish")
	if err != nil {
		t.Fatal(err)
	}
	signer, _ := note.NewSigner(skey)
	clock := steward.NewFakeClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	s, err := sqlstore.Open(ctx, w, r, sqlite.Dialect{}, sqlstore.Config{Signer: signer, Clock: clock, CheckpointInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	text, _ := charter.Preset("community")
	if _, err := s.Do(ctx, steward.CreateInstance(steward.Instance{Origin: "steward.example/publish", Name: "Publish"}, text)); err != nil {
		t.Fatal(err)
	}
	keys, err := dnssec.OpenKeyStore(filepath.Join(dir, "keys"), dnssec.PassphraseUnlocker("a test passphrase"))
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{store: s, clock: clock, keys: keys, sink: &sink{}}
	sp := dnssec.DefaultPolicy
	sp.Validity, sp.Refresh = rp.SignatureValidity, rp.SignatureRefresh
	if f.pub, err = publish.New(publish.Config{Store: s, Keys: keys, Rollover: rp, Signing: sp, Clock: clock, Sink: f.sink}); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) importZone(t *testing.T, imp *steward.RootZoneImport) {
	t.Helper()
	if _, err := f.store.Do(context.Background(), steward.ImportRootZone(steward.ActorImport, *imp)); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) step(t *testing.T) *publish.Artifacts {
	t.Helper()
	if err := f.pub.Step(context.Background()); err != nil {
		t.Fatal(err)
	}
	a := f.pub.Current()
	if a == nil {
		t.Fatal("nothing published")
	}
	if err := dnssec.Verify(a.Zone, f.clock.Now()); err != nil {
		t.Fatalf("serial %d does not verify at %s: %v", a.Serial, f.clock.Now(), err)
	}
	if err := dnssec.VerifyZONEMD(a.Zone); err != nil {
		t.Fatalf("serial %d: %v", a.Serial, err)
	}
	return a
}

func (f *fixture) ledgerSize(t *testing.T) int64 {
	n, _, err := f.store.Head(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func realRoot(t *testing.T) *steward.RootZoneImport {
	t.Helper()
	file, err := os.Open(testdata.RootZoneFile)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	imp, _, err := rootzone.Parse("root.zone", file)
	if err != nil {
		t.Fatal(err)
	}
	return imp
}

// smallRoot is a root zone of a few delegations, for tests that publish
// many versions.
func smallRoot() *steward.RootZoneImport {
	imp := &steward.RootZoneImport{Apex: steward.Apex{MName: "a.root.example.", RName: "hostmaster.example.",
		Refresh: 1800, Retry: 900, Expire: 604800, Minimum: 86400, SOATTL: 86400, NS: []string{"a.root.example."},
		NSTTL: 518400, DelegationTTL: 172800, DSTTL: 86400, Glue: []steward.Glue{{Name: "a.root.example.", Addrs: []string{"192.0.2.53"}}}}}
	for _, n := range []string{"example", "test", "invalid", "lab", "net", "org", "arpa"} {
		imp.TLDs = append(imp.TLDs, steward.TLD{Name: n, NS: []string{"ns1." + n + ".", "ns2.nic.example."},
			Glue: []steward.Glue{{Name: "ns1." + n + ".", Addrs: []string{"192.0.2.1", "2001:db8::1"}}, {Name: "ns2.nic.example.", Addrs: []string{"192.0.2.2"}}}})
	}
	return imp
}

func TestPublish(t *testing.T) {
	f := newFixture(t)
	if err := f.pub.Step(context.Background()); err != nil || f.pub.Current() != nil {
		t.Fatalf("with no root zone: %v, %v", err, f.pub.Current())
	}
	imp := realRoot(t)
	f.importZone(t, imp)
	a := f.step(t)
	if a.Serial != 2026030100 || len(f.sink.zones) != 1 || a.Zone.Serial != a.Serial {
		t.Fatalf("first version: serial %d, %d zones sent", a.Serial, len(f.sink.zones))
	}
	if len(a.AnchorsXML) == 0 || len(a.AnchorsDS) == 0 || len(a.Hints) == 0 {
		t.Error("missing trust anchor or hints")
	}
	if ta, err := dnssec.ParseTrustAnchorXML(a.AnchorsXML); err != nil || len(ta.Digests) != 1 {
		t.Errorf("trust anchor: %v", err)
	}

	// Nothing changed: nothing published, nothing appended.
	n := f.ledgerSize(t)
	f.clock.Advance(time.Minute)
	if b := f.step(t); b != a || f.ledgerSize(t) != n {
		t.Error("an unchanged registry was published again")
	}

	// One TLD's name servers change: a new serial, re-signing only a little.
	for i := range imp.TLDs {
		if imp.TLDs[i].Name == "org" {
			tl := &imp.TLDs[i]
			tl.NS = tl.NS[:2]
			var glue []steward.Glue
			for _, g := range tl.Glue {
				if g.Name == tl.NS[0] || g.Name == tl.NS[1] {
					glue = append(glue, g)
				}
			}
			tl.Glue = glue
		}
	}
	f.importZone(t, imp)
	b := f.step(t)
	if b.Serial != a.Serial+1 || b.Stats.Signed > 5 {
		t.Errorf("after one change: serial %d, %d signatures made", b.Serial, b.Stats.Signed)
	}
	if ns := b.Zone.RRset("org.", 2); len(ns) != 2 {
		t.Errorf("org. has %d NS records in the published zone", len(ns))
	}
	if changed, ok := b.Zone.Patched(); !ok || len(changed) > 8 {
		t.Errorf("one change: patched %v, %d names changed", ok, len(changed))
	}

	// Days later the signatures are refreshed under a new serial.
	f.clock.Advance(8 * 24 * time.Hour)
	c := f.step(t)
	if c.Serial != 2026030900 || c.Stats.Signed == 0 {
		t.Errorf("refresh: serial %d, %d signatures", c.Serial, c.Stats.Signed)
	}
	if _, ok := c.Zone.Patched(); ok {
		t.Error("the refresh did not sign the whole zone")
	}

	// A change a minute later is a patch; one more than an hour after the
	// last whole-zone signing is signed whole, so that a stream of
	// changes never keeps the other signatures from their refresh.
	changeDS := func(tag uint16) {
		for i := range imp.TLDs {
			if imp.TLDs[i].Name == "org" {
				imp.TLDs[i].DS = []steward.DS{{KeyTag: tag, Algorithm: 8, DigestType: 2, Digest: strings.Repeat("AB", 32)}}
			}
		}
		f.importZone(t, imp)
	}
	f.clock.Advance(time.Minute)
	changeDS(101)
	if d := f.step(t); func() bool { _, ok := d.Zone.Patched(); return !ok }() {
		t.Error("a change a minute after a whole-zone signing was not a patch")
	}
	f.clock.Advance(61 * time.Minute)
	changeDS(102)
	if e := f.step(t); func() bool { _, ok := e.Zone.Patched(); return ok }() {
		t.Error("a change an hour after the last whole-zone signing was only a patch")
	}
}

// TestRollover drives the clock through a full ZSK rollover and checks
// that every version published on the way verifies at its time.
func TestRollover(t *testing.T) {
	f := newFixture(t)
	f.importZone(t, smallRoot())
	first := f.step(t)
	zsks := func(z *zone.Zone) int { return len(z.RRset(".", 48)) } // DNSKEY records
	keysBefore := zsks(first.Zone)
	seen := map[int]bool{}
	for day := 0; day < 100; day++ {
		f.clock.Advance(24 * time.Hour)
		a := f.step(t)
		seen[zsks(a.Zone)] = true
	}
	if !seen[keysBefore+1] {
		t.Errorf("no version published a pre-published ZSK (DNSKEY counts seen: %v)", seen)
	}
	if got := len(f.keys.Keys(".")); got < 3 {
		t.Errorf("the key store holds %d keys after 100 days; a ZSK rollover makes a third", got)
	}
}

// TestRolloversValidated drives the clock through ZSK and KSK rollovers
// with short lifetimes and has Knot's kzonecheck validate every version
// published on the way, at the time it was published.
func TestRolloversValidated(t *testing.T) {
	kzonecheck := testproc.Need(t, "kzonecheck")
	const day = 24 * time.Hour
	rp := dnssec.DefaultRolloverPolicy()
	rp.ZSKLifetime, rp.KSKLifetime, rp.ParentPropagationDelay = 20*day, 50*day, 10*day
	f := newFixtureWith(t, rp)
	f.importZone(t, smallRoot())
	dir := t.TempDir()
	last := uint32(0)
	anchors := 0
	for i := 0; i <= 120; i++ {
		a := f.step(t)
		if a.Serial != last {
			last = a.Serial
			file := filepath.Join(dir, "root.zone")
			if err := os.WriteFile(file, a.ZoneFile, 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(kzonecheck, "-o", ".", "-d", "on", "-t", strconv.FormatInt(f.clock.Now().Unix(), 10), file).CombinedOutput()
			if err != nil {
				t.Fatalf("serial %d at %s: kzonecheck: %v\n%s", a.Serial, f.clock.Now(), err, out)
			}
			if ta, err := dnssec.ParseTrustAnchorXML(a.AnchorsXML); err == nil && len(ta.Digests) > anchors {
				anchors = len(ta.Digests)
			}
		}
		f.clock.Advance(day)
	}
	var ksk, zsk int
	for _, k := range f.keys.Keys(".") {
		if k.Role() == dnssec.KSK {
			ksk++
		} else {
			zsk++
		}
	}
	if ksk < 2 || zsk < 4 || anchors < 2 {
		t.Errorf("after 120 days: %d KSKs, %d ZSKs, at most %d keys in the trust anchor; want a KSK and several ZSK rollovers", ksk, zsk, anchors)
	}
}
