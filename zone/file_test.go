package zone

import (
	"bytes"
	"strings"
	"testing"

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

// FuzzLoad: any input gives a zone or an error, never a panic; a zone
// loaded is written and read back to the same number of records.
func FuzzLoad(f *testing.F) {
	f.Add(sample)
	f.Add(". 86400 IN SOA a. b. 1 2 3 4 5\n")
	f.Add("$ORIGIN example.\n@ 3600 IN SOA a b 1 2 3 4 5\nwww 60 IN A 192.0.2.1\n")
	f.Add(". 86400 IN SOA a. b. 1 2 3 4 5\n( broken\n")
	f.Add(". 86400 IN SOA a. b. 1 2 3 4 5\n\\000.x. 60 IN TXT \"a\\\"b\"\n")
	f.Fuzz(func(t *testing.T, text string) {
		z, err := Load(strings.NewReader(text), "fuzz.zone", ".")
		if err != nil {
			return
		}
		var b bytes.Buffer
		if err := z.Write(&b); err != nil {
			t.Fatal(err)
		}
		z2, err := Load(&b, "fuzz2.zone", ".")
		if err != nil {
			t.Fatalf("written zone does not load: %v\n%s", err, b.String())
		}
		if len(z2.Records()) != len(z.Records()) {
			t.Fatalf("%d records, written and read back %d", len(z.Records()), len(z2.Records()))
		}
	})
}
