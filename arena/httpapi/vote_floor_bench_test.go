package httpapi_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/agora-rlhf/agora/arena"
	"github.com/agora-rlhf/agora/ingest/store"
	"github.com/agora-rlhf/agora/rlhf"
)

// The floor of BenchmarkVoteAckAt10k: the least server that acknowledges
// a durable vote over a websocket. A gorilla websocket handler reads each
// frame, parses it with the arena's parser, commits the vote of a battle
// saved beforehand through the store Agora uses (SaveVote, the same
// settings: a new file, WAL, synchronous=FULL, the log's leaf in the
// vote's commit when the log is on) and writes an answer as large as
// Agora's `voted` frame. No arena, matching, limits, receipts,
// checkpoints or live board. Without the store (the transport floor) it
// answers at once: what the websockets, the loopback and the clients cost.

// paceFloor offers rate votes/s from clients connections with perClient
// battles each, as paceAgora does, to a floor server: committing each vote
// through a store when withStore, acknowledging it at once when not. Each
// answer is ackBytes long.
func paceFloor(b *testing.B, rate int, log bool, clients, perClient, ackBytes int, withStore bool) figures {
	// The ids sort in the order the votes come, as Agora's (time-ordered)
	// roughly do, and are as long. Each connection is a contributor of its
	// own, with an id like Agora's (random: the store indexes votes and
	// battles by contributor).
	contributors := make([]string, clients)
	for i := range contributors {
		contributors[i] = "c_" + rand.Text()[:24]
	}
	order := make([]*rlhf.Battle, clients*perClient)
	battles := make(map[string]*rlhf.Battle, len(order))
	ids := make([][]string, clients)
	for j := range order {
		bt := floorBattle(fmt.Sprintf("%08x-0000-7000-8000-000000000000", j), contributors[j%clients])
		order[j], battles[bt.ID] = bt, bt
		ids[j%clients] = append(ids[j%clients], bt.ID)
	}
	f := voteFloor{battles: battles, ackBytes: ackBytes}
	if withStore {
		f.store = floorStore(b, log, order)
	}
	srv := httptest.NewServer(f)
	defer srv.Close()
	conns := make([]*websocket.Conn, clients)
	for i := range conns {
		conn, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
		if err != nil {
			b.Fatal(err)
		}
		defer conn.Close()
		conns[i] = conn
	}
	start, cpu0 := time.Now(), cpuTime()
	lat, _ := paceVotes(b, conns, ids, rate, func() int { return 0 })
	return newFigures(lat[0], start, cpuTime()-cpu0)
}

// floorBattle returns contributor's battle ready for a vote, like those
// the benchmark's arena stores: one turn, prompt "p", answers "x".
func floorBattle(id, contributor string) *rlhf.Battle {
	now := time.Now()
	answer := rlhf.Answer{Content: "x", FinishReason: "stop", Tokens: 1}
	return &rlhf.Battle{ID: id, ContributorID: contributor, ModelA: modelNames["ok"], ModelB: modelNames["ok2"],
		Status: rlhf.StatusReady, CreatedAt: now, UpdatedAt: now,
		Turns: []rlhf.Turn{{Index: 0, Prompt: "p", At: now, A: answer, B: answer}}}
}

// floorStore opens a store in a temporary directory, with the log's
// leaves when log is true, and saves battles in it in their order (512 at
// a time, as many callers would). It closes when b ends.
func floorStore(b *testing.B, log bool, battles []*rlhf.Battle) *store.Store {
	dir := b.TempDir()
	st, err := store.Open(filepath.Join(dir, "floor.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	if log {
		useLedger(b, dir, st) // leaves only: no receipts, no checkpoints
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, 512)
	for _, bt := range battles {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := st.SaveBattle(context.Background(), bt); err != nil {
				b.Error(err)
			}
		})
	}
	wg.Wait()
	if b.Failed() {
		b.FailNow()
	}
	return st
}

// voteFloor is the floor server's handler.
type voteFloor struct {
	store    *store.Store // nil: acknowledge without committing
	battles  map[string]*rlhf.Battle
	ackBytes int
}

func (f voteFloor) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	conn, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
	if err != nil {
		return
	}
	defer conn.Close()
	for {
		_, msg, err := conn.ReadMessage()
		if err != nil {
			return
		}
		ack, err := f.vote(r.Context(), msg)
		if err != nil {
			ack = fmt.Appendf(nil, `{"type":"error","code":"internal","message":%q}`, err)
		}
		if conn.WriteMessage(websocket.TextMessage, ack) != nil {
			return
		}
	}
}

// vote commits the vote msg asks for and returns its acknowledgement.
func (f voteFloor) vote(ctx context.Context, msg []byte) ([]byte, error) {
	req, err := arena.ParseRequest(msg)
	if err != nil {
		return nil, err
	}
	bt, ok := f.battles[req.BattleID]
	if req.Type != arena.RequestVote || !ok {
		return nil, errors.New("not a vote on a floor battle")
	}
	now := time.Now()
	final := *bt
	final.Status, final.UpdatedAt = rlhf.StatusVoted, now
	v := rlhf.Vote{ID: "v" + bt.ID[1:], BattleID: bt.ID, ContributorID: bt.ContributorID, Winner: req.Winner, CreatedAt: now}
	if f.store != nil {
		if err := f.store.SaveVote(ctx, &final, &v); err != nil {
			return nil, err
		}
	}
	ack := make([]byte, 0, f.ackBytes)
	ack = append(ack, `{"type":"voted","battle_id":"`+v.BattleID+`","vote_id":"`+v.ID+`","pad":"`...)
	for len(ack) < f.ackBytes-2 {
		ack = append(ack, 'x')
	}
	return append(ack, `"}`...), nil
}
