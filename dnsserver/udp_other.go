//go:build !linux

package dnsserver

import (
	"net"

	"github.com/miekg/dns"
)

// batchServer is Linux only.
func (s *Server) batchServer(net.PacketConn) *dns.Server { return nil }
