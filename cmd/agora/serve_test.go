package main

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/agora-rlhf/agora/ingest/sqlite"
)

var demoNames = []string{"curt-1", "verbose-2", "contrarian-3", "helpful-4"}

// battleOnce runs one battle on conn to its vote and returns the voted
// frame, or an error.
func battleOnce(conn *websocket.Conn, prompt, winner string) (map[string]any, error) {
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
	conn, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(base, "http")+"/api/v1/arena/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	var hello map[string]any
	if err := conn.ReadJSON(&hello); err != nil || hello["type"] != "hello" {
		t.Fatalf("hello: %v, %v", hello, err)
	}
	return conn
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

// TestServeDurabilitySIGKILL votes from many clients, kills the server
// with SIGKILL right after acknowledgements, and checks that every
// acknowledged vote is in the store after a restart.
func TestServeDurabilitySIGKILL(t *testing.T) {
	data := t.TempDir()
	cfg := fastConfig(t)
	for round := range 3 {
		p := startSubprocess(t, "serve", "--addr", "127.0.0.1:0", "--data", data, "--config", cfg)
		var (
			mu    sync.Mutex
			acked = map[string]string{} // battle id -> vote id
			wg    sync.WaitGroup
			stop  = make(chan struct{})
		)
		for c := range 16 {
			conn := dialWS(t, p.url)
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					f, err := battleOnce(conn, fmt.Sprintf("round %d client %d prompt %d", round, c, i), "a")
					if err != nil {
						return // the server died
					}
					mu.Lock()
					acked[f["battle_id"].(string)] = f["vote_id"].(string)
					mu.Unlock()
				}
			}()
		}
		for {
			mu.Lock()
			n := len(acked)
			mu.Unlock()
			if n >= 100 {
				break
			}
			time.Sleep(time.Millisecond)
		}
		p.cmd.Process.Signal(syscall.SIGKILL)
		p.cmd.Wait()
		close(stop)
		wg.Wait()

		store, err := sqlite.Open(filepath.Join(data, "agora.db"))
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		for battle, vote := range acked {
			v, err := store.VoteForBattle(ctx, battle)
			if err != nil || v.ID != vote {
				t.Errorf("round %d: acknowledged vote %s on battle %s: stored %v, %v", round, vote, battle, v, err)
			}
		}
		store.Close()
		t.Logf("round %d: %d acknowledged votes all present after SIGKILL", round, len(acked))
	}
	// The store reopens and serves after the last kill.
	p := startSubprocess(t, "serve", "--addr", "127.0.0.1:0", "--data", data, "--config", cfg)
	resp, err := http.Get(p.url + "/readyz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("readyz after restart: %v %v", resp, err)
	}
	resp.Body.Close()
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
	if err := conn.WriteJSON(map[string]any{"type": "start", "prompt": "Name a prime."}); err != nil {
		t.Fatal(err)
	}
	var id string
	for {
		var f map[string]any
		if err := conn.ReadJSON(&f); err != nil {
			t.Fatal(err)
		}
		if f["type"] == "battle" {
			id = f["battle_id"].(string)
		}
		if f["type"] == "ready" {
			break
		}
	}
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
