package server

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/wraft/wraft/engine"
)

// metrics are the node's Prometheus metrics, in a registry of its own.
type metrics struct {
	reg          *prometheus.Registry
	term         prometheus.Gauge
	commit       prometheus.Gauge
	applied      prometheus.Gauge
	leader       prometheus.Gauge
	isLeader     prometheus.Gauge
	alive        prometheus.Gauge
	keys         prometheus.Gauge
	pending      prometheus.Gauge
	handle       prometheus.Histogram
	persist      prometheus.Histogram
	batch        prometheus.Histogram
	sent         *prometheus.CounterVec
	replies      *prometheus.CounterVec
	inboxDropped prometheus.Counter
}

func newMetrics(id uint64) *metrics {
	labels := prometheus.Labels{"node": strconv.FormatUint(id, 10)}
	g := func(name, help string) prometheus.Gauge {
		return prometheus.NewGauge(prometheus.GaugeOpts{Name: "wraft_" + name, Help: help, ConstLabels: labels})
	}
	h := func(name, help string, buckets []float64) prometheus.Histogram {
		return prometheus.NewHistogram(prometheus.HistogramOpts{Name: "wraft_" + name, Help: help, ConstLabels: labels, Buckets: buckets})
	}
	m := &metrics{
		reg:      prometheus.NewRegistry(),
		term:     g("term", "Current Raft term."),
		commit:   g("commit_index", "Highest log index known to be committed."),
		applied:  g("applied_index", "Highest log index applied to the key-value store."),
		leader:   g("leader_id", "The leader this node follows (0: none)."),
		isLeader: g("is_leader", "1 if this node leads."),
		alive:    g("alive_voters", "Voters heard from within the longest election timeout, this node included."),
		keys:     g("keys", "Keys in the store."),
		pending:  g("pending_requests", "Client requests waiting for an answer."),
		handle:   h("handle_seconds", "Time the core takes per batch.", prometheus.ExponentialBuckets(1e-6, 4, 10)),
		persist:  h("persist_seconds", "Time to make a batch durable (fsync included).", prometheus.ExponentialBuckets(1e-5, 3, 12)),
		batch:    h("batch_inputs", "Inputs per core call.", prometheus.ExponentialBuckets(1, 2, 14)),
		sent: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "wraft_messages_sent_total",
			Help: "Raft messages handed to the transport, by type.", ConstLabels: labels}, []string{"type"}),
		replies: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "wraft_replies_total",
			Help: "Final answers to client requests, by code.", ConstLabels: labels}, []string{"code"}),
		inboxDropped: prometheus.NewCounter(prometheus.CounterOpts{Name: "wraft_inbox_dropped_total",
			Help: "Peer messages dropped because the node's loop was behind.", ConstLabels: labels}),
	}
	m.reg.MustRegister(m.term, m.commit, m.applied, m.leader, m.isLeader, m.alive, m.keys, m.pending,
		m.handle, m.persist, m.batch, m.sent, m.replies, m.inboxDropped,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) observe(s engine.Status) {
	m.term.Set(float64(s.Term))
	m.commit.Set(float64(s.Commit))
	m.applied.Set(float64(s.Applied))
	m.leader.Set(float64(s.Leader))
	if s.Leader == s.ID && s.ID != 0 {
		m.isLeader.Set(1)
	} else {
		m.isLeader.Set(0)
	}
	m.alive.Set(float64(s.Alive))
	m.keys.Set(float64(s.Keys))
	m.pending.Set(float64(s.Pending))
}
