package httpapi_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/agora-rlhf/agora/arena"
	"github.com/agora-rlhf/agora/arena/httpapi"
	"github.com/agora-rlhf/agora/rlhf"
)

// BenchmarkVoteAck measures how many votes per second the arena can
// acknowledge: 64 clients each vote as fast as they can (a closed loop),
// over loopback, into a real SQLite file (synchronous=FULL). Its latency is
// latency at saturation: every client always has a vote queued, so by
// Little's law the mean is clients/throughput.
//
// It runs with the verifiable log off and on (a leaf in every vote's
// commit, a receipt signed per vote, a checkpoint every second), to compare
// within one run.
func BenchmarkVoteAck(b *testing.B) {
	for _, on := range []bool{false, true} {
		b.Run(fmt.Sprintf("log=%v", on), func(b *testing.B) { benchmarkVoteAck(b, on) })
	}
}

func benchmarkVoteAck(b *testing.B, log bool) {
	const clients = 64
	s := newSetup(&testing.T{}, options{tokens: []string{"x"}, maxBattles: 1 << 20, ledger: log})
	defer s.cleanup()
	conns, ids := readyBattles(b, s, clients, b.N/clients+1)
	lat := make([][]time.Duration, clients)
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	cpu0 := cpuTime()
	for i, conn := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, id := range ids[i] {
				t0 := time.Now()
				if err := vote(conn, id); err != nil {
					b.Error(err)
					return
				}
				lat[i] = append(lat[i], time.Since(t0))
			}
		}()
	}
	wg.Wait()
	reportVotes(b, lat, time.Since(start), cpuTime()-cpu0)
}

// reportVotes reports the acknowledgement latencies of every client, the
// votes acknowledged per second over elapsed, and the process's processor
// time per vote (clients included).
func reportVotes(b *testing.B, lat [][]time.Duration, elapsed, cpu time.Duration) {
	b.StopTimer()
	all := slices.Concat(lat...)
	reportLatency(b, all, "ack")
	b.ReportMetric(float64(len(all))/elapsed.Seconds(), "votes/s")
	b.ReportMetric(float64(cpu)/float64(time.Microsecond)/float64(len(all)), "cpu-us/vote")
}

// cpuTime returns the processor time the process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkVoteAckAt10k measures acknowledgement latency at a steady
// 10,000 votes/s offered by 256 clients: an open loop, as real contributors
// vote whether or not someone else's vote was acknowledged. One pacer sends
// every vote that is due, once a millisecond, round robin over the clients;
// latency runs from the moment a vote was due, not the moment it was sent,
// so a server that falls behind is charged for every vote it delayed.
//
// In the same run, with the same pacer, clients and frames, it measures
// the floor under that latency on this machine (vote_floor_bench_test.go):
// floor-* is the least server that acknowledges a durable vote (a
// websocket handler committing each vote through the same store), and
// transport-* the same handler without the store. p99-ratio is Agora's p99
// over the floor's.
func BenchmarkVoteAckAt10k(b *testing.B) { benchmarkVoteAckAtLogs(b, 10000) }

// BenchmarkVoteAckAt5k is BenchmarkVoteAckAt10k at 5,000 votes/s: with
// the log on, it is the issue's "a checkpoint every second at 5,000
// votes/s": votes/s near 5,000 (the server keeps up), and
// checkpoint-gap-max-s, the longest time in the run without a new
// checkpoint (from the start, between checkpoints, and from the last to the
// end), at most about a second. Run it for several seconds (-benchtime
// 20000x is 4 s): checkpoints/s counts whole checkpoints over the run.
func BenchmarkVoteAckAt5k(b *testing.B) { benchmarkVoteAckAtLogs(b, 5000) }

// BenchmarkVoteAckAt2k is BenchmarkVoteAckAt10k at 2,000 votes/s.
func BenchmarkVoteAckAt2k(b *testing.B) { benchmarkVoteAckAtLogs(b, 2000) }

// benchmarkVoteAckAtLogs runs benchmarkVoteAckAt without and with the
// log, with the garbage collector set as agora serve sets it.
func benchmarkVoteAckAtLogs(b *testing.B, rate int) {
	defer debug.SetGCPercent(debug.SetGCPercent(httpapi.GCPercent))
	for _, on := range []bool{false, true} {
		b.Run(fmt.Sprintf("log=%v", on), func(b *testing.B) { benchmarkVoteAckAt(b, rate, on) })
	}
}

// benchmarkVoteAckAt offers rate votes/s from 256 clients to Agora, then
// the same votes to the floor servers, and reports the three side by side.
func benchmarkVoteAckAt(b *testing.B, rate int, log bool) {
	const clients = 256
	perClient := b.N/clients + 1
	agora, ackBytes := paceAgora(b, rate, log, clients, perClient)
	floor := paceFloor(b, rate, log, clients, perClient, ackBytes, true)
	transport := paceFloor(b, rate, log, clients, perClient, ackBytes, false)
	b.StopTimer()
	agora.report(b, "ack", "")
	floor.report(b, "floor", "floor-")
	transport.report(b, "transport", "transport-")
	b.ReportMetric(agora.p99/floor.p99, "p99-ratio")
	if log {
		b.ReportMetric(float64(len(agora.checkpoints))/agora.elapsed.Seconds(), "checkpoints/s")
		gap, last := time.Duration(0), agora.start
		for _, at := range append(agora.checkpoints, agora.start.Add(agora.elapsed)) {
			gap, last = max(gap, at.Sub(last)), at
		}
		b.ReportMetric(gap.Seconds(), "checkpoint-gap-max-s")
	}
}

// paceAgora offers rate votes/s to Agora from clients connections with
// perClient ready battles each, and returns what it measured and the size
// of an acknowledgement.
func paceAgora(b *testing.B, rate int, log bool, clients, perClient int) (figures, int) {
	s := newSetup(&testing.T{}, options{tokens: []string{"x"}, maxBattles: 1 << 20, ledger: log})
	defer s.cleanup()
	conns, ids := readyBattles(b, s, clients, perClient)
	b.ResetTimer()
	start, cpu0 := time.Now(), cpuTime()
	watched := watchCheckpoints(b, s, log)
	lat, ackBytes := paceVotes(b, conns, ids, rate, func() int { return 0 })
	f := newFigures(lat[0], start, cpuTime()-cpu0)
	f.checkpoints = watched()
	return f, ackBytes
}

// figures are what one paced run measured.
type figures struct {
	p50, p99, max float64 // acknowledgement latency, ms
	votes         int     // acknowledged
	start         time.Time
	elapsed, cpu  time.Duration
	checkpoints   []time.Time // when each new checkpoint was seen (log on)
}

func newFigures(lat []time.Duration, start time.Time, cpu time.Duration) figures {
	elapsed := time.Since(start)
	if len(lat) == 0 {
		return figures{start: start, elapsed: elapsed, cpu: cpu}
	}
	slices.Sort(lat)
	ms := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
	return figures{p50: ms(0.50), p99: ms(0.99), max: ms(1), votes: len(lat), start: start, elapsed: elapsed, cpu: cpu}
}

// report reports the figures: latencies as name-p50-ms, name-p99-ms and
// name-max-ms, votes acknowledged per second and processor time per vote
// (the whole process's: clients included) as prefix+"votes/s" and
// prefix+"cpu-us/vote".
func (f figures) report(b *testing.B, name, prefix string) {
	if f.votes == 0 {
		b.Fatal(name + ": no votes acknowledged")
	}
	b.ReportMetric(f.p50, name+"-p50-ms")
	b.ReportMetric(f.p99, name+"-p99-ms")
	b.ReportMetric(f.max, name+"-max-ms")
	b.ReportMetric(float64(f.votes)/f.elapsed.Seconds(), prefix+"votes/s")
	b.ReportMetric(float64(f.cpu)/float64(time.Microsecond)/float64(f.votes), prefix+"cpu-us/vote")
	b.ReportMetric(0, "ns/op")
}

// watchCheckpoints looks at the store's newest checkpoint every 10 ms,
// when the log is on, until the function it returns is called, which
// returns when each new one was seen.
func watchCheckpoints(b *testing.B, s *setup, log bool) func() []time.Time {
	if !log {
		return func() []time.Time { return nil }
	}
	newest := func() string {
		cps, err := s.store.Checkpoints(context.Background(), 1)
		if err != nil {
			b.Error(err)
		}
		if len(cps) == 0 {
			return ""
		}
		return string(cps[0])
	}
	var seen []time.Time
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		last := newest()
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			if n := newest(); n != last {
				seen, last = append(seen, time.Now()), n
			}
		}
	}()
	return func() []time.Time { close(stop); <-done; return seen }
}

// readyBattles opens n connections and starts perConn battles on each,
// waiting until every one is ready for a vote.
func readyBattles(b *testing.B, s *setup, n, perConn int) ([]*websocket.Conn, [][]string) {
	b.Helper()
	conns := make([]*websocket.Conn, n)
	ids := make([][]string, n)
	for i := range conns {
		conn, _, err := websocket.DefaultDialer.Dial(s.url, nil)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { conn.Close() })
		conns[i] = conn
		var hello map[string]any
		conn.ReadJSON(&hello)
	}
	var wg sync.WaitGroup
	for i, conn := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range perConn {
				conn.WriteJSON(map[string]any{"type": "start", "prompt": "p"})
				var id string
				for {
					var f map[string]any
					if err := conn.ReadJSON(&f); err != nil {
						b.Error(err)
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
	if b.Failed() {
		b.FailNow()
	}
	return conns, ids
}

func voteMsg(battleID string) []byte {
	return []byte(`{"type":"vote","battle_id":"` + battleID + `","winner":"a"}`)
}

// vote sends a vote and waits for its acknowledgement.
func vote(conn *websocket.Conn, battleID string) error {
	if err := conn.WriteMessage(websocket.TextMessage, voteMsg(battleID)); err != nil {
		return err
	}
	return readVoted(conn)
}

// readVoted reads the next frame and checks that it acknowledges a vote.
func readVoted(conn *websocket.Conn) error {
	_, err := readAck(conn)
	return err
}

// readAck reads the next frame, checks that it acknowledges a vote and
// returns its size. Like a load generator, it reads no more of the frame than that: the
// server writes the type first, and only a frame that does not start so is
// decoded. (Decoding every field with encoding/json cost this process,
// which the benchmarks measure, more than the server's own encoding of the
// frame, and more for a larger frame: real clients decode on their own
// machines.)
func readAck(conn *websocket.Conn) (int, error) {
	_, data, err := conn.ReadMessage()
	if err != nil {
		return 0, err
	}
	if bytes.HasPrefix(data, []byte(`{"type":"voted",`)) {
		return len(data), nil
	}
	var f struct{ Type, Code, Message string }
	if err := json.Unmarshal(data, &f); err != nil {
		return 0, fmt.Errorf("vote: %w: %s", err, data)
	}
	if f.Type != "voted" {
		return 0, fmt.Errorf("vote: got %+v", f)
	}
	return len(data), nil
}

// BenchmarkTokenRelay measures the time from a token leaving the model
// endpoint to the client receiving it, at 100 concurrent battles streaming
// 50 tokens/s per side. Battles start at random moments, as contributors'
// battles do. It reports two legs of that path:
//
//   - relay: from Agora's model client handing the token to the arena
//     (go-openai has read and decoded the chunk) to the contributor's
//     websocket client reading it;
//   - e2e: from the endpoint writing the token to the contributor reading
//     it, which adds the loopback hop from the endpoint and go-openai's
//     decoding.
//
// BenchmarkTokenRelayFloor runs the same endpoint, load and clients through
// the least a relay can do; compare e2e with its e2e.
func BenchmarkTokenRelay(b *testing.B) { benchmarkTokenRelay(b, false) }

// BenchmarkTokenRelayLockstep is BenchmarkTokenRelay with every battle
// starting at the same instant, so that all 200 streams emit their tokens
// in the same millisecond: the worst case for queueing.
func BenchmarkTokenRelayLockstep(b *testing.B) { benchmarkTokenRelay(b, true) }

func benchmarkTokenRelay(b *testing.B, lockstep bool) {
	endpoint := httptest.NewServer(stampEndpoint)
	defer endpoint.Close()
	var handedOver sync.Map // token text → time the model client handed it over
	wrap := func(m arena.Model) arena.Model { return handoffModel{m, &handedOver} }
	s := newSetupWith(&testing.T{}, options{maxBattles: 1 << 20, wrap: wrap}, endpoint.URL)
	defer s.cleanup()
	relay, e2e := relayClients(b, s.url, lockstep, func(data []byte) (tokens []string, ready bool) {
		var f struct{ Type, Text string }
		json.Unmarshal(data, &f)
		return strings.Fields(f.Text), f.Type == "ready"
	}, &handedOver)
	reportLatency(b, relay, "relay")
	reportLatency(b, e2e, "e2e")
}

// BenchmarkTokenRelayFloor is the floor under BenchmarkTokenRelay on the
// same machine: the same endpoint, load and clients, with the least a relay
// can do. For each "start" it opens both streams with net/http and writes
// every SSE data line to the websocket the moment it is read: no go-openai,
// no arena, no queue, no JSON of its own.
func BenchmarkTokenRelayFloor(b *testing.B) {
	endpoint := httptest.NewServer(stampEndpoint)
	defer endpoint.Close()
	relay := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer conn.Close()
		var mu sync.Mutex // one writer at a time
		for {
			if _, _, err := conn.ReadMessage(); err != nil {
				return
			}
			var wg sync.WaitGroup
			for range 2 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					resp, err := http.Post(endpoint.URL, "application/json", strings.NewReader("{}"))
					if err != nil {
						return
					}
					defer resp.Body.Close()
					sc := bufio.NewScanner(resp.Body)
					for sc.Scan() {
						if data, ok := bytes.CutPrefix(sc.Bytes(), []byte("data: {")); ok {
							mu.Lock()
							conn.WriteMessage(websocket.TextMessage, append([]byte("{"), data...))
							mu.Unlock()
						}
					}
				}()
			}
			wg.Wait()
			mu.Lock()
			conn.WriteMessage(websocket.TextMessage, []byte(`{"ready":true}`))
			mu.Unlock()
		}
	}))
	defer relay.Close()
	_, e2e := relayClients(b, "ws"+strings.TrimPrefix(relay.URL, "http"), false, func(data []byte) (tokens []string, ready bool) {
		var f struct {
			Ready   bool
			Choices []struct{ Delta struct{ Content string } }
		}
		json.Unmarshal(data, &f)
		for _, c := range f.Choices {
			tokens = append(tokens, strings.Fields(c.Delta.Content)...)
		}
		return tokens, f.Ready
	}, nil)
	reportLatency(b, e2e, "e2e")
}

// relayClients runs 100 websocket clients against url, each starting
// battles one after another until b.N tokens have streamed, and returns
// the relay and end-to-end latencies of every token. It reports the
// process's processor time per token (endpoint and clients included).
// parse returns the stamped tokens of a frame and whether the battle is
// ready for a vote.
// handedOver, when not nil, holds when each token was handed to the arena.
func relayClients(b *testing.B, url string, lockstep bool, parse func([]byte) ([]string, bool), handedOver *sync.Map) (relay, e2e []time.Duration) {
	const battles = 100
	rounds := b.N/(battles*2*stampTokens) + 1
	conns := make([]*websocket.Conn, battles)
	for i := range conns {
		conn, _, err := websocket.DefaultDialer.Dial(url, nil)
		if err != nil {
			b.Fatal(err)
		}
		defer conn.Close()
		conns[i] = conn
	}
	var mu sync.Mutex
	b.ResetTimer()
	cpu0 := cpuTime()
	var wg sync.WaitGroup
	for _, conn := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if !lockstep {
				time.Sleep(rand.N(stampDelay))
			}
			var localRelay, localE2E []time.Duration
			for range rounds {
				conn.WriteJSON(map[string]any{"type": "start", "prompt": "p"})
				for {
					_, data, err := conn.ReadMessage()
					if err != nil {
						b.Error(err)
						return
					}
					now := time.Now()
					tokens, ready := parse(data)
					// Tokens queued behind each other may arrive in one frame.
					for _, tok := range tokens {
						ns, err := strconv.ParseInt(tok, 10, 64)
						if err != nil {
							continue
						}
						localE2E = append(localE2E, now.Sub(time.Unix(0, ns)))
						if handedOver == nil {
							continue
						}
						if at, ok := handedOver.LoadAndDelete(tok); ok {
							localRelay = append(localRelay, now.Sub(at.(time.Time)))
						}
					}
					if ready {
						break
					}
				}
			}
			mu.Lock()
			relay = append(relay, localRelay...)
			e2e = append(e2e, localE2E...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	b.StopTimer()
	if len(e2e) > 0 {
		b.ReportMetric(float64(cpuTime()-cpu0)/float64(time.Microsecond)/float64(len(e2e)), "cpu-us/token")
	}
	return relay, e2e
}

// handoffModel records when its model hands each token to the arena.
type handoffModel struct {
	arena.Model
	at *sync.Map
}

func (m handoffModel) Stream(ctx context.Context, msgs []rlhf.Message, onText func(string)) (string, int, error) {
	return m.Model.Stream(ctx, msgs, func(text string) {
		m.at.Store(strings.TrimSpace(text), time.Now())
		onText(text)
	})
}

// The stamp endpoint streams stampTokens tokens, one every stampDelay (50
// tokens/s, as a fast model streams), each carrying the time it was written.
const (
	stampTokens = 40
	stampDelay  = 20 * time.Millisecond
)

var stampEndpoint = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/event-stream")
	fl := w.(http.Flusher)
	for range stampTokens {
		time.Sleep(stampDelay)
		fmt.Fprintf(w, "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"%d \"}}]}\n\n", time.Now().UnixNano())
		fl.Flush()
	}
	fmt.Fprint(w, "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n")
	fl.Flush()
})

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
