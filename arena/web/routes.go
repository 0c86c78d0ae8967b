package web

import (
	"embed"
	"net/http"

	"github.com/gin-gonic/gin"
)

//go:embed static
var staticFiles embed.FS

// addRoutes lists every route of the server.
func (s *Server) addRoutes(r *gin.Engine) {
	r.GET("/", s.wrap(s.handleIndex))
	r.StaticFS("/static", http.FS(s.static))
	r.GET("/healthz", s.wrap(handleHealthz))
	r.GET("/readyz", s.wrap(s.handleReadyz))
	r.GET("/api/v1/arena/ws", s.wrap(s.handleWebsocket))
	r.GET("/leaderboard", s.wrap(s.handleLeaderboardPage))
	r.GET("/api/v1/leaderboard", s.wrap(handleLeaderboard(s.cfg.Leaderboards)))
	r.GET("/api/v1/export", s.wrap(s.handleExport))
	r.GET("/metrics", s.wrap(handleMetrics(s.cfg.Metrics...)))
	if s.cfg.Demo != nil {
		r.Any("/demo/v1/*path", gin.WrapH(s.cfg.Demo))
	}
	r.NoRoute(s.wrap(handleNotFound))
}
