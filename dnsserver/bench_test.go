package dnsserver

import (
	"bytes"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"

	"steward/dnssec"
	"steward/zone"
	"steward/zonegen"
)

// BenchmarkQuery measures the handler chain answering queries against the
// real root zone in process, response packing included: a referral with
// glue, the same with DNSSEC records, an NXDOMAIN with its NSEC proofs,
// and the apex SOA. The parallel variants use every CPU.
func BenchmarkQuery(b *testing.B) {
	s := New(Config{})
	s.SetZone(rootZone(b))
	for _, bc := range []struct {
		name string
		ask  ask
	}{
		{"referral", ask{name: "www.example.org.", qtype: dns.TypeA, edns: 1232}},
		{"referral-DO", ask{name: "www.example.org.", qtype: dns.TypeA, do: true}},
		{"nxdomain-DO", ask{name: "www.nonexistent-tld.", qtype: dns.TypeA, do: true}},
		{"apex-SOA", ask{name: ".", qtype: dns.TypeSOA, edns: 1232}},
	} {
		m := bc.ask.msg()
		b.Run(bc.name, func(b *testing.B) {
			w := &recorder{}
			s.ServeDNS(w, m)
			if !w.answered() {
				b.Fatal("no answer")
			}
			b.SetBytes(int64(len(w.last)))
			b.ReportAllocs()
			cpu := cpuTime()
			for b.Loop() {
				s.ServeDNS(w, m)
			}
			reportCPU(b, cpu)
		})
		b.Run(bc.name+"-parallel", func(b *testing.B) {
			b.ReportAllocs()
			cpu := cpuTime()
			b.RunParallel(func(pb *testing.PB) {
				w := &recorder{}
				for pb.Next() {
					s.ServeDNS(w, m)
				}
			})
			reportCPU(b, cpu)
		})
	}
}

// BenchmarkDiff measures computing the IXFR difference between two
// versions of the root zone, which SetZone does for each new serial.
func BenchmarkDiff(b *testing.B) {
	v1 := rootZone(b)
	v2 := edit(b, v1, v1.Serial+1, map[string][]string{"org. NS": {"org. 172800 IN NS ns1.example.net."}})
	b.ReportAllocs()
	for b.Loop() {
		del, add := diff(v1, v2)
		if len(del) != 6 || len(add) != 1 {
			b.Fatalf("%d deleted, %d added", len(del), len(add))
		}
	}
}

// cpuTime returns the CPU time the process has used, user and system.
// Benchmarks report CPU per query beside wall time, which on a shared
// machine says more than wall time does.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func reportCPU(b *testing.B, since time.Duration) {
	b.ReportMetric(float64(cpuTime()-since)/float64(b.N), "cpu-ns/op")
}

// BenchmarkFastPath measures the UDP fast path answering from wire to
// wire against the real root zone: the same queries as BenchmarkQuery,
// parsing, lookup, copying and pointer moving included, no socket I/O. It
// must not allocate.
func BenchmarkFastPath(b *testing.B) {
	s := New(Config{})
	s.SetZone(rootZone(b))
	waitFast(b, s, ".")
	for _, bc := range []struct {
		name string
		ask  ask
	}{
		{"referral", ask{name: "www.example.org.", qtype: dns.TypeA, edns: 1232}},
		{"referral-DO", ask{name: "www.example.org.", qtype: dns.TypeA, do: true}},
		{"nxdomain-DO", ask{name: "www.nonexistent-tld.", qtype: dns.TypeA, do: true}},
		{"DS-DO", ask{name: "org.", qtype: dns.TypeDS, do: true}},
		{"apex-SOA", ask{name: ".", qtype: dns.TypeSOA, edns: 1232}},
	} {
		req, err := bc.ask.msg().Pack()
		if err != nil {
			b.Fatal(err)
		}
		b.Run(bc.name, func(b *testing.B) {
			out := make([]byte, DefaultUDPSize)
			var sc fastScratch
			n := s.answerFast(req, out, &sc)
			if n == 0 {
				b.Fatal("the fast path did not answer")
			}
			b.SetBytes(int64(n))
			b.ReportAllocs()
			cpu := cpuTime()
			for b.Loop() {
				s.answerFast(req, out, &sc)
			}
			reportCPU(b, cpu)
		})
	}
}

// BenchmarkSetZone measures what installing a zone version costs beyond
// the zone itself: the index of authoritative names and the fast path's
// precomputed answers (fast-MB: the memory of their tables). It runs on
// the real root zone and, with STEWARD_BENCH_DELEGATIONS=N, on a zone of N
// delegations from zonegen, signed with ECDSA P-256 as steward signs
// (signing it takes minutes for a million delegations and is not timed).
func BenchmarkSetZone(b *testing.B) {
	type tc struct {
		name string
		z    func(testing.TB) *zone.Zone
	}
	cases := []tc{{"root", rootZone}}
	if n, _ := strconv.Atoi(os.Getenv("STEWARD_BENCH_DELEGATIONS")); n > 0 {
		cases = append(cases, tc{"generated-" + strconv.Itoa(n), func(tb testing.TB) *zone.Zone { return signedGenerated(tb, n) }})
	}
	for _, c := range cases {
		z := c.z(b)
		ix := newIndex(z)
		b.Run(c.name+"/index", func(b *testing.B) {
			for b.Loop() {
				newIndex(z)
			}
		})
		b.Run(c.name+"/fast", func(b *testing.B) {
			var f *fastZone
			for b.Loop() {
				f = newFastZone(z, ix)
			}
			b.ReportMetric(float64(f.bytes())/1e6, "fast-MB")
			b.ReportMetric(float64(len(f.arena))/1e6, "arena-MB")
		})
	}
}

// signedGenerated returns a zonegen zone of n delegations, signed.
func signedGenerated(tb testing.TB, n int) *zone.Zone {
	tb.Helper()
	var buf bytes.Buffer
	if _, err := zonegen.Generate(&buf, zonegen.Options{Delegations: n, Seed: 1}); err != nil {
		tb.Fatal(err)
	}
	zp := dns.NewZoneParser(&buf, ".", "generated")
	var rrs []dns.RR
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		rrs = append(rrs, rr)
	}
	if err := zp.Err(); err != nil {
		tb.Fatal(err)
	}
	ksk, err := dnssec.GenerateKey(".", dns.ECDSAP256SHA256, true)
	if err != nil {
		tb.Fatal(err)
	}
	zsk, err := dnssec.GenerateKey(".", dns.ECDSAP256SHA256, false)
	if err != nil {
		tb.Fatal(err)
	}
	z, err := dnssec.Sign(".", rrs, dnssec.SigningKeys{KSKs: []*dnssec.Key{ksk}, ZSKs: []*dnssec.Key{zsk}},
		dnssec.DefaultPolicy, time.Now())
	if err != nil {
		tb.Fatal(err)
	}
	return z
}
