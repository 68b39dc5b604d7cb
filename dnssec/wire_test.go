package dnssec

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"steward/internal/testdata"
	"steward/zone"
)

// TestUpdateZoneSameAsUpdate: signing a zone version by its wire form
// (UpdateZone) gives byte for byte the zone Update gives from its records,
// with Ed25519 (deterministic signatures), for the small root-like zone,
// the real root zone and a zone of odd records: names in upper case and
// escaped in owners and RDATA, every type whose RDATA names canonical form
// lowers, duplicates, a wildcard, a DNAME, glue. SignZoneTo writes the
// text Write writes of that zone.
func TestUpdateZoneSameAsUpdate(t *testing.T) {
	odd := []dns.RR{}
	for _, s := range []string{
		"example. 3600 IN SOA NS1.Example. Host\\.Master.EXAMPLE. 1 7200 3600 1209600 300",
		"example. 3600 IN NS NS1.EXAMPLE.",
		"example. 3600 IN NS ns2.Other.TEST.",
		"example. 3600 IN MX 10 Mail.EXAMPLE.",
		"example. 3600 IN TXT \"Hello\" \"World\"",
		"Example. 3600 IN TXT \"Hello\" \"World\"",
		"NS1.example. 3600 IN A 192.0.2.1",
		"\\065.example. 3600 IN AAAA 2001:db8::1",
		"a.example. 3600 IN AAAA 2001:db8::2",
		"_sip._tcp.example. 3600 IN SRV 0 5 5060 SIP.Example.",
		"www.example. 3600 IN CNAME A.EXAMPLE.",
		"ptr.example. 3600 IN PTR Host.EXAMPLE.",
		"rp.example. 3600 IN RP Mbox.EXAMPLE. TXT.Example.",
		"afs.example. 3600 IN AFSDB 1 AFS.Example.",
		"kx.example. 3600 IN KX 10 KX.Example.",
		"naptr.example. 3600 IN NAPTR 100 10 \"S\" \"SIP+D2U\" \"\" _SIP._UDP.EXAMPLE.",
		"dname.example. 3600 IN DNAME Target.EXAMPLE.",
		"below.dname.example. 3600 IN A 192.0.2.9",
		"*.wild.example. 3600 IN A 192.0.2.3",
		"sub.example. 3600 IN NS ns.SUB.example.",
		"sub.example. 3600 IN DS 12345 13 2 " + strings.Repeat("AB", 32),
		"ns.sub.example. 3600 IN A 192.0.2.4",
		"hinfo.example. 3600 IN HINFO \"PC\" \"Linux\"",
		"example. 3600 IN RRSIG SOA 13 1 3600 20300101000000 20200101000000 1 example. AAAA",
		"x.example. 3600 IN TYPE65280 \\# 3 010203",
	} {
		odd = append(odd, mustRR(t, s))
	}
	keys := keyPair(t, dns.ED25519)
	for _, tc := range []struct {
		name, origin string
		rrs          []dns.RR
	}{
		{"root-like", ".", testdata.ReadZone(t, "testdata/root-like.zone", ".")},
		{"root", ".", unsignedRoot(t)},
		{"odd", "example.", odd},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, _, err := NewSigner(tc.origin, DefaultPolicy).Update(tc.rrs, keys, testNow)
			if err != nil {
				t.Fatal(err)
			}
			uz, err := zone.New(tc.origin, tc.rrs)
			if err != nil {
				t.Fatal(err)
			}
			b, _, err := NewSigner(tc.origin, DefaultPolicy).UpdateZone(uz, keys, testNow)
			if err != nil {
				t.Fatal(err)
			}
			if ta, tb := zoneText(a), zoneText(b); ta != tb {
				t.Errorf("UpdateZone differs from Update:\n%s\n---\n%s", firstDiff(ta, tb), firstDiff(tb, ta))
			}
			if err := Verify(b, testNow.Add(time.Hour)); err != nil {
				t.Error(err)
			}
			// SignZoneTo writes what SignZone and Write write.
			var want, got bytes.Buffer
			if err := b.Write(&want); err != nil {
				t.Fatal(err)
			}
			if _, err := SignZoneTo(&got, uz, keys, DefaultPolicy, testNow); err != nil {
				t.Fatal(err)
			}
			if want.String() != got.String() {
				t.Errorf("SignZoneTo differs from Write:\n%s\n---\n%s", firstDiff(got.String(), want.String()), firstDiff(want.String(), got.String()))
			}
		})
	}
}

func firstDiff(a, b string) string {
	la, lb := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range la {
		if i >= len(lb) || la[i] != lb[i] {
			return la[i]
		}
	}
	return ""
}

// TestUpdateZoneErrors: UpdateZone refuses what Update refuses.
func TestUpdateZoneErrors(t *testing.T) {
	keys := keyPair(t, dns.ED25519)
	for name, rrs := range map[string][]string{
		"DS at apex":   {". 86400 IN SOA a. b. 1 2 3 4 5", ". 3600 IN DS 1 13 2 " + strings.Repeat("ab", 32)},
		"TTLs differ":  {". 86400 IN SOA a. b. 1 2 3 4 5", "x. 3600 IN NS a.x.", "x. 3601 IN NS b.x."},
		"bad wildcard": {". 86400 IN SOA a. b. 1 2 3 4 5", "*a.x. 3600 IN A 192.0.2.1"},
		"class":        {". 86400 IN SOA a. b. 1 2 3 4 5", "x. 3600 CH TXT \"a\""},
	} {
		var in []dns.RR
		for _, s := range rrs {
			in = append(in, mustRR(t, s))
		}
		_, _, err1 := NewSigner(".", DefaultPolicy).Update(in, keys, testNow)
		z, err := zone.New(".", in)
		if err != nil {
			t.Fatal(err)
		}
		_, _, err2 := NewSigner(".", DefaultPolicy).UpdateZone(z, keys, testNow)
		if err1 == nil || err2 == nil {
			t.Errorf("%s: Update: %v, UpdateZone: %v", name, err1, err2)
		}
	}
}
