package dnsserver

import (
	"fmt"
	"net/netip"
	"testing"

	"github.com/miekg/dns"

	"steward/zone"
)

// applyUnsigned is an UpdatePolicy.Apply for an unsigned zone: the
// changes and the next serial.
func applyUnsigned(cur *zone.Zone, changes []zone.Change) (*zone.Zone, error) {
	return cur.PatchSerial(changes, cur.Serial+1)
}

// TestUpdate sends DNS UPDATE requests over UDP and TCP and checks RFC
// 2136's prerequisites and operations, and that a refused request changes
// nothing.
func TestUpdate(t *testing.T) {
	key := TSIGKey{Name: "upd.", Secret: "dXBkYXRlLWtleS1zZWNyZXQtZm9yLXRoZS10ZXN0cw=="}
	ex := loadZone(t, "example.zone", "example.")
	cfg := Config{TSIG: []TSIGKey{key}, Update: map[string]UpdatePolicy{
		"example.": {Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, Keys: []string{"upd."}, Apply: applyUnsigned},
	}}
	s, addr := startServer(t, cfg, ex)
	send := func(tcp bool, signed bool, build func(m *dns.Msg)) int {
		t.Helper()
		m := new(dns.Msg)
		m.SetUpdate("example.")
		build(m)
		c := &dns.Client{TsigSecret: map[string]string{key.Name: key.Secret}}
		if tcp {
			c.Net = "tcp"
		}
		if signed {
			m.SetTsig(key.Name, dns.HmacSHA256, 300, 0)
		}
		r, _, err := c.Exchange(m, addr)
		if err != nil {
			t.Fatalf("update: %v", err)
		}
		if r.Opcode != dns.OpcodeUpdate || signed && r.IsTsig() == nil {
			t.Fatalf("response opcode %d, signed %v", r.Opcode, r.IsTsig() != nil)
		}
		return r.Rcode
	}
	rrs := func(ss ...string) []dns.RR {
		var out []dns.RR
		for _, s := range ss {
			out = append(out, mustRR(t, s))
		}
		return out
	}
	serial := func() uint32 { return s.Zone("example.").Serial }
	start := serial()

	for _, tc := range []struct {
		name  string
		build func(m *dns.Msg)
		key   bool
		rcode int
	}{
		{"unsigned", func(m *dns.Msg) { m.Insert(rrs("new.example. 300 IN A 192.0.2.1")) }, false, dns.RcodeRefused},
		{"name in use: no", func(m *dns.Msg) {
			m.NameUsed(rrs("nothing.example. 0 IN A 0.0.0.0"))
			m.Insert(rrs("new.example. 300 IN A 192.0.2.1"))
		}, true, dns.RcodeNameError},
		{"name not in use: it is", func(m *dns.Msg) {
			m.NameNotUsed(rrs("mail.example. 0 IN A 0.0.0.0"))
			m.Insert(rrs("new.example. 300 IN A 192.0.2.1"))
		}, true, dns.RcodeYXDomain},
		{"RRset exists: no", func(m *dns.Msg) {
			m.RRsetUsed(rrs("mail.example. 0 IN AAAA ::"))
			m.Insert(rrs("new.example. 300 IN A 192.0.2.1"))
		}, true, dns.RcodeNXRrset},
		{"RRset does not exist: it does", func(m *dns.Msg) {
			m.RRsetNotUsed(rrs("mail.example. 0 IN A 0.0.0.0"))
			m.Insert(rrs("new.example. 300 IN A 192.0.2.1"))
		}, true, dns.RcodeYXRrset},
		{"RRset has these records: no", func(m *dns.Msg) {
			m.Used(rrs("mail.example. 0 IN A 192.0.2.99"))
			m.Insert(rrs("new.example. 300 IN A 192.0.2.1"))
		}, true, dns.RcodeNXRrset},
		{"outside the zone", func(m *dns.Msg) { m.Insert(rrs("www.other. 300 IN A 192.0.2.1")) }, true, dns.RcodeNotZone},
		{"at the apex", func(m *dns.Msg) { m.Insert(rrs("example. 300 IN TXT apex")) }, true, dns.RcodeRefused},
		{"a signer's record", func(m *dns.Msg) { m.Insert(rrs("mail.example. 300 IN NSEC ns.example. A")) }, true, dns.RcodeRefused},
		{"the second change is bad", func(m *dns.Msg) {
			m.Insert(rrs("new.example. 300 IN A 192.0.2.1", "www.other. 300 IN A 192.0.2.1"))
		}, true, dns.RcodeNotZone},
	} {
		for _, tcp := range []bool{false, true} {
			if got := send(tcp, tc.key, tc.build); got != tc.rcode {
				t.Errorf("%s (tcp %v): rcode %s, want %s", tc.name, tcp, dns.RcodeToString[got], dns.RcodeToString[tc.rcode])
			}
		}
	}
	if serial() != start || s.Zone("example.").HasName("new.example.") {
		t.Fatalf("refused updates changed the zone: serial %d", serial())
	}

	// Accepted: prerequisites that hold, an RR added, an RR deleted, an
	// RRset deleted, a name deleted, all in one request.
	rc := send(false, true, func(m *dns.Msg) {
		m.Used(rrs("mail.example. 0 IN A 192.0.2.25"))
		m.NameNotUsed(rrs("new.example. 0 IN A 0.0.0.0"))
		m.Insert(rrs("new.example. 300 IN A 192.0.2.1", "new.example. 300 IN A 192.0.2.2", "mail.example. 3600 IN A 192.0.2.26"))
		m.Remove(rrs("mail.example. 3600 IN A 192.0.2.25", "new.example. 300 IN A 192.0.2.2"))
		m.RemoveRRset(rrs("alias.example. 0 IN CNAME x.example."))
		m.RemoveName(rrs("dangling.example. 0 IN A 0.0.0.0"))
	})
	if rc != dns.RcodeSuccess {
		t.Fatalf("update: %s", dns.RcodeToString[rc])
	}
	z := s.Zone("example.")
	if z.Serial != start+1 {
		t.Errorf("serial %d, want %d", z.Serial, start+1)
	}
	for name, want := range map[string]string{
		"new.example.":      "[new.example.\t300\tIN\tA\t192.0.2.1]",
		"mail.example.":     "[mail.example.\t3600\tIN\tA\t192.0.2.26]",
		"alias.example.":    "[]",
		"dangling.example.": "[]",
	} {
		typ := dns.TypeA
		if name == "alias.example." || name == "dangling.example." {
			typ = dns.TypeCNAME
		}
		if got := fmt.Sprint(z.RRset(name, typ)); got != want {
			t.Errorf("%s: %s, want %s", name, got, want)
		}
	}
	if r := exchange(t, addr, ask{name: "new.example.", qtype: dns.TypeA}); len(r.Answer) != 1 {
		t.Errorf("new.example. not served: %v", r)
	}
	// RFC 2136 §3.4.2.2: a CNAME beside other data, and other data
	// beside a CNAME, are ignored; a second CNAME replaces the first.
	before := serial()
	if rc := send(false, true, func(m *dns.Msg) {
		m.Insert(rrs("mail.example. 300 IN CNAME elsewhere.example.", "sub2.example. 300 IN CNAME a.example."))
		m.Insert(rrs("sub2.example. 300 IN A 192.0.2.9", "sub2.example. 300 IN CNAME b.example."))
	}); rc != dns.RcodeSuccess {
		t.Fatalf("CNAME update: %s", dns.RcodeToString[rc])
	}
	z = s.Zone("example.")
	if got := fmt.Sprint(z.RRset("sub2.example.", dns.TypeCNAME), z.RRset("sub2.example.", dns.TypeA), z.RRset("mail.example.", dns.TypeCNAME)); got != "[sub2.example.\t300\tIN\tCNAME\tb.example.] [] []" || z.Serial != before+1 {
		t.Errorf("after the CNAME update: %s, serial %d", got, z.Serial)
	}

	// An update that changes nothing makes no version.
	if rc := send(true, true, func(m *dns.Msg) { m.Insert(rrs("new.example. 300 IN A 192.0.2.1")) }); rc != dns.RcodeSuccess || serial() != before+1 {
		t.Errorf("a no-op update: %s, serial %d", dns.RcodeToString[rc], serial())
	}
}
