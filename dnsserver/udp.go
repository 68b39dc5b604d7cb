package dnsserver

import (
	"net"
	"time"

	"github.com/miekg/dns"
)

// UDP queries meet the fast path (fastpath.go) before miekg/dns parses
// them. On Linux, a socket bound to one address is read and written in
// batches by workers of the server's own (udp_linux.go), which hand the
// queries the fast path does not answer to miekg/dns through slowConn.
// Otherwise miekg/dns reads each query and fastReader answers what it can
// before passing the rest on.

// fastReader is a dns.Reader that answers UDP queries from the fast path
// and returns the others to miekg/dns.
type fastReader struct {
	dns.Reader
	s   *Server
	out []byte
	sc  fastScratch
}

// ReadUDP reads queries until one needs the handler chain.
func (r *fastReader) ReadUDP(conn *net.UDPConn, timeout time.Duration) ([]byte, *dns.SessionUDP, error) {
	for {
		m, sess, err := r.Reader.ReadUDP(conn, timeout)
		if err != nil {
			return m, sess, err
		}
		n := r.s.answerFast(m, r.out, &r.sc)
		if n == 0 {
			return m, sess, nil
		}
		if _, err := dns.WriteToSessionUDP(conn, r.out[:n], sess); err != nil {
			r.s.logBad("dns write failed", "client", addrString(sess.RemoteAddr()), "err", err)
		}
	}
}

// udpServer returns the miekg/dns server for a UDP socket: batched with
// the fast path where the platform and address allow, else with the fast
// path in front of miekg/dns's reads.
func (s *Server) udpServer(pc net.PacketConn) *dns.Server {
	if srv := s.batchServer(pc); srv != nil {
		return srv
	}
	srv := &dns.Server{PacketConn: pc}
	if _, ok := pc.(*net.UDPConn); ok {
		srv.DecorateReader = func(r dns.Reader) dns.Reader {
			return &fastReader{Reader: r, s: s, out: make([]byte, s.cfg.UDPSize)}
		}
	}
	return srv
}
