package dnsserver

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"

	"steward/zone"
)

// TestSetZoneAtomic switches between zone versions while clients query
// over UDP and TCP: every query is answered, from one version or the
// other, never a mix.
func TestSetZoneAtomic(t *testing.T) {
	v1 := rootZone(t)
	v2 := edit(t, v1, v1.Serial+1, map[string][]string{
		"org. NS": {"org. 172800 IN NS a0.org.afilias-nst.info.", "org. 172800 IN NS ns1.example.net."},
	})
	s, addr := startServer(t, Config{}, v1)
	nsOf := map[uint32]string{}
	for _, z := range []*zone.Zone{v1, v2} {
		nsOf[z.Serial] = strings.Join(rrStrings(z.RRset("org.", dns.TypeNS)), "|")
	}

	stop := make(chan struct{})
	var flips sync.WaitGroup
	flips.Add(1)
	go func() {
		defer flips.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			s.SetZone([]*zone.Zone{v1, v2}[i%2])
		}
	}()

	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for c := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &dns.Client{Net: []string{"udp", "tcp"}[c%2], Timeout: 2 * time.Second}
			for range 150 {
				// SOA and the org. delegation in one answer: the
				// authority section must match the SOA's version.
				m := new(dns.Msg)
				m.SetQuestion(".", dns.TypeSOA)
				r, _, err := client.Exchange(m, addr)
				if err != nil {
					errs <- err
					return
				}
				serial := r.Answer[0].(*dns.SOA).Serial
				if _, ok := nsOf[serial]; !ok {
					errs <- errors.New("unknown serial")
					return
				}
				m.SetQuestion("org.", dns.TypeNS)
				r, _, err = client.Exchange(m, addr)
				if err != nil {
					errs <- err
					return
				}
				got := strings.Join(rrStrings(r.Ns), "|")
				if got != nsOf[v1.Serial] && got != nsOf[v2.Serial] {
					errs <- errors.New("referral from neither version: " + got)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	flips.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestLifecycle checks Open and Close: addresses, a port in use, a second
// Open, and a transfer in progress finishing during Close.
func TestLifecycle(t *testing.T) {
	z := rootZone(t)
	s := New(Config{Transfer: map[string]TransferPolicy{".": {Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}}})
	if u, tc := s.Addr(); u != nil || tc != nil {
		t.Errorf("addresses before Open: %v %v", u, tc)
	}
	s.SetZone(z)
	if err := s.Open("127.0.0.1:0", "127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	if err := s.Open("127.0.0.1:0", "127.0.0.1:0"); err == nil {
		t.Error("second Open succeeded")
	}
	udp, tcp := s.Addr()
	addr := udp.String()
	if tcp.String() != addr {
		t.Errorf("UDP %v, TCP %v", udp, tcp)
	}

	other := New(Config{})
	if err := other.Open(addr, ""); err == nil {
		t.Error("Open on a UDP port in use succeeded")
		_ = other.Close(context.Background())
	}
	if err := other.Open("", tcp.String()); err == nil {
		t.Error("Open on a TCP port in use succeeded")
		_ = other.Close(context.Background())
	}

	// A transfer under way when Close is called finishes.
	type result struct {
		n   int
		err error
	}
	done := make(chan result, 1)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		tr := &dns.Transfer{Conn: &dns.Conn{Conn: c}}
		ch, err := tr.In(axfr("."), addr)
		if err != nil {
			done <- result{err: err}
			return
		}
		n := 0
		for env := range ch {
			if env.Error != nil {
				done <- result{n, env.Error}
				return
			}
			n += len(env.RR)
			if n == len(env.RR) {
				time.Sleep(50 * time.Millisecond) // let Close start
			}
		}
		done <- result{n: n}
	}()
	time.Sleep(20 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Close(ctx); err != nil {
		t.Errorf("Close: %v", err)
	}
	r := <-done
	if r.err != nil || r.n != len(z.Records())+1 {
		t.Errorf("transfer during Close: %d records, %v", r.n, r.err)
	}
	if _, err := exchangeMsg(addr, ask{name: ".", qtype: dns.TypeSOA}.msg(), true); err == nil {
		t.Error("query answered after Close")
	}
	if err := s.Open("127.0.0.1:0", ""); err == nil {
		t.Error("Open after Close succeeded")
	}
}

// TestMetrics checks the query counter by rcode and type.
func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	_, addr := startServer(t, Config{Registerer: reg}, loadZone(t, "example.zone", "example."))
	for _, a := range []ask{
		{name: "example.", qtype: dns.TypeSOA},
		{name: "example.", qtype: dns.TypeSOA, tcp: true},
		{name: "nope.example.", qtype: dns.TypeA},
		{name: "org.", qtype: dns.TypeA},
		{name: "example.", qtype: 65000},
	} {
		exchange(t, addr, a)
	}
	want := map[string]float64{"NOERROR/SOA": 2, "NXDOMAIN/A": 1, "REFUSED/A": 1, "NOERROR/other": 1}
	// A query is counted just after its answer is sent: wait for the last.
	var got map[string]float64
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		got = gatherQueries(t, reg)
		total := 0.0
		for _, v := range got {
			total += v
		}
		if total >= 5 { // every query counted
			break
		}
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %v, want %v (all: %v)", k, got[k], v, got)
		}
	}
}

// gatherQueries returns the query counter's values by "rcode/type", and
// checks the serial gauge on the way.
func gatherQueries(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		switch mf.GetName() {
		case "steward_dns_queries_total":
			for _, m := range mf.GetMetric() {
				l := map[string]string{}
				for _, lp := range m.GetLabel() {
					l[lp.GetName()] = lp.GetValue()
				}
				got[l["rcode"]+"/"+l["type"]] = m.GetCounter().GetValue()
			}
		case "steward_dns_zone_serial":
			if v := mf.GetMetric()[0].GetGauge().GetValue(); v != 2026010100 {
				t.Errorf("serial gauge %v", v)
			}
		}
	}
	return got
}
