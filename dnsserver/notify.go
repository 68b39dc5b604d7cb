package dnsserver

import (
	"context"
	"time"

	"github.com/miekg/dns"

	"steward/zone"
)

// newNotifyHandler answers an incoming NOTIFY with NOTIMP: this server is
// the primary of its zones and has nothing to refresh.
func newNotifyHandler(s *Server, next handler) handler {
	return handlerFunc(func(ctx context.Context, w dns.ResponseWriter, q *query) (int, error) {
		if q.msg.Opcode != dns.OpcodeNotify {
			return next.serveDNS(ctx, w, q)
		}
		s.logBad("dns NOTIFY ignored: this server is a primary", "client", addrString(w.RemoteAddr()), "zone", q.name)
		return s.fail(w, q, dns.RcodeNotImplemented), nil
	})
}

// notify tells each secondary of z's transfer policy that z has a new
// serial (RFC 1996). A NOTIFY still being retried for an older serial of
// the same zone to the same secondary is abandoned.
func (s *Server) notify(z *zone.Zone) {
	pol, ok := s.cfg.Transfer[z.Origin]
	if !ok || len(pol.Notify) == 0 {
		return
	}
	soa := z.SOA()
	s.lmu.Lock()
	defer s.lmu.Unlock()
	if !s.open {
		return
	}
	for _, sec := range pol.Notify {
		id := z.Origin + "|" + sec.Addr
		if cancel := s.notifies[id]; cancel != nil {
			cancel()
		}
		ctx, cancel := context.WithCancel(s.ctx)
		s.notifies[id] = cancel
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer cancel()
			s.sendNotify(ctx, z.Origin, soa, sec)
		}()
	}
}

// sendNotify sends one NOTIFY until the secondary answers it or the
// retries run out, waiting twice as long after each try.
func (s *Server) sendNotify(ctx context.Context, origin string, soa *dns.SOA, sec Secondary) {
	c := &dns.Client{Net: "udp"}
	var key TSIGKey
	if sec.Key != "" {
		var ok bool
		key, ok = s.keys[lower(dns.Fqdn(sec.Key))]
		if !ok {
			s.log.Error("dns NOTIFY not sent: unknown TSIG key", "zone", origin, "secondary", sec.Addr, "key", sec.Key)
			s.metrics.notify(origin, "error")
			return
		}
		c.TsigSecret = map[string]string{key.Name: key.Secret}
	}
	log := s.log.With("zone", origin, "serial", soa.Serial, "secondary", sec.Addr)
	wait := s.cfg.NotifyTimeout
	tries := 1 + max(s.cfg.NotifyRetries, 0)
	for try := 1; try <= tries; try++ {
		m := new(dns.Msg)
		m.SetNotify(origin)
		m.Answer = []dns.RR{soa}
		if key.Name != "" {
			m.SetTsig(key.Name, key.Algorithm, 300, time.Now().Unix())
		}
		actx, cancel := context.WithTimeout(ctx, wait)
		c.Timeout = wait
		r, _, err := c.ExchangeContext(actx, m, sec.Addr)
		cancel()
		if ctx.Err() != nil {
			return
		}
		switch {
		case err == nil && r.Rcode == dns.RcodeSuccess:
			log.Info("dns NOTIFY acknowledged", "tries", try)
			s.metrics.notify(origin, "ok")
			return
		case err == nil:
			// A definite refusal will not change by asking again.
			log.Warn("dns NOTIFY refused", "rcode", rcodeString(r.Rcode))
			s.metrics.notify(origin, "refused")
			return
		}
		log.Debug("dns NOTIFY unanswered", "try", try, "err", err)
		if try == tries {
			break
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		wait *= 2
	}
	log.Warn("dns NOTIFY gave up", "tries", tries)
	s.metrics.notify(origin, "timeout")
}
