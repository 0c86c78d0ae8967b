package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// BenchmarkIdleConnectionMemory measures the server's resident memory per
// idle websocket connection: a real agora process, 2,000 connections that
// got their hello and then say nothing. The figure is the growth of the
// process's RSS divided by the connections, so it counts everything the
// server keeps for one (goroutines, buffers, queues), but not the kernel's
// socket buffers.
func BenchmarkIdleConnectionMemory(b *testing.B) {
	const conns = 2000
	cfg := filepath.Join(b.TempDir(), "agora.yaml")
	if err := os.WriteFile(cfg, []byte(testLimits), 0o644); err != nil { // 2,100 connections from one address
		b.Fatal(err)
	}
	p := startSubprocess(b, "serve", "--addr", "127.0.0.1:0", "--data", b.TempDir(), "--log-level", "error", "--config", cfg)
	url := "ws" + strings.TrimPrefix(p.url, "http") + "/api/v1/arena/ws"
	dial := func(n int) []*websocket.Conn {
		cs := make([]*websocket.Conn, 0, n)
		for range n {
			c, _, err := websocket.DefaultDialer.Dial(url, nil)
			if err != nil {
				b.Fatal(err)
			}
			var hello map[string]any
			if err := c.ReadJSON(&hello); err != nil {
				b.Fatal(err)
			}
			cs = append(cs, c)
		}
		return cs
	}
	warm := dial(100) // let the runtime and pools settle
	defer closeAll(warm)
	time.Sleep(500 * time.Millisecond)
	before := rss(b, p.cmd.Process.Pid)
	b.ResetTimer()
	cs := dial(conns)
	defer closeAll(cs)
	time.Sleep(time.Second)
	after := rss(b, p.cmd.Process.Pid)
	b.StopTimer()
	b.ReportMetric(float64(after-before)/conns, "KiB/conn")
	b.ReportMetric(0, "ns/op")
}

func closeAll(cs []*websocket.Conn) {
	for _, c := range cs {
		c.Close()
	}
}

// rss returns the resident set size of process pid in KiB.
func rss(b *testing.B, pid int) int {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			n, _ := strconv.Atoi(f[1])
			return n
		}
	}
	b.Fatal("no VmRSS")
	return 0
}
