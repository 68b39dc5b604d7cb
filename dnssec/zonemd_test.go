package dnssec

import (
	"bytes"
	"encoding/hex"
	"errors"
	"steward/internal/testdata"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"steward/zone"
)

var vectors = testdata.Shared("dnssec-vectors") + "/"

// loadZone parses a zone file into a zone version.
func loadZone(t *testing.T, path, origin string) *zone.Zone {
	t.Helper()
	z, err := zone.New(origin, testdata.ReadZone(t, path, origin))
	if err != nil {
		t.Fatal(err)
	}
	return z
}

// TestZONEMDVectors recomputes the digests of RFC 8976's own examples and
// compares them with the ZONEMD records in the files.
func TestZONEMDVectors(t *testing.T) {
	for _, tc := range []struct {
		file string
		// The implemented hash algorithms among the file's ZONEMD records.
		algs []uint8
	}{
		{"rfc8976-a1-simple.zone", []uint8{dns.ZoneMDHashAlgSHA384}},
		// A.3 also has a private scheme (241) and a private hash
		// algorithm (240), which VerifyZONEMD must skip.
		{"rfc8976-a3-multiple-digests.unbound.zone", []uint8{dns.ZoneMDHashAlgSHA384, dns.ZoneMDHashAlgSHA512}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			z := loadZone(t, vectors+tc.file, "example.")
			if err := VerifyZONEMD(z); err != nil {
				t.Fatal(err)
			}
			for _, alg := range tc.algs {
				got, err := Digest(z, dns.ZoneMDSchemeSimple, alg)
				if err != nil {
					t.Fatal(err)
				}
				if want := zonemdDigest(t, z, alg); hex.EncodeToString(got) != want {
					t.Errorf("hash algorithm %d: digest %x, want %s", alg, got, want)
				}
			}
		})
	}
}

// zonemdDigest returns the digest of the file's ZONEMD record of the
// SIMPLE scheme with the hash algorithm.
func zonemdDigest(t *testing.T, z *zone.Zone, alg uint8) string {
	for _, rr := range z.RRset(z.Origin, dns.TypeZONEMD) {
		if md := rr.(*dns.ZONEMD); md.Scheme == dns.ZoneMDSchemeSimple && md.Hash == alg {
			return strings.ToLower(md.Digest)
		}
	}
	t.Fatalf("no ZONEMD with hash algorithm %d", alg)
	return ""
}

// TestVerifyZONEMDFails: tampering, a wrong serial, or no usable record
// make VerifyZONEMD fail with the documented errors.
func TestVerifyZONEMDFails(t *testing.T) {
	rrs := testdata.ReadZone(t, vectors+"rfc8976-a1-simple.zone", "example.")
	edit := func(f func(rr dns.RR) dns.RR) *zone.Zone {
		var out []dns.RR
		for _, rr := range rrs {
			if rr = f(dns.Copy(rr)); rr != nil {
				out = append(out, rr)
			}
		}
		z, err := zone.New("example.", out)
		if err != nil {
			t.Fatal(err)
		}
		return z
	}
	for _, tc := range []struct {
		name string
		z    *zone.Zone
		want error
	}{
		{"changed glue", edit(func(rr dns.RR) dns.RR {
			if a, ok := rr.(*dns.A); ok {
				a.A[3] = 64
			}
			return rr
		}), ErrZONEMDMismatch},
		{"changed TTL", edit(func(rr dns.RR) dns.RR {
			if rr.Header().Rrtype == dns.TypeAAAA {
				rr.Header().Ttl++
			}
			return rr
		}), ErrZONEMDMismatch},
		{"serial differs from the SOA", edit(func(rr dns.RR) dns.RR {
			if soa, ok := rr.(*dns.SOA); ok {
				soa.Serial++
			}
			return rr
		}), ErrZONEMDUnsupported},
		{"private hash algorithm only", edit(func(rr dns.RR) dns.RR {
			if md, ok := rr.(*dns.ZONEMD); ok {
				md.Hash = 240
			}
			return rr
		}), ErrZONEMDUnsupported},
		{"no ZONEMD", edit(func(rr dns.RR) dns.RR {
			if rr.Header().Rrtype == dns.TypeZONEMD {
				return nil
			}
			return rr
		}), ErrNoZONEMD},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := VerifyZONEMD(tc.z); !errors.Is(err, tc.want) {
				t.Errorf("VerifyZONEMD: %v, want %v", err, tc.want)
			}
		})
	}

	// Case and duplicates do not change the digest (RFC 8976 §3.3.1,
	// RFC 4034 §6.2); neither do names written with escapes.
	same := edit(func(rr dns.RR) dns.RR {
		if ns, ok := rr.(*dns.NS); ok {
			ns.Ns = strings.ToUpper(ns.Ns)
		}
		if a, ok := rr.(*dns.A); ok {
			a.Hdr.Name = `\110s1.EXAMPLE.`
		}
		return rr
	})
	if err := VerifyZONEMD(same); err != nil {
		t.Errorf("upper case and escapes: %v", err)
	}
	dup := append(testdata.ReadZone(t, vectors+"rfc8976-a1-simple.zone", "example."), mustRR(t, "ns2.example. 3600 IN AAAA 2001:db8::63"))
	z, err := zone.New("example.", dup)
	if err != nil {
		t.Fatal(err)
	}
	if err := VerifyZONEMD(z); err != nil {
		t.Errorf("duplicate record: %v", err)
	}

	twice := append(testdata.ReadZone(t, vectors+"rfc8976-a1-simple.zone", "example."), mustRR(t, "example. 86400 IN ZONEMD 2018031900 1 1 "+strings.Repeat("00", 48)))
	if z, err := zone.New("example.", twice); err != nil {
		t.Fatal(err)
	} else if err := VerifyZONEMD(z); err == nil || !strings.Contains(err.Error(), "two ZONEMD records") {
		t.Errorf("two SHA-384 ZONEMD records: %v, want an error", err)
	}

	if _, err := Digest(z, 241, dns.ZoneMDHashAlgSHA384); err == nil {
		t.Error("Digest with a private scheme: no error")
	}
}

// TestSignedZONEMD: the ZONEMD that Sign adds covers the signed zone
// (RRSIGs and NSEC included) but not itself and its signature, so it still
// matches when those change, and not when a signature changes.
func TestSignedZONEMD(t *testing.T) {
	z, err := Sign(".", testdata.ReadZone(t, "testdata/root-like.zone", "."), keyPair(t, dns.ED25519), DefaultPolicy, testNow)
	if err != nil {
		t.Fatal(err)
	}
	md := z.RRset(".", dns.TypeZONEMD)
	if len(md) != 1 {
		t.Fatalf("%d apex ZONEMD records, want 1", len(md))
	}
	if m := md[0].(*dns.ZONEMD); m.Serial != z.Serial || m.Scheme != 1 || m.Hash != 1 || len(m.Digest) != 96 {
		t.Errorf("ZONEMD %s, want serial %d, SIMPLE, SHA-384", m, z.Serial)
	}
	edit := func(f func(rr dns.RR) dns.RR) *zone.Zone {
		var out []dns.RR
		for _, rr := range z.Records() {
			out = append(out, f(dns.Copy(rr)))
		}
		z, err := zone.New(".", out)
		if err != nil {
			t.Fatal(err)
		}
		return z
	}
	ownSig := edit(func(rr dns.RR) dns.RR {
		if sig, ok := rr.(*dns.RRSIG); ok && sig.TypeCovered == dns.TypeZONEMD {
			sig.Signature = "AAAA" + sig.Signature[4:]
		}
		return rr
	})
	if err := VerifyZONEMD(ownSig); err != nil {
		t.Errorf("the ZONEMD's own RRSIG is digested: %v", err)
	}
	otherSig := edit(func(rr dns.RR) dns.RR {
		if sig, ok := rr.(*dns.RRSIG); ok && sig.TypeCovered == dns.TypeNSEC && sig.Hdr.Name == "com." {
			sig.Signature = "AAAA" + sig.Signature[4:]
		}
		return rr
	})
	if err := VerifyZONEMD(otherSig); !errors.Is(err, ErrZONEMDMismatch) {
		t.Errorf("an NSEC RRSIG is not digested: %v", err)
	}
}

// TestDigestStreaming checks the one-pass digest over a zone's wire
// records against the digest of the zone read back into owners, on the
// real root zone, a signed root zone, a
// patched version, and a zone with upper case, duplicates and names in
// RDATA to lower.
func TestDigestStreaming(t *testing.T) {
	root, err := zone.New(".", rootZone(t))
	if err != nil {
		t.Fatal(err)
	}
	keys := keyPair(t, dns.ECDSAP256SHA256)
	signed, _, err := SignZone(root, keys, DefaultPolicy, testNow)
	if err != nil {
		t.Fatal(err)
	}
	patched, err := signed.Patch([]zone.Change{{Name: "zz-new.", Records: []dns.RR{mustParse(t, "zz-new. 172800 IN NS NS1.Example.COM.")}}, {Name: "org."}})
	if err != nil {
		t.Fatal(err)
	}
	odd, err := zone.New("example.", []dns.RR{
		mustParse(t, "example. 3600 IN SOA NS.Example. HostMaster.EXAMPLE. 1 2 3 4 5"),
		mustParse(t, "example. 3600 IN NS ns.example."),
		mustParse(t, "example. 3600 IN NS NS.example."),
		mustParse(t, "Mail.Example. 3600 IN MX 10 MX.Example."),
		mustParse(t, "www.example. 300 IN A 192.0.2.2"),
		mustParse(t, "www.example. 300 IN A 192.0.2.1"),
		mustParse(t, "srv._tcp.example. 300 IN SRV 1 2 3 Target.Example."),
		mustParse(t, "n.example. 300 IN NAPTR 100 10 \"u\" \"E2U+sip\" \"!^.*$!sip:x@example!\" Repl.Example."),
		mustParse(t, "example. 3600 IN ZONEMD 1 1 1 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f"),
	})
	if err != nil {
		t.Fatal(err)
	}
	for name, z := range map[string]*zone.Zone{"root": root, "signed": signed, "patched": patched, "odd": odd} {
		owners, err := ownersFromZone(z)
		if err != nil {
			t.Fatal(err)
		}
		want, err := digestOwners(owners, dns.ZoneMDHashAlgSHA384)
		if err != nil {
			t.Fatal(err)
		}
		got, err := digestZone(z, dns.ZoneMDHashAlgSHA384)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: streaming digest %x, want %x", name, got[:8], want[:8])
		}
	}
}

func mustParse(t *testing.T, s string) dns.RR {
	t.Helper()
	rr, err := dns.NewRR(s)
	if err != nil {
		t.Fatal(err)
	}
	return rr
}
