package registry

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/agora-rlhf/agora/rlhf"
)

func TestParseKey(t *testing.T) {
	key := bytes.Repeat([]byte{0xab}, 32)
	for _, s := range []string{hex.EncodeToString(key), base64.StdEncoding.EncodeToString(key), base64.RawURLEncoding.EncodeToString(key), " " + hex.EncodeToString(key) + "\n"} {
		got, err := ParseKey(s)
		if err != nil || !bytes.Equal(got, key) {
			t.Errorf("ParseKey(%q) = %x, %v; want %x", s, got, err, key)
		}
	}
	for _, s := range []string{"", "abcd", hex.EncodeToString(key[:31]), strings.Repeat("z", 64)} {
		if _, err := ParseKey(s); err == nil || (s != "" && strings.Contains(err.Error(), s)) {
			t.Errorf("ParseKey(%q) = %v, want an error that does not repeat the key", s, err)
		}
	}
}

func TestSealOpen(t *testing.T) {
	s1, _ := NewSealer(bytes.Repeat([]byte{1}, 32))
	s2, _ := NewSealer(bytes.Repeat([]byte{2}, 32))
	sealed := s1.Seal("acme/m", "sk-secret")
	if bytes.Contains(sealed, []byte("sk-secret")) {
		t.Fatal("sealed key contains the key")
	}
	if again := s1.Seal("acme/m", "sk-secret"); bytes.Equal(again, sealed) {
		t.Error("two seals of one key are equal: the nonce is not random")
	}
	if got, err := s1.Open("acme/m", sealed); err != nil || got != "sk-secret" {
		t.Errorf("Open = %q, %v; want sk-secret", got, err)
	}
	if _, err := s2.Open("acme/m", sealed); err == nil {
		t.Error("Open with another secrets key succeeded")
	}
	if _, err := s1.Open("acme/other", sealed); err == nil {
		t.Error("Open for another model succeeded")
	}
	if _, err := s1.Open("acme/m", sealed[:5]); err == nil {
		t.Error("Open of a truncated key succeeded")
	}
	if _, err := NewSealer(make([]byte, 16)); err == nil {
		t.Error("NewSealer with 16 bytes succeeded")
	}
}

func TestRedactErr(t *testing.T) {
	err := &rlhf.Error{Code: rlhf.EUpstream, Message: "the endpoint failed", Err: errors.New("status 401: bad key sk-123")}
	got := redactErr(err, "sk-123")
	if strings.Contains(got.Error(), "sk-123") || rlhf.ErrorCode(got) != rlhf.EUpstream || rlhf.ErrorMessage(got) != "the endpoint failed" {
		t.Errorf("redactErr = %v (code %s), want the key gone and the code kept", got, rlhf.ErrorCode(got))
	}
	if redactErr(err, "") != err || redactErr(nil, "k") != nil {
		t.Error("redactErr changed an error with nothing to redact")
	}
}

// slowModel counts calls in flight.
type slowModel struct {
	in, peak atomic.Int32
	delay    time.Duration
}

func (m *slowModel) Stream(ctx context.Context, _ []rlhf.Message, onText func(string)) (string, int, error) {
	n := m.in.Add(1)
	defer m.in.Add(-1)
	for {
		p := m.peak.Load()
		if n <= p || m.peak.CompareAndSwap(p, n) {
			break
		}
	}
	time.Sleep(m.delay)
	onText("ok")
	return "stop", 1, nil
}

func TestLimitConcurrency(t *testing.T) {
	m := &slowModel{delay: 20 * time.Millisecond}
	l := limit(m, 2, 0, time.Second)
	var wg sync.WaitGroup
	for range 6 {
		wg.Go(func() {
			if _, _, err := l.Stream(context.Background(), nil, func(string) {}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if p := m.peak.Load(); p != 2 {
		t.Errorf("peak calls in flight = %d, want 2", p)
	}
	// A call that cannot get a slot in time is refused with a limit error.
	busy := limit(&slowModel{delay: 200 * time.Millisecond}, 1, 0, 10*time.Millisecond)
	go busy.Stream(context.Background(), nil, func(string) {})
	time.Sleep(20 * time.Millisecond)
	if _, _, err := busy.Stream(context.Background(), nil, func(string) {}); rlhf.ErrorCode(err) != rlhf.ELimit {
		t.Errorf("Stream on a busy model = %v, want a limit error", err)
	}
}

func TestLimitRate(t *testing.T) {
	m := &slowModel{}
	l := limit(m, 0, 600, 50*time.Millisecond) // one call per 100ms; waits up to 50ms
	if _, _, err := l.Stream(context.Background(), nil, func(string) {}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := l.Stream(context.Background(), nil, func(string) {}); rlhf.ErrorCode(err) != rlhf.ELimit {
		t.Errorf("second call within the interval = %v, want a limit error", err)
	}
}
