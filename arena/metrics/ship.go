package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// ShipStatus is what the ClickHouse shipper reports at each scrape.
type ShipStatus struct {
	Backlog    int64         // committed votes not yet in ClickHouse
	BacklogCap int64         // at this backlog new votes are refused
	Lag        time.Duration // how long the oldest unshipped vote has waited
	Refusing   bool          // new votes are refused now
	Shipped    int64         // votes shipped since start
	Errors     int64         // failed inserts since start
	LastShipAt time.Time     // zero before the first shipment
}

// Shipping serves the ClickHouse shipper's state, read from status at
// each scrape.
func (r *Registry) Shipping(status func() ShipStatus) {
	r.reg.MustRegister(&shipCollector{status: status})
}

var (
	shipBacklog  = prometheus.NewDesc("agora_clickhouse_backlog_votes", "Committed votes not yet shipped to ClickHouse.", nil, nil)
	shipCap      = prometheus.NewDesc("agora_clickhouse_backlog_cap_votes", "The backlog at which new votes are refused (503) until ClickHouse catches up.", nil, nil)
	shipLag      = prometheus.NewDesc("agora_clickhouse_lag_seconds", "How long the oldest unshipped vote has waited; 0 with no backlog.", nil, nil)
	shipRefusing = prometheus.NewDesc("agora_clickhouse_refusing", "1 while the backlog is at its cap and new votes are refused.", nil, nil)
	shipShipped  = prometheus.NewDesc("agora_clickhouse_shipped_votes_total", "Votes shipped to ClickHouse since the server started.", nil, nil)
	shipErrors   = prometheus.NewDesc("agora_clickhouse_ship_errors_total", "Failed ClickHouse inserts since the server started (each is retried).", nil, nil)
	shipLast     = prometheus.NewDesc("agora_clickhouse_last_ship_timestamp_seconds", "When ClickHouse last acknowledged a batch (Unix time); 0 before the first.", nil, nil)
)

// shipCollector reads one status per scrape, so that its gauges agree.
type shipCollector struct{ status func() ShipStatus }

func (c *shipCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{shipBacklog, shipCap, shipLag, shipRefusing, shipShipped, shipErrors, shipLast} {
		ch <- d
	}
}

func (c *shipCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.status()
	refusing, last := 0.0, 0.0
	if st.Refusing {
		refusing = 1
	}
	if !st.LastShipAt.IsZero() {
		last = float64(st.LastShipAt.UnixNano()) / 1e9
	}
	gauge := func(d *prometheus.Desc, v float64) { ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v) }
	gauge(shipBacklog, float64(st.Backlog))
	gauge(shipCap, float64(st.BacklogCap))
	gauge(shipLag, st.Lag.Seconds())
	gauge(shipRefusing, refusing)
	gauge(shipLast, last)
	ch <- prometheus.MustNewConstMetric(shipShipped, prometheus.CounterValue, float64(st.Shipped))
	ch <- prometheus.MustNewConstMetric(shipErrors, prometheus.CounterValue, float64(st.Errors))
}
