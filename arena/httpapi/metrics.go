package httpapi

import (
	"bytes"
	"fmt"
	"io"
	"net/http"

	"github.com/gin-gonic/gin"
)

// Metrics writes metrics in the Prometheus text exposition format;
// *arena.Usage and *arena.Health implement it.
type Metrics interface {
	WritePrometheus(w io.Writer) error
}

// metricsContentType is the Prometheus text format, version 0.0.4.
const metricsContentType = "text/plain; version=0.0.4; charset=utf-8"

// handleMetrics returns the handler of GET /metrics: the metrics of every
// source, one after the other (each writes whole families, so the result
// is one valid exposition). It is rendered in full before it is sent, so a
// failure is a clean 500, never half a page.
func handleMetrics(sources ...Metrics) handler {
	return func(c *gin.Context) error {
		var buf bytes.Buffer
		for _, s := range sources {
			if err := s.WritePrometheus(&buf); err != nil {
				return fmt.Errorf("render metrics: %w", err)
			}
		}
		c.Header("Cache-Control", "no-store")
		c.Data(http.StatusOK, metricsContentType, buf.Bytes())
		return nil
	}
}
