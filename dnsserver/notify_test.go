package dnsserver

import (
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// fakeSecondary is a UDP server that records the NOTIFY messages it gets
// and leaves the first few unanswered.
type fakeSecondary struct {
	mu      sync.Mutex
	drop    int // NOTIFYs of each serial to leave unanswered
	rcode   int
	got     []notifyRecord
	arrived chan struct{}
}

type notifyRecord struct {
	zone   string
	serial uint32
	signed bool
	tsigOK bool
	aa     bool
}

func (f *fakeSecondary) ServeDNS(w dns.ResponseWriter, r *dns.Msg) {
	rec := notifyRecord{zone: r.Question[0].Name, aa: r.Authoritative, signed: r.IsTsig() != nil}
	rec.tsigOK = rec.signed && w.TsigStatus() == nil
	if r.Opcode == dns.OpcodeNotify && len(r.Answer) == 1 {
		rec.serial = r.Answer[0].(*dns.SOA).Serial
	}
	f.mu.Lock()
	f.got = append(f.got, rec)
	seen := 0
	for _, g := range f.got {
		if g.serial == rec.serial {
			seen++
		}
	}
	drop := seen <= f.drop
	rcode := f.rcode
	f.mu.Unlock()
	f.arrived <- struct{}{}
	if drop {
		return
	}
	m := new(dns.Msg)
	m.SetRcode(r, rcode)
	if t := r.IsTsig(); t != nil {
		m.SetTsig(t.Hdr.Name, t.Algorithm, 300, time.Now().Unix())
	}
	_ = w.WriteMsg(m)
}

func (f *fakeSecondary) records() []notifyRecord {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]notifyRecord(nil), f.got...)
}

func startSecondary(t *testing.T, f *fakeSecondary, key TSIGKey) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f.arrived = make(chan struct{}, 100)
	started := make(chan struct{})
	srv := &dns.Server{PacketConn: pc, Handler: f, NotifyStartedFunc: func() { close(started) }}
	if key.Name != "" {
		srv.TsigSecret = map[string]string{key.Name: key.Secret}
	}
	go func() { _ = srv.ActivateAndServe() }()
	<-started
	t.Cleanup(func() { _ = srv.Shutdown() })
	return pc.LocalAddr().String()
}

// TestNotify checks that a new serial is announced to each secondary
// (RFC 1996), signed when a key is configured, retried until answered, and
// not retried after a refusal.
func TestNotify(t *testing.T) {
	v1 := rootZone(t)
	v2 := edit(t, v1, v1.Serial+1, nil)
	tests := []struct {
		name       string
		key        TSIGKey
		drop       int
		rcode      int
		wantTries  int
		wantSigned bool
	}{
		{"unsigned, answered at once", TSIGKey{}, 0, dns.RcodeSuccess, 1, false},
		{"signed", xfrKey, 0, dns.RcodeSuccess, 1, true},
		{"retried until answered", xfrKey, 2, dns.RcodeSuccess, 3, true},
		{"refused is not retried", TSIGKey{}, 0, dns.RcodeRefused, 1, false},
		{"gives up after the retries", TSIGKey{}, 100, dns.RcodeSuccess, 3, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sec := &fakeSecondary{drop: tc.drop, rcode: tc.rcode}
			addr := startSecondary(t, sec, tc.key)
			cfg := Config{
				TSIG:          []TSIGKey{xfrKey},
				NotifyRetries: 2,
				NotifyTimeout: 250 * time.Millisecond,
				Transfer: map[string]TransferPolicy{".": {
					Allow:  []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")},
					Notify: []Secondary{{Addr: addr, Key: tc.key.Name}},
				}},
			}
			s, _ := startServer(t, cfg, v1)
			// Open announces the zone loaded before it.
			waitNotifies(t, sec, tc.wantTries)
			s.SetZone(v2)
			waitNotifies(t, sec, 2*tc.wantTries)
			time.Sleep(700 * time.Millisecond) // no further tries
			got := sec.records()
			if len(got) != 2*tc.wantTries {
				t.Fatalf("%d NOTIFYs, want %d", len(got), 2*tc.wantTries)
			}
			for i, n := range got {
				wantSerial := v1.Serial
				if i >= tc.wantTries {
					wantSerial = v2.Serial
				}
				if n.zone != "." || n.serial != wantSerial || !n.aa || n.signed != tc.wantSigned || n.signed && !n.tsigOK {
					t.Errorf("NOTIFY %d: %+v, want serial %d signed %v", i, n, wantSerial, tc.wantSigned)
				}
			}
		})
	}
}

func waitNotifies(t *testing.T, f *fakeSecondary, n int) {
	t.Helper()
	timeout := time.After(5 * time.Second)
	for len(f.records()) < n {
		select {
		case <-f.arrived:
		case <-timeout:
			t.Fatalf("%d NOTIFYs after 5s, want %d", len(f.records()), n)
		}
	}
}
