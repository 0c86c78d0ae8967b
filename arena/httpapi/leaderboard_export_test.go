package httpapi

// LeaderboardsIdle reports whether s's published leaderboards' worker has
// nothing left to fit (benchmarks of the package's external tests).
func LeaderboardsIdle(s *Server) bool { return s.public == nil || s.public.idle() }
