//go:build linux

package dnsserver

import (
	"errors"
	"net"
	"os"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"github.com/miekg/dns"
	"golang.org/x/sys/unix"
)

// Batched UDP on Linux: each worker reads up to batchSize queries with
// one recvmmsg, answers those the fast path can into its own buffers and
// sends the answers with one sendmmsg, to the addresses the queries came
// from, without allocating. The rest are copied and handed to miekg/dns,
// which answers them through the handler chain.
//
// golang.org/x/net's ipv4.PacketConn.ReadBatch does the same system calls
// but allocates a net.UDPAddr per message, so the workers call recvmmsg
// and sendmmsg themselves. The socket must be bound to one address: the
// kernel then sends the answers from the address the queries reached.
// A wildcard socket is left to miekg/dns, whose sessions carry the
// destination address (IP_PKTINFO), with the fast path in front.

const (
	batchSize = 32
	maxQuery  = 4096 // the largest query read, as for miekg/dns
)

// mmsghdr is struct mmsghdr of recvmmsg(2) and sendmmsg(2).
type mmsghdr struct {
	hdr unix.Msghdr
	n   uint32
}

// slowConn is the socket as miekg/dns sees it: reads return the queries
// the workers hand on; writes go to the socket.
type slowConn struct {
	*net.UDPConn
	slow chan slowPacket
	done chan struct{} // closed when every worker has stopped
}

type slowPacket struct {
	b    []byte
	addr *net.UDPAddr
}

// slowReader is the dns.Reader of a slowConn.
type slowReader struct {
	dns.Reader
	c *slowConn
}

func (r slowReader) ReadPacketConn(net.PacketConn, time.Duration) ([]byte, net.Addr, error) {
	select {
	case p := <-r.c.slow:
		return p.b, p.addr, nil
	case <-r.c.done:
		return nil, nil, net.ErrClosed
	}
}

// batchServer starts the batch workers on pc and returns the miekg/dns
// server for the queries they hand on, or nil if pc is not a UDP socket
// bound to one address.
func (s *Server) batchServer(pc net.PacketConn) *dns.Server {
	uc, ok := pc.(*net.UDPConn)
	if !ok {
		return nil
	}
	la, ok := uc.LocalAddr().(*net.UDPAddr)
	if !ok || la.IP.IsUnspecified() {
		return nil
	}
	rc, err := uc.SyscallConn()
	if err != nil {
		return nil
	}
	c := &slowConn{UDPConn: uc, slow: make(chan slowPacket, 256), done: make(chan struct{})}
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		w := newBatchWorker(s, c, rc)
		wg.Add(1)
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer wg.Done()
			w.run()
		}()
	}
	go func() {
		wg.Wait()
		close(c.done)
	}()
	return &dns.Server{
		PacketConn:     c,
		DecorateReader: func(r dns.Reader) dns.Reader { return slowReader{Reader: r, c: c} },
	}
}

// batchWorker is one worker's buffers and state, reused for every batch.
type batchWorker struct {
	s     *Server
	c     *slowConn
	rc    syscall.RawConn
	in    []byte // batchSize queries of maxQuery bytes
	out   []byte // batchSize answers of outSize bytes
	outSz int
	addrs [batchSize]unix.RawSockaddrInet6
	riov  [batchSize]unix.Iovec
	wiov  [batchSize]unix.Iovec
	rh    [batchSize]mmsghdr
	wh    [batchSize]mmsghdr
	sc    fastScratch

	// Results of the system calls, set by recv and send.
	nr, nw, woff, wn int
	errno            syscall.Errno
	recvFn, sendFn   func(uintptr) bool
}

func newBatchWorker(s *Server, c *slowConn, rc syscall.RawConn) *batchWorker {
	w := &batchWorker{s: s, c: c, rc: rc, outSz: int(s.cfg.UDPSize)}
	w.in = make([]byte, batchSize*maxQuery)
	w.out = make([]byte, batchSize*w.outSz)
	for i := range batchSize {
		w.riov[i].Base = &w.in[i*maxQuery]
		w.riov[i].SetLen(maxQuery)
		w.rh[i].hdr.Iov = &w.riov[i]
		w.rh[i].hdr.SetIovlen(1)
		w.rh[i].hdr.Name = (*byte)(unsafe.Pointer(&w.addrs[i]))
		w.wiov[i].Base = &w.out[i*w.outSz]
		w.wh[i].hdr.Iov = &w.wiov[i]
		w.wh[i].hdr.SetIovlen(1)
	}
	w.recvFn = w.recv
	w.sendFn = w.send
	return w
}

func (w *batchWorker) recv(fd uintptr) bool {
	for {
		n, _, e := unix.Syscall6(unix.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&w.rh[0])), batchSize, 0, 0, 0)
		switch e {
		case 0:
			w.nr, w.errno = int(n), 0
			return true
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			return false
		}
		w.nr, w.errno = 0, e
		return true
	}
}

func (w *batchWorker) send(fd uintptr) bool {
	for w.woff < w.wn {
		n, _, e := unix.Syscall6(unix.SYS_SENDMMSG, fd, uintptr(unsafe.Pointer(&w.wh[w.woff])), uintptr(w.wn-w.woff), 0, 0, 0)
		switch e {
		case 0:
			w.woff += int(n)
		case unix.EINTR:
		case unix.EAGAIN:
			return false
		default:
			// The first answer left could not be sent (the client's
			// address is unreachable, say): drop it, send the rest.
			w.errno = e
			w.woff++
		}
	}
	return true
}

// run serves batches until the socket is closed or its read deadline
// passes (Close and miekg/dns's Shutdown set one in the past).
func (w *batchWorker) run() {
	for {
		for i := range batchSize {
			w.rh[i].hdr.Namelen = uint32(unsafe.Sizeof(w.addrs[i]))
			w.rh[i].hdr.Flags = 0
			w.rh[i].n = 0
		}
		if err := w.rc.Read(w.recvFn); err != nil {
			if !errors.Is(err, os.ErrDeadlineExceeded) && !errors.Is(err, net.ErrClosed) {
				w.s.log.Error("dns batch reader stopped", "err", err)
			}
			return
		}
		if w.errno != 0 {
			continue // ECONNREFUSED and the like, left by ICMP errors
		}
		w.wn = 0
		for i := range w.nr {
			h := &w.rh[i]
			q := w.in[i*maxQuery : i*maxQuery+int(min(h.n, maxQuery))]
			if h.hdr.Flags&unix.MSG_TRUNC == 0 {
				out := w.out[w.wn*w.outSz : (w.wn+1)*w.outSz]
				if n := w.s.answerFast(q, out, &w.sc); n > 0 {
					wh := &w.wh[w.wn]
					wh.hdr.Name = h.hdr.Name
					wh.hdr.Namelen = h.hdr.Namelen
					w.wiov[w.wn].SetLen(n)
					w.wn++
					continue
				}
			}
			if !w.pass(q, &w.addrs[i]) {
				return
			}
		}
		if w.wn > 0 {
			w.woff, w.errno = 0, 0
			if err := w.rc.Write(w.sendFn); err != nil {
				if !errors.Is(err, net.ErrClosed) {
					w.s.logBad("dns batch write failed", "err", err)
				}
			} else if w.errno != 0 {
				w.s.logBad("dns batch write failed", "err", w.errno)
			}
		}
	}
}

// pass hands a query to miekg/dns. It reports false if the server is
// closing.
func (w *batchWorker) pass(q []byte, sa *unix.RawSockaddrInet6) bool {
	p := slowPacket{b: append([]byte(nil), q...), addr: udpAddr(sa)}
	select {
	case w.c.slow <- p:
		return true
	case <-w.s.ctx.Done():
		return false
	}
}

// udpAddr converts a socket address filled in by recvmmsg.
func udpAddr(sa *unix.RawSockaddrInet6) *net.UDPAddr {
	if sa.Family == unix.AF_INET {
		sa4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(sa))
		p := (*[2]byte)(unsafe.Pointer(&sa4.Port))
		return &net.UDPAddr{IP: net.IP(append([]byte(nil), sa4.Addr[:]...)), Port: int(p[0])<<8 | int(p[1])}
	}
	p := (*[2]byte)(unsafe.Pointer(&sa.Port))
	a := &net.UDPAddr{IP: net.IP(append([]byte(nil), sa.Addr[:]...)), Port: int(p[0])<<8 | int(p[1])}
	if sa.Scope_id != 0 {
		a.Zone = strconv.Itoa(int(sa.Scope_id))
	}
	return a
}
