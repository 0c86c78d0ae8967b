package registry

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/agora-rlhf/agora/arena"
	"github.com/agora-rlhf/agora/rlhf"
)

// limited is a model with a cap on calls at once and on calls per
// minute, as its lab set them. A call waits for its turn up to wait, then
// is refused with rlhf.ELimit; a refused call never reaches the endpoint.
type limited struct {
	m    arena.Model
	sem  chan struct{} // one token per call in flight; nil for no cap
	wait time.Duration

	mu       sync.Mutex    // guards next
	interval time.Duration // between call starts; 0 for no rate limit
	next     time.Time     // when the next call may start
}

func limit(m arena.Model, maxConcurrency, perMinute int, wait time.Duration) arena.Model {
	if maxConcurrency == 0 && perMinute == 0 {
		return m
	}
	l := &limited{m: m, wait: wait}
	if maxConcurrency > 0 {
		l.sem = make(chan struct{}, maxConcurrency)
	}
	if perMinute > 0 {
		l.interval = time.Minute / time.Duration(perMinute)
	}
	return l
}

var errBusy = rlhf.Errorf(rlhf.ELimit, "the model is busy; try again in a moment")

func (l *limited) Stream(ctx context.Context, msgs []rlhf.Message, onText func(string)) (string, int, error) {
	deadline := time.NewTimer(l.wait)
	defer deadline.Stop()
	if l.sem != nil {
		select {
		case l.sem <- struct{}{}:
			defer func() { <-l.sem }()
		case <-deadline.C:
			return "", 0, errBusy
		case <-ctx.Done():
			return "", 0, ctx.Err()
		}
	}
	if l.interval > 0 {
		l.mu.Lock()
		now := time.Now()
		start := now
		if l.next.After(now) {
			start = l.next
		}
		if start.Sub(now) > l.wait {
			l.mu.Unlock()
			return "", 0, errBusy
		}
		l.next = start.Add(l.interval)
		l.mu.Unlock()
		if d := start.Sub(now); d > 0 {
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return "", 0, ctx.Err()
			}
		}
	}
	return l.m.Stream(ctx, msgs, onText)
}

// redacted is an endpoint client whose errors never contain its API key,
// even when the endpoint echoes the key back in an error body: errors end
// up in the log and in stored battles. It passes on the endpoint's usage.
type redacted struct {
	m   endpoint
	key string
}

// endpoint is a model that reports the endpoint's usage; *openai.Client
// implements it.
type endpoint interface {
	arena.Model
	arena.UsageModel
}

func redact(m endpoint, key string) endpoint {
	if key == "" {
		return m
	}
	return &redacted{m: m, key: key}
}

func (r *redacted) Stream(ctx context.Context, msgs []rlhf.Message, onText func(string)) (string, int, error) {
	finish, tokens, err := r.m.Stream(ctx, msgs, onText)
	return finish, tokens, redactErr(err, r.key)
}

func (r *redacted) StreamUsage(ctx context.Context, msgs []rlhf.Message, onText func(string)) (string, int, int, error) {
	finish, in, out, err := r.m.StreamUsage(ctx, msgs, onText)
	return finish, in, out, redactErr(err, r.key)
}

// redactErr returns err with every copy of key replaced, keeping its code.
func redactErr(err error, key string) error {
	if err == nil || key == "" || !strings.Contains(err.Error(), key) {
		return err
	}
	clean := func(s string) string { return strings.ReplaceAll(s, key, "[redacted]") }
	var e *rlhf.Error
	if errors.As(err, &e) {
		return &rlhf.Error{Code: e.Code, Message: clean(e.Message), Err: errors.New(clean(err.Error()))}
	}
	return errors.New(clean(err.Error()))
}
