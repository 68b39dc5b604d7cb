package dnssec

import (
	"context"
	"crypto"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"steward/internal/testdata"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"steward/zone"
)

// The real root zone, signed by Verisign, shared by the steward tests.

// testNow is the signing time of the tests that do not hand the zone to an
// outside validator (those use the real clock, which the validators read).
var testNow = time.Date(2024, 1, 1, 12, 0, 0, 0, time.UTC)

// newKey generates a key of the algorithm: a KSK if ksk, else a ZSK.
func newKey(t testing.TB, alg uint8, ksk bool) *Key {
	t.Helper()
	flags := uint16(dns.ZONE)
	if ksk {
		flags |= dns.SEP
	}
	d := &dns.DNSKEY{
		Hdr:       dns.RR_Header{Name: ".", Rrtype: dns.TypeDNSKEY, Class: dns.ClassINET, Ttl: 172800},
		Flags:     flags,
		Protocol:  3,
		Algorithm: alg,
	}
	bits := 256
	switch alg {
	case dns.RSASHA256:
		bits = 2048
	case dns.ECDSAP384SHA384:
		bits = 384
	}
	for {
		priv, err := d.Generate(bits)
		if err != nil {
			t.Fatalf("generating a key of algorithm %d: %v", alg, err)
		}
		if d.KeyTag() != 0 { // miekg/dns signs with no key of tag 0 (see NewKey)
			return &Key{DNSKEY: d, Signer: priv.(crypto.Signer)}
		}
	}
}

// keyPair returns a KSK and a ZSK of the algorithm.
func keyPair(t testing.TB, alg uint8) SigningKeys {
	return SigningKeys{KSKs: []*Key{newKey(t, alg, true)}, ZSKs: []*Key{newKey(t, alg, false)}}
}

// rootZone returns the records of the real root zone, DNSSEC records and all.
func rootZone(t testing.TB) []dns.RR {
	t.Helper()
	return testdata.RootZone(t)
}

// writeZone writes the zone's records in canonical order, one per line,
// leaving out the apex ZONEMD and its signatures if noZONEMD.
func writeZone(t testing.TB, z *zone.Zone, noZONEMD bool) string {
	t.Helper()
	var b strings.Builder
	for _, rr := range z.Records() {
		if noZONEMD && rr.Header().Name == z.Origin {
			if rr.Header().Rrtype == dns.TypeZONEMD {
				continue
			}
			if sig, ok := rr.(*dns.RRSIG); ok && sig.TypeCovered == dns.TypeZONEMD {
				continue
			}
		}
		b.WriteString(rr.String())
		b.WriteByte('\n')
	}
	name := "zone.txt"
	if noZONEMD {
		name = "zone-no-zonemd.txt"
	}
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// runValidator runs a validator from Debian on a zone file. A missing
// binary skips the test, except under CI, which installs them.
func runValidator(t *testing.T, name string, args ...string) {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not installed (apt-get install ldnsutils bind9-utils knot-dnssecutils)", name)
		}
		t.Skipf("%s is not installed", name)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Minute)
	defer cancel()
	start := time.Now()
	out, err := exec.CommandContext(ctx, path, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, tail(out, 40))
	}
	t.Logf("%s accepts the zone in %v: %s", name, time.Since(start).Round(time.Millisecond), lastLine(out))
}

func tail(out []byte, n int) string {
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) > n {
		lines = append([]string{"…"}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}

func lastLine(out []byte) string {
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return lines[len(lines)-1]
}

// validate runs the three validators on z. ldns-verify-zone checks a copy
// without the ZONEMD, as DESIGN.md §8 advises for root-size zones, and then
// the whole zone with -ZZ: it is the one validator here that recomputes a
// ZONEMD digest (kzonecheck 3.2 and dnssec-verify 9.18 do not), and on a
// file in canonical order it takes about a second for the root zone.
func validate(t *testing.T, z *zone.Zone) {
	full := writeZone(t, z, false)
	t.Run("dnssec-verify", func(t *testing.T) {
		runValidator(t, "dnssec-verify", "-o", z.Origin, full)
	})
	t.Run("kzonecheck", func(t *testing.T) {
		runValidator(t, "kzonecheck", "-o", z.Origin, "-d", "on", full)
	})
	t.Run("ldns-verify-zone", func(t *testing.T) {
		runValidator(t, "ldns-verify-zone", writeZone(t, z, true))
	})
	t.Run("ldns-verify-zone ZONEMD", func(t *testing.T) {
		runValidator(t, "ldns-verify-zone", "-ZZ", full)
	})
}

// TestSignSmall signs the small root-like zone with each algorithm, and
// with all three at once, and checks it in process and with the validators.
func TestSignSmall(t *testing.T) {
	unsigned := testdata.ReadZone(t, "testdata/root-like.zone", ".")
	for _, tc := range []struct {
		name string
		algs []uint8
	}{
		{"ECDSAP256SHA256", []uint8{dns.ECDSAP256SHA256}},
		{"ED25519", []uint8{dns.ED25519}},
		{"RSASHA256", []uint8{dns.RSASHA256}},
		{"all three", []uint8{dns.ECDSAP256SHA256, dns.ED25519, dns.RSASHA256}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var keys SigningKeys
			for _, alg := range tc.algs {
				kp := keyPair(t, alg)
				keys.KSKs = append(keys.KSKs, kp.KSKs...)
				keys.ZSKs = append(keys.ZSKs, kp.ZSKs...)
			}
			now := time.Now() // the outside validators check against the real clock
			z, err := Sign(".", unsigned, keys, DefaultPolicy, now)
			if err != nil {
				t.Fatal(err)
			}
			if err := Verify(z, now); err != nil {
				t.Fatal(err)
			}
			checkShape(t, z, keys, len(tc.algs))
			validate(t, z)
		})
	}
}

// checkShape checks what Sign must and must not sign in the small zone.
func checkShape(t *testing.T, z *zone.Zone, keys SigningKeys, nalg int) {
	t.Helper()
	sigs := func(name string, typ uint16) int { return len(z.Sigs(name, typ)) }
	for _, c := range []struct {
		name string
		typ  uint16
		want int
	}{
		{".", dns.TypeSOA, nalg},
		{".", dns.TypeNS, nalg},
		{".", dns.TypeDNSKEY, len(keys.KSKs)},
		{".", dns.TypeZONEMD, nalg},
		{".", dns.TypeNSEC, nalg},
		{"com.", dns.TypeDS, nalg},
		{"com.", dns.TypeNSEC, nalg},
		{"com.", dns.TypeNS, 0},        // delegation NS: the child's
		{"ns1.nic.com.", dns.TypeA, 0}, // glue
		{"a.root-servers.test.", dns.TypeA, 0},
		{"org.", dns.TypeNSEC, nalg},
	} {
		if got := sigs(c.name, c.typ); got != c.want {
			t.Errorf("%s %s: %d RRSIGs, want %d", c.name, dns.Type(c.typ), got, c.want)
		}
	}
	if got, want := len(z.RRset(".", dns.TypeDNSKEY)), len(keys.KSKs)+len(keys.ZSKs); got != want {
		t.Errorf("%d DNSKEYs, want %d", got, want)
	}
	// The NSEC chain: the TLDs in canonical order, no glue names.
	var chain []string
	for _, n := range z.Names() {
		if nsec := z.RRset(n, dns.TypeNSEC); len(nsec) == 1 {
			chain = append(chain, n+"→"+nsec[0].(*dns.NSEC).NextDomain)
		}
	}
	want := []string{".→arpa.", "arpa.→com.", "com.→example.", "example.→org.", "org.→test.", "test.→xn--p1ai.", "xn--p1ai.→."}
	if !slices.Equal(chain, want) {
		t.Errorf("NSEC chain\n got %v\nwant %v", chain, want)
	}
	for name, types := range map[string]string{
		".":    "NS SOA RRSIG NSEC DNSKEY ZONEMD",
		"com.": "NS DS RRSIG NSEC",
		"org.": "NS RRSIG NSEC",
	} {
		nsec := z.RRset(name, dns.TypeNSEC)[0].(*dns.NSEC)
		if got := typeList(nsec.TypeBitMap); got != types {
			t.Errorf("NSEC at %s lists %s, want %s", name, got, types)
		}
		if nsec.Hdr.Ttl != 86400 {
			t.Errorf("NSEC at %s: TTL %d, want the SOA minimum 86400", name, nsec.Hdr.Ttl)
		}
	}
	if err := VerifyZONEMD(z); err != nil {
		t.Error(err)
	}
}

// stripSignatures prints a zone with the signature bytes left out.
func stripSignatures(z *zone.Zone) string {
	var b strings.Builder
	for _, rr := range z.Records() {
		if sig, ok := rr.(*dns.RRSIG); ok {
			c := *sig
			c.Signature = ""
			rr = &c
		}
		if md, ok := rr.(*dns.ZONEMD); ok {
			c := *md
			c.Digest = "" // covers the ECDSA signatures
			rr = &c
		}
		b.WriteString(rr.String())
		b.WriteByte('\n')
	}
	return b.String()
}

func zoneText(z *zone.Zone) string {
	var b strings.Builder
	for _, rr := range z.Records() {
		b.WriteString(rr.String())
		b.WriteByte('\n')
	}
	return b.String()
}

// TestSignDeterministic: the same input, keys and time give the same
// records in the same order; with Ed25519, whose signatures are
// deterministic, the same bytes. Shuffling the input changes nothing.
func TestSignDeterministic(t *testing.T) {
	unsigned := testdata.ReadZone(t, "testdata/root-like.zone", ".")
	shuffled := slices.Clone(unsigned)
	slices.Reverse(shuffled)
	for _, alg := range []uint8{dns.ECDSAP256SHA256, dns.ED25519} {
		keys := keyPair(t, alg)
		a, err := Sign(".", unsigned, keys, DefaultPolicy, testNow)
		if err != nil {
			t.Fatal(err)
		}
		b, err := Sign(".", shuffled, keys, DefaultPolicy, testNow)
		if err != nil {
			t.Fatal(err)
		}
		if sa, sb := stripSignatures(a), stripSignatures(b); sa != sb {
			t.Errorf("algorithm %d: two signings differ beyond signature bytes:\n%s\n---\n%s", alg, sa, sb)
		}
		if alg == dns.ED25519 && zoneText(a) != zoneText(b) {
			t.Errorf("Ed25519: two signings are not byte-identical")
		}
	}
}

// TestSignInputUnchanged: Sign neither modifies its input nor keeps it.
func TestSignInputUnchanged(t *testing.T) {
	unsigned := testdata.ReadZone(t, "testdata/root-like.zone", ".")
	unsigned = append(unsigned, mustRR(t, "Upper.COM. 172800 IN NS NS1.NIC.COM."))
	before := make([]string, len(unsigned))
	for i, rr := range unsigned {
		before[i] = rr.String()
	}
	z, err := Sign(".", unsigned, keyPair(t, dns.ED25519), DefaultPolicy, testNow)
	if err != nil {
		t.Fatal(err)
	}
	for i, rr := range unsigned {
		if rr.String() != before[i] {
			t.Errorf("input record %d changed: %s, was %s", i, rr, before[i])
		}
	}
	if ns := z.RRset("upper.com.", dns.TypeNS); len(ns) != 1 || ns[0].(*dns.NS).Ns != "ns1.nic.com." {
		t.Errorf("upper.com. NS = %v, want the name lower-cased", ns)
	}
	if err := Verify(z, testNow); err != nil {
		t.Error(err)
	}
}

func mustRR(t testing.TB, s string) dns.RR {
	t.Helper()
	rr, err := dns.NewRR(s)
	if err != nil {
		t.Fatal(err)
	}
	return rr
}

// TestSignCombinedKey: with no ZSKs, the KSK signs everything.
func TestSignCombinedKey(t *testing.T) {
	unsigned := testdata.ReadZone(t, "testdata/root-like.zone", ".")
	keys := SigningKeys{KSKs: []*Key{newKey(t, dns.ECDSAP256SHA256, true)}}
	z, err := Sign(".", unsigned, keys, DefaultPolicy, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if err := Verify(z, testNow); err != nil {
		t.Fatal(err)
	}
	if got := z.Sigs("com.", dns.TypeDS); len(got) != 1 || got[0].(*dns.RRSIG).KeyTag != keys.KSKs[0].Tag() {
		t.Errorf("com. DS signed by %v, want the KSK %d", got, keys.KSKs[0].Tag())
	}
}

// TestSignPolicy checks the RRSIG times and TTLs against the policy.
func TestSignPolicy(t *testing.T) {
	unsigned := testdata.ReadZone(t, "testdata/root-like.zone", ".")
	keys := keyPair(t, dns.ED25519)
	p := DefaultPolicy
	p.NSECTTL = 3600
	z, err := Sign(".", unsigned, keys, p, testNow)
	if err != nil {
		t.Fatal(err)
	}
	unix := func(d time.Duration) uint32 { return uint32(testNow.Add(d).Unix()) }
	for _, c := range []struct {
		typ uint16
		exp uint32
	}{
		{dns.TypeSOA, unix(13 * 24 * time.Hour)},
		{dns.TypeDNSKEY, unix(15 * 24 * time.Hour)},
	} {
		sig := z.Sigs(".", c.typ)[0].(*dns.RRSIG)
		if sig.Inception != unix(-time.Hour) || sig.Expiration != c.exp {
			t.Errorf("RRSIG %s: %s to %s, want %s to %s", dns.Type(c.typ), dns.TimeToString(sig.Inception), dns.TimeToString(sig.Expiration),
				dns.TimeToString(unix(-time.Hour)), dns.TimeToString(c.exp))
		}
		if sig.OrigTtl != sig.Hdr.Ttl {
			t.Errorf("RRSIG %s: TTL %d, original TTL %d", dns.Type(c.typ), sig.Hdr.Ttl, sig.OrigTtl)
		}
	}
	if ttl := z.RRset(".", dns.TypeNSEC)[0].Header().Ttl; ttl != 3600 {
		t.Errorf("NSEC TTL %d, want 3600", ttl)
	}
	if ttl := z.RRset(".", dns.TypeDNSKEY)[0].Header().Ttl; ttl != 172800 {
		t.Errorf("DNSKEY TTL %d, want 172800", ttl)
	}
	// RFC 9077: the NSEC TTL is the smaller of the SOA TTL and MINIMUM.
	soa := mustRR(t, ". 3600 IN SOA a.root-servers.test. nstld.example.org. 1 1800 900 604800 86400")
	z, err = Sign(".", []dns.RR{soa, mustRR(t, ". 3600 IN NS a.root-servers.test.")}, keys, DefaultPolicy, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if ttl := z.RRset(".", dns.TypeNSEC)[0].Header().Ttl; ttl != 3600 {
		t.Errorf("NSEC TTL %d, want min(SOA TTL 3600, MINIMUM 86400)", ttl)
	}
}

// TestSignErrors: input Sign cannot sign correctly is refused with a clear
// error.
func TestSignErrors(t *testing.T) {
	base := testdata.ReadZone(t, "testdata/root-like.zone", ".")
	ecdsa := keyPair(t, dns.ECDSAP256SHA256)
	ed := keyPair(t, dns.ED25519)
	mismatched := &Key{DNSKEY: ecdsa.ZSKs[0].DNSKEY, Signer: ecdsa.KSKs[0].Signer}
	with := func(extra ...string) []dns.RR {
		rrs := slices.Clone(base)
		for _, s := range extra {
			rrs = append(rrs, mustRR(t, s))
		}
		return rrs
	}
	var noSOA []dns.RR
	for _, rr := range base {
		if rr.Header().Rrtype != dns.TypeSOA {
			noSOA = append(noSOA, rr)
		}
	}
	badPolicy := DefaultPolicy
	badPolicy.Refresh = 20 * 24 * time.Hour
	for _, tc := range []struct {
		name   string
		origin string
		rrs    []dns.RR
		keys   SigningKeys
		policy Policy
		want   string
	}{
		{"no SOA", ".", noSOA, ecdsa, DefaultPolicy, "no SOA"},
		{"two SOAs", ".", with(". 86400 IN SOA x. y. 2 1 1 1 1"), ecdsa, DefaultPolicy, "2 SOA records"},
		{"SOA below the apex", ".", with("com. 86400 IN SOA x. y. 2 1 1 1 1"), ecdsa, DefaultPolicy, "SOA at com."},
		{"outside the zone", "com.", with(), ecdsa, DefaultPolicy, "outside the zone"},
		{"DS at the apex", ".", with(". 86400 IN DS 1 13 2 AABB"), ecdsa, DefaultPolicy, "DS at the apex"},
		{"DS not at a delegation", ".", with("nodelegation. 86400 IN DS 1 13 2 AABB"), ecdsa, DefaultPolicy, "not a delegation"},
		{"TTLs differ", ".", with("com. 3600 IN NS ns3.nic.com."), ecdsa, DefaultPolicy, "TTLs differ"},
		{"meta type", ".", append(with(), &dns.ANY{Hdr: dns.RR_Header{Name: "com.", Rrtype: dns.TypeANY, Class: dns.ClassINET}}), ecdsa, DefaultPolicy, "cannot appear in a zone"},
		{"two classes", ".", with("com. 3600 CH TXT x"), ecdsa, DefaultPolicy, "class CH"},
		{"false wildcard", ".", with("*x.com. 3600 IN TXT x"), ecdsa, DefaultPolicy, "wildcard"},
		{"no KSK", ".", base, SigningKeys{ZSKs: ecdsa.ZSKs}, DefaultPolicy, "no KSK"},
		{"key without private half", ".", base, SigningKeys{KSKs: []*Key{{DNSKEY: ecdsa.KSKs[0].DNSKEY}}}, DefaultPolicy, "missing"},
		{"private half of another key", ".", base, SigningKeys{KSKs: ecdsa.KSKs, ZSKs: []*Key{mismatched}}, DefaultPolicy, "does not match"},
		{"algorithms differ", ".", base, SigningKeys{KSKs: ecdsa.KSKs, ZSKs: ed.ZSKs}, DefaultPolicy, "algorithms"},
		{"published key of a new algorithm", ".", base, SigningKeys{KSKs: ecdsa.KSKs, ZSKs: ecdsa.ZSKs, Published: []*dns.DNSKEY{ed.ZSKs[0].DNSKEY}}, DefaultPolicy, "not among"},
		{"refresh beyond validity", ".", base, ecdsa, badPolicy, "refresh"},
		{"zero policy", ".", base, ecdsa, Policy{}, "validity"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Sign(tc.origin, tc.rrs, tc.keys, tc.policy, testNow)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Sign: error %v, want one mentioning %q", err, tc.want)
			}
		})
	}
	if _, err := Sign(".", base, ecdsa, DefaultPolicy, time.Time{}); err == nil {
		t.Error("Sign at the zero time: no error")
	}
}

// TestVerifyDetects: Verify notices what a validator would reject.
func TestVerifyDetects(t *testing.T) {
	unsigned := testdata.ReadZone(t, "testdata/root-like.zone", ".")
	keys := keyPair(t, dns.ED25519)
	z, err := Sign(".", unsigned, keys, DefaultPolicy, testNow)
	if err != nil {
		t.Fatal(err)
	}
	other := keyPair(t, dns.ED25519)
	edit := func(f func(rr dns.RR) []dns.RR) *zone.Zone {
		var out []dns.RR
		for _, rr := range z.Records() {
			out = append(out, f(dns.Copy(rr))...)
		}
		z, err := zone.New(".", out)
		if err != nil {
			t.Fatal(err)
		}
		return z
	}
	is := func(rr dns.RR, name string, typ uint16) bool {
		return rr.Header().Name == name && rr.Header().Rrtype == typ
	}
	covers := func(rr dns.RR, name string, typ uint16) bool {
		sig, ok := rr.(*dns.RRSIG)
		return ok && sig.Hdr.Name == name && sig.TypeCovered == typ
	}
	for _, tc := range []struct {
		name string
		z    *zone.Zone
		now  time.Time
		want string
	}{
		{"expired", z, testNow.Add(14 * 24 * time.Hour), "not valid at"},
		{"not yet valid", z, testNow.Add(-2 * time.Hour), "not valid at"},
		{"changed data", edit(func(rr dns.RR) []dns.RR {
			if ds, ok := rr.(*dns.DS); ok && ds.Hdr.Name == "com." {
				ds.KeyTag++
			}
			return []dns.RR{rr}
		}), testNow, "com. DS: RRSIG by key"},
		{"missing signature", edit(func(rr dns.RR) []dns.RR {
			if covers(rr, "org.", dns.TypeNSEC) {
				return nil
			}
			return []dns.RR{rr}
		}), testNow, "org. NSEC: no valid signature"},
		{"signed delegation NS", edit(func(rr dns.RR) []dns.RR {
			if is(rr, "com.", dns.TypeNS) {
				sig := &dns.RRSIG{Algorithm: dns.ED25519, KeyTag: keys.ZSKs[0].Tag(), SignerName: ".", Inception: 0, Expiration: 1<<32 - 1}
				if err := sig.Sign(keys.ZSKs[0].Signer, z.RRset("com.", dns.TypeNS)); err != nil {
					t.Fatal(err)
				}
				return []dns.RR{rr, sig}
			}
			return []dns.RR{rr}
		}), testNow, "not authoritative"},
		{"missing NSEC", edit(func(rr dns.RR) []dns.RR {
			if is(rr, "org.", dns.TypeNSEC) || covers(rr, "org.", dns.TypeNSEC) {
				return nil
			}
			return []dns.RR{rr}
		}), testNow, "org.: no NSEC"},
		{"NSEC skips a name", edit(func(rr dns.RR) []dns.RR {
			if is(rr, "example.", dns.TypeNSEC) {
				rr.(*dns.NSEC).NextDomain = "test."
			}
			return []dns.RR{rr}
		}), testNow, "next name is test."},
		{"NSEC lists glue types at a delegation", edit(func(rr dns.RR) []dns.RR {
			if is(rr, "com.", dns.TypeNSEC) {
				rr.(*dns.NSEC).TypeBitMap = []uint16{dns.TypeA, dns.TypeNS, dns.TypeDS, dns.TypeRRSIG, dns.TypeNSEC}
			}
			return []dns.RR{rr}
		}), testNow, "NSEC types are A NS DS"},
		{"unknown key", edit(func(rr dns.RR) []dns.RR {
			if covers(rr, ".", dns.TypeSOA) {
				sig := rr.(*dns.RRSIG)
				sig.KeyTag = other.ZSKs[0].Tag()
				if err := sig.Sign(other.ZSKs[0].Signer, z.RRset(".", dns.TypeSOA)); err != nil {
					t.Fatal(err)
				}
			}
			return []dns.RR{rr}
		}), testNow, ". SOA: RRSIG by key"},
		{"ZONEMD mismatch", edit(func(rr dns.RR) []dns.RR {
			if is(rr, "ns1.nic.com.", dns.TypeA) {
				rr.(*dns.A).A[3]++ // glue: not signed, but digested
			}
			return []dns.RR{rr}
		}), testNow, "ZONEMD digest does not match"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Verify(tc.z, tc.now)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Verify: %v, want an error mentioning %q", err, tc.want)
			}
		})
	}
}

// unsignedRoot returns the real root zone's records without its DNSSEC
// records. Sign would drop them itself; the incremental tests edit this.
func unsignedRoot(t testing.TB) []dns.RR {
	var out []dns.RR
	for _, rr := range rootZone(t) {
		if !isDNSSECType(rr.Header().Rrtype) {
			out = append(out, rr)
		}
	}
	return out
}

// TestSignRootZone re-signs the real root zone (its own signatures
// stripped by Sign) with fresh ECDSA keys, and has every validator check it.
func TestSignRootZone(t *testing.T) {
	if testing.Short() {
		t.Skip("signs and validates the whole root zone")
	}
	all := rootZone(t)
	keys := keyPair(t, dns.ECDSAP256SHA256)
	now := time.Now()
	start := time.Now()
	z, err := Sign(".", all, keys, DefaultPolicy, now)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("signed the root zone (%d records in, %d out) in %v", len(all), len(z.Records()), time.Since(start).Round(time.Millisecond))
	start = time.Now()
	if err := Verify(z, now); err != nil {
		t.Fatal(err)
	}
	t.Logf("Verify: %v", time.Since(start).Round(time.Millisecond))
	// Verisign's signatures and keys are gone, ours are in.
	for _, rr := range z.RRset(".", dns.TypeDNSKEY) {
		if tag := rr.(*dns.DNSKEY).KeyTag(); tag != keys.KSKs[0].Tag() && tag != keys.ZSKs[0].Tag() {
			t.Errorf("DNSKEY %d is not one of ours", tag)
		}
	}
	counts := map[uint16]int{}
	for _, rr := range z.Records() {
		counts[rr.Header().Rrtype]++
	}
	// 1,479 TLDs + the apex in the NSEC chain; 1,376 of them have DS.
	t.Logf("records by type: %v", counts)
	if counts[dns.TypeNSEC] != 1480 {
		t.Errorf("%d NSEC records, want 1480 (the root zone's own count)", counts[dns.TypeNSEC])
	}
	validate(t, z)
}

// rrsigDiff lists the RRsets whose signatures differ between two versions.
func rrsigDiff(a, b *zone.Zone) []string {
	sigs := func(z *zone.Zone) map[string]string {
		m := map[string]string{}
		for _, rr := range z.Records() {
			if sig, ok := rr.(*dns.RRSIG); ok {
				m[sig.Hdr.Name+" "+dns.Type(sig.TypeCovered).String()] += sig.Signature
			}
		}
		return m
	}
	sa, sb := sigs(a), sigs(b)
	var out []string
	for k, v := range sb {
		if sa[k] != v {
			out = append(out, k)
		}
	}
	for k := range sa {
		if _, ok := sb[k]; !ok {
			out = append(out, k+" (gone)")
		}
	}
	slices.Sort(out)
	return out
}

// bumpSerial returns the records with the SOA serial increased.
func bumpSerial(rrs []dns.RR) []dns.RR {
	out := make([]dns.RR, len(rrs))
	for i, rr := range rrs {
		if soa, ok := rr.(*dns.SOA); ok {
			c := dns.Copy(soa).(*dns.SOA)
			c.Serial++
			rr = c
		}
		out[i] = rr
	}
	return out
}

// TestSignerUpdate changes one TLD of the real root zone at a time and
// checks that only what the change touches is signed again.
func TestSignerUpdate(t *testing.T) {
	base := unsignedRoot(t)
	keys := keyPair(t, dns.ECDSAP256SHA256)
	s := NewSigner(".", DefaultPolicy)
	now := testNow
	z0, st, err := s.Update(base, keys, now)
	if err != nil {
		t.Fatal(err)
	}
	total := st.Signed
	if st.Reused != 0 || total < 2800 {
		t.Fatalf("first version: %+v, want every signature made", st)
	}

	step := func(t *testing.T, rrs []dns.RR, keys SigningKeys, now time.Time) (*zone.Zone, Stats) {
		t.Helper()
		start := time.Now()
		z, st, err := s.Update(rrs, keys, now)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("update: %+v in %v", st, time.Since(start).Round(time.Millisecond))
		if err := Verify(z, now); err != nil {
			t.Fatal(err)
		}
		if st.Signed+st.Reused != countSigs(z) {
			t.Errorf("signed %d + reused %d != %d RRSIGs in the zone", st.Signed, st.Reused, countSigs(z))
		}
		return z, st
	}

	// Nothing changed: nothing is signed, the zone is the same.
	z1, st := step(t, base, keys, now.Add(time.Hour))
	if st.Signed != 0 || zoneText(z1) != zoneText(z0) {
		t.Errorf("unchanged zone: %+v, or the zone changed", st)
	}

	// One TLD's DS changes: its DS, the SOA and the ZONEMD are re-signed.
	v1 := bumpSerial(base)
	for i, rr := range v1 {
		if ds, ok := rr.(*dns.DS); ok && ds.Hdr.Name == "se." {
			c := dns.Copy(ds).(*dns.DS)
			c.Digest = strings.Repeat("AB", 32)
			v1[i] = c
		}
	}
	z2, st := step(t, v1, keys, now.Add(2*time.Hour))
	if got, want := rrsigDiff(z1, z2), sorted(". SOA", ". ZONEMD", "se. DS"); !slices.Equal(got, want) {
		t.Errorf("DS change re-signed %v, want %v", got, want)
	}
	if st.Signed != 3 {
		t.Errorf("DS change: %d signatures made, want 3", st.Signed)
	}

	// A TLD gets its first DS: its NSEC bitmap changes too.
	v2 := bumpSerial(v1)
	var noDS string
	for _, n := range z2.Names() {
		if n != "." && len(z2.RRset(n, dns.TypeNS)) > 0 && len(z2.RRset(n, dns.TypeDS)) == 0 && len(z2.RRset(n, dns.TypeNSEC)) == 1 {
			noDS = n
			break
		}
	}
	if noDS == "" {
		t.Fatal("no TLD without DS in the root zone")
	}
	v2 = append(v2, mustRR(t, noDS+" 86400 IN DS 4242 13 2 "+strings.Repeat("CD", 32)))
	z3, st := step(t, v2, keys, now.Add(3*time.Hour))
	if got, want := rrsigDiff(z2, z3), sorted(". SOA", ". ZONEMD", noDS+" DS", noDS+" NSEC"); !slices.Equal(got, want) {
		t.Errorf("new DS re-signed %v, want %v", got, want)
	}

	// A new TLD: its DS and NSEC, and the NSEC of the name before it.
	v3 := bumpSerial(v2)
	v3 = append(v3,
		mustRR(t, "zzzz-steward. 172800 IN NS ns1.zzzz-steward."),
		mustRR(t, "ns1.zzzz-steward. 172800 IN A 192.0.2.99"),
		mustRR(t, "zzzz-steward. 86400 IN DS 4242 13 2 "+strings.Repeat("EF", 32)))
	z4, st := step(t, v3, keys, now.Add(4*time.Hour))
	var prev string // the NSEC owner before the new TLD
	for _, n := range z4.Names() {
		if nsec := z4.RRset(n, dns.TypeNSEC); len(nsec) == 1 && nsec[0].(*dns.NSEC).NextDomain == "zzzz-steward." {
			prev = n
		}
	}
	if got, want := rrsigDiff(z3, z4), sorted(". SOA", ". ZONEMD", prev+" NSEC", "zzzz-steward. DS", "zzzz-steward. NSEC"); !slices.Equal(got, want) {
		t.Errorf("new TLD re-signed %v, want %v", got, want)
	}
	if st.Signed != 5 {
		t.Errorf("new TLD: %d signatures made, want 5", st.Signed)
	}

	// A TLD goes: the NSEC before it changes, its signatures go.
	v4 := bumpSerial(v3)
	v4 = slices.DeleteFunc(v4, func(rr dns.RR) bool { return dns.IsSubDomain("zzzz-steward.", rr.Header().Name) })
	z5, _ := step(t, v4, keys, now.Add(5*time.Hour))
	if got, want := rrsigDiff(z4, z5), sorted(". SOA", ". ZONEMD", prev+" NSEC", "zzzz-steward. DS (gone)", "zzzz-steward. NSEC (gone)"); !slices.Equal(got, want) {
		t.Errorf("removed TLD re-signed %v, want %v", got, want)
	}

	// A ZSK is pre-published: the DNSKEY RRset changes, nothing else.
	next := newKey(t, dns.ECDSAP256SHA256, false)
	pre := keys
	pre.Published = []*dns.DNSKEY{next.DNSKEY}
	z6, _ := step(t, v4, pre, now.Add(6*time.Hour))
	if got, want := rrsigDiff(z5, z6), sorted(". DNSKEY", ". ZONEMD"); !slices.Equal(got, want) {
		t.Errorf("pre-published ZSK re-signed %v, want %v", got, want)
	}

	// The new ZSK takes over: everything is signed again.
	rolled := SigningKeys{KSKs: keys.KSKs, ZSKs: []*Key{next}, Published: []*dns.DNSKEY{keys.ZSKs[0].DNSKEY}}
	_, st = step(t, v4, rolled, now.Add(7*time.Hour))
	if st.Reused != 1 { // the DNSKEY RRset, which the KSK signs, is unchanged
		t.Errorf("ZSK rollover: %+v, want every signature but the KSK's made", st)
	}

	// Nine days on, nothing changed, but every signature has less than
	// five days left.
	_, st = step(t, v4, rolled, now.Add(9*24*time.Hour))
	if st.Reused != 1 {
		t.Errorf("refresh: %+v, want everything but the DNSKEY RRSIG (15 days) signed again", st)
	}

	// An error leaves the Signer as it was.
	if _, _, err := s.Update(v4[1:], rolled, now.Add(9*24*time.Hour)); err == nil {
		t.Fatal("Update without the SOA: no error")
	}
	_, st = step(t, v4, rolled, now.Add(9*24*time.Hour+time.Minute))
	if st.Signed != 0 {
		t.Errorf("after a failed Update: %+v, want everything reused", st)
	}
}

func sorted(s ...string) []string {
	slices.Sort(s)
	return s
}

func countSigs(z *zone.Zone) int {
	n := 0
	for _, name := range z.Names() {
		n += len(z.RRset(name, dns.TypeRRSIG))
	}
	return n
}

// TestSignerUpdateValidates: an incrementally signed root zone passes the
// validators too.
func TestSignerUpdateValidates(t *testing.T) {
	if testing.Short() {
		t.Skip("signs and validates the whole root zone")
	}
	base := unsignedRoot(t)
	keys := keyPair(t, dns.ECDSAP256SHA256)
	s := NewSigner(".", DefaultPolicy)
	now := time.Now()
	if _, _, err := s.Update(base, keys, now.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	v1 := bumpSerial(base)
	v1 = slices.DeleteFunc(v1, func(rr dns.RR) bool { return rr.Header().Name == "se." && rr.Header().Rrtype == dns.TypeDS })
	z, st, err := s.Update(v1, keys, now)
	if err != nil {
		t.Fatal(err)
	}
	if st.Signed > 10 {
		t.Errorf("dropping one DS: %+v", st)
	}
	validate(t, z)
}

// TestCanonicalOrder: the package's sort keys order names as zone.Compare
// and RFC 4034 §6.1 do.
func TestCanonicalOrder(t *testing.T) {
	// RFC 4034 §6.1's example, in order.
	want := []string{"example.", "a.example.", "yljkjljk.a.example.", "z.a.example.", "zabc.a.example.", "z.example.", `\001.z.example.`, `*.z.example.`, `\200.z.example.`}
	names := slices.Clone(want)
	slices.Reverse(names)
	keys := map[string]string{}
	for _, n := range names {
		c, err := canonicalName(n)
		if err != nil {
			t.Fatal(err)
		}
		if keys[n], err = sortKey(c); err != nil {
			t.Fatal(err)
		}
	}
	slices.SortFunc(names, func(a, b string) int { return strings.Compare(keys[a], keys[b]) })
	if !slices.Equal(names, want) {
		t.Errorf("order %v, want %v", names, want)
	}
	for i := 1; i < len(want); i++ {
		if zone.Compare(want[i-1], want[i]) >= 0 {
			t.Errorf("zone.Compare(%s, %s) >= 0", want[i-1], want[i])
		}
	}
	// The fast paths for plain names agree with the wire-form ones.
	for _, n := range []string{".", "com.", "a.b-c.d_e.*.xn--p1ai.", strings.Repeat("a", 63) + ".", strings.Repeat("abcdefg.", 31)} {
		if !isPlainCanonical(n) {
			t.Errorf("%s is not plain", n)
		}
		c, err1 := canonicalNameWire(n)
		k, err2 := sortKey(n)
		kw, err3 := sortKeyWire(n)
		if err1 != nil || err2 != nil || err3 != nil || c != n || k != kw {
			t.Errorf("%s: canonical %q, key %q, wire key %q (%v %v %v)", n, c, k, kw, err1, err2, err3)
		}
	}
	for _, n := range []string{"", "a", "A.", "a..b.", ".a.", `a\.b.`, strings.Repeat("a", 64) + ".", strings.Repeat("abcdefg.", 32)} {
		if isPlainCanonical(n) {
			t.Errorf("%q is plain", n)
		}
	}
	for _, pair := range [][2]string{{"A.Example.", "a.example."}, {`\065.example.`, "a.example."}, {`\.a.example.`, `\046a.example.`}} {
		a, _ := canonicalName(pair[0])
		b, _ := canonicalName(pair[1])
		if a != b {
			t.Errorf("canonicalName(%s) = %s, canonicalName(%s) = %s, want equal", pair[0], a, pair[1], b)
		}
	}
}

func BenchmarkSignRootZone(b *testing.B) {
	all := unsignedRoot(b)
	keys := keyPair(b, dns.ECDSAP256SHA256)
	for b.Loop() {
		if _, err := Sign(".", all, keys, DefaultPolicy, testNow); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUpdateOneTLD(b *testing.B) {
	base := unsignedRoot(b)
	keys := keyPair(b, dns.ECDSAP256SHA256)
	s := NewSigner(".", DefaultPolicy)
	if _, _, err := s.Update(base, keys, testNow); err != nil {
		b.Fatal(err)
	}
	i := 0
	for b.Loop() {
		i++
		v := bumpSerial(base)
		v = append(v, mustRR(b, fmt.Sprintf("se. 86400 IN DS %d 13 2 %s", i%65536, strings.Repeat("AB", 32))))
		if _, _, err := s.Update(v, keys, testNow.Add(time.Duration(i)*time.Second)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyRootZone(b *testing.B) {
	z, err := Sign(".", unsignedRoot(b), keyPair(b, dns.ECDSAP256SHA256), DefaultPolicy, testNow)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if err := Verify(z, testNow); err != nil {
			b.Fatal(err)
		}
	}
}

// Sign a tiny root-like zone and print its NSEC chain and what is signed.
func ExampleSign() {
	rrs := []dns.RR{}
	for _, s := range []string{
		". 86400 IN SOA a.root-servers.test. nstld.example.org. 2024010100 1800 900 604800 86400",
		". 518400 IN NS a.root-servers.test.",
		"test. 172800 IN NS a.root-servers.test.",
		"a.root-servers.test. 172800 IN A 192.0.2.53",
		"example. 172800 IN NS ns.test.",
		"example. 86400 IN DS 12345 15 2 6C3A1D1B0C1CF1C4F3B8E0A4A9D63E7AB0DFD0F1B4E7A0C6D5B4A3B2C1D0E9F8",
	} {
		rr, err := dns.NewRR(s)
		if err != nil {
			panic(err)
		}
		rrs = append(rrs, rr)
	}
	z, err := Sign(".", rrs, fuzzKeys(), DefaultPolicy, time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		panic(err)
	}
	for _, name := range z.Names() {
		var signed []string
		for _, sig := range z.RRset(name, dns.TypeRRSIG) {
			signed = append(signed, dns.Type(sig.(*dns.RRSIG).TypeCovered).String())
		}
		if nsec := z.RRset(name, dns.TypeNSEC); len(nsec) == 1 {
			fmt.Printf("%-8s next %-8s types %-35s signed %v\n", name, nsec[0].(*dns.NSEC).NextDomain, typeList(nsec[0].(*dns.NSEC).TypeBitMap), signed)
		} else {
			fmt.Printf("%-8s (below a zone cut: no NSEC, signed %v)\n", name, signed)
		}
	}
	fmt.Println(VerifyZONEMD(z))
	// Output:
	// .        next example. types NS SOA RRSIG NSEC DNSKEY ZONEMD     signed [NS SOA NSEC DNSKEY ZONEMD]
	// example. next test.    types NS DS RRSIG NSEC                    signed [DS NSEC]
	// test.    next .        types NS RRSIG NSEC                       signed [NSEC]
	// a.root-servers.test. (below a zone cut: no NSEC, signed [])
	// <nil>
}
