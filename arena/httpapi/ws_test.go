package httpapi_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/agora-rlhf/agora/arena/httpapi"
	"github.com/agora-rlhf/agora/rlhf"
)

func TestFullBattle(t *testing.T) {
	s := newSetup(t, options{})
	c := s.dial(t, nil)
	if c.hello["contributor_id"] == "" || c.hello["token"] == "" || c.hello["protocol"] != 1.0 {
		t.Fatalf("hello = %v, want contributor_id, token and protocol 1", c.hello)
	}
	id, text := c.start("Say hello")
	for _, f := range c.frames {
		if f["type"] == "battle" && f["prompt"] != "Say hello" {
			t.Errorf("battle frame %v, want it to carry the prompt", f)
		}
	}
	for side, want := range map[string]string{"a": "Hello there, friend.", "b": "Hello there, friend. Bye."} {
		if text[side] != want {
			t.Errorf("side %s streamed %q, want %q", side, text[side], want)
		}
	}
	preVote := strings.Join(c.raw, "\n")
	f := c.vote(id, "a", map[string]any{"strength": "clear", "reason": "friendlier"})
	if f["type"] != "voted" || f["model_a"] != modelNames["ok"] || f["model_b"] != modelNames["ok2"] || f["vote_id"] == "" {
		t.Fatalf("vote answer = %v, want voted revealing %s and %s", f, modelNames["ok"], modelNames["ok2"])
	}
	assertAnonymous(t, s, preVote)
	if ans, _ := f["answers"].([]any); len(ans) != 2 || ans[0].(map[string]any)["tokens"] != 5.0 {
		t.Errorf("voted answers = %v, want side a's 5 tokens first, then side b", f["answers"])
	}

	v, err := s.store.VoteForBattle(context.Background(), id)
	if err != nil {
		t.Fatalf("acknowledged vote is not stored: %v", err)
	}
	if v.ID != f["vote_id"] || v.Winner != rlhf.WinnerA || v.Strength != rlhf.StrengthClear || v.Reason != "friendlier" ||
		v.ContributorID != c.hello["contributor_id"] {
		t.Errorf("stored vote = %+v, want the one acknowledged (%v)", v, f)
	}
	b, err := s.store.Battle(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if b.Status != rlhf.StatusVoted || len(b.Turns) != 1 || b.Turns[0].A.Content != "Hello there, friend." ||
		b.Turns[0].A.FinishReason != "stop" || b.Turns[0].A.Tokens != 5 || b.Turns[0].B.Duration <= 0 {
		t.Errorf("stored battle = %+v", b)
	}
}

// assertAnonymous checks that nothing sent before the vote names a model,
// a model id or the endpoint's host.
func assertAnonymous(t *testing.T, s *setup, frames string) {
	t.Helper()
	secrets := []string{strings.TrimPrefix(s.endpoint.URL, "http://"), "127.0.0.1", "secret-gpu-host"}
	for id, name := range modelNames {
		secrets = append(secrets, name, `"`+id+`"`)
	}
	for _, secret := range secrets {
		if strings.Contains(frames, secret) {
			t.Errorf("a frame sent before the vote contains %q:\n%s", secret, frames)
		}
	}
	// Per-side token counts and timings tell models apart: they wait for
	// the reveal.
	for _, key := range []string{`"tokens"`, `"ttft_ms"`, `"duration_ms"`, `"answers"`} {
		if strings.Contains(frames, key) {
			t.Errorf("a frame sent before the vote carries %s:\n%s", key, frames)
		}
	}
}

func TestMultiTurn(t *testing.T) {
	s := newSetup(t, options{})
	c := s.dial(t, nil)
	id, _ := c.start("first question")
	c.send(map[string]any{"type": "message", "battle_id": id, "content": "second question"})
	if f := c.until("turn"); f["turn"] != 1.0 {
		t.Fatalf("turn frame = %v, want turn 1", f)
	}
	c.readTurn(id)
	req := s.fake.lastRequest("ok")
	var roles, contents []string
	for _, m := range req.Messages {
		roles = append(roles, m.Role)
		contents = append(contents, m.Content)
	}
	if got, want := strings.Join(roles, ","), "user,assistant,user"; got != want {
		t.Errorf("second turn sent roles %s, want %s", got, want)
	}
	if contents[0] != "first question" || contents[1] != "Hello there, friend." || contents[2] != "second question" {
		t.Errorf("second turn sent %q", contents)
	}
	// A third turn is allowed (MaxTurns 3), a fourth is not.
	c.send(map[string]any{"type": "message", "battle_id": id, "content": "third"})
	c.until("turn")
	c.readTurn(id)
	c.send(map[string]any{"type": "message", "battle_id": id, "content": "fourth"})
	if f := c.next(); f["type"] != "error" || f["code"] != rlhf.ELimit {
		t.Errorf("fourth turn answer = %v, want error %s", f, rlhf.ELimit)
	}
	if f := c.vote(id, "tie", nil); f["type"] != "voted" {
		t.Fatalf("vote answer = %v", f)
	}
	b, err := s.store.Battle(context.Background(), id)
	if err != nil || len(b.Turns) != 3 || b.Turns[1].Prompt != "second question" {
		t.Fatalf("stored battle = %+v, %v; want 3 turns", b, err)
	}
	conv := b.Conversation(rlhf.SideB)
	if len(conv) != 6 || conv[4].Content != "third" {
		t.Errorf("side B conversation = %+v", conv)
	}
}

func TestVoteRejections(t *testing.T) {
	s := newSetup(t, options{delay: 100 * time.Millisecond})
	c := s.dial(t, nil)
	other := s.dial(t, nil)

	c.send(map[string]any{"type": "start", "prompt": "slow one"})
	id := c.until("battle")["battle_id"].(string)
	f := c.vote(id, "a", nil)
	for f["type"] == "token" {
		f = c.next()
	}
	if f["type"] != "error" || f["code"] != rlhf.ENotReady || f["request"] != "vote" {
		t.Errorf("vote while streaming = %v, want error %s", f, rlhf.ENotReady)
	}
	c.readTurn(id)

	notYours := other.vote(id, "a", nil)
	noSuch := other.vote("00000000-0000-4000-8000-000000000000", "a", nil)
	if notYours["type"] != "error" || notYours["code"] != rlhf.ENotFound {
		t.Errorf("vote on someone else's battle = %v, want error %s", notYours, rlhf.ENotFound)
	}
	if notYours["message"] != noSuch["message"] || notYours["code"] != noSuch["code"] {
		t.Errorf("not yours (%v) and no such battle (%v) differ", notYours, noSuch)
	}

	bad := []struct {
		name  string
		extra map[string]any
		win   string
		code  string
	}{
		{"bad winner", nil, "c", rlhf.EInvalid},
		{"bad strength", map[string]any{"strength": "huge"}, "a", rlhf.EInvalid},
		{"unknown field", map[string]any{"model_a": "x"}, "a", rlhf.EInvalid},
		{"weight", map[string]any{"weight": 100}, "a", rlhf.EInvalid},
		{"wrong type", map[string]any{"strength": 3}, "a", rlhf.EInvalid},
		{"reason too long", map[string]any{"reason": strings.Repeat("x", rlhf.MaxReasonBytes+1)}, "a", rlhf.EInvalid},
	}
	for _, tt := range bad {
		if f := c.vote(id, tt.win, tt.extra); f["type"] != "error" || f["code"] != tt.code {
			t.Errorf("%s: answer %v, want error %s", tt.name, f, tt.code)
		}
	}

	first := c.vote(id, "b", nil)
	if first["type"] != "voted" {
		t.Fatalf("vote = %v", first)
	}
	again := c.vote(id, "b", nil)
	if again["type"] != "voted" || again["vote_id"] != first["vote_id"] {
		t.Errorf("same vote again = %v, want the original answer %v", again, first)
	}
	if f := c.vote(id, "a", nil); f["type"] != "error" || f["code"] != rlhf.EConflict {
		t.Errorf("different second vote = %v, want error %s", f, rlhf.EConflict)
	}
	if f := other.vote(id, "b", nil); f["type"] != "error" || f["code"] != rlhf.ENotFound {
		t.Errorf("other contributor voting after the vote = %v, want %s", f, rlhf.ENotFound)
	}
	_, votes, _ := s.store.Counts(context.Background())
	if votes != 1 {
		t.Errorf("stored votes = %d, want 1", votes)
	}
}

// TestConcurrentSameVote sends one vote 100 times at once from one
// contributor's connections: one is stored, all get the same answer.
func TestConcurrentSameVote(t *testing.T) {
	s := newSetup(t, options{})
	c := s.dial(t, nil)
	id, _ := c.start("race")
	token := c.hello["token"].(string)
	const n = 20
	conns := make([]*wsClient, n)
	for i := range conns {
		conns[i] = s.dial(t, http.Header{"Authorization": {"Bearer " + token}})
	}
	// Each connection sends 5 votes back to back, all connections at once.
	var wg sync.WaitGroup
	answers := make([]map[string]any, n*5)
	for i, cl := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 5 {
				cl.conn.WriteJSON(map[string]any{"type": "vote", "battle_id": id, "winner": "tie"})
			}
			cl.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
			for j := range 5 {
				cl.conn.ReadJSON(&answers[i*5+j])
			}
		}()
	}
	wg.Wait()
	for _, a := range answers {
		if a["type"] != "voted" || a["vote_id"] != answers[0]["vote_id"] {
			t.Fatalf("answer %v differs from %v", a, answers[0])
		}
	}
	_, votes, _ := s.store.Counts(context.Background())
	if votes != 1 {
		t.Errorf("stored votes = %d, want 1", votes)
	}
}

func TestTokenKeepsIdentity(t *testing.T) {
	s := newSetup(t, options{})
	c := s.dial(t, nil)
	id, _ := c.start("mine")
	token := c.hello["token"].(string)
	c.conn.Close()
	for name, h := range map[string]http.Header{
		"bearer": {"Authorization": {"Bearer " + token}},
		"cookie": {"Cookie": {"agora_token=" + token}},
	} {
		c2 := s.dial(t, h)
		if c2.hello["contributor_id"] != c.hello["contributor_id"] {
			t.Errorf("%s: reconnect got contributor %v, want %v", name, c2.hello["contributor_id"], c.hello["contributor_id"])
		}
	}
	// The query parameter works too, and the battle is still votable.
	conn, _, err := websocket.DefaultDialer.Dial(s.url+"?token="+token, nil)
	if err != nil {
		t.Fatal(err)
	}
	c3 := &wsClient{t: t, conn: conn}
	t.Cleanup(func() { conn.Close() })
	c3.hello = c3.next()
	if f := c3.vote(id, "a", nil); f["type"] != "voted" {
		t.Errorf("vote after reconnect = %v", f)
	}
	forged := s.dialProblem(t, http.Header{"Authorization": {"Bearer v1." + c.hello["contributor_id"].(string) + ".forged"}})
	if forged.hello["contributor_id"] == c.hello["contributor_id"] {
		t.Error("a forged token was accepted")
	}
}

func TestMalformedInput(t *testing.T) {
	s := newSetup(t, options{})
	c := s.dial(t, nil)
	cases := []struct {
		name, frame, code string
	}{
		{"not json", `{"type":`, rlhf.EInvalid},
		{"garbage", `hello`, rlhf.EInvalid},
		{"no type", `{"prompt":"x"}`, rlhf.EInvalid},
		{"unknown type", `{"type":"dance"}`, rlhf.EInvalid},
		{"trailing data", `{"type":"start","prompt":"x"} {}`, rlhf.EInvalid},
		{"empty prompt", `{"type":"start","prompt":""}`, rlhf.EInvalid},
		{"invalid utf8", "{\"type\":\"start\",\"prompt\":\"\xff\xfe\"}", rlhf.EInvalid},
		{"start with extra", `{"type":"start","prompt":"x","winner":"a"}`, rlhf.EInvalid},
		{"message unknown battle", `{"type":"message","battle_id":"nope","content":"x"}`, rlhf.ENotFound},
	}
	for _, tt := range cases {
		if err := c.conn.WriteMessage(websocket.TextMessage, []byte(tt.frame)); err != nil {
			t.Fatal(err)
		}
		if f := c.next(); f["type"] != "error" || f["code"] != tt.code {
			t.Errorf("%s: answer %v, want error %s", tt.name, f, tt.code)
		}
	}
	if err := c.conn.WriteMessage(websocket.BinaryMessage, []byte{1, 2}); err != nil {
		t.Fatal(err)
	}
	if f := c.next(); f["type"] != "error" {
		t.Errorf("binary frame: answer %v, want error", f)
	}
	// The connection survived all of it.
	id, _ := c.start("still there?")
	if f := c.vote(id, "a", nil); f["type"] != "voted" {
		t.Errorf("vote after bad input = %v", f)
	}
}

func TestOversizeFrameCloses1009(t *testing.T) {
	s := newSetup(t, options{})
	c := s.dial(t, nil)
	big := make([]byte, 10<<20)
	for i := range big {
		big[i] = 'x'
	}
	c.conn.WriteMessage(websocket.TextMessage, big)
	c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		_, _, err := c.conn.ReadMessage()
		if err == nil {
			continue
		}
		if !websocket.IsCloseError(err, websocket.CloseMessageTooBig) {
			t.Fatalf("read after a 10 MiB frame: %v, want close 1009", err)
		}
		return
	}
}

func TestUpstreamErrorMidStream(t *testing.T) {
	s := newSetup(t, options{modelA: "ok", modelB: "failmid"})
	c := s.dial(t, nil)
	c.send(map[string]any{"type": "start", "prompt": "break"})
	id := c.until("battle")["battle_id"].(string)
	var sideErr map[string]any
	for {
		f := c.next()
		if f["type"] == "error" {
			sideErr = f
		}
		if f["type"] == "ready" {
			break
		}
	}
	if sideErr == nil || sideErr["side"] != "b" || sideErr["code"] != rlhf.EUpstream || sideErr["battle_id"] != id {
		t.Fatalf("error frame = %v, want an upstream error for side b", sideErr)
	}
	assertAnonymous(t, s, strings.Join(c.raw, "\n"))
	b, _ := s.store.Battle(context.Background(), id)
	if b.Turns[0].B.ErrorCode != rlhf.EUpstream || b.Turns[0].B.Content != "Hello there" || b.Turns[0].A.Failed() {
		t.Errorf("stored turn = %+v", b.Turns[0])
	}
}

func TestUpstreamHTTPErrorIsSummarized(t *testing.T) {
	s := newSetup(t, options{modelA: "http500", modelB: "ok"})
	c := s.dial(t, nil)
	c.send(map[string]any{"type": "start", "prompt": "x"})
	for f := c.next(); f["type"] != "ready"; f = c.next() {
	}
	assertAnonymous(t, s, strings.Join(c.raw, "\n"))
}

func TestUpstreamStallTimesOut(t *testing.T) {
	s := newSetup(t, options{modelA: "ok", modelB: "stall", idle: 300 * time.Millisecond})
	c := s.dial(t, nil)
	c.send(map[string]any{"type": "start", "prompt": "stall"})
	var sideErr map[string]any
	for f := c.next(); f["type"] != "ready"; f = c.next() {
		if f["type"] == "error" {
			sideErr = f
		}
	}
	if sideErr == nil || sideErr["side"] != "b" || sideErr["code"] != rlhf.ETimeout {
		t.Fatalf("error frame = %v, want a timeout for side b", sideErr)
	}
}

func TestDisconnectCancelsUpstream(t *testing.T) {
	s := newSetup(t, options{modelA: "stall", modelB: "stall2", idle: time.Minute})
	c := s.dial(t, nil)
	c.send(map[string]any{"type": "start", "prompt": "leave"})
	for seen := map[any]bool{}; len(seen) < 2; {
		seen[c.until("token")["side"]] = true // both requests are streaming
	}
	left := time.Now()
	c.conn.Close()
	deadline := time.Now().Add(5 * time.Second)
	for len(s.fake.cancellations()) < 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	got := s.fake.cancellations()
	if len(got) != 2 {
		t.Fatalf("endpoint saw %d cancelled requests, want 2", len(got))
	}
	for _, at := range got {
		if d := at.Sub(left); d > time.Second {
			t.Errorf("upstream request cancelled %v after the client left, want within 1s", d)
		}
	}
}

func TestBattleCapPerContributor(t *testing.T) {
	s := newSetup(t, options{modelA: "stall", modelB: "stall2", maxBattles: 2, idle: time.Minute})
	c := s.dial(t, nil)
	for range 2 {
		c.send(map[string]any{"type": "start", "prompt": "hold"})
		c.until("battle")
	}
	c.send(map[string]any{"type": "start", "prompt": "one too many"})
	for {
		f := c.next()
		if f["type"] == "error" && f["side"] == nil {
			if f["code"] != rlhf.ELimit {
				t.Errorf("third battle: %v, want error %s", f, rlhf.ELimit)
			}
			return
		}
	}
}

func TestForeignOriginRefused(t *testing.T) {
	s := newSetup(t, options{})
	_, resp, err := websocket.DefaultDialer.Dial(s.url, http.Header{"Origin": {"https://evil.example"}})
	if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("dial with a foreign origin: err %v, response %v; want 403", err, resp)
	}
	same := "http://" + strings.TrimPrefix(s.http.URL, "http://")
	conn, _, err := websocket.DefaultDialer.Dial(s.url, http.Header{"Origin": {same}})
	if err != nil {
		t.Fatalf("dial with the same origin: %v", err)
	}
	conn.Close()
}

func TestShutdownCloses1001(t *testing.T) {
	s := newSetup(t, options{})
	c := s.dial(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- s.server.CloseClients(ctx) }()
	c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, _, err := c.conn.ReadMessage()
	if !websocket.IsCloseError(err, websocket.CloseGoingAway) {
		t.Errorf("read during shutdown: %v, want close 1001", err)
	}
	if err := <-done; err != nil {
		t.Errorf("CloseClients: %v", err)
	}
}

func TestHealth(t *testing.T) {
	s := newSetup(t, options{})
	for _, path := range []string{"/healthz", "/readyz"} {
		resp, err := http.Get(s.http.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s = %d, want 200", path, resp.StatusCode)
		}
	}
	resp, err := http.Get(s.http.URL + "/no/such/page")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /no/such/page = %d, want 404", resp.StatusCode)
	}
}

// TestSlowClientDropped streams far more than a client that stops reading
// can buffer: the server drops it instead of queueing without bound, while
// a client that reads gets its whole battle.
func TestSlowClientDropped(t *testing.T) {
	tokens := make([]string, 2000)
	for i := range tokens {
		tokens[i] = strings.Repeat("x", 1000)
	}
	s := newSetup(t, options{tokens: tokens, delay: 100 * time.Microsecond, maxAnswer: 1 << 24, ws: httpapi.WSConfig{SendQueue: 256}})
	slow, good := s.dial(t, nil), s.dial(t, nil)
	slow.send(map[string]any{"type": "start", "prompt": "flood"})
	id, text := good.start("flood too") // reads everything as it comes
	if len(text["a"]) != len(tokens)*1000 {
		t.Errorf("the reading client got %d bytes of side a, want %d", len(text["a"]), len(tokens)*1000)
	}
	if f := good.vote(id, "a", nil); f["type"] != "voted" {
		t.Errorf("the reading client's vote = %v", f)
	}
	slow.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	received := 0
	for {
		_, _, err := slow.conn.ReadMessage()
		if err != nil {
			if websocket.IsCloseError(err, websocket.CloseNormalClosure) {
				t.Fatalf("server closed normally after %d frames, want the slow client dropped", received)
			}
			break
		}
		received++
	}
	if received >= 2*len(tokens) {
		t.Fatalf("the slow client received all %d frames; want it dropped", received)
	}
	t.Logf("slow client dropped after %d of %d frames", received, 2*len(tokens))
}
