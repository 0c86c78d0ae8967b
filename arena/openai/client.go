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

// Client streams chat completions from one endpoint model.
type Client struct {
	m      rlhf.EndpointModel
	key    string // the API key, kept only to redact it from upstream errors
	client *goopenai.Client
}

// New returns a client for model m, which sends apiKey (empty for none)
// and connects only where guard allows, never through a proxy (nil: any
// address, through the environment's proxy). m's zero fields take their
// defaults.
func New(m rlhf.EndpointModel, apiKey string, guard *Guard) *Client {
	m = m.Clone()
	m.SetDefaults()
	oc := goopenai.DefaultConfig(apiKey)
	oc.BaseURL = strings.TrimSuffix(m.BaseURL, "/")
	dialer := &net.Dialer{Timeout: m.ConnectTimeout.D(), KeepAlive: 30 * time.Second}
	proxy, dial := http.ProxyFromEnvironment, dialer.DialContext
	if guard != nil {
		proxy, dial = nil, guard.DialContext(dialer)
	}
	transport := &http.Transport{
		Proxy:               proxy,
		DialContext:         dial,
		TLSHandshakeTimeout: m.ConnectTimeout.D(),
		MaxIdleConnsPerHost: 64,
		IdleConnTimeout:     90 * time.Second,
	}
	oc.HTTPClient = bodyFields{fields: requestFields(&m), client: &http.Client{
		Transport: transport,
		// A model endpoint has no business redirecting: refuse, so that
		// a redirect cannot point the server somewhere else.
		CheckRedirect: func(*http.Request, []*http.Request) error { return errors.New("redirects are refused") },
	}}
	return &Client{m: m, key: apiKey, client: goopenai.NewClientWithConfig(oc)}
}

// Stream sends msgs and calls onText with each piece of the answer as it
// arrives. It returns when the answer is complete, the context ends, or the
// endpoint fails, with the finish reason ("stop", "length", ...) and the
// number of completion tokens (see StreamUsage). Errors are *rlhf.Error
// values whose messages are safe to show a contributor: they never name
// the model or the endpoint.
func (c *Client) Stream(ctx context.Context, msgs []rlhf.Message, onText func(string)) (finishReason string, tokens int, err error) {
	finishReason, _, tokens, err = c.StreamUsage(ctx, msgs, onText)
	return finishReason, tokens, err
}

// StreamUsage is Stream that also returns the prompt tokens the endpoint
// counted (0 when it sent no usage). The completion tokens are the
// endpoint's count when it sent usage, else the chunks of text received,
// also when the call failed or was cancelled after text streamed: the
// endpoint bills them.
func (c *Client) StreamUsage(ctx context.Context, msgs []rlhf.Message, onText func(string)) (finishReason string, tokensIn, tokensOut int, err error) {
	res, err := c.stream(ctx, msgs, onText)
	return res.finishReason, res.usage.PromptTokens, res.tokensOut(), err
}

type result struct {
	finishReason string
	usage        goopenai.Usage // the endpoint's count; zero if it sent none
	chunks       int            // chunks that carried text
}

// tokensOut is the endpoint's count of completion tokens, or the chunks
// of text received when it sent none.
func (r *result) tokensOut() int { return max(r.usage.CompletionTokens, r.chunks) }

func (c *Client) stream(ctx context.Context, msgs []rlhf.Message, onText func(string)) (result, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	w := watch(cancel, c.m.FirstTokenTimeout.D(), c.m.IdleTimeout.D())
	defer w.stop()

	req := goopenai.ChatCompletionRequest{
		Model:         c.m.ModelID,
		Messages:      c.messages(msgs),
		Stream:        true,
		StreamOptions: &goopenai.StreamOptions{IncludeUsage: true},
		// temperature and max_tokens are set by bodyFields.
	}
	stream, err := c.client.CreateChatCompletionStream(ctx, req)
	if err != nil {
		return result{}, c.fail(ctx, err)
	}
	defer stream.Close()

	var res result
	size := 0
	for {
		var resp chunk
		line, err := stream.RecvRaw() // go-openai's SSE framing and in-stream errors
		if err == nil {
			err = decodeChunk(line, &resp)
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return res, c.fail(ctx, err)
		}
		if resp.Usage != nil {
			res.usage = *resp.Usage
		}
		w.chunk(generated(&resp))
		for _, ch := range resp.Choices {
			if ch.Index != 0 {
				continue
			}
			if text := ch.Delta.Content; text != "" {
				if size+len(text) > c.m.MaxAnswerBytes {
					if text = cut(text, c.m.MaxAnswerBytes-size); text != "" {
						onText(text)
					}
					res.finishReason = "length"
					res.chunks++
					return res, nil
				}
				size += len(text)
				res.chunks++
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
	return res, nil
}

// chunk is what Stream reads of a streamed chunk. Decoding only these
// fields costs a third of decoding go-openai's whole response type, which
// is most of what relaying a token costs Agora.
type chunk struct {
	Choices []chunkChoice   `json:"choices"`
	Usage   *goopenai.Usage `json:"usage"`
}

type chunkChoice struct {
	Index int `json:"index"`
	Delta struct {
		Content          string `json:"content"`
		ReasoningContent string `json:"reasoning_content"`
	} `json:"delta"`
	FinishReason string `json:"finish_reason"`
}

// generated reports whether resp carries generated text: an answer's, or
// a reasoning model's thoughts.
func generated(resp *chunk) bool {
	for _, ch := range resp.Choices {
		if ch.Index == 0 && (ch.Delta.Content != "" || ch.Delta.ReasoningContent != "") {
			return true
		}
	}
	return false
}

// cut returns the first n bytes of text or fewer, never cutting a
// character in half.
func cut(text string, n int) string {
	text = text[:n]
	for !utf8.ValidString(text) {
		text = text[:len(text)-1]
	}
	return text
}

func (c *Client) messages(msgs []rlhf.Message) []goopenai.ChatCompletionMessage {
	out := make([]goopenai.ChatCompletionMessage, 0, len(msgs)+1)
	if c.m.SystemPrompt != "" {
		out = append(out, goopenai.ChatCompletionMessage{Role: goopenai.ChatMessageRoleSystem, Content: c.m.SystemPrompt})
	}
	for _, m := range msgs {
		out = append(out, goopenai.ChatCompletionMessage{Role: m.Role, Content: m.Content})
	}
	return out
}

// fail turns a transport or API error into a client-safe *rlhf.Error. The
// cause, which may name the endpoint, is kept for the log only.
func (c *Client) fail(ctx context.Context, err error) error {
	var stall *stalled
	if errors.As(context.Cause(ctx), &stall) {
		return &rlhf.Error{Code: rlhf.ETimeout, Message: stall.msg, Err: err}
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
			Err: fmt.Errorf("status %d, type %v, code %v: %s", apiErr.HTTPStatusCode, apiErr.Type, apiErr.Code, c.clean(apiErr.Message))}
	case errors.As(err, &reqErr):
		return &rlhf.Error{Code: rlhf.EUpstream, Message: "the model endpoint returned an error",
			Err: fmt.Errorf("status %d: %w", reqErr.HTTPStatusCode, reqErr.Err)}
	}
	return &rlhf.Error{Code: rlhf.EUpstream, Message: "the model endpoint could not be reached", Err: err}
}

// clean makes upstream text fit for the log: the API key is redacted
// first, then the text is shortened. In the other order a key cut in two
// by the shortening would no longer match, and its first part would stay.
func (c *Client) clean(s string) string {
	if c.key != "" {
		s = strings.ReplaceAll(s, c.key, "[redacted]")
	}
	return truncate(s)
}

// truncate shortens upstream text before it goes to the log.
func truncate(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}
