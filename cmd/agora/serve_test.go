package main

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/agora-rlhf/agora/ingest/store"
)

var demoNames = []string{"curt-1", "verbose-2", "contrarian-3", "helpful-4"}

// battleOnce runs one battle on conn to its vote and returns the voted
// frame, or an error.
// Each of sending is called just before the vote is sent.
func battleOnce(conn *websocket.Conn, prompt, winner string, sending ...func()) (map[string]any, error) {
	if err := conn.WriteJSON(map[string]any{"type": "start", "prompt": prompt}); err != nil {
		return nil, err
	}
	var id string
	for {
		var f map[string]any
		if err := conn.ReadJSON(&f); err != nil {
			return nil, err
		}
		switch f["type"] {
		case "battle":
			id = f["battle_id"].(string)
		case "error":
			return nil, fmt.Errorf("error frame %v", f)
		case "ready":
			for _, f := range sending {
				f()
			}
			if err := conn.WriteJSON(map[string]any{"type": "vote", "battle_id": id, "winner": winner}); err != nil {
				return nil, err
			}
		case "voted":
			return f, nil
		}
	}
}

func dialWS(t *testing.T, base string) *websocket.Conn {
	t.Helper()
	conn, _ := dialWSHello(t, base)
	return conn
}

// dialWSHello connects a new contributor and returns the connection and
// its hello frame.
func dialWSHello(t *testing.T, base string) (*websocket.Conn, map[string]any) {
	t.Helper()
	return dialAs(t, base, "")
}

// TestServeDemoBattle runs the default arena in process and fights one
// battle between two built-in demo models over the real endpoint.
func TestServeDemoBattle(t *testing.T) {
	base := serveInProcess(t, "--config", fastConfig(t))
	conn := dialWS(t, base)
	conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	f, err := battleOnce(conn, "How do I learn Go?", "b")
	if err != nil {
		t.Fatal(err)
	}
	a, b := f["model_a"].(string), f["model_b"].(string)
	if a == b || !slices.Contains(demoNames, a) || !slices.Contains(demoNames, b) {
		t.Errorf("reveal = %s vs %s, want two different demo models", a, b)
	}
	resp, err := http.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Set-Cookie"), "agora_token=") {
		t.Errorf("GET / = %d with Set-Cookie %q; want 200 and a token cookie", resp.StatusCode, resp.Header.Get("Set-Cookie"))
	}
}

// TestServeSIGTERM stops a real server with SIGTERM: websocket clients
// get 1001 and the process exits 0.
func TestServeSIGTERM(t *testing.T) {
	p := startSubprocess(t, "serve", "--addr", "127.0.0.1:0", "--data", t.TempDir(), "--config", fastConfig(t))
	conn := dialWS(t, p.url)
	p.cmd.Process.Signal(syscall.SIGTERM)
	conn.SetReadDeadline(time.Now().Add(15 * time.Second))
	_, _, err := conn.ReadMessage()
	if !websocket.IsCloseError(err, websocket.CloseGoingAway) {
		t.Errorf("read after SIGTERM: %v, want close 1001", err)
	}
	if err := p.cmd.Wait(); err != nil {
		t.Errorf("exit after SIGTERM: %v, want status 0; stderr:\n%s", err, p.errOut)
	}
}

// TestServeDurabilitySIGKILL kills the server with SIGKILL ten times at
// random instants while 16 clients vote, restarting it on the same store
// each time. After every kill, every vote acknowledged so far (in this
// round and the ones before) is in the store with its vote id, and the
// store holds no more votes than were sent: none lost, none counted twice.
func TestServeDurabilitySIGKILL(t *testing.T) {
	const kills = 10
	data, cfg := t.TempDir(), fastConfig(t)
	seed := time.Now().UnixNano()
	rng := rand.New(rand.NewPCG(uint64(seed), 17))
	t.Logf("seed %d", seed)
	acked := map[string]string{} // battle id -> vote id, over all rounds
	sent := 0                    // votes sent, acknowledged or not
	for round := range kills {
		p := startSubprocess(t, "serve", "--addr", "127.0.0.1:0", "--data", data, "--config", cfg)
		// Kill after 10 to 120 acknowledgements, then up to 5 ms later.
		got, n := voteUntilKilled(t, p, round, 10+rng.IntN(110), time.Duration(rng.IntN(5000))*time.Microsecond)
		maps.Copy(acked, got)
		sent += n
		checkVotesStored(t, data, acked, sent)
		t.Logf("round %d: %d acknowledged of %d sent; all %d acknowledged so far are stored", round, len(got), n, len(acked))
	}
	// The store reopens and serves after the last kill.
	p := startSubprocess(t, "serve", "--addr", "127.0.0.1:0", "--data", data, "--config", cfg)
	resp, err := http.Get(p.url + "/readyz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("readyz after restart: %v %v", resp, err)
	}
	resp.Body.Close()
}

// voteUntilKilled votes from 16 clients on server p and kills it with
// SIGKILL once at least killAfter votes are acknowledged, after a further
// pause. It returns the acknowledged votes (battle id -> vote id) and the
// number of votes sent.
func voteUntilKilled(t *testing.T, p *subprocess, round, killAfter int, pause time.Duration) (map[string]string, int) {
	t.Helper()
	var (
		mu    sync.Mutex
		acked = map[string]string{}
		sent  int
		wg    sync.WaitGroup
	)
	enough := make(chan struct{})
	for c := range 16 {
		conn := dialWS(t, p.url)
		conn.SetReadDeadline(time.Now().Add(time.Minute))
		wg.Go(func() {
			for i := 0; ; i++ {
				f, err := battleOnce(conn, fmt.Sprintf("round %d client %d prompt %d", round, c, i), "a", func() {
					mu.Lock()
					sent++
					mu.Unlock()
				})
				if err != nil {
					return // the server died
				}
				mu.Lock()
				acked[f["battle_id"].(string)] = f["vote_id"].(string)
				if len(acked) == killAfter {
					close(enough)
				}
				mu.Unlock()
			}
		})
	}
	stopped := make(chan struct{})
	go func() { wg.Wait(); close(stopped) }()
	select {
	case <-enough:
	case <-stopped:
		t.Fatalf("round %d: every client stopped before %d acknowledgements; stderr:\n%s", round, killAfter, p.errOut)
	}
	time.Sleep(pause)
	p.cmd.Process.Signal(syscall.SIGKILL)
	p.cmd.Wait()
	<-stopped
	return acked, sent
}

// checkVotesStored opens the store in data and checks that it holds every
// vote in acked and at most sent votes.
func checkVotesStored(t *testing.T, data string, acked map[string]string, sent int) {
	t.Helper()
	store, err := store.Open(filepath.Join(data, "agora.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	ctx := context.Background()
	for battle, vote := range acked {
		v, err := store.VoteForBattle(ctx, battle)
		if err != nil || v.ID != vote {
			t.Errorf("acknowledged vote %s on battle %s: stored %v, %v", vote, battle, v, err)
		}
	}
	if _, votes, err := store.Counts(ctx); err != nil || votes > int64(sent) {
		t.Errorf("store holds %d votes (%v), more than the %d sent", votes, err, sent)
	}
}

// TestServeRestoresReadyBattles kills a server while a finished battle
// waits for its vote; after a restart its contributor can still vote on it,
// and nobody else can.
func TestServeRestoresReadyBattles(t *testing.T) {
	data, cfg := t.TempDir(), fastConfig(t)
	p := startSubprocess(t, "serve", "--addr", "127.0.0.1:0", "--data", data, "--config", cfg)
	hello, err := dialToken(p.url, "")
	if err != nil {
		t.Fatal(err)
	}
	conn, token := hello.conn, hello.token
	defer conn.Close()
	id := readyBattle(t, conn, "Name a prime.")
	p.cmd.Process.Signal(syscall.SIGKILL)
	p.cmd.Wait()

	p = startSubprocess(t, "serve", "--addr", "127.0.0.1:0", "--data", data, "--config", cfg)
	vote := map[string]any{"type": "vote", "battle_id": id, "winner": "tie"}
	stranger, err := dialToken(p.url, "")
	if err != nil {
		t.Fatal(err)
	}
	defer stranger.conn.Close()
	var f map[string]any
	if err := stranger.conn.WriteJSON(vote); err != nil || stranger.conn.ReadJSON(&f) != nil || f["code"] != "not_found" {
		t.Errorf("another contributor's vote after restart: %v, %v; want a not_found error", f, err)
	}
	owner, err := dialToken(p.url, token)
	if err != nil {
		t.Fatal(err)
	}
	defer owner.conn.Close()
	owner.conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	f = nil
	if err := owner.conn.WriteJSON(vote); err != nil || owner.conn.ReadJSON(&f) != nil {
		t.Fatalf("vote after restart: %v", err)
	}
	a, b := f["model_a"], f["model_b"]
	if f["type"] != "voted" || a == b || !slices.Contains(demoNames, a.(string)) || !slices.Contains(demoNames, b.(string)) {
		t.Errorf("vote after restart = %v; want voted with two demo models", f)
	}
}

type helloConn struct {
	conn  *websocket.Conn
	token string
}

// dialToken opens the arena websocket with token (empty: none) and returns
// the connection and the token its hello frame gives.
func dialToken(base, token string) (*helloConn, error) {
	url := "ws" + strings.TrimPrefix(base, "http") + "/api/v1/arena/ws"
	if token != "" {
		url += "?token=" + token
	}
	conn, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		return nil, err
	}
	conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	var hello map[string]any
	if err := conn.ReadJSON(&hello); err != nil || hello["type"] != "hello" {
		conn.Close()
		return nil, fmt.Errorf("hello: %v, %v", hello, err)
	}
	got, _ := hello["token"].(string)
	if token != "" && got != token {
		conn.Close()
		return nil, fmt.Errorf("hello gave token %q, want the one sent", got)
	}
	return &helloConn{conn: conn, token: got}, nil
}
