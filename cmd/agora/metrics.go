package main

import (
	"github.com/agora-rlhf/agora/arena/metrics"
	"github.com/agora-rlhf/agora/ingest/ship"
	"github.com/agora-rlhf/agora/ingest/store"
)

// newMetrics makes the server's metrics and wires the store's commits,
// the models' usage and breakers, and (when shipping) the ClickHouse
// shipper into them. The web server's traffic is wired through
// httpapi.Config.Observer, and its connections once it exists.
func newMetrics(store *store.Store, shipper *ship.Shipper, text ...metrics.TextSource) *metrics.Registry {
	m := metrics.New(readBuildInfo())
	store.ObserveCommits(m.StoreCommit)
	for _, t := range text {
		m.AddText(t)
	}
	if shipper != nil {
		m.Shipping(func() metrics.ShipStatus {
			st := shipper.Status()
			return metrics.ShipStatus{
				Backlog: st.Backlog, BacklogCap: st.BacklogCap, Lag: st.Lag, Refusing: st.Refusing,
				Shipped: st.ShippedVotes, Errors: st.Errors, LastShipAt: st.LastShipAt,
			}
		})
	}
	return m
}

// metricsToken is AGORA_METRICS_TOKEN, the scraper's token for /metrics.
func metricsToken(getenv func(string) string) (string, error) {
	t := getenv("AGORA_METRICS_TOKEN")
	if t != "" && len(t) < 16 {
		return "", usageError{"AGORA_METRICS_TOKEN must have at least 16 characters"}
	}
	return t, nil
}
