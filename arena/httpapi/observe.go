package httpapi

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/agora-rlhf/agora/rlhf"
)

// Observer hears about the server's traffic, for the operator's metrics;
// *metrics.Registry is one. A nil Config.Observer hears nothing.
type Observer interface {
	// HTTPRequest is an answered request to route (the route table's
	// path, "" when none matched).
	HTTPRequest(method, route string, status int, d time.Duration)
	// WebsocketFrame is a frame in from a client or out to one, by its
	// protocol type ("invalid" for one that is not a request).
	WebsocketFrame(direction, typ string)
	// Vote is a vote request: accepted when reason is "", else refused
	// with that error code.
	Vote(reason string)
}

type noObserver struct{}

func (noObserver) HTTPRequest(string, string, int, time.Duration) {}
func (noObserver) WebsocketFrame(string, string)                  {}
func (noObserver) Vote(string)                                    {}

// observeRequests tells the observer about every request once answered.
func (s *Server) observeRequests(c *gin.Context) {
	start := time.Now()
	c.Next()
	status := c.Writer.Status()
	if status == http.StatusOK && c.IsWebsocket() && c.Writer.Written() {
		status = http.StatusSwitchingProtocols // hijacked: gin never saw the 101
	}
	s.cfg.Observer.HTTPRequest(c.Request.Method, c.FullPath(), status, time.Since(start))
}

// Connections returns the number of open websocket connections.
func (s *Server) Connections() int64 { return s.conns.Load() }

// voteReason is the refusal reason of a vote's error, "" for none.
func voteReason(err error) string {
	if err == nil {
		return ""
	}
	return rlhf.ErrorCode(err)
}
