package dnsserver

import (
	"encoding/binary"
	"math/rand/v2"
	"net"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// none is the want of a request that gets no answer at all.
const none = -1

// TestMalformed sends bad requests over UDP and TCP: each gets the rcode
// it deserves or no answer, and the server keeps answering.
func TestMalformed(t *testing.T) {
	z := rootZone(t)
	_, addr := startServer(t, Config{}, z)

	query := func(edit func(m *dns.Msg)) []byte {
		m := new(dns.Msg)
		m.SetQuestion("org.", dns.TypeNS)
		edit(m)
		b, err := m.Pack()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	setHeader := func(b []byte, f func(h []byte)) []byte {
		f(b[:12])
		return b
	}
	rng := rand.New(rand.NewPCG(1, 2))
	random := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.IntN(256))
		}
		b[2] &^= 0x80 // a query, so that it is not dropped as a response
		return b
	}
	tests := []struct {
		name  string
		pkt   []byte
		rcode int
	}{
		{"empty", nil, none},
		{"truncated header", []byte{0x12, 0x34, 0x01, 0x00, 0x00}, none},
		{"header without question", setHeader(make([]byte, 12), func(h []byte) {}), dns.RcodeFormatError},
		{"question cut short", query(func(*dns.Msg) {})[:20], dns.RcodeFormatError},
		{"two questions", query(func(m *dns.Msg) {
			m.Question = append(m.Question, dns.Question{Name: "net.", Qtype: dns.TypeNS, Qclass: dns.ClassINET})
		}), dns.RcodeFormatError},
		{"QDCOUNT says 2, one question", setHeader(query(func(*dns.Msg) {}), func(h []byte) {
			binary.BigEndian.PutUint16(h[4:], 2)
		}), dns.RcodeFormatError},
		{"a response", query(func(m *dns.Msg) { m.Response = true }), none},
		{"opcode IQUERY", query(func(m *dns.Msg) { m.Opcode = dns.OpcodeIQuery }), dns.RcodeNotImplemented},
		{"opcode STATUS", query(func(m *dns.Msg) { m.Opcode = dns.OpcodeStatus }), dns.RcodeNotImplemented},
		{"UPDATE of a zone not served", query(func(m *dns.Msg) { m.Opcode = dns.OpcodeUpdate }), dns.RcodeNotAuth},
		{"UPDATE without an update policy", query(func(m *dns.Msg) { m.SetUpdate(".") }), dns.RcodeRefused},
		{"opcode 15", setHeader(query(func(*dns.Msg) {}), func(h []byte) { h[2] |= 0x78 }), dns.RcodeNotImplemented},
		{"NOTIFY to a primary", query(func(m *dns.Msg) { m.SetNotify("."); m.Opcode = dns.OpcodeNotify }), dns.RcodeNotImplemented},
		{"record in the answer section", query(func(m *dns.Msg) {
			m.Answer = []dns.RR{mustRR(t, "org. 60 IN NS a.example.")}
		}), dns.RcodeFormatError},
		{"two OPT records", query(func(m *dns.Msg) { m.SetEdns0(1232, false); m.SetEdns0(1232, true) }), dns.RcodeFormatError},
		{"OPT not at the root", query(func(m *dns.Msg) {
			m.SetEdns0(1232, false)
			m.Extra[0].Header().Name = "org."
		}), dns.RcodeFormatError},
		{"EDNS version 1", query(func(m *dns.Msg) {
			m.SetEdns0(1232, true)
			m.Extra[0].(*dns.OPT).SetVersion(1)
		}), dns.RcodeBadVers},
		{"qtype OPT", query(func(m *dns.Msg) { m.Question[0].Qtype = dns.TypeOPT }), dns.RcodeFormatError},
		{"qtype 0", query(func(m *dns.Msg) { m.Question[0].Qtype = 0 }), dns.RcodeFormatError},
		{"too many additional records", query(func(m *dns.Msg) {
			for range 3 {
				m.Extra = append(m.Extra, mustRR(t, "x.org. 60 IN A 127.0.0.1"))
			}
		}), dns.RcodeFormatError},
		{"bad label length", setHeader(append(make([]byte, 12), 0x40, 'a', 0, 0, 1, 0, 1), func(h []byte) {
			binary.BigEndian.PutUint16(h[4:], 1)
		}), dns.RcodeFormatError},
		{"compression loop", setHeader(append(make([]byte, 12), 0xc0, 12, 0, 1, 0, 1), func(h []byte) {
			binary.BigEndian.PutUint16(h[4:], 1)
		}), dns.RcodeFormatError},
		{"oversized", query(func(m *dns.Msg) {
			m.SetEdns0(1232, false)
			opt := m.Extra[0].(*dns.OPT)
			opt.Option = append(opt.Option, &dns.EDNS0_PADDING{Padding: make([]byte, 5000)})
		}), dns.RcodeFormatError},
		{"random 12 bytes", random(12), anyRcode},
		{"random 40 bytes", random(40), anyRcode},
		{"random 300 bytes", random(300), anyRcode},
	}
	for _, tc := range tests {
		for _, network := range []string{"udp", "tcp"} {
			if network == "tcp" && len(tc.pkt) > 512 {
				continue
			}
			t.Run(tc.name+"/"+network, func(t *testing.T) {
				wait := 3 * time.Second
				if tc.rcode == none || tc.rcode == anyRcode {
					wait = 300 * time.Millisecond
				}
				got, err := raw(addr, network, tc.pkt, wait)
				if err != nil {
					t.Fatal(err)
				}
				switch {
				case tc.rcode == anyRcode:
				case got == nil && tc.rcode != none:
					t.Errorf("no answer, want %s", dns.RcodeToString[tc.rcode])
				case got != nil && tc.rcode == none:
					t.Errorf("answer %s, want none", dns.RcodeToString[got.Rcode])
				case got != nil && got.Rcode != tc.rcode:
					t.Errorf("rcode %s, want %s", dns.RcodeToString[got.Rcode], dns.RcodeToString[tc.rcode])
				}
				if got != nil && len(tc.pkt) >= 2 && got.Id != binary.BigEndian.Uint16(tc.pkt) {
					t.Errorf("answer id %d", got.Id)
				}
				if got != nil && (len(got.Answer) > 0 || !got.Response) {
					t.Errorf("answer to bad input: %v", got)
				}
			})
		}
	}
	// Still alive.
	if r := exchange(t, addr, ask{name: ".", qtype: dns.TypeSOA}); r.Rcode != dns.RcodeSuccess {
		t.Fatalf("after the bad input: %s", dns.RcodeToString[r.Rcode])
	}
}

const anyRcode = -2

// raw sends pkt to addr and returns the answer, or nil if none came within
// wait.
func raw(addr, network string, pkt []byte, wait time.Duration) (*dns.Msg, error) {
	c, err := net.Dial(network, addr)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(wait)); err != nil {
		return nil, err
	}
	conn := &dns.Conn{Conn: c, UDPSize: dns.MaxMsgSize}
	if _, err := conn.Write(pkt); err != nil {
		return nil, err
	}
	b := make([]byte, dns.MaxMsgSize)
	n, err := conn.Read(b)
	if err != nil {
		return nil, nil // a timeout, or the server closed the connection
	}
	m := new(dns.Msg)
	if err := m.Unpack(b[:n]); err != nil {
		return nil, err
	}
	return m, nil
}
