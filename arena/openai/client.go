// Package openai calls OpenAI-compatible chat-completions endpoints (vLLM,
// Ollama, TGI, llama.cpp, OpenAI, LiteLLM, Agora's own demo endpoint) and
// streams their answers. It is the only package that imports go-openai.
package openai

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	goopenai "github.com/sashabaranov/go-openai"

	"github.com/agora-rlhf/agora/rlhf"
)

// Config is one endpoint model.
type Config struct {
	BaseURL        string   // ends in /v1
	Model          string   // model id sent to the endpoint
	APIKey         string   // may be empty for local servers
	MaxTokens      int      // sent as max_tokens
	Temperature    *float32 // nil leaves the server's default
	SystemPrompt   string   // prepended as a system message when set
	ConnectTimeout time.Duration
	IdleTimeout    time.Duration // longest wait for the first or the next chunk
	MaxAnswerBytes int           // the answer is cut (finish reason "length") past this
	Guard          *Guard        // when set, connections go only where it allows, and never through a proxy
}

// Client streams chat completions from one endpoint model.
type Client struct {
	cfg    Config
	client *goopenai.Client
}

// New returns a client for cfg.
func New(cfg Config) *Client {
	oc := goopenai.DefaultConfig(cfg.APIKey)
	oc.BaseURL = strings.TrimSuffix(cfg.BaseURL, "/")
	dialer := &net.Dialer{Timeout: cfg.ConnectTimeout, KeepAlive: 30 * time.Second}
	proxy, dial := http.ProxyFromEnvironment, dialer.DialContext
	if cfg.Guard != nil {
		proxy, dial = nil, cfg.Guard.DialContext(dialer)
	}
	transport := &http.Transport{
		Proxy:               proxy,
		DialContext:         dial,
		TLSHandshakeTimeout: cfg.ConnectTimeout,
		MaxIdleConnsPerHost: 64,
		IdleConnTimeout:     90 * time.Second,
	}
	oc.HTTPClient = &http.Client{
		Transport: transport,
		// A model endpoint has no business redirecting: refuse, so that
		// a redirect cannot point the server somewhere else.
		CheckRedirect: func(*http.Request, []*http.Request) error { return errors.New("redirects are refused") },
	}
	return &Client{cfg: cfg, client: goopenai.NewClientWithConfig(oc)}
}

// Stream sends msgs and calls onText with each piece of the answer as it
// arrives. It returns when the answer is complete, the context ends, or the
// endpoint fails, with the finish reason ("stop", "length", ...) and the
// number of completion tokens (the server's count when it sends usage, else
// the chunks received). Errors are *rlhf.Error values whose messages are
// safe to show a contributor: they never name the model or the endpoint.
func (c *Client) Stream(ctx context.Context, msgs []rlhf.Message, onText func(string)) (finishReason string, tokens int, err error) {
	res, err := c.stream(ctx, msgs, onText)
	return res.finishReason, res.tokens, err
}

type result struct {
	finishReason string
	tokens       int
}

func (c *Client) stream(ctx context.Context, msgs []rlhf.Message, onText func(string)) (result, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	errIdle := errors.New("idle timeout")
	idle := time.AfterFunc(c.cfg.IdleTimeout, func() { cancel(errIdle) })
	defer idle.Stop()

	req := goopenai.ChatCompletionRequest{
		Model:         c.cfg.Model,
		Messages:      c.messages(msgs),
		MaxTokens:     c.cfg.MaxTokens,
		Stream:        true,
		StreamOptions: &goopenai.StreamOptions{IncludeUsage: true},
	}
	if c.cfg.Temperature != nil {
		req.Temperature = *c.cfg.Temperature
	}
	stream, err := c.client.CreateChatCompletionStream(ctx, req)
	if err != nil {
		return result{}, c.fail(ctx, err, errIdle)
	}
	defer stream.Close()

	var res result
	var chunks, size int
	for {
		resp, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return res, c.fail(ctx, err, errIdle)
		}
		idle.Reset(c.cfg.IdleTimeout)
		if resp.Usage != nil && resp.Usage.CompletionTokens > 0 {
			res.tokens = resp.Usage.CompletionTokens
		}
		for _, ch := range resp.Choices {
			if ch.Index != 0 {
				continue
			}
			if text := ch.Delta.Content; text != "" {
				if size+len(text) > c.cfg.MaxAnswerBytes {
					text = text[:c.cfg.MaxAnswerBytes-size]
					for !utf8.ValidString(text) {
						text = text[:len(text)-1] // do not cut a character in half
					}
					if text != "" {
						onText(text)
					}
					res.finishReason = "length"
					res.tokens = max(res.tokens, chunks+1)
					return res, nil
				}
				size += len(text)
				chunks++
				onText(text)
			}
			if ch.FinishReason != "" {
				res.finishReason = string(ch.FinishReason)
			}
		}
	}
	if res.finishReason == "" {
		// A stream cut off without a finish reason is not a whole answer.
		return res, &rlhf.Error{Code: rlhf.EUpstream, Message: "the model's answer stopped before it finished",
			Err: errors.New("stream ended without a finish reason")}
	}
	if res.tokens == 0 {
		res.tokens = chunks
	}
	return res, nil
}

func (c *Client) messages(msgs []rlhf.Message) []goopenai.ChatCompletionMessage {
	out := make([]goopenai.ChatCompletionMessage, 0, len(msgs)+1)
	if c.cfg.SystemPrompt != "" {
		out = append(out, goopenai.ChatCompletionMessage{Role: goopenai.ChatMessageRoleSystem, Content: c.cfg.SystemPrompt})
	}
	for _, m := range msgs {
		out = append(out, goopenai.ChatCompletionMessage{Role: m.Role, Content: m.Content})
	}
	return out
}

// fail turns a transport or API error into a client-safe *rlhf.Error. The
// cause, which may name the endpoint, is kept for the log only.
func (c *Client) fail(ctx context.Context, err, errIdle error) error {
	if cause := context.Cause(ctx); errors.Is(cause, errIdle) {
		return &rlhf.Error{Code: rlhf.ETimeout,
			Message: fmt.Sprintf("the model sent nothing for %s", c.cfg.IdleTimeout), Err: err}
	}
	if ctx.Err() != nil {
		return &rlhf.Error{Code: rlhf.EUpstream, Message: "the request was cancelled", Err: context.Cause(ctx)}
	}
	var apiErr *goopenai.APIError
	var reqErr *goopenai.RequestError
	switch {
	case errors.As(err, &apiErr):
		msg := "the model endpoint returned an error"
		if apiErr.HTTPStatusCode == http.StatusTooManyRequests {
			msg = "the model endpoint is rate limited"
		}
		return &rlhf.Error{Code: rlhf.EUpstream, Message: msg,
			Err: fmt.Errorf("status %d, type %v, code %v: %s", apiErr.HTTPStatusCode, apiErr.Type, apiErr.Code, truncate(apiErr.Message))}
	case errors.As(err, &reqErr):
		return &rlhf.Error{Code: rlhf.EUpstream, Message: "the model endpoint returned an error",
			Err: fmt.Errorf("status %d: %w", reqErr.HTTPStatusCode, reqErr.Err)}
	}
	return &rlhf.Error{Code: rlhf.EUpstream, Message: "the model endpoint could not be reached", Err: err}
}

// truncate shortens upstream text before it goes to the log.
func truncate(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}
