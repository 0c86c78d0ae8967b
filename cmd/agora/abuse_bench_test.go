package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// BenchmarkPendingBattlesMemory is the finding of issue 17 as a
// benchmark: one contributor starts 2,000 battles with 16 KB prompts and
// never votes. It reports the real agora process's RSS growth, with the
// default pending caps (20 battles, 2 MiB per contributor) and without
// them, in the same run; the demo models echo the prompt, so each battle
// holds about three times its prompt.
func BenchmarkPendingBattlesMemory(b *testing.B) {
	for _, tc := range []struct{ name, limits string }{
		{"capped", testRates},
		{"uncapped", testLimits},
	} {
		b.Run(tc.name, func(b *testing.B) {
			cfg := filepath.Join(b.TempDir(), "agora.yaml")
			yaml := "demo:\n  enabled: true\n  token_delay: 0s\n" + tc.limits
			if err := os.WriteFile(cfg, []byte(yaml), 0o644); err != nil {
				b.Fatal(err)
			}
			p := startSubprocess(b, "serve", "--addr", "127.0.0.1:0", "--data", b.TempDir(), "--log-level", "error", "--config", cfg)
			time.Sleep(500 * time.Millisecond)
			before := rss(b, p.cmd.Process.Pid)
			b.ResetTimer()
			kept := startPending(b, p.url, 2000, 16<<10)
			b.StopTimer()
			time.Sleep(500 * time.Millisecond)
			after := rss(b, p.cmd.Process.Pid)
			b.ReportMetric(float64(after-before)/1024, "MB-growth")
			b.ReportMetric(float64(after)/1024, "MB-rss")
			b.ReportMetric(float64(kept), "battles-started")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// startPending starts n battles with prompts of size bytes from one
// contributor over three connections (its streaming cap), waits for each
// to be ready, and never votes. It returns how many were started.
func startPending(b *testing.B, base string, n, size int) int {
	first, err := dialToken(base, "")
	if err != nil {
		b.Fatal(err)
	}
	defer first.conn.Close()
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		started int
		next    = make(chan int)
	)
	for w := range 3 {
		hc := first
		if w > 0 {
			if hc, err = dialToken(base, first.token); err != nil {
				b.Fatal(err)
			}
			defer hc.conn.Close()
		}
		wg.Go(func() {
			for i := range next {
				hc.conn.SetReadDeadline(time.Now().Add(60 * time.Second))
				prompt := fmt.Sprintf("%d %s", i, strings.Repeat("x", size-8))
				if err := hc.conn.WriteJSON(map[string]any{"type": "start", "prompt": prompt}); err != nil {
					b.Error(err)
					return
				}
				for {
					var f map[string]any
					if err := hc.conn.ReadJSON(&f); err != nil {
						b.Error(err)
						return
					}
					if f["type"] == "ready" || (f["type"] == "error" && f["side"] == nil) {
						mu.Lock()
						started += map[bool]int{true: 1}[f["type"] == "ready"]
						mu.Unlock()
						break
					}
				}
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	return started
}
