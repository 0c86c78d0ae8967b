package loadtest

import (
	"context"
	"os"
	"syscall"
	"time"
	"unsafe"
)

// fdTicker is a ticker of a Linux timerfd, read through the runtime's
// poller (a goroutine waiting for it holds no thread).
type fdTicker struct {
	f       *os.File
	unwatch func() bool // stops the watch of ctx
	buf     [8]byte     // the count of expirations since the last read
}

// newTicker returns a ticker of period until ctx ends: a timerfd's, or
// the runtime's where the kernel or the poller refuses one.
func newTicker(ctx context.Context, period time.Duration) ticker {
	fd, _, errno := syscall.RawSyscall(syscall.SYS_TIMERFD_CREATE, 1 /* CLOCK_MONOTONIC */, syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if errno != 0 {
		return newTimeTicker(ctx, period)
	}
	f := os.NewFile(fd, "timerfd")
	spec := [2]syscall.Timespec{syscall.NsecToTimespec(int64(period)), syscall.NsecToTimespec(int64(period))} // interval, first
	_, _, errno = syscall.RawSyscall6(syscall.SYS_TIMERFD_SETTIME, fd, 0, uintptr(unsafe.Pointer(&spec)), 0, 0, 0)
	if errno != 0 || f.SetReadDeadline(time.Time{}) != nil { // not in the poller: a read would not wait
		f.Close()
		return newTimeTicker(ctx, period)
	}
	// A past deadline ends the wait in progress, and every later one.
	return &fdTicker{f: f, unwatch: context.AfterFunc(ctx, func() { f.SetReadDeadline(time.Unix(1, 0)) })}
}

func (t *fdTicker) wait() bool {
	n, err := t.f.Read(t.buf[:])
	return err == nil && n == len(t.buf)
}

func (t *fdTicker) stop() {
	t.unwatch()
	t.f.Close()
}
