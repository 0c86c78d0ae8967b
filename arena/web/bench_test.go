package web_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// BenchmarkVoteAck measures acknowledged votes per second and the latency
// from sending a vote to receiving "voted", with many clients voting at
// once over loopback into a real SQLite file (synchronous=FULL).
func BenchmarkVoteAck(b *testing.B) {
	const clients = 64
	s := newSetup(&testing.T{}, options{tokens: []string{"x"}, maxBattles: 1 << 20})
	defer s.cleanup()
	perClient := b.N/clients + 1
	conns := make([]*websocket.Conn, clients)
	ids := make([][]string, clients)
	var wg sync.WaitGroup
	for i := range conns {
		conn, _, err := websocket.DefaultDialer.Dial(s.url, nil)
		if err != nil {
			b.Fatal(err)
		}
		defer conn.Close()
		conns[i] = conn
		var hello map[string]any
		conn.ReadJSON(&hello)
	}
	// Prepare battles ready for a vote (not timed).
	for i, conn := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range perClient {
				conn.WriteJSON(map[string]any{"type": "start", "prompt": "p"})
				var id string
				for {
					var f map[string]any
					if err := conn.ReadJSON(&f); err != nil {
						return
					}
					if f["type"] == "battle" {
						id = f["battle_id"].(string)
					}
					if f["type"] == "ready" {
						break
					}
				}
				ids[i] = append(ids[i], id)
			}
		}()
	}
	wg.Wait()
	lat := make([][]time.Duration, clients)
	b.ResetTimer()
	start := time.Now()
	for i, conn := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, id := range ids[i] {
				msg := []byte(`{"type":"vote","battle_id":"` + id + `","winner":"a"}`)
				t0 := time.Now()
				conn.WriteMessage(websocket.TextMessage, msg)
				var f struct{ Type string }
				if err := conn.ReadJSON(&f); err != nil || f.Type != "voted" {
					b.Errorf("vote: %v %v", f, err)
					return
				}
				lat[i] = append(lat[i], time.Since(t0))
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	all := slices.Concat(lat...)
	reportLatency(b, all, "ack")
	b.ReportMetric(float64(len(all))/elapsed.Seconds(), "votes/s")
}

// BenchmarkTokenRelay measures the time from a token leaving the model
// endpoint to the client receiving it, at 100 concurrent battles.
func BenchmarkTokenRelay(b *testing.B) {
	const battles = 100
	stamp := &stampEndpoint{tokens: 40, delay: 20 * time.Millisecond} // 50 tokens/s per side, as a fast model streams
	endpoint := httptest.NewServer(stamp)
	defer endpoint.Close()
	s := newSetupWith(&testing.T{}, options{maxBattles: 1 << 20}, endpoint.URL)
	defer s.cleanup()
	var mu sync.Mutex
	var lat []time.Duration
	rounds := b.N/(battles*2*stamp.tokens) + 1
	b.ResetTimer()
	var wg sync.WaitGroup
	for range battles {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn, _, err := websocket.DefaultDialer.Dial(s.url, nil)
			if err != nil {
				b.Error(err)
				return
			}
			defer conn.Close()
			var local []time.Duration
			for range rounds {
				conn.WriteJSON(map[string]any{"type": "start", "prompt": "p"})
				for {
					_, data, err := conn.ReadMessage()
					if err != nil {
						b.Error(err)
						return
					}
					now := time.Now()
					var f struct{ Type, Text string }
					json.Unmarshal(data, &f)
					if f.Type == "token" {
						// Tokens queued behind each other arrive in one frame.
						for _, stamp := range strings.Fields(f.Text) {
							if ns, err := strconv.ParseInt(stamp, 10, 64); err == nil {
								local = append(local, now.Sub(time.Unix(0, ns)))
							}
						}
					}
					if f.Type == "ready" {
						break
					}
				}
			}
			mu.Lock()
			lat = append(lat, local...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	b.StopTimer()
	reportLatency(b, lat, "relay")
}

// stampEndpoint streams tokens that carry the time they were written.
type stampEndpoint struct {
	tokens int
	delay  time.Duration
}

func (e *stampEndpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/event-stream")
	fl := w.(http.Flusher)
	for range e.tokens {
		time.Sleep(e.delay)
		fmt.Fprintf(w, "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"%d \"}}]}\n\n", time.Now().UnixNano())
		fl.Flush()
	}
	fmt.Fprint(w, "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n")
	fl.Flush()
}

func reportLatency(b *testing.B, lat []time.Duration, name string) {
	if len(lat) == 0 {
		b.Fatal("no samples")
	}
	slices.Sort(lat)
	q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(q(0.50), name+"-p50-ms")
	b.ReportMetric(q(0.99), name+"-p99-ms")
	b.ReportMetric(0, "ns/op")
}
