package dnsserver

import (
	"net"

	"github.com/miekg/dns"
)

// recorder is a dns.ResponseWriter test double: it packs what is written,
// as the real writer does, and keeps the last message.
type recorder struct {
	tcp      bool
	remote   net.IP
	tsigErr  error
	buf      []byte
	last     []byte
	writes   int
	packErrs int
}

var _ dns.ResponseWriter = (*recorder)(nil)

func (r *recorder) LocalAddr() net.Addr {
	if r.tcp {
		return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 53}
	}
	return &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 53}
}

func (r *recorder) RemoteAddr() net.Addr {
	ip := r.remote
	if ip == nil {
		ip = net.IPv4(127, 0, 0, 1)
	}
	if r.tcp {
		return &net.TCPAddr{IP: ip, Port: 40000}
	}
	return &net.UDPAddr{IP: ip, Port: 40000}
}

func (r *recorder) WriteMsg(m *dns.Msg) error {
	if r.buf == nil {
		r.buf = make([]byte, dns.MaxMsgSize)
	}
	b, err := m.PackBuffer(r.buf)
	if err != nil {
		r.packErrs++
		return err
	}
	r.writes++
	r.last = b
	return nil
}

func (r *recorder) Write(b []byte) (int, error) {
	r.writes++
	r.last = b
	return len(b), nil
}

func (r *recorder) Close() error        { return nil }
func (r *recorder) TsigStatus() error   { return r.tsigErr }
func (r *recorder) TsigTimersOnly(bool) {}
func (r *recorder) Hijack()             {}
func (r *recorder) answered() bool      { return r.writes > 0 }
func (r *recorder) lastMsg() (*dns.Msg, error) {
	m := new(dns.Msg)
	return m, m.Unpack(r.last)
}
