package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/gorilla/websocket"

	"github.com/agora-rlhf/agora/arena"
)

// Client is a contributor's end of the arena websocket (docs/protocol.md),
// for programs that talk to an arena as contributors' clients do, such as
// agora loadtest. One goroutine may send while another reads.
type Client struct {
	conn  *websocket.Conn
	Hello arena.Frame // the connection's hello frame
}

// DialArena opens the arena websocket of the Agora server at base (its
// http:// or https:// URL), as the contributor of token (empty: a new
// one), and reads the hello frame.
func DialArena(ctx context.Context, base, token string) (*Client, error) {
	u, err := url.Parse(strings.TrimSuffix(base, "/") + "/api/v1/arena/ws")
	if err != nil {
		return nil, fmt.Errorf("arena URL: %w", err)
	}
	switch u.Scheme {
	case "http":
		u.Scheme = "ws"
	case "https":
		u.Scheme = "wss"
	default:
		return nil, fmt.Errorf("arena URL %q: want http:// or https://", base)
	}
	h := http.Header{}
	if token != "" {
		h.Set("Authorization", "Bearer "+token)
	} else if err := solveWork(ctx, base, u); err != nil {
		return nil, err
	}
	conn, resp, err := websocket.DefaultDialer.DialContext(ctx, u.String(), h)
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("dial %s: HTTP %d: %w", u, resp.StatusCode, err)
		}
		return nil, fmt.Errorf("dial %s: %w", u, err)
	}
	c := &Client{conn: conn}
	data, err := c.Next()
	if err == nil {
		err = json.Unmarshal(data, &c.Hello)
	}
	if err == nil && c.Hello.Type != arena.FrameHello {
		err = fmt.Errorf("first frame is %q, want hello", c.Hello.Type)
	}
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("hello from %s: %w", u, err)
	}
	return c, nil
}

// solveWork asks the server at base for a challenge and, when it wants
// work, solves it and adds the solution to the websocket URL u.
func solveWork(ctx context.Context, base string, u *url.URL) error {
	req, err := http.NewRequestWithContext(ctx, "GET", strings.TrimSuffix(base, "/")+"/api/v1/arena/challenge", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("challenge: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return nil // a server without proof of work
	}
	var c Challenge
	if err := json.NewDecoder(resp.Body).Decode(&c); err != nil || resp.StatusCode != http.StatusOK {
		return fmt.Errorf("challenge: HTTP %d: %v", resp.StatusCode, err)
	}
	if c.Bits == 0 {
		return nil
	}
	sol, err := SolveChallenge(c.Challenge, c.Bits, 1<<40)
	if err != nil {
		return err
	}
	q := u.Query()
	q.Set("pow", sol)
	u.RawQuery = q.Encode()
	return nil
}

// Send sends one client frame (a JSON object) as a text message.
func (c *Client) Send(frame []byte) error {
	return c.conn.WriteMessage(websocket.TextMessage, frame)
}

// Next reads the next server frame.
func (c *Client) Next() ([]byte, error) {
	_, data, err := c.conn.ReadMessage()
	return data, err
}

// Close closes the connection; a Next in progress returns an error.
func (c *Client) Close() error { return c.conn.Close() }
