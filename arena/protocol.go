// Package arena runs live battles: it pairs two anonymous models, streams
// both answers to the contributor, continues the conversation for more
// turns, and commits the contributor's vote before revealing the models.
//
// The wire protocol (docs/protocol.md) is defined here as Go types; the web
// package only moves these frames over a websocket.
package arena

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/agora-rlhf/agora/rlhf"
)

// ProtocolVersion is the version of the websocket protocol.
const ProtocolVersion = 1

// Frame is one message from the server to a client. Type says which fields
// are set; see docs/protocol.md. Before a battle's vote, no frame names a
// model, a provider or an endpoint.
type Frame struct {
	Type          string        `json:"type"`
	BattleID      string        `json:"battle_id,omitempty"`
	Side          rlhf.Side     `json:"side,omitempty"`
	Turn          *int          `json:"turn,omitempty"`
	Prompt        string        `json:"prompt,omitempty"`   // battle: its first prompt (it may come from a campaign)
	Campaign      string        `json:"campaign,omitempty"` // battle: the campaign the prompt came from
	Text          string        `json:"text,omitempty"`
	FinishReason  string        `json:"finish_reason,omitempty"`
	Code          string        `json:"code,omitempty"`
	Message       string        `json:"message,omitempty"`
	Request       string        `json:"request,omitempty"` // the type of the client message an error answers
	VoteID        string        `json:"vote_id,omitempty"`
	Winner        rlhf.Winner   `json:"winner,omitempty"`
	Strength      rlhf.Strength `json:"strength,omitempty"`
	ModelA        string        `json:"model_a,omitempty"`
	ModelB        string        `json:"model_b,omitempty"`
	ContributorID string        `json:"contributor_id,omitempty"`
	Token         string        `json:"token,omitempty"`
	Protocol      int           `json:"protocol,omitempty"`
	MaxTurns      int           `json:"max_turns,omitempty"`
	Terms         *TermsInfo    `json:"terms,omitempty"`          // hello: the operator's terms, when the contributor has yet to accept them
	Receipt       *rlhf.Receipt `json:"receipt,omitempty"`        // voted: the verifiable log's receipt
	Points        *int          `json:"points,omitempty"`         // voted: the points the vote earned (0 while quarantined)
	RetryAfterMS  int64         `json:"retry_after_ms,omitempty"` // error rate_limited: when to try again
	// Member (hello) is the signed-in account, and AccountRequired says
	// that battles need one (contributors.require_account).
	Member          string `json:"member,omitempty"`
	AccountRequired bool   `json:"account_required,omitempty"`
	// Answers (voted only) are each answer's measures. They are sent only
	// with the reveal: before the vote, token counts and timings would tell
	// the models apart.
	Answers []AnswerStats `json:"answers,omitempty"`
}

// AnswerStats is what was measured while one side's answer to one turn
// streamed.
type AnswerStats struct {
	Turn           int       `json:"turn"`
	Side           rlhf.Side `json:"side"`
	Tokens         int       `json:"tokens"`
	TTFTMillis     float64   `json:"ttft_ms"`
	DurationMillis float64   `json:"duration_ms"`
}

// answerStats returns the measures of every answer of b, turn by turn,
// side A first.
func answerStats(b *rlhf.Battle) []AnswerStats {
	out := make([]AnswerStats, 0, 2*len(b.Turns))
	for i := range b.Turns {
		for _, s := range []rlhf.Side{rlhf.SideA, rlhf.SideB} {
			a := b.Turns[i].Answer(s)
			out = append(out, AnswerStats{Turn: i, Side: s, Tokens: a.Tokens,
				TTFTMillis: millis(a.TTFT), DurationMillis: millis(a.Duration)})
		}
	}
	return out
}

// Server frame types.
const (
	FrameHello  = "hello"  // first frame on a connection: the contributor's identity
	FrameBattle = "battle" // a battle started; tokens follow
	FrameTurn   = "turn"   // a follow-up turn started
	FrameToken  = "token"  // a piece of one side's answer
	FrameDone   = "done"   // one side finished the turn
	FrameReady  = "ready"  // both sides finished the turn; the battle can take a vote or a message
	FrameVoted  = "voted"  // the vote is committed: the reveal
	FrameError  = "error"  // a request failed, or one side failed (battle_id and side set)
	// FrameTermsAccepted acknowledges accept_terms; message is the version.
	FrameTermsAccepted = "terms_accepted"
)

// Request is one message from a client.
type Request struct {
	Type     string        `json:"type"`
	Prompt   string        `json:"prompt,omitempty"`    // start
	Campaign string        `json:"campaign,omitempty"`  // start, instead of a prompt
	BattleID string        `json:"battle_id,omitempty"` // message, vote
	Content  string        `json:"content,omitempty"`   // message
	Winner   rlhf.Winner   `json:"winner,omitempty"`    // vote
	Strength rlhf.Strength `json:"strength,omitempty"`  // vote
	Reason   string        `json:"reason,omitempty"`    // vote
	Version  string        `json:"version,omitempty"`   // accept_terms: the version of the terms accepted
}

// Client request types.
const (
	RequestStart   = "start"
	RequestMessage = "message"
	RequestVote    = "vote"
	// RequestAcceptTerms accepts the operator's terms (docs/protocol.md):
	// needed before the first start when the server has terms.
	RequestAcceptTerms = "accept_terms"
)

// ParseRequest decodes one client frame. Unknown fields, keys in another
// case than the protocol's, duplicate keys, trailing data and unknown types
// are errors: a client that sends model_a or a weight with its vote, or
// "Winner" beside "winner", learns that the server ignores no field
// silently and never picks one of two values.
func ParseRequest(data []byte) (*Request, error) {
	if !utf8.Valid(data) {
		return nil, rlhf.Errorf(rlhf.EInvalid, "malformed message: not valid UTF-8")
	}
	if r, ok := parsePlain(data); ok {
		return knownType(&r)
	}
	return parseFull(data)
}

// parseFull is ParseRequest for any valid UTF-8 frame, with encoding/json.
func parseFull(data []byte) (*Request, error) {
	if err := checkKeys(data); err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var r Request
	if err := dec.Decode(&r); err != nil {
		return nil, rlhf.Errorf(rlhf.EInvalid, "malformed message: %s", jsonProblem(err))
	}
	if dec.More() {
		return nil, rlhf.Errorf(rlhf.EInvalid, "malformed message: data after the JSON object")
	}
	return knownType(&r)
}

// knownType returns r if its type is one of the protocol's.
func knownType(r *Request) (*Request, error) {
	switch r.Type {
	case RequestStart, RequestMessage, RequestVote, RequestAcceptTerms:
	case "":
		return nil, rlhf.Errorf(rlhf.EInvalid, `message has no "type"`)
	default:
		return nil, rlhf.Errorf(rlhf.EInvalid, "unknown message type %q (want start, message, vote or accept_terms)", r.Type)
	}
	return r, nil
}

// jsonProblem describes a decoding error without echoing large input.
func jsonProblem(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("invalid JSON at byte %d", syn.Offset)
	case errors.As(err, &typ):
		return fmt.Sprintf("field %q must be a %s", typ.Field, typ.Type)
	}
	msg := err.Error()
	if len(msg) > 120 {
		msg = msg[:120]
	}
	return msg
}

// ErrorFrame returns the error frame for err, answering a request of type
// req (may be empty). Only the client-safe message of err is used.
func ErrorFrame(req, battleID string, err error) Frame {
	return Frame{Type: FrameError, Request: req, BattleID: battleID, Code: rlhf.ErrorCode(err), Message: rlhf.ErrorMessage(err)}
}

func millis(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func intp(v int) *int { return &v }
