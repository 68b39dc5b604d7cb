package dnsserver

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"steward/internal/testdata"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"steward/zone"
)

// rootRecords returns the records of the real root zone, parsed once. The
// test is skipped when the file is missing, or fails under CI.
func rootRecords(tb testing.TB) []dns.RR {
	tb.Helper()
	return testdata.RootZone(tb)
}

func parseZoneFile(path, origin string) ([]dns.RR, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zp := dns.NewZoneParser(f, origin, path)
	var rrs []dns.RR
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		rrs = append(rrs, rr)
	}
	return rrs, zp.Err()
}

// rootZone returns the real root zone as a zone version.
func rootZone(tb testing.TB) *zone.Zone {
	tb.Helper()
	z, err := zone.New(".", rootRecords(tb))
	if err != nil {
		tb.Fatal(err)
	}
	return z
}

// loadZone reads a zone file from testdata.
func loadZone(tb testing.TB, file, origin string) *zone.Zone {
	tb.Helper()
	rrs, err := parseZoneFile(filepath.Join("testdata", file), origin)
	if err != nil {
		tb.Fatal(err)
	}
	z, err := zone.New(origin, rrs)
	if err != nil {
		tb.Fatal(err)
	}
	return z
}

// edit returns a new version of z: its records with the RRsets of the
// listed owner/type pairs replaced by the given records (none deletes),
// and the serial set.
func edit(tb testing.TB, z *zone.Zone, serial uint32, replace map[string][]string) *zone.Zone {
	tb.Helper()
	var rrs []dns.RR
	for _, rr := range z.Records() {
		h := rr.Header()
		if _, ok := replace[h.Name+" "+dns.TypeToString[h.Rrtype]]; ok {
			continue
		}
		if soa, ok := rr.(*dns.SOA); ok {
			c := *soa
			c.Serial = serial
			rr = &c
		}
		rrs = append(rrs, rr)
	}
	for _, lines := range replace {
		for _, l := range lines {
			rrs = append(rrs, mustRR(tb, l))
		}
	}
	nz, err := zone.New(z.Origin, rrs)
	if err != nil {
		tb.Fatal(err)
	}
	return nz
}

func mustRR(tb testing.TB, s string) dns.RR {
	tb.Helper()
	rr, err := dns.NewRR(s)
	if err != nil {
		tb.Fatal(err)
	}
	return rr
}

// logBuffer collects a server's log lines for tests to look at.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (l *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

// startServer runs a server for cfg with the zones on a free loopback
// port (the same for UDP and TCP) until the test ends.
func startServer(tb testing.TB, cfg Config, zones ...*zone.Zone) (*Server, string) {
	tb.Helper()
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s := New(cfg)
	for _, z := range zones {
		s.SetZone(z)
	}
	if err := s.Open("127.0.0.1:0", "127.0.0.1:0"); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Close(ctx); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	udp, tcp := s.Addr()
	if udp.(*net.UDPAddr).Port != tcp.(*net.TCPAddr).Port {
		tb.Fatalf("UDP %v and TCP %v ports differ", udp, tcp)
	}
	return s, udp.String()
}

// ask sends one query and returns the answer.
type ask struct {
	name  string
	qtype uint16
	class uint16 // 0 means IN
	do    bool
	edns  uint16 // EDNS0 payload size; 0 sends no OPT (unless do)
	tcp   bool
}

func (a ask) msg() *dns.Msg {
	m := new(dns.Msg)
	m.SetQuestion(a.name, a.qtype)
	m.RecursionDesired = false
	if a.class != 0 {
		m.Question[0].Qclass = a.class
	}
	if a.edns != 0 || a.do {
		size := a.edns
		if size == 0 {
			size = 1232
		}
		m.SetEdns0(size, a.do)
	}
	return m
}

func exchange(tb testing.TB, addr string, a ask) *dns.Msg {
	tb.Helper()
	r, err := exchangeMsg(addr, a.msg(), a.tcp)
	if err != nil {
		tb.Fatalf("%s %s: %v", a.name, dns.TypeToString[a.qtype], err)
	}
	return r
}

func exchangeMsg(addr string, m *dns.Msg, tcp bool) (*dns.Msg, error) {
	c := &dns.Client{Net: "udp", Timeout: 5 * time.Second, UDPSize: dns.MaxMsgSize}
	if tcp {
		c.Net = "tcp"
	}
	r, _, err := c.Exchange(m, addr)
	return r, err
}

// summary lists the distinct owner/type pairs of a section, sorted, with
// RRSIGs shown with the type they cover: "org. NS", "org. RRSIG(DS)".
func summary(rrs []dns.RR) []string {
	seen := map[string]bool{}
	for _, rr := range rrs {
		h := rr.Header()
		if h.Rrtype == dns.TypeOPT {
			continue
		}
		s := strings.ToLower(h.Name) + " " + dns.TypeToString[h.Rrtype]
		if sig, ok := rr.(*dns.RRSIG); ok {
			s += "(" + dns.TypeToString[sig.TypeCovered] + ")"
		}
		seen[s] = true
	}
	out := make([]string, 0, len(seen))
	for s := range seen {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// rrStrings returns the records of a section as sorted strings, without
// OPT; names in lower case.
func rrStrings(rrs []dns.RR) []string {
	var out []string
	for _, rr := range rrs {
		if rr.Header().Rrtype == dns.TypeOPT {
			continue
		}
		out = append(out, strings.ToLower(rr.String()))
	}
	slices.Sort(out)
	return out
}

// checkComplete fails if a section holds part of an RRset: every
// owner/type in it must come with all the zone's records of that RRset
// (RRSIGs: all those covering the type), and nothing the zone lacks.
// Names are compared without case: names compressed against the question
// take the client's case.
func checkComplete(tb testing.TB, z *zone.Zone, section string, rrs []dns.RR) {
	tb.Helper()
	type key struct {
		name    string
		t, covd uint16
	}
	got := map[key][]string{}
	for _, rr := range rrs {
		h := rr.Header()
		if h.Rrtype == dns.TypeOPT || h.Rrtype == dns.TypeTSIG {
			continue
		}
		k := key{name: strings.ToLower(h.Name), t: h.Rrtype}
		if sig, ok := rr.(*dns.RRSIG); ok {
			k.covd = sig.TypeCovered
		}
		got[k] = append(got[k], strings.ToLower(rr.String()))
	}
	for k, have := range got {
		var want []dns.RR
		if k.t == dns.TypeRRSIG {
			want = z.Sigs(k.name, k.covd)
		} else {
			want = z.RRset(k.name, k.t)
		}
		var ws []string
		for _, rr := range want {
			ws = append(ws, strings.ToLower(rr.String()))
		}
		slices.Sort(ws)
		slices.Sort(have)
		if k.t == dns.TypeSOA && len(have) == 1 && len(ws) == 1 {
			continue // the negative TTL may differ
		}
		if !slices.Equal(have, ws) {
			tb.Errorf("%s: %s %s: got %d records, the zone has %d:\n got %q\nwant %q", section, k.name,
				dns.TypeToString[k.t], len(have), len(ws), have, ws)
		}
	}
}

// glueFor returns the zone's A and AAAA records for the NS records
// among rrs, as sorted strings.
func glueFor(z *zone.Zone, rrs []dns.RR) []string {
	var out []string
	for _, rr := range rrs {
		if ns, ok := rr.(*dns.NS); ok {
			for _, t := range []uint16{dns.TypeA, dns.TypeAAAA} {
				for _, g := range z.RRset(ns.Ns, t) {
					out = append(out, strings.ToLower(g.String()))
				}
			}
		}
	}
	slices.Sort(out)
	return out
}

// flags renders the header bits a test compares.
func flags(m *dns.Msg) string {
	var f []string
	for _, x := range []struct {
		on   bool
		name string
	}{{m.Authoritative, "aa"}, {m.Truncated, "tc"}, {m.RecursionAvailable, "ra"}, {m.AuthenticatedData, "ad"}} {
		if x.on {
			f = append(f, x.name)
		}
	}
	return fmt.Sprintf("%s [%s]", dns.RcodeToString[m.Rcode], strings.Join(f, " "))
}

// setDiffStrings describes how two sorted string lists differ, or returns
// "" if they are equal; cheaper than cmp.Diff on a whole zone.
func setDiffStrings(want, got []string) string {
	if slices.Equal(want, got) {
		return ""
	}
	var missing, extra []string
	for _, s := range want {
		if _, ok := slices.BinarySearch(got, s); !ok {
			missing = append(missing, s)
		}
	}
	for _, s := range got {
		if _, ok := slices.BinarySearch(want, s); !ok {
			extra = append(extra, s)
		}
	}
	return fmt.Sprintf("%d records want, %d got; missing %d %q; extra %d %q", len(want), len(got),
		len(missing), missing[:min(len(missing), 5)], len(extra), extra[:min(len(extra), 5)])
}
