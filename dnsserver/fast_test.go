package dnsserver

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"steward/zone"
)

// fastCase is a query the differential test asks both paths.
type fastCase struct {
	name  string
	qtype uint16
	do    bool
	edns  uint16 // 0: no OPT unless do
}

// fastCases lists queries over a zone: for every delegation point and
// every other name, the name itself and a name below it with a set of
// types, DO set and clear, EDNS0 and not; nonexistent names; the apex.
func fastCases(z *zone.Zone, rnd *rand.Rand) []fastCase {
	var cs []fastCase
	types := []uint16{dns.TypeA, dns.TypeAAAA, dns.TypeNS, dns.TypeDS, dns.TypeSOA, dns.TypeDNSKEY,
		dns.TypeTXT, dns.TypeNSEC, dns.TypeRRSIG, dns.TypeMX, dns.TypeHTTPS, dns.TypeZONEMD, dns.TypeCNAME}
	add := func(name string, qt uint16) {
		for _, do := range []bool{false, true} {
			edns := []uint16{0, 512, 1232, 4096}[rnd.IntN(4)]
			cs = append(cs, fastCase{name: name, qtype: qt, do: do, edns: edns})
		}
	}
	for _, n := range z.Names() {
		if cut, ok := z.Delegation(n); ok && cut != n {
			add(n, dns.TypeA) // glue
			continue
		}
		for _, t := range []uint16{dns.TypeA, dns.TypeDS, dns.TypeNS, types[rnd.IntN(len(types))]} {
			add(n, t)
		}
		below := "www." + n
		if n == "." {
			below = "www."
		}
		add(below, types[rnd.IntN(len(types))])
		add("a.b."+below, dns.TypeAAAA)
	}
	for _, t := range types {
		add(z.Origin, t)
	}
	for range 3000 {
		var b strings.Builder
		for range 3 + rnd.IntN(12) {
			b.WriteByte("abcdefghijklmnopqrstuvwxyz0123456789-"[rnd.IntN(37)])
		}
		name := b.String() + "."
		if z.Origin != "." {
			name += z.Origin
		}
		if rnd.IntN(4) == 0 {
			name = "sub." + name
		}
		add(name, types[rnd.IntN(len(types))])
	}
	return cs
}

// randomCase flips the case of letters at random (the 0x20 bits
// resolvers set).
func randomCase(name string, rnd *rand.Rand) string {
	b := []byte(name)
	for i, c := range b {
		if 'a' <= c && c <= 'z' && rnd.IntN(2) == 0 {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

// TestFastPathMatchesChain asks every query of fastCases, with random
// 0x20 case, of the fast path and of the handler chain, over the real root
// zone (flat and patched) and a small zone with wildcards, CNAMEs and
// empty non-terminals.
// Where the fast path answers, the answer must be the chain's: byte for
// byte, or, where compression differs (the chain compresses only against
// names of the same case), the same header, question and sections, record
// by record in order. The fast path must answer nearly all referrals, DS
// and NXDOMAIN queries.
func TestFastPathMatchesChain(t *testing.T) {
	for _, tc := range []struct {
		name string
		z    *zone.Zone
	}{
		{"root", rootZone(t)},
		// A patched version: records in the base and in the changes.
		{"root patched", patchRoot(t, rootZone(t), 2023051101, "zw.", "aaaa-steward.")},
		{"example", loadZone(t, "example.zone", "example.")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := New(Config{})
			s.SetZone(tc.z)
			waitFast(t, s, tc.z.Origin)
			rnd := rand.New(rand.NewPCG(1, 2))
			var sc fastScratch
			out := make([]byte, 65535)
			var fast, identical, caseFit, estimate, total int
			for _, c := range fastCases(tc.z, rnd) {
				total++
				m := (ask{name: randomCase(c.name, rnd), qtype: c.qtype, do: c.do, edns: c.edns}).msg()
				m.Id = uint16(rnd.Uint32())
				m.RecursionDesired = rnd.IntN(2) == 0
				m.CheckingDisabled = rnd.IntN(2) == 0
				req, err := m.Pack()
				if err != nil {
					t.Fatal(err)
				}
				n := s.answerFast(req, out, &sc)
				if n == 0 {
					continue
				}
				fast++
				w := &recorder{}
				s.ServeDNS(w, m)
				if !w.answered() {
					t.Fatalf("%s %s: the chain did not answer", c.name, dns.TypeToString[c.qtype])
				}
				if bytes.Equal(out[:n], w.last) {
					identical++
					continue
				}
				d := msgDiff(w.last, out[:n], false)
				if d != "" && strings.ToLower(c.name) != m.Question[0].Name {
					// The chain compresses a name only against the same
					// name in the same case, so that with the client's
					// mixed case its answer can be larger than the fast
					// path's and no longer fit; then it must be the
					// chain's answer to the name in lower case.
					lm := m.Copy()
					lm.Question[0].Name = strings.ToLower(lm.Question[0].Name)
					lw := &recorder{}
					s.ServeDNS(lw, lm)
					if msgDiff(lw.last, out[:n], true) == "" {
						caseFit++
						d = ""
					}
				}
				if d != "" && c.edns != 0 {
					// The chain truncates, or leaves out optional glue,
					// when miekg/dns estimates the compressed length
					// above the client's size, which it does for some
					// answers that fit (an RRSIG's length is estimated
					// from its base64 text). The fast path, which knows
					// the length, must then give the whole answer: the
					// chain's with room to spare.
					lm := m.Copy()
					lm.Question[0].Name = strings.ToLower(lm.Question[0].Name)
					lm.Extra[0].(*dns.OPT).SetUDPSize(4096)
					lw := &recorder{}
					s.ServeDNS(lw, lm)
					if msgDiff(lw.last, out[:n], true) == "" && n <= int(max(c.edns, 512)) {
						estimate++
						d = ""
					}
				}
				if d != "" {
					t.Errorf("%s %s do=%v edns=%d: fast path differs from the chain: %s",
						m.Question[0].Name, dns.TypeToString[c.qtype], c.do, c.edns, d)
				}
			}
			t.Logf("%d queries: %d answered by the fast path, %d of them byte for byte as the chain, %d as the chain answers the name in lower case, %d whole where the chain truncates or drops glue needlessly",
				total, fast, identical, caseFit, estimate)
			if fast < total/2 {
				t.Errorf("the fast path answered only %d of %d queries", fast, total)
			}
		})
	}
}

// msgDiff describes how two responses differ in what a client sees:
// header, question (with its case), and each section's records in order,
// names compared without case; the question's case too if anyCase.
func msgDiff(want, got []byte, anyCase bool) string {
	var a, b dns.Msg
	if err := a.Unpack(want); err != nil {
		return "chain answer: " + err.Error()
	}
	if err := b.Unpack(got); err != nil {
		return "fast answer does not parse: " + err.Error()
	}
	if a.MsgHdr != b.MsgHdr {
		return fmt.Sprintf("header %+v, want %+v", b.MsgHdr, a.MsgHdr)
	}
	qa, qb := fmt.Sprint(a.Question), fmt.Sprint(b.Question)
	if anyCase {
		qa, qb = strings.ToLower(qa), strings.ToLower(qb)
	}
	if qa != qb {
		return fmt.Sprintf("question %v, want %v", b.Question, a.Question)
	}
	for i, sec := range [][2][]dns.RR{{a.Answer, b.Answer}, {a.Ns, b.Ns}, {a.Extra, b.Extra}} {
		if len(sec[0]) != len(sec[1]) {
			return fmt.Sprintf("section %d: %d records, want %d", i, len(sec[1]), len(sec[0]))
		}
		for j := range sec[0] {
			x, y := strings.ToLower(sec[0][j].String()), strings.ToLower(sec[1][j].String())
			if x != y {
				return fmt.Sprintf("section %d record %d: %s, want %s", i, j, y, x)
			}
		}
	}
	return ""
}

func isTruncated(resp []byte) bool {
	return len(resp) > 2 && resp[2]&0x02 != 0
}

// TestUDPFastPath sends queries over real UDP sockets, one bound to the
// loopback address (batched reads and writes on Linux) and one to the
// wildcard address (miekg/dns reads, the fast path in front), and checks
// that the fast path answered: the answers compress names against the
// question, so the owner of the referral's NS RRset comes in the
// question's case, which the handler chain does not do. A query the fast
// path leaves alone (TCP-only size, CH class) still gets its answer.
func TestUDPFastPath(t *testing.T) {
	z := rootZone(t)
	for _, bind := range []string{"127.0.0.1:0", "0.0.0.0:0"} {
		t.Run(bind, func(t *testing.T) {
			s := New(Config{Identity: "fast"})
			s.SetZone(z)
			waitFast(t, s, ".")
			if err := s.Open(bind, ""); err != nil {
				t.Fatal(err)
			}
			defer s.Close(context.Background())
			udp, _ := s.Addr()
			addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(udp.(*net.UDPAddr).Port))
			for range 50 {
				r := exchange(t, addr, ask{name: "WwW.ORG.", qtype: dns.TypeA, do: true})
				if len(r.Ns) == 0 || r.Ns[0].Header().Name != "ORG." {
					t.Fatalf("not answered by the fast path: %v", r)
				}
				if got := summary(r.Ns); !slices.Equal(got, []string{"org. DS", "org. NS", "org. RRSIG(DS)"}) {
					t.Fatalf("authority %v", got)
				}
				r = exchange(t, addr, ask{name: "nonexistent-tld.", qtype: dns.TypeA, do: true})
				if r.Rcode != dns.RcodeNameError || len(r.Ns) != 6 {
					t.Fatalf("NXDOMAIN: %v", r)
				}
				r = exchange(t, addr, ask{name: "id.server.", qtype: dns.TypeTXT, class: dns.ClassCHAOS})
				if len(r.Answer) != 1 || !strings.Contains(r.Answer[0].String(), `"fast"`) {
					t.Fatalf("CH id.server: %v", r)
				}
			}
		})
	}
}

// waitFast waits until SetZone's precomputation for the zone is done and
// fails unless the fast path serves it.
func waitFast(tb testing.TB, s *Server, origin string) {
	tb.Helper()
	<-s.snap.Load().zones[origin].ready
	if s.snap.Load().fast == nil {
		tb.Fatal("no fast path for the zone")
	}
}

// TestPrecomputeAfterSetZone checks that SetZone serves a version at once
// and that the precomputed answers follow, for that version only: a
// version replaced before its answers are ready never gets them.
func TestPrecomputeAfterSetZone(t *testing.T) {
	z := rootZone(t)
	s := New(Config{})
	s.SetZone(z)
	first := s.snap.Load().zones["."]
	z2 := edit(t, z, z.Serial+1, map[string][]string{"org. NS": {"org. 172800 IN NS ns1.example.net."}})
	s.SetZone(z2)
	<-first.ready
	waitFast(t, s, ".")
	sn := s.snap.Load()
	if sn.zones["."].z != z2 || sn.fast == nil || sn.zones["."].fast != sn.fast {
		t.Fatal("the served snapshot does not hold the second version's answers")
	}
	var sc fastScratch
	out := make([]byte, 1232)
	req, _ := (ask{name: "www.org.", qtype: dns.TypeA, edns: 1232}).msg().Pack()
	n := s.answerFast(req, out, &sc)
	var m dns.Msg
	if err := m.Unpack(out[:n]); err != nil || len(m.Ns) != 1 || m.Ns[0].(*dns.NS).Ns != "ns1.example.net." {
		t.Fatalf("referral from the fast path: %v %v", &m, err)
	}
}
