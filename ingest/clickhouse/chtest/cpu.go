package chtest

import (
	"fmt"
	"os"
	"strings"
	"syscall"
	"time"
)

// clockTick is USER_HZ, the unit of the times in /proc/<pid>/stat; 100 on
// every Linux this runs on.
const clockTick = 100

// CPU returns the processor time (user and system) the server process has
// used so far, for benchmarks that want to show where time goes. It returns
// an error where /proc is not available or the server is not running.
func (s *Server) CPU() (time.Duration, error) {
	s.mu.Lock()
	cmd := s.cmd
	s.mu.Unlock()
	if cmd == nil || cmd.Process == nil {
		return 0, fmt.Errorf("clickhouse-server at %s is not running", s.Addr)
	}
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	// Fields after the command name, which is in parentheses and may hold
	// spaces: state is field 3, utime 14 and stime 15.
	rest := string(data)
	if i := strings.LastIndexByte(rest, ')'); i >= 0 {
		rest = rest[i+1:]
	}
	f := strings.Fields(rest)
	if len(f) < 13 {
		return 0, fmt.Errorf("short /proc stat for pid %d", cmd.Process.Pid)
	}
	var user, sys int64
	if _, err := fmt.Sscan(f[11], &user); err != nil {
		return 0, err
	}
	if _, err := fmt.Sscan(f[12], &sys); err != nil {
		return 0, err
	}
	return time.Duration(user+sys) * time.Second / clockTick, nil
}

// SelfCPU returns the processor time the calling process has used so far.
func SelfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
