package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestSummarize(t *testing.T) {
	var lat []time.Duration
	for i := 100; i >= 1; i-- {
		lat = append(lat, time.Duration(i)*time.Millisecond)
	}
	got := summarize(lat)
	if want := (Summary{Count: 100, P50: 50, P90: 90, P99: 99, Max: 100}); got != want {
		t.Errorf("summarize(1..100 ms) = %+v, want %+v", got, want)
	}
	if got := summarize(nil); got != (Summary{}) {
		t.Errorf("summarize(nil) = %+v, want zero", got)
	}
}

// TestListeningPID finds this process by a port it listens on, and reads
// its memory.
func TestListeningPID(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	if pid, err := ListeningPID(port); err != nil || pid != os.Getpid() {
		t.Errorf("ListeningPID(%d) = %d, %v; want %d", port, pid, err, os.Getpid())
	}
	if kib, err := RSS(os.Getpid()); err != nil || kib <= 0 {
		t.Errorf("RSS(self) = %d, %v", kib, err)
	}
	for start := time.Now(); time.Since(start) < 50*time.Millisecond; { // some processor time to see
	}
	if cpu, err := CPUTime(os.Getpid()); err != nil || cpu <= 0 {
		t.Errorf("CPUTime(self) = %v, %v", cpu, err)
	}
	if _, err := CPUTime(-1); err == nil {
		t.Error("CPUTime(-1): no error")
	}
	ln.Close()
	if pid, err := ListeningPID(port); err == nil {
		t.Errorf("ListeningPID(%d) after close = %d, want an error", port, pid)
	}
}

// TestFrames checks the client frames are the in-process benchmarks'
// bytes, and valid JSON whatever the strings hold.
func TestFrames(t *testing.T) {
	if got, want := string(voteFrame("b-1")), `{"type":"vote","battle_id":"b-1","winner":"a"}`; got != want {
		t.Errorf("voteFrame = %s, want %s", got, want)
	}
	for _, s := range []string{"plain", `quo"te`, `back\slash`, "line\nfeed", "ünï", "\x7f"} {
		var f struct {
			Type, Content string
			BattleID      string `json:"battle_id"`
		}
		data := messageFrame(s, s)
		if err := json.Unmarshal(data, &f); err != nil || f.Type != "message" || f.BattleID != s || f.Content != s {
			t.Errorf("messageFrame(%q) = %s: %+v, %v", s, data, f, err)
		}
	}
	if !isVoted([]byte(`{"type":"voted","battle_id":"x"}`)) || isVoted([]byte(`{"type":"error","code":"not_found"}`)) {
		t.Error("isVoted does not tell an acknowledgement from an error")
	}
}

// TestCPUNotMeasured reports processor time it could not read as not
// measured, not as zero.
func TestCPUNotMeasured(t *testing.T) {
	r := &run{cfg: Config{ServerPID: -1}}
	var w window
	w.openAt(r, time.Now())
	w.close(r)
	if w.cpuErr == nil {
		t.Fatal("a server pid that cannot be read: no error")
	}
	var out strings.Builder
	rep := &Report{CPUNotMeasured: w.cpuErr.Error()}
	if err := rep.WriteText(&out); err != nil || !strings.Contains(out.String(), "processor time per job: not measured (") {
		t.Errorf("WriteText = %q, %v; want processor time not measured", out.String(), err)
	}
}

// fakeConn answers start frames with a battle and its ready frame and,
// unless mute, vote frames with an acknowledgement.
type fakeConn struct {
	mute    bool
	battles int
	out     chan []byte
	closed  chan struct{}
	once    sync.Once
}

func newFakeConn(mute bool) *fakeConn {
	return &fakeConn{mute: mute, out: make(chan []byte, 1<<12), closed: make(chan struct{})}
}

func (c *fakeConn) Send(frame []byte) error {
	switch {
	case bytes.HasPrefix(frame, []byte(`{"type":"start"`)):
		c.battles++
		id := fmt.Sprintf(`"b%d"`, c.battles)
		c.out <- []byte(`{"type":"battle","battle_id":` + id + `,"max_turns":1}`)
		c.out <- []byte(`{"type":"ready","battle_id":` + id + `}`)
	case bytes.HasPrefix(frame, []byte(`{"type":"vote"`)) && !c.mute:
		c.out <- []byte(`{"type":"voted","battle_id":"b"}`)
	}
	return nil
}

func (c *fakeConn) Next() ([]byte, error) {
	select {
	case f := <-c.out:
		return f, nil
	case <-c.closed:
		return nil, net.ErrClosed
	}
}

func (c *fakeConn) Close() error {
	c.once.Do(func() { close(c.closed) })
	return nil
}

// TestPaceVotes offers votes in an open loop over connections that get
// unequal shares: each connection's reader takes exactly its votes'
// answers, and a run whose votes go unanswered ends at its time bound.
func TestPaceVotes(t *testing.T) {
	for _, tt := range []struct {
		mute      bool
		jobs      int
		wantVotes int64
	}{{false, 23, 23}, {true, 10, 0}} {
		cfg := Config{
			Dial:         func(context.Context) (Conn, error) { return newFakeConn(tt.mute), nil },
			Contributors: 4, Mode: ModeVotes, Rate: 1000, Jobs: tt.jobs, Warmup: 3,
			Duration: time.Second, Prompt: "p",
		}
		rep, err := Run(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Votes != tt.wantVotes || rep.VoteAck.Count != max(int(tt.wantVotes)-3, 0) {
			t.Errorf("mute %v: %d votes, %d measured; want %d, all but the 3 of the warm-up", tt.mute, rep.Votes, rep.VoteAck.Count, tt.wantVotes)
		}
		if rep.SendLag.Count != tt.jobs-3 || rep.SendLag.P50 < 0 {
			t.Errorf("mute %v: %d votes' send lags (p50 %g ms), want the %d measured sent", tt.mute, rep.SendLag.Count, rep.SendLag.P50, tt.jobs-3)
		}
		if !tt.mute && (rep.Jobs != int64(tt.jobs) || len(rep.Errors) != 0) {
			t.Errorf("%d jobs, errors %v; want %d, none", rep.Jobs, rep.Errors, tt.jobs)
		}
	}
}
