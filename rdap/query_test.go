package rdap

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParseDomainName(t *testing.T) {
	for in, want := range map[string]string{
		"org": "org", "ORG.": "org", "рф": "xn--p1ai", "XN--P1AI": "xn--p1ai", "ns1.Nic.Example.": "ns1.nic.example",
		"_dmarc.example": "_dmarc.example", "bücher.example": "xn--bcher-kva.example",
	} {
		if got, err := ParseDomainName(in); err != nil || got != want {
			t.Errorf("ParseDomainName(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", ".", "a..b", "-a", "a-", "a b", "a/b", strings.Repeat("a", 64), strings.Repeat("a.", 130) + "a", "\xff", "xn--"} {
		if got, err := ParseDomainName(in); !isStatus(err, 400) {
			t.Errorf("ParseDomainName(%q) = %q, %v; want a 400", in, got, err)
		}
	}
}

func TestParseIPQuery(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.1": "192.0.2.1/32", "192.0.2.77/24": "192.0.2.0/24", "2001:db8::1": "2001:db8::1/128",
		"2001:db8::/32": "2001:db8::/32", "::ffff:192.0.2.1": "192.0.2.1/32", "0.0.0.0/0": "0.0.0.0/0",
	} {
		if got, err := ParseIPQuery(in); err != nil || got.String() != want {
			t.Errorf("ParseIPQuery(%q) = %v, %v; want %s", in, got, err, want)
		}
	}
	for _, in := range []string{"", "192.0.2", "192.0.2.1/33", "2001:db8::/129", "192.0.2.1/", "192.0.2.1/08", "192.0.2.1/a", "fe80::1%eth0", "1.2.3.4/8/8", "300.1.1.1"} {
		if got, err := ParseIPQuery(in); !isStatus(err, 400) {
			t.Errorf("ParseIPQuery(%q) = %v, %v; want a 400", in, got, err)
		}
	}
}

func TestParseAutnum(t *testing.T) {
	for in, want := range map[string]uint32{"0": 0, "64496": 64496, "AS64496": 64496, "4294967295": 4294967295} {
		if got, err := ParseAutnum(in); err != nil || got != want {
			t.Errorf("ParseAutnum(%q) = %d, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "AS", "-1", "4294967296", "1.5", "0x10", "99999999999", " 1"} {
		if _, err := ParseAutnum(in); !isStatus(err, 400) {
			t.Errorf("ParseAutnum(%q): %v; want a 400", in, err)
		}
	}
}

func TestPatterns(t *testing.T) {
	for in, want := range map[string]Pattern{
		"ex*": {"ex", true}, "Ex*": {"ex", true}, "org": {"org", false}, "рф": {"xn--p1ai", false}, "ns1.nic.*": {"ns1.nic.", true},
	} {
		if got, err := ParseNamePattern("name", in); err != nil || got != want {
			t.Errorf("ParseNamePattern(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for in, status := range map[string]int{"*": 422, "a*b": 422, "*.org": 422, "**": 422, "ф*": 422, "a b*": 400, "": 400, ".a*": 400} {
		if _, err := ParseNamePattern("name", in); !isStatus(err, status) {
			t.Errorf("ParseNamePattern(%q): %v; want %d", in, err, status)
		}
	}
	if p, err := ParseTextPattern("fn", "Jane D*"); err != nil || p != (Pattern{"jane d", true}) {
		t.Errorf("ParseTextPattern: %v %v", p, err)
	}
	for in, status := range map[string]int{"*": 422, "a*b*": 422, "\x01*": 400} {
		if _, err := ParseTextPattern("fn", in); !isStatus(err, status) {
			t.Errorf("ParseTextPattern(%q): %v; want %d", in, err, status)
		}
	}
}

func TestPrefixes(t *testing.T) {
	a := func(s string) netip.Addr { return netip.MustParseAddr(s) }
	for _, c := range []struct{ start, end, want string }{
		{"192.0.2.0", "192.0.2.255", "[192.0.2.0/24]"},
		{"10.0.0.0", "10.0.2.255", "[10.0.0.0/23 10.0.2.0/24]"},
		{"0.0.0.0", "255.255.255.255", "[0.0.0.0/0]"},
		{"2001:db8::", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", "[2001:db8::/32]"},
	} {
		if got := Prefixes(a(c.start), a(c.end)); fmtPrefixes(got) != c.want {
			t.Errorf("Prefixes(%s, %s) = %v, want %s", c.start, c.end, got, c.want)
		}
	}
}

func fmtPrefixes(ps []netip.Prefix) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	return "[" + strings.Join(s, " ") + "]"
}

func isStatus(err error, status int) bool {
	var qe *QueryError
	return errors.As(err, &qe) && qe.Status == status && qe.Message != "" && utf8.ValidString(qe.Message)
}

// The fuzz targets check that no input makes a parser panic, that every
// refusal is a 400 or 422 query error, and that what is accepted is
// normalized: parsing it again gives the same.
func FuzzParseDomainName(f *testing.F) {
	for _, s := range []string{"org", "рф", "XN--P1AI.", "a..b", "_x.y", "\xff", strings.Repeat("a.", 200)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseDomainName(s)
		if err != nil {
			if !isStatus(err, 400) {
				t.Fatalf("%q: %v", s, err)
			}
			return
		}
		if again, err := ParseDomainName(n); err != nil || again != n {
			t.Fatalf("%q → %q → %q, %v", s, n, again, err)
		}
	})
}

func FuzzParseIPQuery(f *testing.F) {
	for _, s := range []string{"192.0.2.1", "192.0.2.0/24", "2001:db8::/32", "::ffff:1.2.3.4/96", "1.2.3.4/", "fe80::1%x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParseIPQuery(s)
		if err != nil {
			if !isStatus(err, 400) {
				t.Fatalf("%q: %v", s, err)
			}
			return
		}
		if again, err := ParseIPQuery(p.String()); err != nil || again != p {
			t.Fatalf("%q → %v → %v, %v", s, p, again, err)
		}
		if l := lastAddr(p); l.Less(p.Addr()) || !p.Contains(l) {
			t.Fatalf("%v: last address %v", p, l)
		}
	})
}

func FuzzParseAutnum(f *testing.F) {
	for _, s := range []string{"0", "AS1", "4294967295", "4294967296", "-1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if _, err := ParseAutnum(s); err != nil && !isStatus(err, 400) {
			t.Fatalf("%q: %v", s, err)
		}
	})
}

func FuzzSearchPattern(f *testing.F) {
	for _, s := range []string{"ex*", "*", "a*b", "рф", "ns1.*", "Jane*", "\x00*"} {
		f.Add(s)
	}
	names := []string{"ex", "exam", "example", "org", "xn--p1ai"}
	f.Fuzz(func(t *testing.T, s string) {
		for _, parse := range []func(string, string) (Pattern, error){ParseNamePattern, ParseTextPattern} {
			p, err := parse("name", s)
			if err != nil {
				if !isStatus(err, 400) && !isStatus(err, 422) {
					t.Fatalf("%q: %v", s, err)
				}
				continue
			}
			if p.Partial && len(p.Prefix) < MinPrefix {
				t.Fatalf("%q: pattern %v would scan everything", s, p)
			}
			got, _ := prefixSearch(names, p, 2)
			if len(got) > 2 {
				t.Fatalf("%q: %d results past the limit", s, len(got))
			}
			for _, n := range got {
				if !p.Match(n) {
					t.Fatalf("%q: %s does not match", s, n)
				}
			}
		}
	})
}
