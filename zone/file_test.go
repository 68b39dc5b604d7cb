package zone

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

const sample = `$TTL 3600
.	86400	IN	SOA	a.root-servers.net. nstld.verisign-grs.com. 2024010100 1800 900 604800 86400
.	518400	IN	NS	a.root-servers.net.
example.	172800	IN	NS	ns1.example.
example.	86400	IN	DS	12345 13 2 ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789
ns1.example.	172800	IN	A	192.0.2.1
ns1.example.	172800	IN	AAAA	2001:db8::1
`

// TestLoadWrite reads a zone file, writes it back and reads that again:
// the same records.
func TestLoadWrite(t *testing.T) {
	z, err := Load(strings.NewReader(sample), "sample.zone", ".")
	if err != nil {
		t.Fatal(err)
	}
	if z.Origin != "." || z.Serial != 2024010100 || len(z.Names()) != 3 {
		t.Fatalf("origin %s serial %d names %v", z.Origin, z.Serial, z.Names())
	}
	var b bytes.Buffer
	if err := z.Write(&b); err != nil {
		t.Fatal(err)
	}
	z2, err := Load(&b, "written.zone", ".")
	if err != nil {
		t.Fatal(err)
	}
	a, c := z.Records(), z2.Records()
	if len(a) != len(c) || len(a) != 6 {
		t.Fatalf("%d records, then %d", len(a), len(c))
	}
	for i := range a {
		if !dns.IsDuplicate(a[i], c[i]) || a[i].Header().Ttl != c[i].Header().Ttl {
			t.Errorf("record %d: %v, then %v", i, a[i], c[i])
		}
	}
}

func TestLoadErrors(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{sample + "bad.example. 3600 IN A 1.2.3\n", "line: 8"},
		{sample + "$INCLUDE /etc/passwd\n", "line: 8"},
		{". 3600 IN NS a.\n", "no SOA"},
		{sample + "other. 86400 IN SOA a. b. 1 2 3 4 5\n", "SOA"},
		{sample + "x.example. 3600 IN TYPE65534 \\# 2 0\n", "line: 8"},
		{sample + "x.example. 3600 IN NS\n", "x.example. NS has no data"},
	} {
		_, err := Load(strings.NewReader(tc.text), "bad.zone", ".")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want an error with %q", tc.text[max(0, len(tc.text)-40):], err, tc.want)
		}
	}
}

// sameZone reports how two zones differ, or "".
func sameZone(a, b *Zone) string {
	ra, rb := a.Records(), b.Records()
	if len(ra) != len(rb) {
		return fmt.Sprintf("%d records, %d records", len(ra), len(rb))
	}
	for i := range ra {
		if ra[i].String() != rb[i].String() {
			return fmt.Sprintf("record %d: %s, %s", i, ra[i], rb[i])
		}
	}
	return ""
}

// loadBoth loads text with Load (which reads one-record-per-line files
// itself) and with miekg/dns's zone parser: both must fail, or give the
// same zone.
func loadBoth(t *testing.T, text string) *Zone {
	t.Helper()
	fast, err1 := Load(strings.NewReader(text), "a.zone", ".")
	slow, err2 := loadParsed(strings.NewReader(text), "a.zone", ".")
	if (err1 == nil) != (err2 == nil) {
		t.Fatalf("Load: %v; the zone parser: %v\n%q", err1, err2, text)
	}
	if err1 != nil {
		return nil
	}
	if d := sameZone(fast, slow); d != "" {
		t.Fatalf("Load and the zone parser differ: %s\n%q", d, text)
	}
	return fast
}

// TestLoadSimple: a signed zone as Write writes it is read by the fast
// reader (no dns.RR per record) into the same zone as the zone parser
// gives, and so are lines it must hand over: unknown types, odd spellings.
func TestLoadSimple(t *testing.T) {
	signed := sample + `.	86400	IN	NSEC	example. NS SOA RRSIG NSEC DNSKEY ZONEMD
.	86400	IN	RRSIG	SOA 13 0 86400 20240201000000 20240101000000 12345 . dGVzdHNpZ25hdHVyZXRlc3RzaWduYXR1cmV0ZXN0c2lnbmF0dXJldGVzdHNpZ24=
.	86400	IN	DNSKEY	257 3 13 mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ==
.	86400	IN	ZONEMD	2024010100 1 1 ` + strings.Repeat("AB", 48) + `
example.	86400	IN	NSEC	. NS DS RRSIG NSEC
example.	86400	IN	RRSIG	DS 13 1 86400 20240201000000 20240101000000 12345 . dGVzdHNpZ25hdHVyZXRlc3RzaWduYXR1cmV0ZXN0c2lnbmF0dXJldGVzdHNpZ24=
UPPER.example.	3600	IN	A	192.0.2.7
upper.example.	3600	IN	NS	NS.Other.
x.example.	3600	IN	TXT	hello
y.example.	3600	IN	AAAA	::ffff:192.0.2.1
y.example.	3600	IN	A	1.2.3.4
z.example.	3600	IN	NSEC	a.z.example. A NS
`
	z := loadBoth(t, signed)
	if z == nil || z.Len() != 18 {
		t.Fatalf("zone of %d records, want 18", z.Len())
	}
	noTTL := strings.TrimPrefix(signed, "$TTL 3600\n")
	if _, err := loadSimple(strings.NewReader(noTTL), "a.zone"); err != nil {
		t.Errorf("the fast reader gave up: %v", err)
	}
}

// FuzzLoad: any input gives a zone or an error, never a panic; the fast
// reader and the zone parser agree; a zone loaded is written and read back
// to the same records.
func FuzzLoad(f *testing.F) {
	f.Add(sample)
	f.Add(". 86400 IN SOA a. b. 1 2 3 4 5\n")
	f.Add("$ORIGIN example.\n@ 3600 IN SOA a b 1 2 3 4 5\nwww 60 IN A 192.0.2.1\n")
	f.Add(". 86400 IN SOA a. b. 1 2 3 4 5\n( broken\n")
	f.Add(". 86400 IN SOA a. b. 1 2 3 4 5\n\\000.x. 60 IN TXT \"a\\\"b\"\n")
	f.Add(".\t86400\tIN\tSOA\ta. b. 1 2 3 4 5\nx.\t60\tIN\tNSEC\ty. A NS\nx.\t60\tIN\tRRSIG\tA 13 1 60 20240201000000 20240101000000 1 . AAAA\nx.\t60\tIN\tDS\t1 13 2 ABCD\n")
	f.Fuzz(func(t *testing.T, text string) {
		z := loadBoth(t, text)
		if z == nil {
			return
		}
		var b bytes.Buffer
		if err := z.Write(&b); err != nil {
			t.Fatal(err)
		}
		z2, err := Load(bytes.NewReader(b.Bytes()), "fuzz2.zone", ".")
		if err != nil {
			t.Fatalf("written zone does not load: %v\n%s", err, b.String())
		}
		if d := sameZone(z, z2); d != "" {
			t.Fatalf("written and read back: %s", d)
		}
	})
}

// TestBuilderBadRdata: RDATA given to AddRdata that does not unpack as its
// type's comes back in RFC 3597's generic form, not as a panic.
func TestBuilderBadRdata(t *testing.T) {
	b := NewBuilder("example.")
	if err := b.Add(&dns.SOA{Hdr: dns.RR_Header{Name: "example.", Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: 60}, Ns: "a.example.", Mbox: "b.example."}); err != nil {
		t.Fatal(err)
	}
	if err := b.AddRdata("x.example.", dns.TypeA, dns.ClassINET, 60, []byte{1, 2}); err != nil {
		t.Fatal(err)
	}
	z, err := b.Zone()
	if err != nil {
		t.Fatal(err)
	}
	rrs := z.RRset("X.example.", dns.TypeA)
	if len(rrs) != 1 {
		t.Fatalf("%v", rrs)
	}
	if u, ok := rrs[0].(*dns.RFC3597); !ok || u.Rdata != "0102" {
		t.Errorf("%#v, want RFC 3597 with 0102", rrs[0])
	}
}

// TestRRSIGTime: the RRSIG time reader agrees with time.Parse.
func TestRRSIGTime(t *testing.T) {
	for _, s := range []string{"20240101000000", "20240229235959", "20230229000000", "21000229000000",
		"20000229000000", "20241301000000", "20240100000000", "20240431000000", "20240101240000",
		"20240101006000", "20240101000060", "19700101000000", "19691231235959", "20380119031407",
		"20380119031408", "2024010100000", "2024010100000a", "99991231235959"} {
		got, ok := rrsigTime([]byte(s))
		tm, err := time.Parse("20060102150405", s)
		want := err == nil && tm.Unix() >= 0 && tm.Unix() < 1<<31
		if ok != want || (ok && int64(got) != tm.Unix()) {
			t.Errorf("%s: %d %v, time.Parse %v %v", s, got, ok, tm.Unix(), err)
		}
	}
}
