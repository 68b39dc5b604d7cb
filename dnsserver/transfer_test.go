package dnsserver

import (
	"encoding/base64"
	"net"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"

	"steward/zone"
)

var (
	xfrKey   = TSIGKey{Name: "xfr-key.", Algorithm: dns.HmacSHA256, Secret: base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))}
	otherKey = TSIGKey{Name: "other-key.", Algorithm: dns.HmacSHA256, Secret: base64.StdEncoding.EncodeToString([]byte("fedcba9876543210fedcba9876543210"))}
	wrongKey = TSIGKey{Name: "xfr-key.", Algorithm: dns.HmacSHA256, Secret: base64.StdEncoding.EncodeToString([]byte("not the right secret at all....."))}
	unknown  = TSIGKey{Name: "who-is-this.", Algorithm: dns.HmacSHA256, Secret: xfrKey.Secret}
)

// xfr asks for a transfer from addr, from the local address if not empty,
// signed with key if its name is not empty, and returns the records or
// the error.
func xfr(addr, local string, m *dns.Msg, key TSIGKey) ([]dns.RR, error) {
	d := net.Dialer{Timeout: 5 * time.Second}
	if local != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(local)}
	}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	tr := &dns.Transfer{Conn: &dns.Conn{Conn: c}, ReadTimeout: 10 * time.Second}
	if key.Name != "" {
		tr.TsigSecret = map[string]string{key.Name: key.Secret}
		m.SetTsig(key.Name, key.Algorithm, 300, time.Now().Unix())
	}
	ch, err := tr.In(m, addr)
	if err != nil {
		return nil, err
	}
	var rrs []dns.RR
	var first error
	for env := range ch {
		if env.Error != nil && first == nil {
			first = env.Error
		}
		rrs = append(rrs, env.RR...)
	}
	return rrs, first
}

func axfr(origin string) *dns.Msg {
	m := new(dns.Msg)
	m.SetAxfr(origin)
	return m
}

func ixfr(origin string, serial uint32) *dns.Msg {
	m := new(dns.Msg)
	m.SetIxfr(origin, serial, ".", ".")
	return m
}

// signedExchange sends m signed with key over network and returns the
// answer without checking its TSIG, so that unsigned errors can be seen.
func signedExchange(t *testing.T, addr, network string, m *dns.Msg, key TSIGKey, at time.Time) *dns.Msg {
	t.Helper()
	m.SetTsig(key.Name, key.Algorithm, 300, at.Unix())
	b, _, err := dns.TsigGenerate(m, key.Secret, "", false)
	if err != nil {
		t.Fatal(err)
	}
	r, err := raw(addr, network, b, 5*time.Second)
	if err != nil || r == nil {
		t.Fatalf("no answer: %v", err)
	}
	return r
}

// TestTransfer checks AXFR with and without TSIG, the TSIG errors of RFC
// 8945, and the transfer ACL.
func TestTransfer(t *testing.T) {
	z := rootZone(t)
	var logs logBuffer
	cfg := Config{
		Logger: logs.logger(),
		TSIG:   []TSIGKey{xfrKey, otherKey},
		Transfer: map[string]TransferPolicy{
			".": {Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/30")}, Keys: []string{"xfr-key."}},
		},
	}
	_, addr := startServer(t, cfg, z)
	// Only 127.0.0.2 may transfer from the second server, unsigned.
	cfg2 := Config{Logger: logs.logger(), Transfer: map[string]TransferPolicy{
		".": {Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.2/32")}},
	}}
	_, addr2 := startServer(t, cfg2, z)

	want := rrStrings(append(z.Records(), z.SOA()))
	tests := []struct {
		name, addr, local string
		m                 *dns.Msg
		key               TSIGKey
		err               string // substring of the error; "" for success
	}{
		{"AXFR with TSIG", addr, "", axfr("."), xfrKey, ""},
		{"AXFR without TSIG when required", addr, "", axfr("."), TSIGKey{}, "bad xfr rcode: 5"},
		{"AXFR with a key not allowed for the zone", addr, "", axfr("."), otherKey, "bad xfr rcode: 5"},
		{"AXFR of a zone not served", addr, "", axfr("org."), TSIGKey{}, "bad xfr rcode: 9"},
		{"AXFR without TSIG from an allowed address", addr2, "127.0.0.2", axfr("."), TSIGKey{}, ""},
		{"AXFR from an address not allowed", addr2, "127.0.0.1", axfr("."), TSIGKey{}, "bad xfr rcode: 5"},
		{"IXFR from an unknown serial is a whole zone", addr, "", ixfr(".", 1), xfrKey, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rrs, err := xfr(tc.addr, tc.local, tc.m, tc.key)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if rrs[0].Header().Rrtype != dns.TypeSOA || rrs[len(rrs)-1].Header().Rrtype != dns.TypeSOA {
				t.Errorf("transfer does not begin and end with the SOA")
			}
			if diff := setDiffStrings(want, rrStrings(rrs)); diff != "" {
				t.Errorf("records: %s", diff)
			}
		})
	}
	if l := logs.String(); !strings.Contains(l, "transfer refused: client not allowed") ||
		!strings.Contains(l, "transfer refused: TSIG required") {
		t.Errorf("refused transfers not logged:\n%s", l)
	}

	t.Run("TSIG errors", func(t *testing.T) {
		for _, tc := range []struct {
			name    string
			key     TSIGKey
			at      time.Time
			network string
			tsigErr uint16
		}{
			{"unknown key", unknown, time.Now(), "tcp", dns.RcodeBadKey},
			{"bad MAC", wrongKey, time.Now(), "tcp", dns.RcodeBadSig},
			{"stale time", xfrKey, time.Now().Add(-time.Hour), "tcp", dns.RcodeBadTime},
			{"unknown key over UDP", unknown, time.Now(), "udp", dns.RcodeBadKey},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := signedExchange(t, addr, tc.network, axfr("."), tc.key, tc.at)
				if r.Rcode != dns.RcodeNotAuth {
					t.Errorf("rcode %s, want NOTAUTH", dns.RcodeToString[r.Rcode])
				}
				ts := r.IsTsig()
				if ts == nil {
					t.Fatalf("no TSIG in the answer")
				}
				if ts.Error != tc.tsigErr {
					t.Errorf("TSIG error %s, want %s", dns.RcodeToString[int(ts.Error)], dns.RcodeToString[int(tc.tsigErr)])
				}
				if signed := ts.MAC != ""; signed != (tc.tsigErr == dns.RcodeBadTime) {
					t.Errorf("answer signed %v for %s", signed, dns.RcodeToString[int(tc.tsigErr)])
				}
				if len(r.Answer) != 0 {
					t.Errorf("answer section in an error")
				}
			})
		}
	})

	t.Run("signed query gets a signed answer", func(t *testing.T) {
		m := new(dns.Msg)
		m.SetQuestion(".", dns.TypeSOA)
		m.SetTsig(xfrKey.Name, xfrKey.Algorithm, 300, time.Now().Unix())
		c := &dns.Client{Net: "udp", TsigSecret: map[string]string{xfrKey.Name: xfrKey.Secret}}
		r, _, err := c.Exchange(m, addr) // verifies the answer's TSIG
		if err != nil {
			t.Fatal(err)
		}
		if r.IsTsig() == nil || r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 {
			t.Errorf("answer %v", r)
		}
	})

	t.Run("AXFR over UDP is not implemented", func(t *testing.T) {
		c := &dns.Client{Net: "udp", Dialer: &net.Dialer{LocalAddr: &net.UDPAddr{IP: net.ParseIP("127.0.0.2")}}}
		r, _, err := c.Exchange(axfr("."), addr2)
		if err != nil {
			t.Fatal(err)
		}
		if r.Rcode != dns.RcodeNotImplemented {
			t.Errorf("rcode %s", dns.RcodeToString[r.Rcode])
		}
	})

	t.Run("IXFR over UDP gets the SOA", func(t *testing.T) {
		c := &dns.Client{Net: "udp", Dialer: &net.Dialer{LocalAddr: &net.UDPAddr{IP: net.ParseIP("127.0.0.2")}}}
		r, _, err := c.Exchange(ixfr(".", 1), addr2)
		if err != nil {
			t.Fatal(err)
		}
		if r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 || r.Answer[0].(*dns.SOA).Serial != z.Serial {
			t.Errorf("answer %v", r)
		}
	})
}

// TestIXFR installs three versions of the root zone and checks that IXFR
// from each older serial returns exactly the differences, SOA-bracketed as
// RFC 1995 §4 lays out, and that a serial out of the history gets the
// whole zone.
func TestIXFR(t *testing.T) {
	v1 := rootZone(t)
	v2 := edit(t, v1, v1.Serial+1, map[string][]string{
		"org. NS": {"org. 172800 IN NS a0.org.afilias-nst.info.", "org. 172800 IN NS ns1.example.net."},
	})
	v3 := edit(t, v2, v1.Serial+2, map[string][]string{
		"com. DS":             nil,
		"steward-test. NS":    {"steward-test. 172800 IN NS ns1.steward-test.", "steward-test. 172800 IN NS ns2.example.net."},
		"ns1.steward-test. A": {"ns1.steward-test. 172800 IN A 192.0.2.1"},
	})
	allow := TransferPolicy{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}
	s, addr := startServer(t, Config{Transfer: map[string]TransferPolicy{".": allow}}, v1)
	s.SetZone(v2)
	s.SetZone(v3)
	if got := s.Zone(".").Serial; got != v3.Serial {
		t.Fatalf("serving serial %d", got)
	}

	whole := rrStrings(append(v3.Records(), v3.SOA()))
	seq := func(from, to *zone.Zone) [][]string {
		del, add := setDiff(from, to)
		return [][]string{{soaString(from)}, del, {soaString(to)}, add}
	}
	tests := []struct {
		name   string
		serial uint32
		want   [][]string // the sequences after the first SOA, or nil for a whole zone
	}{
		{"from v1", v1.Serial, append(seq(v1, v2), seq(v2, v3)...)},
		{"from v2", v2.Serial, seq(v2, v3)},
		{"up to date", v3.Serial, [][]string{}},
		{"unknown serial", v1.Serial - 7, nil},
		{"ahead of the server", v3.Serial + 5, [][]string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rrs, err := xfr(addr, "", ixfr(".", tc.serial), TSIGKey{})
			if err != nil {
				t.Fatal(err)
			}
			if rrs[0].(*dns.SOA).Serial != v3.Serial {
				t.Fatalf("first SOA serial %d", rrs[0].(*dns.SOA).Serial)
			}
			if tc.want == nil {
				if diff := setDiffStrings(whole, rrStrings(rrs)); diff != "" {
					t.Errorf("not the whole zone: %s", diff)
				}
				return
			}
			if len(tc.want) == 0 {
				if len(rrs) != 1 {
					t.Errorf("%d records, want the SOA alone", len(rrs))
				}
				return
			}
			if last := rrs[len(rrs)-1]; last.(*dns.SOA).Serial != v3.Serial {
				t.Errorf("last record %v", last)
			}
			got := splitIXFR(rrs[1 : len(rrs)-1])
			if diff := cmp.Diff(tc.want, got, cmpEmpty); diff != "" {
				t.Errorf("IXFR sequences (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("history is bounded by Versions", func(t *testing.T) {
		s, addr := startServer(t, Config{Versions: 2, Transfer: map[string]TransferPolicy{".": allow}}, v1)
		s.SetZone(v2)
		s.SetZone(v3)
		rrs, err := xfr(addr, "", ixfr(".", v1.Serial), TSIGKey{})
		if err != nil {
			t.Fatal(err)
		}
		if len(rrs) != len(whole) {
			t.Errorf("IXFR from a forgotten serial: %d records, want the whole zone's %d", len(rrs), len(whole))
		}
		rrs, err = xfr(addr, "", ixfr(".", v2.Serial), TSIGKey{})
		if err != nil {
			t.Fatal(err)
		}
		if got := splitIXFR(rrs[1 : len(rrs)-1]); !cmp.Equal(seq(v2, v3), got, cmpEmpty) {
			t.Errorf("IXFR from v2: %q", got)
		}
	})
}

// setDiff returns, as sorted strings, the records (but the SOA) of a that b
// lacks and those of b that a lacks.
func setDiff(a, b *zone.Zone) (del, add []string) {
	as, bs := rrStrings(a.Records()[1:]), rrStrings(b.Records()[1:])
	for _, s := range as {
		if _, ok := slices.BinarySearch(bs, s); !ok {
			del = append(del, s)
		}
	}
	for _, s := range bs {
		if _, ok := slices.BinarySearch(as, s); !ok {
			add = append(add, s)
		}
	}
	return del, add
}

func soaString(z *zone.Zone) string { return strings.ToLower(z.SOA().String()) }

// splitIXFR cuts the body of an IXFR answer at its SOA records: old SOA,
// deletions, new SOA, additions, and so on; each part sorted.
func splitIXFR(rrs []dns.RR) [][]string {
	var out [][]string
	var cur []dns.RR
	for _, rr := range rrs {
		if rr.Header().Rrtype == dns.TypeSOA {
			if len(out) > 0 || cur != nil {
				out = append(out, rrStrings(cur))
			}
			out = append(out, []string{strings.ToLower(rr.String())})
			cur = []dns.RR{}
			continue
		}
		cur = append(cur, rr)
	}
	return append(out, rrStrings(cur))
}
