package main

import (
	"log/slog"
	"net/http"

	"github.com/agora-rlhf/agora/arena/web"
	"github.com/agora-rlhf/agora/configs"
)

// newHTTPServer returns the http.Server for h with every timeout set: a
// client that sends its headers or body slowly, or holds a keep-alive
// connection without using it, is cut off. Streaming routes extend the
// write deadline per write (web.Config.WriteTimeout).
func newHTTPServer(h http.Handler, t configs.Timeouts, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: t.ReadHeader.D(),
		ReadTimeout:       t.Read.D(),
		WriteTimeout:      t.Write.D(),
		IdleTimeout:       t.Idle.D(),
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// webLimits translates the configuration's limits for the web package.
func webLimits(l configs.Limits) web.Limits {
	rate := func(r configs.Rate) web.Rate { return web.Rate{Every: r.Every(), Burst: r.Burst} }
	return web.Limits{
		ConnectionsPerAddress:     l.ConnectionsPerAddress,
		ConnectionsPerContributor: l.ConnectionsPerContributor,
		NewAddressShare:           l.NewAddressShare,
		StartsPerContributor:      rate(l.BattleStarts.PerContributor),
		StartsPerAddress:          rate(l.BattleStarts.PerAddress),
		VotesPerContributor:       rate(l.Votes.PerContributor),
		VotesPerAddress:           rate(l.Votes.PerAddress),
	}
}
