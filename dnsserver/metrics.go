package dnsserver

import (
	"sync"
	"sync/atomic"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the server's Prometheus measurements. A nil *metrics (no
// Registerer configured) measures nothing.
type metrics struct {
	queries   *prometheus.CounterVec
	malformd  prometheus.Counter
	tsigFails prometheus.Counter
	transfers *prometheus.CounterVec
	notifies  *prometheus.CounterVec
	serials   *prometheus.GaugeVec

	cache  sync.Map                           // rcode<<16|qtype → prometheus.Counter
	common [6][256]atomic.Pointer[counterRef] // by rcode and type, the same counters
}

func newMetrics(reg prometheus.Registerer) *metrics {
	if reg == nil {
		return nil
	}
	m := &metrics{
		queries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "steward_dns_queries_total", Help: "DNS requests answered, by rcode and query type."},
			[]string{"rcode", "type"}),
		malformd: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "steward_dns_malformed_total", Help: "DNS requests that could not be parsed."}),
		tsigFails: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "steward_dns_tsig_failures_total", Help: "DNS requests whose TSIG did not verify."}),
		transfers: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "steward_dns_transfers_total", Help: "Zone transfers requested, by zone, type and result."},
			[]string{"zone", "type", "result"}),
		notifies: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "steward_dns_notifies_total", Help: "NOTIFY messages sent to secondaries, by zone and result."},
			[]string{"zone", "result"}),
		serials: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "steward_dns_zone_serial", Help: "SOA serial of the zone version being served."},
			[]string{"zone"}),
	}
	reg.MustRegister(m.queries, m.malformd, m.tsigFails, m.transfers, m.notifies, m.serials)
	return m
}

// query counts one request. Query types outside the known ones are
// counted as "other", so that junk cannot grow the label set.
func (m *metrics) query(q *query, rcode int) {
	m.count(q.qtype, rcode)
}

// count counts one answer of rcode to a query of type qtype. The counters
// of the common rcodes and types are found without allocating.
func (m *metrics) count(qtype uint16, rcode int) {
	if m == nil {
		return
	}
	var slot *atomic.Pointer[counterRef]
	if rcode >= 0 && rcode < len(m.common) && int(qtype) < len(m.common[0]) {
		slot = &m.common[rcode][qtype]
		if c := slot.Load(); c != nil {
			c.c.Inc()
			return
		}
	}
	key := uint32(rcode&0xffff)<<16 | uint32(qtype)
	if c, ok := m.cache.Load(key); ok {
		c.(prometheus.Counter).Inc()
		return
	}
	typ, ok := dns.TypeToString[qtype]
	if !ok {
		typ = "other"
		key = uint32(rcode&0xffff)<<16 | 0xffff
		if c, ok := m.cache.Load(key); ok {
			c.(prometheus.Counter).Inc()
			return
		}
	}
	c := m.queries.WithLabelValues(rcodeString(rcode), typ)
	m.cache.Store(key, c)
	if slot != nil {
		slot.Store(&counterRef{c})
	}
	c.Inc()
}

type counterRef struct{ c prometheus.Counter }

func (m *metrics) malformed() {
	if m != nil {
		m.malformd.Inc()
	}
}

func (m *metrics) tsigFailure() {
	if m != nil {
		m.tsigFails.Inc()
	}
}

func (m *metrics) transfer(zone, typ, result string) {
	if m != nil {
		m.transfers.WithLabelValues(zone, typ, result).Inc()
	}
}

func (m *metrics) notify(zone, result string) {
	if m != nil {
		m.notifies.WithLabelValues(zone, result).Inc()
	}
}

func (m *metrics) setSerial(zone string, serial uint32) {
	if m != nil {
		m.serials.WithLabelValues(zone).Set(float64(serial))
	}
}
