package main

import (
	"log/slog"
	"net/http"

	"github.com/agora-rlhf/agora/arena/httpapi"
	"github.com/agora-rlhf/agora/configs"
)

// newHTTPServer returns the http.Server for h with every timeout set: a
// client that sends its headers or body slowly, or holds a keep-alive
// connection without using it, is cut off. Streaming routes extend the
// write deadline per write (httpapi.Config.WriteTimeout).
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
func webLimits(l configs.Limits) httpapi.Limits {
	rate := func(r configs.Rate) httpapi.Rate { return httpapi.Rate{Every: r.Every(), Burst: r.Burst} }
	return httpapi.Limits{
		ConnectionsPerAddress:     l.ConnectionsPerAddress,
		ConnectionsPerContributor: l.ConnectionsPerContributor,
		NewAddressShare:           l.NewAddressShare,
		StartsPerContributor:      rate(l.BattleStarts.PerContributor),
		StartsPerAddress:          rate(l.BattleStarts.PerAddress),
		VotesPerContributor:       rate(l.Votes.PerContributor),
		VotesPerAddress:           rate(l.Votes.PerAddress),
		StartsPerNewContributor:   rate(l.BattleStarts.PerNewContributor),
		VotesPerNewContributor:    rate(l.Votes.PerNewContributor),
		NewAccountAge:             l.NewAccountAge.D(),
	}
}

// fileReserve is the file descriptors kept for everything but client
// connections: the store's files, model streams, logs.
const fileReserve = 64

// connectionCaps returns the cap on open client connections (the accept
// loop's) and on websockets, from the configuration and the file limit:
// the accept loop keeps fileReserve descriptors free, and websockets (which
// are never shed) may take at most three quarters of its connections, so
// that plain requests (/healthz) always find one.
func connectionCaps(configured, websockets int, files uint64, log *slog.Logger) (open, ws int) {
	open = configured
	if files > 0 {
		byFiles := max(int(min(files, 1<<30))-fileReserve, 16)
		if open == 0 || open > byFiles {
			open = byFiles
		}
	}
	if open == 0 {
		open = 1 << 30 // no file limit known, none configured
	}
	ws = min(websockets, max(open*3/4, 1))
	if ws < websockets {
		log.Warn("arena.max_connections lowered to fit the open-connection cap", "configured", websockets, "now", ws, "open_connections", open, "file_limit", files)
	}
	return open, ws
}
