package sqlstore

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the store's Prometheus measurements.
type Metrics struct {
	commits        prometheus.Counter
	events         prometheus.Counter
	batchSize      prometheus.Histogram
	commitSeconds  prometheus.Histogram
	checkpointSize prometheus.Gauge
}

// NewMetrics creates the store's metrics and registers them with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		commits: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "steward_store_commits_total", Help: "Write transactions committed."}),
		events: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "steward_ledger_entries_appended_total", Help: "Ledger entries appended."}),
		batchSize: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "steward_store_batch_commands", Help: "Commands per write transaction.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 10)}),
		commitSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "steward_store_commit_seconds", Help: "Time to run and commit one batch.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14)}),
		checkpointSize: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "steward_ledger_checkpoint_size", Help: "Tree size of the latest signed checkpoint."}),
	}
	reg.MustRegister(m.commits, m.events, m.batchSize, m.commitSeconds, m.checkpointSize)
	return m
}

func (m *Metrics) observeBatch(commands, entries int, d time.Duration) {
	m.commits.Inc()
	m.events.Add(float64(entries))
	m.batchSize.Observe(float64(commands))
	m.commitSeconds.Observe(d.Seconds())
}
