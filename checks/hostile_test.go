package checks

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// hostile answers every UDP query on a loopback address with what reply
// makes of it, until the test ends, and returns the address's port.
func hostile(t *testing.T, addr string, reply func(q *dns.Msg, raw []byte) []byte) uint16 {
	t.Helper()
	pc, err := net.ListenPacket("udp", addr+":0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pc.Close() })
	go func() {
		buf := make([]byte, 65535)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			q := new(dns.Msg)
			if q.Unpack(buf[:n]) != nil {
				continue
			}
			if b := reply(q, buf[:n]); b != nil {
				_, _ = pc.WriteTo(b, from)
			}
		}
	}()
	return uint16(pc.LocalAddr().(*net.UDPAddr).Port)
}

// TestHostileAnswers sends queries to a server that answers with garbage,
// answers for another question, forgets the QR bit or loops its name
// compression: each answer counts as none, with the reason in the
// evidence, and nothing panics.
func TestHostileAnswers(t *testing.T) {
	for name, c := range map[string]struct {
		reply func(q *dns.Msg, raw []byte) []byte
		want  string
	}{
		"garbage": {func(q *dns.Msg, raw []byte) []byte {
			return append([]byte{raw[0], raw[1], 0x84, 0, 0, 1, 0, 9}, []byte("not dns at all, not at all")...)
		}, "no answer"},
		"other question": {func(q *dns.Msg, _ []byte) []byte {
			r := new(dns.Msg)
			r.SetReply(q)
			r.Question[0].Name = "elsewhere.example."
			b, _ := r.Pack()
			return b
		}, "another question"},
		"not a response": {func(q *dns.Msg, _ []byte) []byte {
			r := q.Copy()
			b, _ := r.Pack()
			return b
		}, "not a response"},
		"compression loop": {func(q *dns.Msg, raw []byte) []byte {
			// header with one answer whose owner name points at itself
			b := append([]byte{}, raw...)
			b[2] |= 0x80
			b[7] = 1
			off := len(b)
			return append(b, 0xC0|byte(off>>8), byte(off), 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1)
		}, "no answer"},
	} {
		t.Run(name, func(t *testing.T) {
			port := hostile(t, "127.0.0.1", c.reply)
			d := Delegation{Zone: "example.test.", NS: []NameServer{
				{Name: "ns1.example.test.", Addrs: []netip.Addr{netip.MustParseAddr("127.0.0.1")}},
			}}
			rep := Run(context.Background(), d, Options{Port: port, Timeout: 4 * time.Second, AllowLoopback: true})
			found := false
			for _, r := range rep.Results {
				if r.Case != "CONNECTIVITY01" {
					continue
				}
				for _, e := range r.Evidence {
					if strings.Contains(e, c.want) {
						found = true
					}
				}
			}
			if !found || rep.CaseLevels()["CONNECTIVITY01"] != ERROR {
				t.Errorf("CONNECTIVITY01 does not fail with %q in its evidence:\n%s", c.want, reportText(rep))
			}
		})
	}
}
