package checks

import (
	"bytes"
	"context"
	"net/netip"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"steward"
)

func TestJudgeAddr(t *testing.T) {
	for _, c := range []struct {
		addr                 string
		loopback, private    bool
		allowed, global      bool
		category, entryMatch string
	}{
		{addr: "8.8.8.8", allowed: true, global: true},
		{addr: "2001:4860:4860::8888", allowed: true, global: true},
		{addr: "192.0.0.9", allowed: true, global: true, entryMatch: "Port Control"}, // more specific than 192.0.0.0/24
		{addr: "192.0.0.100", entryMatch: "IETF Protocol Assignments"},               // not globally reachable
		{addr: "2001:4:112::1", allowed: true, global: true, entryMatch: "AS112"},    // inside 2001::/23, but global
		{addr: "2001:1::5", entryMatch: "IETF Protocol Assignments"},                 // 2001::/23, not the anycast /128s
		{addr: "10.1.2.3", entryMatch: "Private-Use"},
		{addr: "10.1.2.3", private: true, allowed: true, entryMatch: "Private-Use"},
		{addr: "100.64.0.1", private: true, allowed: true, entryMatch: "Shared Address Space"},
		{addr: "127.0.0.2", entryMatch: "Loopback"},
		{addr: "127.0.0.2", loopback: true, allowed: true, entryMatch: "Loopback"},
		{addr: "127.0.0.2", private: true, entryMatch: "Loopback"},
		{addr: "::1", loopback: true, allowed: true, entryMatch: "Loopback"},
		{addr: "fd00::53", private: true, allowed: true, entryMatch: "Unique-Local"},
		{addr: "fe80::1", loopback: true, private: true, entryMatch: "Link-Local"},
		{addr: "169.254.1.1", loopback: true, private: true, entryMatch: "Link Local"},
		{addr: "192.0.2.1", loopback: true, private: true, entryMatch: "Documentation"},
		{addr: "2001:db8::1", entryMatch: "Documentation"},
		{addr: "3fff::1", entryMatch: "Documentation"},
		{addr: "224.0.0.1", entryMatch: "Multicast"},
		{addr: "ff02::1", entryMatch: "Multicast"},
		{addr: "0.0.0.0", entryMatch: "This host"},
		{addr: "255.255.255.255", entryMatch: "Limited Broadcast"},
		{addr: "240.0.0.1", entryMatch: "Reserved"},
		{addr: "2002::1", entryMatch: "6to4"},
		{addr: "::ffff:8.8.8.8", allowed: true, global: true}, // unmapped first
	} {
		v := judgeAddr(netip.MustParseAddr(c.addr), Options{AllowLoopback: c.loopback, AllowPrivate: c.private})
		if v.allowed != c.allowed || v.global != c.global || !strings.Contains(v.entry.name, c.entryMatch) {
			t.Errorf("%s (loopback %v, private %v): allowed %v global %v entry %q; want %v %v %q",
				c.addr, c.loopback, c.private, v.allowed, v.global, v.entry.name, c.allowed, c.global, c.entryMatch)
		}
	}
}

func TestLongestName(t *testing.T) {
	for _, zone := range []string{"example.", "a.b.example.", "xn--p1ai.", strings.Repeat("z", 63) + "."} {
		name := longestName(zone)
		if !dns.IsSubDomain(zone, name) {
			t.Errorf("%s is not under %s", name, zone)
		}
		n, ok := dns.IsDomainName(name)
		if !ok {
			t.Errorf("%q is not a domain name", name)
		}
		m := new(dns.Msg)
		m.SetQuestion(name, dns.TypeA)
		b, err := m.Pack()
		if err != nil {
			t.Fatal(err)
		}
		if wire := len(b) - 12 - 4; wire < 254 || wire > 255 {
			t.Errorf("%s: %d labels, %d octets in wire format; want 254 or 255", zone, n, wire)
		}
	}
}

func TestParentOf(t *testing.T) {
	for in, want := range map[string]string{"org.": ".", "example.org.": "org.", "a.b.c.": "b.c."} {
		if got := parentOf(in); got != want {
			t.Errorf("parentOf(%s) = %s, want %s", in, got, want)
		}
	}
}

func TestParse(t *testing.T) {
	ns, err := ParseNameServer("NS1.Example.ORG=192.0.2.1, 2001:DB8::1")
	if err != nil || ns.Name != "ns1.example.org." || len(ns.Addrs) != 2 || ns.Addrs[1].String() != "2001:db8::1" {
		t.Errorf("ParseNameServer: %+v, %v", ns, err)
	}
	for _, bad := range []string{"", "=192.0.2.1", "ns1..example=192.0.2.1", "ns1.example.org=192.0.2", "ns1.example.org=fe80::1%eth0", "-ns.example=192.0.2.1", "ns one.example"} {
		if _, err := ParseNameServer(bad); steward.ErrorCode(err) != steward.EINVALID {
			t.Errorf("ParseNameServer(%q): %v, want an invalid error", bad, err)
		}
	}
	digest := strings.Repeat("ab", 32)
	want := steward.DS{KeyTag: 12345, Algorithm: 13, DigestType: 2, Digest: strings.ToUpper(digest)}
	for _, s := range []string{
		"12345 13 2 " + digest,
		"12345 13 2 " + digest[:20] + " " + digest[20:],
		"example.org. 3600 IN DS 12345 13 2 " + digest,
		"example.org. IN DS 12345 ECDSAP256SHA256 2 " + digest,
	} {
		ds, err := ParseDS("example.org", s)
		if err != nil || ds != want {
			t.Errorf("ParseDS(%q) = %+v, %v", s, ds, err)
		}
	}
	for _, bad := range []string{"", "12345 13 2", "12345 13 2 xyz", "70000 13 2 " + digest, "12345 13 2 " + digest[:10],
		"other.org. 3600 IN DS 12345 13 2 " + digest, "example.org. 3600 IN A 192.0.2.1 DS"} {
		if _, err := ParseDS("example.org", bad); steward.ErrorCode(err) != steward.EINVALID {
			t.Errorf("ParseDS(%q): %v, want an invalid error", bad, err)
		}
	}
}

func TestNormalize(t *testing.T) {
	a := netip.MustParseAddr
	d, err := Delegation{Zone: "Example.ORG", NS: []NameServer{
		{Name: "NS2.example.org", Addrs: []netip.Addr{a("::ffff:192.0.2.2"), a("192.0.2.2")}},
		{Name: "ns1.example.org.", Addrs: []netip.Addr{a("2001:db8::1"), a("192.0.2.1")}},
	}, DS: []steward.DS{{KeyTag: 1, Algorithm: 13, DigestType: 2, Digest: strings.Repeat("ab", 32)}}}.Normalize()
	if err != nil {
		t.Fatal(err)
	}
	if d.Zone != "example.org." || d.NS[0].Name != "ns1.example.org." || d.NS[0].Addrs[0] != a("192.0.2.1") ||
		len(d.NS[1].Addrs) != 1 || d.DS[0].Digest != strings.Repeat("AB", 32) {
		t.Errorf("Normalize: %+v", d)
	}
	many := Delegation{Zone: "example.org"}
	for i := range MaxNameServers + 1 {
		many.NS = append(many.NS, NameServer{Name: strings.Repeat("n", i+1) + ".example.org"})
	}
	for name, bad := range map[string]Delegation{
		"no zone":      {NS: []NameServer{{Name: "ns1.example.org"}}},
		"root":         {Zone: ".", NS: []NameServer{{Name: "ns1.example.org"}}},
		"no ns":        {Zone: "example.org"},
		"bad host":     {Zone: "example.org", NS: []NameServer{{Name: "ns_1 .example.org"}}},
		"twice":        {Zone: "example.org", NS: []NameServer{{Name: "ns1.example.org"}, {Name: "NS1.example.org."}}},
		"zoned addr":   {Zone: "example.org", NS: []NameServer{{Name: "ns1.example.org", Addrs: []netip.Addr{a("fe80::1%eth0")}}}},
		"invalid addr": {Zone: "example.org", NS: []NameServer{{Name: "ns1.example.org", Addrs: []netip.Addr{{}}}}},
		"short digest": {Zone: "example.org", NS: []NameServer{{Name: "ns1.example.org"}}, DS: []steward.DS{{KeyTag: 1, Algorithm: 13, DigestType: 2, Digest: "abcd"}}},
		"too many":     many,
	} {
		if _, err := bad.Normalize(); steward.ErrorCode(err) != steward.EINVALID {
			t.Errorf("%s: %v, want an invalid error", name, err)
		}
		rep := Run(context.Background(), bad, Options{})
		if len(rep.Results) != 1 || rep.Results[0].Case != "BASIC00" || rep.Worst() != ERROR {
			t.Errorf("%s: Run gave %+v, want one BASIC00 error", name, rep.Results)
		}
	}
}

func TestFromTLD(t *testing.T) {
	d := FromTLD(steward.TLD{Name: "example", NS: []string{"a.nic.example.", "ns.other.net."},
		Glue: []steward.Glue{{Name: "a.nic.example.", Addrs: []string{"192.0.2.1", "2001:db8::1"}}},
		DS:   []steward.DS{{KeyTag: 7, Algorithm: 13, DigestType: 2, Digest: strings.Repeat("AB", 32)}}})
	if d.Zone != "example" || len(d.NS) != 2 || len(d.NS[0].Addrs) != 2 || len(d.NS[1].Addrs) != 0 || len(d.DS) != 1 {
		t.Errorf("FromTLD: %+v", d)
	}
}

func TestWriteText(t *testing.T) {
	rep := &Report{Zone: "example.", Results: []Result{
		{Case: "DELEGATION01", Tag: "ENOUGH_NS_DEL", Level: OK, Message: "fine", Evidence: []string{"hidden"}},
		{Case: "CONNECTIVITY01", Tag: "CN01_NO_RESPONSE_UDP", Level: ERROR, Message: "broken", Evidence: []string{"shown"}},
	}}
	var b bytes.Buffer
	if err := rep.WriteText(&b, false); err != nil {
		t.Fatal(err)
	}
	if out := b.String(); !strings.Contains(out, "1 errors") || !strings.Contains(out, "| shown") || strings.Contains(out, "hidden") {
		t.Errorf("WriteText:\n%s", out)
	}
}

// TestCatalog checks that every case the analysis can report is in the
// catalog, with its module.
func TestCatalog(t *testing.T) {
	for _, c := range Catalog() {
		if !strings.HasPrefix(c.ID, c.Module) || c.Title == "" {
			t.Errorf("catalog entry %+v", c)
		}
	}
	if _, ok := LookupCase("dnssec02"); !ok {
		t.Error("LookupCase is not case-insensitive")
	}
}
