package checks

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"steward"
	"steward/dnssec"
)

// fuzzDelegation is the delegation the fuzz targets analyse answers for.
func fuzzDelegation() Delegation {
	return Delegation{Zone: "example.test.", NS: []NameServer{
		{Name: "ns1.example.test.", Addrs: []netip.Addr{netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("2001:db8::1")}},
		{Name: "ns2.example.test.", Addrs: []netip.Addr{netip.MustParseAddr("198.51.100.1")}},
		{Name: "ns.other.example.", Addrs: []netip.Addr{netip.MustParseAddr("203.0.113.1")}},
	}, DS: []steward.DS{{KeyTag: 1, Algorithm: 13, DigestType: 2, Digest: strings.Repeat("AB", 32)}}}
}

// fuzzObservations pretends every server gave msgs[i%len(msgs)] to its
// i-th question: the analysis sees whatever the fuzzer made.
func fuzzObservations(d Delegation, msgs []*dns.Msg) *observations {
	obs := &observations{ex: map[probeKey]*exchange{}, resolved: map[string]string{}}
	for _, s := range serverList(d, Options{}) {
		// Documentation addresses are never queried; pretend they were.
		s.verdict.allowed = true
		obs.servers = append(obs.servers, s)
	}
	n := 0
	for i := range obs.servers {
		for netw, qs := range questions(d) {
			for _, q := range qs {
				e := &exchange{srv: obs.servers[i], netw: netw, q: q}
				if m := msgs[n%len(msgs)]; m != nil {
					e.msg = m.Copy()
				} else {
					e.err = errFuzzTimeout
				}
				n++
				obs.ex[probeKey{i, netw, dns.CanonicalName(q.Name), q.Type}] = e
			}
		}
	}
	return obs
}

type fuzzError string

func (e fuzzError) Error() string { return string(e) }

const errFuzzTimeout = fuzzError("i/o timeout")

// signedAnswers returns real answers of a signed zone, packed, as seeds.
func signedAnswers(t testing.TB) [][]byte {
	t.Helper()
	zone := "example.test."
	ksk, err := dnssec.GenerateKey(zone, dns.ECDSAP256SHA256, true)
	if err != nil {
		t.Fatal(err)
	}
	var rrs []dns.RR
	for _, s := range []string{
		"example.test. 3600 IN SOA ns1.example.test. hostmaster.example.test. 1 3600 900 604800 300",
		"example.test. 3600 IN NS ns1.example.test.",
		"example.test. 3600 IN NS ns2.example.test.",
		"ns1.example.test. 3600 IN A 192.0.2.1",
		"ns2.example.test. 3600 IN CNAME ns1.example.test.",
	} {
		rr, err := dns.NewRR(s)
		if err != nil {
			t.Fatal(err)
		}
		rrs = append(rrs, rr)
	}
	z, err := dnssec.Sign(zone, rrs, dnssec.SigningKeys{KSKs: []*dnssec.Key{ksk}}, dnssec.DefaultPolicy, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	byType := map[uint16][]dns.RR{}
	for _, rr := range z.Records() {
		rt := rr.Header().Rrtype
		if s, ok := rr.(*dns.RRSIG); ok {
			rt = s.TypeCovered
		}
		if strings.EqualFold(rr.Header().Name, zone) {
			byType[rt] = append(byType[rt], rr)
		}
	}
	var out [][]byte
	for _, qt := range []uint16{dns.TypeSOA, dns.TypeNS, dns.TypeDNSKEY} {
		m := new(dns.Msg)
		m.SetQuestion(zone, qt)
		m.Response, m.Authoritative = true, true
		m.Answer = byType[qt]
		b, err := m.Pack()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	ref := new(dns.Msg)
	ref.SetQuestion(zone, dns.TypeSOA)
	ref.Response, ref.RecursionAvailable = true, true
	ref.Ns = byType[dns.TypeNS]
	ref.Rcode = dns.RcodeRefused
	b, err := ref.Pack()
	if err != nil {
		t.Fatal(err)
	}
	return append(out, b)
}

// FuzzAnalyze feeds arbitrary DNS messages to every test case as the
// answers of every server: the analysis must never panic, and every
// result must name a known case and level.
func FuzzAnalyze(f *testing.F) {
	for _, b := range signedAnswers(f) {
		f.Add(b, b)
	}
	f.Add([]byte{}, []byte{0, 0, 0x84, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, a, b []byte) {
		var msgs []*dns.Msg
		for _, raw := range [][]byte{a, b} {
			m := new(dns.Msg)
			if err := m.Unpack(raw); err != nil {
				msgs = append(msgs, nil)
				continue
			}
			msgs = append(msgs, m)
		}
		d := fuzzDelegation()
		res := analyze(d, Options{Now: time.Now()}, fuzzObservations(d, msgs))
		for _, r := range res {
			if _, ok := LookupCase(r.Case); !ok || r.Level.Rank() < 0 {
				t.Fatalf("result with unknown case or level: %+v", r)
			}
		}
	})
}

// FuzzParseDS checks that parsing a DS from the command line or a form
// never panics and gives a DS that normalizes to itself.
func FuzzParseDS(f *testing.F) {
	for _, s := range []string{
		"12345 13 2 " + strings.Repeat("ab", 32),
		"example.test. 3600 IN DS 12345 13 2 " + strings.Repeat("AB", 32),
		"1 8 1 " + strings.Repeat("0", 40),
		"65535 255 4 " + strings.Repeat("f", 96),
		"x y z", "", "DS",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ds, err := ParseDS("example.test.", s)
		if err != nil {
			if steward.ErrorCode(err) != steward.EINVALID {
				t.Fatalf("error without the invalid code: %v", err)
			}
			return
		}
		again, err := normalizeDS(ds)
		if err != nil || again != ds {
			t.Fatalf("parsed DS %+v does not normalize to itself: %+v, %v", ds, again, err)
		}
	})
}

// FuzzParseNameServer checks that a name server as given on the command
// line parses without panic into a delegation that normalizes.
func FuzzParseNameServer(f *testing.F) {
	for _, s := range []string{"ns1.example.org=192.0.2.1,2001:db8::1", "ns1.example.org", "=1.2.3.4", "a=b", "ns.example.=fe80::1%eth0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ns, err := ParseNameServer(s)
		if err != nil {
			if steward.ErrorCode(err) != steward.EINVALID {
				t.Fatalf("error without the invalid code: %v", err)
			}
			return
		}
		d := Delegation{Zone: "example.org", NS: []NameServer{ns}}
		if _, err := d.Normalize(); err != nil {
			t.Fatalf("ParseNameServer(%q) = %+v, which does not normalize: %v", s, ns, err)
		}
	})
}
