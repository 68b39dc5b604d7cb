package dnsserver

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"

	"steward/zone"
)

// want is what a test expects of an answer: rcode and flags as flags()
// renders them, and each section's owner/type pairs as summary() lists them.
type want struct {
	flags             string
	answer, ns, extra []string
	glue              bool // extra must be exactly the glue of the NS records
	noExtraCheck      bool // extra is not compared
}

// TestRootAnswers queries the real root zone over UDP and TCP and checks
// each answer's flags and sections, and that every RRset in them is whole.
func TestRootAnswers(t *testing.T) {
	z := rootZone(t)
	_, addr := startServer(t, Config{Identity: "steward-test"}, z)

	apexNS := []string{". NS"}
	tests := []struct {
		name string
		ask  ask
		want want
	}{
		{"apex SOA", ask{name: ".", qtype: dns.TypeSOA},
			want{flags: "NOERROR [aa]", answer: []string{". SOA"}}},
		{"apex SOA DO", ask{name: ".", qtype: dns.TypeSOA, do: true},
			want{flags: "NOERROR [aa]", answer: []string{". RRSIG(SOA)", ". SOA"}}},
		{"apex NS", ask{name: ".", qtype: dns.TypeNS, edns: 4096},
			want{flags: "NOERROR [aa]", answer: apexNS, glue: true}},
		{"apex NS DO", ask{name: ".", qtype: dns.TypeNS, do: true},
			want{flags: "NOERROR [aa]", answer: []string{". NS", ". RRSIG(NS)"}, glue: true}},
		{"apex NS no EDNS drops glue without TC", ask{name: ".", qtype: dns.TypeNS},
			want{flags: "NOERROR [aa]", answer: apexNS, noExtraCheck: true}},
		{"apex A is NODATA", ask{name: ".", qtype: dns.TypeA},
			want{flags: "NOERROR [aa]", ns: []string{". SOA"}}},
		{"apex AAAA is NODATA with NSEC", ask{name: ".", qtype: dns.TypeAAAA, do: true},
			want{flags: "NOERROR [aa]", ns: []string{". NSEC", ". RRSIG(NSEC)", ". RRSIG(SOA)", ". SOA"}}},
		{"apex DNSKEY DO", ask{name: ".", qtype: dns.TypeDNSKEY, do: true},
			want{flags: "NOERROR [aa]", answer: []string{". DNSKEY", ". RRSIG(DNSKEY)"}}},
		{"apex DS is NODATA", ask{name: ".", qtype: dns.TypeDS, do: true},
			want{flags: "NOERROR [aa]", ns: []string{". NSEC", ". RRSIG(NSEC)", ". RRSIG(SOA)", ". SOA"}}},
		{"referral www.org.", ask{name: "www.org.", qtype: dns.TypeA, edns: 1232},
			want{flags: "NOERROR []", ns: []string{"org. NS"}, glue: true}},
		{"referral www.org. DO has the DS", ask{name: "www.org.", qtype: dns.TypeA, do: true},
			want{flags: "NOERROR []", ns: []string{"org. DS", "org. NS", "org. RRSIG(DS)"}, glue: true}},
		{"referral in upper case", ask{name: "WWW.Example.ORG.", qtype: dns.TypeAAAA, edns: 1232},
			want{flags: "NOERROR []", ns: []string{"org. NS"}, glue: true}},
		{"referral at the TLD itself", ask{name: "org.", qtype: dns.TypeNS, edns: 1232},
			want{flags: "NOERROR []", ns: []string{"org. NS"}, glue: true}},
		{"referral to an unsigned TLD DO has the NSEC", ask{name: "www.zw.", qtype: dns.TypeA, do: true},
			want{flags: "NOERROR []", ns: []string{"zw. NS", "zw. NSEC", "zw. RRSIG(NSEC)"}, glue: true}},
		{"referral for a glue name", ask{name: "a.root-servers.net.", qtype: dns.TypeA, edns: 1232},
			want{flags: "NOERROR []", ns: []string{"net. NS"}, glue: true}},
		{"DS org. is authoritative", ask{name: "org.", qtype: dns.TypeDS},
			want{flags: "NOERROR [aa]", answer: []string{"org. DS"}}},
		{"DS org. DO", ask{name: "org.", qtype: dns.TypeDS, do: true},
			want{flags: "NOERROR [aa]", answer: []string{"org. DS", "org. RRSIG(DS)"}}},
		{"DS of an unsigned TLD is NODATA", ask{name: "zw.", qtype: dns.TypeDS, do: true},
			want{flags: "NOERROR [aa]", ns: []string{". RRSIG(SOA)", ". SOA", "zw. NSEC", "zw. RRSIG(NSEC)"}}},
		{"DS below a delegation is a referral", ask{name: "example.org.", qtype: dns.TypeDS},
			want{flags: "NOERROR []", ns: []string{"org. NS"}, noExtraCheck: true}},
		{"NXDOMAIN", ask{name: "nonexistent-tld.", qtype: dns.TypeA},
			want{flags: "NXDOMAIN [aa]", ns: []string{". SOA"}}},
		{"NXDOMAIN DO has both NSECs", ask{name: "www.nonexistent-tld.", qtype: dns.TypeA, do: true},
			want{flags: "NXDOMAIN [aa]", ns: []string{". NSEC", ". RRSIG(NSEC)", ". RRSIG(SOA)", ". SOA",
				"nokia. NSEC", "nokia. RRSIG(NSEC)"}}},
		{"NXDOMAIN after the last TLD", ask{name: "zzzz.", qtype: dns.TypeA, do: true},
			want{flags: "NXDOMAIN [aa]", ns: []string{". NSEC", ". RRSIG(NSEC)", ". RRSIG(SOA)", ". SOA",
				"zw. NSEC", "zw. RRSIG(NSEC)"}}},
		{"NXDOMAIN between a TLD and its glue", ask{name: "aaa-.", qtype: dns.TypeA, do: true},
			want{flags: "NXDOMAIN [aa]", ns: []string{". NSEC", ". RRSIG(NSEC)", ". RRSIG(SOA)", ". SOA",
				"aaa. NSEC", "aaa. RRSIG(NSEC)"}}},
		{"ANY at the apex is one RRset", ask{name: ".", qtype: dns.TypeANY},
			want{flags: "NOERROR [aa]", answer: apexNS, noExtraCheck: true}},
		{"ANY at the apex DO", ask{name: ".", qtype: dns.TypeANY, do: true, tcp: true},
			want{flags: "NOERROR [aa]", answer: []string{". NS", ". RRSIG(NS)"}, noExtraCheck: true}},
		{"ANY below a delegation is a referral", ask{name: "org.", qtype: dns.TypeANY, edns: 1232},
			want{flags: "NOERROR []", ns: []string{"org. NS"}, glue: true}},
		{"NSEC at the apex", ask{name: ".", qtype: dns.TypeNSEC},
			want{flags: "NOERROR [aa]", answer: []string{". NSEC"}}},
		{"TC for DNSKEY in 512 bytes", ask{name: ".", qtype: dns.TypeDNSKEY, do: true, edns: 512},
			want{flags: "NOERROR [aa tc]"}},
		{"DNSKEY over TCP", ask{name: ".", qtype: dns.TypeDNSKEY, do: true, edns: 512, tcp: true},
			want{flags: "NOERROR [aa]", answer: []string{". DNSKEY", ". RRSIG(DNSKEY)"}}},
		{"NXDOMAIN DO over TCP", ask{name: "nonexistent-tld.", qtype: dns.TypeA, do: true, tcp: true},
			want{flags: "NXDOMAIN [aa]", ns: []string{". NSEC", ". RRSIG(NSEC)", ". RRSIG(SOA)", ". SOA",
				"nokia. NSEC", "nokia. RRSIG(NSEC)"}}},
		{"CHAOS id.server", ask{name: "id.server.", qtype: dns.TypeTXT, class: dns.ClassCHAOS},
			want{flags: "NOERROR [aa]", answer: []string{"id.server. TXT"}}},
		{"CHAOS hostname.bind", ask{name: "hostname.bind.", qtype: dns.TypeTXT, class: dns.ClassCHAOS},
			want{flags: "NOERROR [aa]", answer: []string{"hostname.bind. TXT"}}},
		{"CHAOS version.bind is refused", ask{name: "version.bind.", qtype: dns.TypeTXT, class: dns.ClassCHAOS},
			want{flags: "REFUSED []"}},
		{"CHAOS class for a name in the root is refused", ask{name: "org.", qtype: dns.TypeNS, class: dns.ClassCHAOS},
			want{flags: "REFUSED []"}},
		{"class HS is refused", ask{name: "org.", qtype: dns.TypeNS, class: dns.ClassHESIOD},
			want{flags: "REFUSED []"}},
		{"MAILB is not implemented", ask{name: "org.", qtype: dns.TypeMAILB},
			want{flags: "NOTIMP []"}},
	}
	for _, tc := range tests {
		for _, tcp := range []bool{false, true} {
			if tc.ask.tcp && !tcp {
				continue
			}
			if tc.want.flags == "NOERROR [aa tc]" && tcp {
				continue
			}
			a := tc.ask
			a.tcp = tcp
			name := tc.name + map[bool]string{false: "/udp", true: "/tcp"}[tcp]
			t.Run(name, func(t *testing.T) {
				r := exchange(t, addr, a)
				if got := flags(r); got != tc.want.flags {
					t.Errorf("flags %q, want %q", got, tc.want.flags)
				}
				if diff := cmp.Diff(tc.want.answer, summary(r.Answer), cmpEmpty); diff != "" {
					t.Errorf("answer (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff(tc.want.ns, summary(r.Ns), cmpEmpty); diff != "" {
					t.Errorf("authority (-want +got):\n%s", diff)
				}
				switch {
				case tc.want.glue:
					glue := glueFor(z, append(r.Answer, r.Ns...))
					if len(glue) == 0 && !strings.Contains(tc.name, "glue") {
						t.Errorf("test expects glue, but the zone has none")
					}
					if diff := cmp.Diff(glue, rrStrings(r.Extra), cmpEmpty); diff != "" {
						t.Errorf("additional (-want +got):\n%s", diff)
					}
				case !tc.want.noExtraCheck:
					if diff := cmp.Diff(tc.want.extra, summary(r.Extra), cmpEmpty); diff != "" {
						t.Errorf("additional (-want +got):\n%s", diff)
					}
				}
				if c := r.Question[0].Qclass; a.class == dns.ClassCHAOS && c != dns.ClassCHAOS {
					t.Errorf("question class %d", c)
				}
				if a.class == 0 && r.Rcode == dns.RcodeSuccess || r.Rcode == dns.RcodeNameError {
					checkComplete(t, z, "answer", r.Answer)
					checkComplete(t, z, "authority", r.Ns)
				}
				opt := r.IsEdns0()
				switch {
				case a.edns == 0 && !a.do && opt != nil:
					t.Errorf("OPT in the answer to a query without one")
				case (a.edns != 0 || a.do) && opt == nil:
					t.Errorf("no OPT in the answer")
				case opt != nil && (opt.UDPSize() != DefaultUDPSize || opt.Do() != a.do || opt.Version() != 0):
					t.Errorf("OPT %v: want size %d, DO %v", opt, DefaultUDPSize, a.do)
				}
				if !a.do && hasType(r, dns.TypeRRSIG) && a.qtype != dns.TypeRRSIG {
					t.Errorf("RRSIG without DO")
				}
				if a.class == dns.ClassCHAOS && r.Rcode == dns.RcodeSuccess {
					if txt := r.Answer[0].(*dns.TXT); txt.Txt[0] != "steward-test" || txt.Hdr.Class != dns.ClassCHAOS {
						t.Errorf("CHAOS answer %v", txt)
					}
				}
			})
		}
	}
}

// cmpEmpty makes nil and empty slices equal.
var cmpEmpty = cmp.Transformer("empty", func(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
})

func hasType(m *dns.Msg, t uint16) bool {
	for _, s := range [][]dns.RR{m.Answer, m.Ns, m.Extra} {
		for _, rr := range s {
			if rr.Header().Rrtype == t {
				return true
			}
		}
	}
	return false
}

// TestNXDOMAINProof checks that the NSEC records of an NXDOMAIN answer
// prove it: one covers the name, one the wildcard at the closest encloser.
func TestNXDOMAINProof(t *testing.T) {
	z := rootZone(t)
	_, addr := startServer(t, Config{}, z)
	for _, name := range []string{"nonexistent-tld.", "a.b.c.nonexistent.", "aaaa.", "zz.", "zzzzzz.", "0.", "xn--zzzzz."} {
		t.Run(name, func(t *testing.T) {
			r := exchange(t, addr, ask{name: name, qtype: dns.TypeA, do: true})
			if r.Rcode != dns.RcodeNameError {
				t.Fatalf("rcode %s", dns.RcodeToString[r.Rcode])
			}
			var nsecs []*dns.NSEC
			for _, rr := range r.Ns {
				if n, ok := rr.(*dns.NSEC); ok {
					nsecs = append(nsecs, n)
				}
			}
			labels := dns.SplitDomainName(name)
			tld := labels[len(labels)-1] + "."
			for _, target := range []string{tld, "*."} {
				if !slices.ContainsFunc(nsecs, func(n *dns.NSEC) bool { return covers(n, target) }) {
					t.Errorf("no NSEC covers %s in %v", target, nsecs)
				}
			}
		})
	}
}

// covers reports whether an NSEC proves name does not exist.
func covers(n *dns.NSEC, name string) bool {
	owner, next := n.Hdr.Name, n.NextDomain
	if zone.Compare(next, owner) <= 0 { // the last NSEC wraps to the apex
		return zone.Compare(owner, name) < 0
	}
	return zone.Compare(owner, name) < 0 && zone.Compare(name, next) < 0
}

// TestReferralTruncation checks that a referral that does not fit drops
// sibling glue first and sets TC only when in-domain glue does not fit
// (RFC 9471).
func TestReferralTruncation(t *testing.T) {
	z := rootZone(t)
	_, addr := startServer(t, Config{}, z)

	// Find, in the real zone, a TLD whose referral only fits in 512 bytes
	// without its sibling glue, and one whose in-domain glue alone is too
	// big for 512 bytes.
	var dropsOptional, needsTC string
	ix := newIndex(z)
	for _, name := range z.Names() {
		if len(z.RRset(name, dns.TypeNS)) == 0 || name == "." || strings.Count(name, ".") != 1 {
			continue
		}
		m := new(dns.Msg)
		m.SetQuestion("www."+name, dns.TypeA)
		l := lookup{z: z, ix: ix, m: m}
		l.run("www."+name, dns.TypeA)
		m.Compress = true
		m.Extra = l.required
		reqLen := m.Len()
		m.Extra = append(l.required, l.optional...)
		full := m.Len()
		switch {
		case dropsOptional == "" && len(l.optional) > 0 && reqLen <= 512 && full > 512:
			dropsOptional = name
		case needsTC == "" && reqLen > 512:
			needsTC = name
		}
	}
	if dropsOptional == "" || needsTC == "" {
		t.Fatalf("the root zone has no test case: optional %q, TC %q", dropsOptional, needsTC)
	}
	t.Logf("sibling glue dropped for %s, TC for %s", dropsOptional, needsTC)

	r := exchange(t, addr, ask{name: "www." + dropsOptional, qtype: dns.TypeA})
	r.Compress = true
	if r.Truncated || len(r.Ns) == 0 || r.Len() > 512 {
		t.Errorf("%s: TC %v, %d NS, %d bytes", dropsOptional, r.Truncated, len(r.Ns), r.Len())
	}
	// TC, and the NS RRset with what glue fits, as Knot answers.
	r = exchange(t, addr, ask{name: "www." + needsTC, qtype: dns.TypeA})
	if !r.Truncated || len(r.Ns) != len(z.RRset(needsTC, dns.TypeNS)) || len(r.Extra) == 0 {
		t.Errorf("%s over UDP: TC %v, %d NS, %d additional", needsTC, r.Truncated, len(r.Ns), len(r.Extra))
	}
	r = exchange(t, addr, ask{name: "www." + needsTC, qtype: dns.TypeA, tcp: true})
	if r.Truncated || len(r.Ns) == 0 {
		t.Errorf("%s over TCP: TC %v, %d NS", needsTC, r.Truncated, len(r.Ns))
	}
	if diff := cmp.Diff(glueFor(z, r.Ns), rrStrings(r.Extra)); diff != "" {
		t.Errorf("%s over TCP: additional (-want +got):\n%s", needsTC, diff)
	}
}

// TestSmallZone covers what the root zone lacks: wildcards, CNAME chains,
// an empty non-terminal, MX additional data, and REFUSED for names
// outside the only zone served. testdata/example.zone carries a
// hand-made NSEC chain (with placeholder signatures).
func TestSmallZone(t *testing.T) {
	z := loadZone(t, "example.zone", "example.")
	_, addr := startServer(t, Config{}, z)
	tests := []struct {
		name string
		ask  ask
		want want
	}{
		{"outside the zone is REFUSED", ask{name: "org.", qtype: dns.TypeNS},
			want{flags: "REFUSED []"}},
		{"root is REFUSED", ask{name: ".", qtype: dns.TypeSOA},
			want{flags: "REFUSED []"}},
		{"MX with additional addresses", ask{name: "example.", qtype: dns.TypeMX, do: true},
			want{flags: "NOERROR [aa]", answer: []string{"example. MX", "example. RRSIG(MX)"},
				extra: []string{"mail.example. A", "mail.example. RRSIG(A)"}}},
		{"wildcard", ask{name: "foo.wild.example.", qtype: dns.TypeTXT},
			want{flags: "NOERROR [aa]", answer: []string{"foo.wild.example. TXT"}}},
		{"wildcard DO", ask{name: "foo.wild.example.", qtype: dns.TypeTXT, do: true},
			want{flags: "NOERROR [aa]", answer: []string{"foo.wild.example. RRSIG(TXT)", "foo.wild.example. TXT"},
				ns: []string{"*.wild.example. NSEC", "*.wild.example. RRSIG(NSEC)"}}},
		{"wildcard NODATA DO", ask{name: "foo.wild.example.", qtype: dns.TypeA, do: true},
			want{flags: "NOERROR [aa]", ns: []string{"*.wild.example. NSEC", "*.wild.example. RRSIG(NSEC)",
				"example. RRSIG(SOA)", "example. SOA"}}},
		{"CNAME chain", ask{name: "alias.example.", qtype: dns.TypeA},
			want{flags: "NOERROR [aa]", answer: []string{"alias.example. CNAME", "www.example. A"}}},
		{"CNAME asked for", ask{name: "alias.example.", qtype: dns.TypeCNAME},
			want{flags: "NOERROR [aa]", answer: []string{"alias.example. CNAME"}}},
		{"CNAME to nowhere", ask{name: "dangling.example.", qtype: dns.TypeA},
			want{flags: "NXDOMAIN [aa]", answer: []string{"dangling.example. CNAME"}, ns: []string{"example. SOA"}}},
		{"empty non-terminal", ask{name: "ent.example.", qtype: dns.TypeA, do: true},
			want{flags: "NOERROR [aa]", ns: []string{"dangling.example. NSEC", "dangling.example. RRSIG(NSEC)",
				"example. RRSIG(SOA)", "example. SOA"}}},
		{"NXDOMAIN", ask{name: "nope.example.", qtype: dns.TypeA, do: true},
			want{flags: "NXDOMAIN [aa]", ns: []string{"example. NSEC", "example. RRSIG(NSEC)",
				"example. RRSIG(SOA)", "example. SOA", "mail.example. NSEC", "mail.example. RRSIG(NSEC)"}}},
		{"referral with in-domain glue", ask{name: "host.sub.example.", qtype: dns.TypeA, do: true},
			want{flags: "NOERROR []", ns: []string{"sub.example. DS", "sub.example. NS", "sub.example. RRSIG(DS)"},
				extra: []string{"ns.sub.example. A"}}},
		{"negative TTL is the SOA minimum", ask{name: "nope.example.", qtype: dns.TypeA},
			want{flags: "NXDOMAIN [aa]", ns: []string{"example. SOA"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := exchange(t, addr, tc.ask)
			if got := flags(r); got != tc.want.flags {
				t.Errorf("flags %q, want %q", got, tc.want.flags)
			}
			for _, s := range []struct {
				name      string
				want, got []string
			}{{"answer", tc.want.answer, summary(r.Answer)}, {"authority", tc.want.ns, summary(r.Ns)},
				{"additional", tc.want.extra, summary(r.Extra)}} {
				if diff := cmp.Diff(s.want, s.got, cmpEmpty); diff != "" {
					t.Errorf("%s (-want +got):\n%s", s.name, diff)
				}
			}
			if strings.HasPrefix(tc.name, "negative TTL") {
				if ttl := r.Ns[0].Header().Ttl; ttl != z.SOA().Minttl {
					t.Errorf("SOA TTL %d, want %d", ttl, z.SOA().Minttl)
				}
			}
		})
	}
}
