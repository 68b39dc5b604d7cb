package dnsserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"

	"steward/zone"
)

// Defaults for the zero values of Config fields.
const (
	DefaultUDPSize       = 1232 // the EDNS0 payload size of DNS flag day 2020
	DefaultVersions      = 50
	DefaultNotifyRetries = 5
	DefaultNotifyTimeout = 5 * time.Second
)

// Config is the server's configuration. Every field works at its zero
// value: no identity (CHAOS queries are refused), no TSIG keys, no
// transfers, no secondaries to notify.
type Config struct {
	// Logger receives the server's logs; nil discards them.
	Logger *slog.Logger
	// Registerer, if set, gets the server's Prometheus metrics.
	Registerer prometheus.Registerer
	// Identity is the TXT answer to id.server and hostname.bind in class
	// CH (RFC 4892); empty refuses those queries.
	Identity string
	// UDPSize is the EDNS0 payload size this server advertises and the most
	// it sends over UDP; 0 means DefaultUDPSize.
	UDPSize uint16
	// Versions is how many versions of each zone are kept for IXFR; 0 means
	// DefaultVersions.
	Versions int
	// TSIG lists the keys the server knows (RFC 8945).
	TSIG []TSIGKey
	// Transfer holds the transfer policy of each zone, keyed by origin
	// ("." for the root). A zone without one refuses all transfers.
	Transfer map[string]TransferPolicy
	// Update holds the DNS UPDATE policy of each zone, keyed by origin. A
	// zone without one refuses all updates.
	Update map[string]UpdatePolicy
	// NotifyRetries is how many times a NOTIFY is resent when a secondary
	// does not answer; 0 means DefaultNotifyRetries, negative means none.
	NotifyRetries int
	// NotifyTimeout is how long to wait for the answer to the first NOTIFY;
	// each retry waits twice as long as the one before. 0 means
	// DefaultNotifyTimeout.
	NotifyTimeout time.Duration
}

// TSIGKey is a shared secret for transaction signatures.
type TSIGKey struct {
	Name      string // key name, e.g. "steward-xfr."
	Algorithm string // dns.HmacSHA256 etc.; empty means hmac-sha256
	Secret    string // base64
}

// TransferPolicy says who may transfer a zone and whom to notify.
type TransferPolicy struct {
	// Allow lists the client prefixes that may transfer the zone; none
	// means nobody may.
	Allow []netip.Prefix
	// Keys, if not empty, requires transfers to be signed with one of these
	// TSIG keys (names from Config.TSIG).
	Keys []string
	// Notify lists the secondaries told of each new serial.
	Notify []Secondary
}

// Secondary is a server to notify when a zone changes.
type Secondary struct {
	Addr string // host:port
	Key  string // TSIG key name from Config.TSIG to sign the NOTIFY; empty sends it unsigned
}

// Server is an authoritative DNS server. Its methods are safe for
// concurrent use.
type Server struct {
	cfg     Config
	log     *slog.Logger
	metrics *metrics
	keys    map[string]TSIGKey // by lower-case fqdn name
	secrets map[string]string  // name → secret, for miekg/dns
	chain   handler
	badLog  *rate.Limiter // for log lines about bad input

	snap atomic.Pointer[snapshot]
	mu   sync.Mutex // serialises SetZone
	umu  sync.Mutex // serialises DNS UPDATE

	// Lifecycle: ctx is cancelled by Close; wg counts the goroutines the
	// server owns (listeners and notifiers).
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	lmu      sync.Mutex
	open     bool
	servers  []*dns.Server
	udpAddr  net.Addr
	tcpAddr  net.Addr
	notifies map[string]context.CancelFunc // zone|addr → the NOTIFY in flight
}

// New returns a server for cfg. It does no I/O: Open starts listening.
func New(cfg Config) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.UDPSize == 0 {
		cfg.UDPSize = DefaultUDPSize
	}
	if cfg.UDPSize < dns.MinMsgSize {
		cfg.UDPSize = dns.MinMsgSize
	}
	if cfg.Versions <= 0 {
		cfg.Versions = DefaultVersions
	}
	if cfg.NotifyRetries == 0 {
		cfg.NotifyRetries = DefaultNotifyRetries
	}
	if cfg.NotifyTimeout <= 0 {
		cfg.NotifyTimeout = DefaultNotifyTimeout
	}
	transfer := map[string]TransferPolicy{}
	for origin, p := range cfg.Transfer {
		transfer[strings.ToLower(dns.Fqdn(origin))] = p
	}
	cfg.Transfer = transfer
	update := map[string]UpdatePolicy{}
	for origin, p := range cfg.Update {
		update[strings.ToLower(dns.Fqdn(origin))] = p
	}
	cfg.Update = update
	s := &Server{
		cfg:      cfg,
		log:      cfg.Logger,
		metrics:  newMetrics(cfg.Registerer),
		keys:     map[string]TSIGKey{},
		secrets:  map[string]string{},
		badLog:   rate.NewLimiter(10, 20),
		notifies: map[string]context.CancelFunc{},
	}
	for _, k := range cfg.TSIG {
		k.Name = strings.ToLower(dns.Fqdn(k.Name))
		if k.Algorithm == "" {
			k.Algorithm = dns.HmacSHA256
		}
		k.Algorithm = strings.ToLower(dns.Fqdn(k.Algorithm))
		s.keys[k.Name] = k
		s.secrets[k.Name] = k.Secret
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.snap.Store(&snapshot{zones: map[string]*servedZone{}})
	s.chain = buildChain(s)
	return s
}

// Open listens on udpAddr and tcpAddr (either may be empty to skip that
// transport) and serves in the background until Close. Port 0 picks a free
// port; when both addresses are the same and end in :0, both transports
// get the same port, as secondaries expect. Addr reports the ports.
func (s *Server) Open(udpAddr, tcpAddr string) error {
	if err := s.listen(udpAddr, tcpAddr); err != nil {
		return err
	}
	// Secondaries learn of the zones loaded before Open.
	for _, zs := range s.snap.Load().zones {
		s.notify(zs.z)
	}
	return nil
}

func (s *Server) listen(udpAddr, tcpAddr string) error {
	s.lmu.Lock()
	defer s.lmu.Unlock()
	if s.open {
		return errors.New("dnsserver: already open")
	}
	if s.ctx.Err() != nil {
		return errors.New("dnsserver: closed")
	}
	if udpAddr == "" && tcpAddr == "" {
		return errors.New("dnsserver: no address to listen on")
	}
	pc, ln, err := listen(udpAddr, tcpAddr)
	if err != nil {
		return err
	}
	if pc != nil {
		s.udpAddr = pc.LocalAddr()
		s.start(s.udpServer(pc))
	}
	if ln != nil {
		s.tcpAddr = ln.Addr()
		s.start(&dns.Server{Listener: ln})
	}
	s.open = true
	s.log.Info("dns server listening", "udp", addrString(s.udpAddr), "tcp", addrString(s.tcpAddr))
	return nil
}

// start serves srv in the background and returns once it is serving, so
// that Close can always stop it.
func (s *Server) start(srv *dns.Server) {
	started := make(chan struct{})
	srv.Handler = s
	srv.UDPSize = 4096 // the largest query we read; longer ones are malformed
	srv.TsigSecret = s.secrets
	srv.MsgAcceptFunc = acceptMsg
	srv.MsgInvalidFunc = s.invalidMsg
	srv.NotifyStartedFunc = func() { close(started) }
	s.servers = append(s.servers, srv)
	errc := make(chan error, 1)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		errc <- srv.ActivateAndServe()
	}()
	select {
	case <-started:
	case err := <-errc:
		// ActivateAndServe only fails before starting on bad sockets,
		// which listen does not return; log it all the same.
		s.log.Error("dns listener failed", "err", err)
	}
}

// listen opens the sockets. With identical addresses ending in :0, it finds
// a port free for both UDP and TCP.
func listen(udpAddr, tcpAddr string) (net.PacketConn, net.Listener, error) {
	same := udpAddr != "" && udpAddr == tcpAddr && strings.HasSuffix(udpAddr, ":0")
	for try := 0; ; try++ {
		var pc net.PacketConn
		var err error
		if udpAddr != "" {
			pc, err = net.ListenPacket("udp", udpAddr)
			if err != nil {
				return nil, nil, fmt.Errorf("dnsserver: listen udp %s: %w", udpAddr, err)
			}
		}
		if tcpAddr == "" {
			return pc, nil, nil
		}
		addr := tcpAddr
		if same {
			addr = pc.LocalAddr().String()
		}
		ln, err := net.Listen("tcp", addr)
		if err == nil {
			return pc, ln, nil
		}
		if pc != nil {
			_ = pc.Close()
		}
		if same && try < 10 && errors.Is(err, syscall.EADDRINUSE) {
			continue
		}
		return nil, nil, fmt.Errorf("dnsserver: listen tcp %s: %w", addr, err)
	}
}

func addrString(a net.Addr) string {
	if a == nil {
		return ""
	}
	return a.String()
}

// Addr returns the addresses the server listens on (nil for a transport
// not opened).
func (s *Server) Addr() (udp, tcp net.Addr) {
	s.lmu.Lock()
	defer s.lmu.Unlock()
	return s.udpAddr, s.tcpAddr
}

// Close stops listening, lets queries and transfers in progress finish
// until ctx is done, stops sending NOTIFY and waits for the server's
// goroutines. It returns ctx's error if the deadline cut the drain short.
func (s *Server) Close(ctx context.Context) error {
	s.lmu.Lock()
	servers := s.servers
	s.servers = nil
	s.open = false
	s.lmu.Unlock()
	s.cancel()
	var (
		wg   sync.WaitGroup
		emu  sync.Mutex
		errs []error
	)
	for _, srv := range servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := srv.ShutdownContext(ctx); err != nil {
				emu.Lock()
				errs = append(errs, err)
				emu.Unlock()
			}
		}()
	}
	wg.Wait()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		errs = append(errs, ctx.Err())
	}
	s.log.Info("dns server closed")
	return errors.Join(errs...)
}

// SetZone serves z from now on, in place of any version with the same
// origin. The switch is atomic: a query sees either the old version or the
// new one. If z has a newer serial than the version it replaces, the
// difference is kept for IXFR and the zone's secondaries are notified.
// SetZone may be called before Open.
func (s *Server) SetZone(z *zone.Zone) {
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.snap.Load()
	prev := old.zones[z.Origin]
	if prev != nil && prev.z == z {
		return
	}
	// A patched version of the one served: its index and IXFR difference
	// are made for the names changed only.
	var ix *index
	var changed []string
	patched := false
	if prev != nil {
		if changed, patched = changedBetween(prev.z, z); patched {
			ix, patched = patchIndex(prev.ix, z, changed)
		}
	}
	if !patched {
		ix = newIndex(z)
	}
	cur := &servedZone{z: z, ix: ix, ready: make(chan struct{})}
	if prev != nil {
		cur.deltas = prev.deltas
	}
	// Serve the new version at once; its delta follows below, and until
	// then IXFR clients get the whole zone.
	s.snap.Store(old.with(cur))
	s.metrics.setSerial(z.Origin, z.Serial)
	s.wg.Add(1)
	go s.precompute(z, ix, cur.ready)
	switch {
	case prev == nil:
		s.log.Info("zone loaded", "zone", z.Origin, "serial", z.Serial)
	case prev.z.Serial == z.Serial:
		s.log.Warn("zone replaced without a serial change; IXFR history dropped", "zone", z.Origin, "serial", z.Serial)
		s.snap.Store(s.snap.Load().with(&servedZone{z: z, ix: cur.ix, ready: cur.ready}))
		return
	case !serialNewer(z.Serial, prev.z.Serial):
		s.log.Warn("zone serial went backwards; IXFR history dropped", "zone", z.Origin, "from", prev.z.Serial, "to", z.Serial)
		s.snap.Store(s.snap.Load().with(&servedZone{z: z, ix: cur.ix, ready: cur.ready}))
	default:
		start := time.Now()
		var del, add []dns.RR
		if patched {
			del, add = diffChanged(prev.z, z, changed)
		} else {
			del, add = diff(prev.z, z)
		}
		d := &delta{from: prev.z.SOA(), to: z.SOA(), del: del, add: add}
		deltas := append([]*delta(nil), prev.deltas...)
		deltas = append(deltas, d)
		if n := len(deltas) - (s.cfg.Versions - 1); n > 0 {
			deltas = deltas[n:]
		}
		s.snap.Store(s.snap.Load().with(&servedZone{z: z, ix: cur.ix, ready: cur.ready, deltas: deltas}))
		s.log.Info("zone updated", "zone", z.Origin, "from", prev.z.Serial, "to", z.Serial,
			"deleted", len(del), "added", len(add), "patched", patched, "seconds", time.Since(start).Seconds())
	}
	s.lmu.Lock()
	open := s.open
	s.lmu.Unlock()
	if open {
		s.notify(z)
	}
}

// precompute builds the fast path's answers for a zone version that
// SetZone installed, and adds them to the served snapshot if the version
// is still the one served. Until then the handler chain answers every
// query, so that SetZone does not wait for it. A newer version or Close
// stops it.
func (s *Server) precompute(z *zone.Zone, ix *index, ready chan struct{}) {
	defer s.wg.Done()
	defer close(ready)
	current := func() bool {
		zs := s.snap.Load().zones[z.Origin]
		return s.ctx.Err() == nil && zs != nil && zs.z == z
	}
	start := time.Now()
	fast := newFastZone(z, ix)
	if fast == nil {
		if current() {
			s.log.Warn("zone answers not precomputed; the handler chain answers every query", "zone", z.Origin, "serial", z.Serial)
		}
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sn := s.snap.Load()
	zs := sn.zones[z.Origin]
	if zs == nil || zs.z != z {
		return // superseded
	}
	with := *zs
	with.fast = fast
	s.snap.Store(sn.with(&with))
	s.log.Info("zone answers precomputed", "zone", z.Origin, "serial", z.Serial, "names", ix.size(),
		"bytes", fast.bytes(), "seconds", time.Since(start).Seconds())
}

// Zone returns the version of the zone with the given origin being served,
// or nil.
func (s *Server) Zone(origin string) *zone.Zone {
	if zs := s.snap.Load().zones[strings.ToLower(dns.Fqdn(origin))]; zs != nil {
		return zs.z
	}
	return nil
}

// serialNewer reports whether serial a is newer than b in serial number
// arithmetic (RFC 1982).
func serialNewer(a, b uint32) bool {
	return a != b && int32(a-b) > 0
}

// snapshot is the immutable set of zones being served.
type snapshot struct {
	zones map[string]*servedZone // by origin
	root  *servedZone            // zones["."], the common case
	fast  *fastZone              // the fast path's answers, when one zone is served
}

// servedZone is one zone version and the differences that lead to it.
type servedZone struct {
	z      *zone.Zone
	ix     *index
	fast   *fastZone     // nil until the answers are precomputed, or if they cannot be
	ready  chan struct{} // closed when precompute is done with this version
	deltas []*delta      // oldest first; the last one ends at z's serial
}

// with returns a copy of the snapshot in which zs replaces its origin's zone.
func (sn *snapshot) with(zs *servedZone) *snapshot {
	next := &snapshot{zones: make(map[string]*servedZone, len(sn.zones)+1)}
	for k, v := range sn.zones {
		next.zones[k] = v
	}
	next.zones[zs.z.Origin] = zs
	next.root = next.zones["."]
	if len(next.zones) == 1 {
		next.fast = zs.fast
	}
	return next
}

// find returns the zone that name belongs to: the served zone with the
// longest origin that is name or one of its ancestors.
func (sn *snapshot) find(name string) *servedZone {
	if len(sn.zones) == 1 && sn.root != nil {
		return sn.root
	}
	for off, end := 0, false; !end; off, end = dns.NextLabel(name, off) {
		if zs, ok := sn.zones[name[off:]]; ok {
			return zs
		}
	}
	return sn.root
}
