package dnssec

import (
	"crypto/ed25519"
	"encoding/base64"
	"os"
	"steward/internal/testdata"
	"strings"
	"sync"
	"testing"

	"github.com/miekg/dns"

	"steward/zone"
)

// maxFuzzRecords bounds the zones the fuzzers build.
const maxFuzzRecords = 300

// fuzzKeys are fixed Ed25519 keys (fast, and deterministic signatures).
var fuzzKeys = sync.OnceValue(func() SigningKeys {
	key := func(seed byte, flags uint16) *Key {
		priv := ed25519.NewKeyFromSeed([]byte(strings.Repeat(string(rune(seed)), ed25519.SeedSize)))
		d := &dns.DNSKEY{
			Hdr:       dns.RR_Header{Name: ".", Rrtype: dns.TypeDNSKEY, Class: dns.ClassINET, Ttl: 3600},
			Flags:     flags,
			Protocol:  3,
			Algorithm: dns.ED25519,
			PublicKey: base64.StdEncoding.EncodeToString(priv.Public().(ed25519.PublicKey)),
		}
		return &Key{DNSKEY: d, Signer: priv}
	}
	return SigningKeys{
		KSKs: []*Key{key('k', dns.ZONE|dns.SEP)},
		ZSKs: []*Key{key('z', dns.ZONE)},
	}
})

// parseFuzz reads up to maxFuzzRecords records of zone text, stopping at
// the first error.
func parseFuzz(text string) []dns.RR {
	zp := dns.NewZoneParser(strings.NewReader(text), ".", "fuzz")
	var rrs []dns.RR
	for rr, ok := zp.Next(); ok && len(rrs) < maxFuzzRecords; rr, ok = zp.Next() {
		rrs = append(rrs, rr)
	}
	return rrs
}

func fuzzSeeds(f *testing.F) {
	small, err := os.ReadFile("testdata/root-like.zone")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(small))
	soa := ". 3600 IN SOA a. b. 1 1 1 1 1\n. 3600 IN NS a.test.\n"
	for _, s := range []string{
		soa,
		soa + "test. 3600 IN NS a.test.\na.test. 3600 IN A 192.0.2.1\ntest. 3600 IN DS 1 13 2 AABB\n",
		soa + "*.test. 3600 IN TXT wild\nb.*.test. 3600 IN TXT below\n",
		soa + "d. 3600 IN DNAME x.\nq.d. 3600 IN A 192.0.2.2\n",
		soa + `\000.a. 3600 IN TXT x` + "\n" + `a\000. 3600 IN TXT y` + "\n" + `A. 3600 IN TXT z` + "\n",
		soa + "a.b.c.d. 3600 IN TYPE65534 \\# 2 0102\nc.d. 3600 IN NS x.\n",
		soa + "x. 3600 IN TXT a\nx. 7200 IN TXT b\n",
		soa + ". 3600 IN DS 1 1 1 00\nq. 3600 IN CNAME r.\n",
	} {
		f.Add(s)
	}
}

// FuzzSign signs malformed and odd zones. Sign must never panic, and every
// zone it returns must pass Verify and VerifyZONEMD, with owner names in
// the same canonical order as the package's own.
func FuzzSign(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, text string) {
		rrs := parseFuzz(text)
		z, err := Sign(".", rrs, fuzzKeys(), DefaultPolicy, testNow)
		if err != nil {
			return
		}
		if err := Verify(z, testNow); err != nil {
			t.Fatalf("Sign made a zone that does not verify: %v\n%s", err, zoneText(z))
		}
		names := z.Names()
		for _, n := range names {
			fast, err1 := sortKey(n)
			wire, err2 := sortKeyWire(n)
			if c, err := canonicalNameWire(n); err != nil || c != n || err1 != nil || err2 != nil || fast != wire {
				t.Fatalf("owner %q: canonical form %q, sort keys %q and %q", n, c, fast, wire)
			}
		}
		for i := 1; i < len(names); i++ {
			a, errA := sortKey(names[i-1])
			b, errB := sortKey(names[i])
			if errA != nil || errB != nil || a >= b {
				t.Fatalf("zone order %q before %q disagrees with the canonical order", names[i-1], names[i])
			}
		}
	})
}

// FuzzVerify checks arbitrary zones, signed or not: Verify, VerifyZONEMD
// and Digest must never panic.
func FuzzVerify(f *testing.F) {
	fuzzSeeds(f)
	signed, err := Sign(".", testdata.ReadZone(f, "testdata/root-like.zone", "."), fuzzKeys(), DefaultPolicy, testNow)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(zoneText(signed))
	f.Fuzz(func(t *testing.T, text string) {
		z, err := zone.New(".", parseFuzz(text))
		if err != nil {
			return
		}
		_ = Verify(z, testNow)
		_ = VerifyZONEMD(z)
		_, _ = Digest(z, dns.ZoneMDSchemeSimple, dns.ZoneMDHashAlgSHA384)
	})
}

// FuzzCanonicalOrder checks, for any two names, that canonicalName is
// idempotent, that the fast and wire-form paths agree, and that the sort
// keys order names as zone.Compare does.
func FuzzCanonicalOrder(f *testing.F) {
	for _, pair := range [][2]string{{"a.example.", "B.example."}, {`\000.a.`, `a\000.`}, {`\.a.`, `*.a.`}, {"xn--p1ai.", "."}, {`\200.z.`, `\001.z.`}, {"a-b.c", "A_B.C."}} {
		f.Add(pair[0], pair[1])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		ca, errA := canonicalName(a)
		cb, errB := canonicalName(b)
		if errA != nil || errB != nil {
			return
		}
		keys := make([]string, 2)
		for i, c := range []string{ca, cb} {
			again, err := canonicalNameWire(c)
			fast, err1 := sortKey(c)
			wire, err2 := sortKeyWire(c)
			if err != nil || again != c || err1 != nil || err2 != nil || fast != wire {
				t.Fatalf("%q: canonical %q then %q (%v), sort keys %q and %q (%v, %v)", c, c, again, err, fast, wire, err1, err2)
			}
			keys[i] = fast
		}
		if got, want := strings.Compare(keys[0], keys[1]), zone.Compare(ca, cb); got != want {
			t.Fatalf("order of %q and %q: sort keys say %d, zone.Compare %d", ca, cb, got, want)
		}
	})
}
