package httpapi

// LeaderboardsIdle reports whether s's published leaderboards' worker has
// nothing left to fit (benchmarks of the package's external tests).
func LeaderboardsIdle(s *Server) bool { return s.public == nil || s.public.idle() }

// LeaderboardFits returns how many fits s's published leaderboards' worker
// has made (benchmarks).
func LeaderboardFits(s *Server) int {
	if s.public == nil {
		return 0
	}
	s.public.mu.Lock()
	defer s.public.mu.Unlock()
	return s.public.fits
}
