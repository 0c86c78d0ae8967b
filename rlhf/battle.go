// Package rlhf holds Agora's domain: battles between two anonymous models,
// their turns, the contributor's vote and what it means for training data.
//
// It imports only the standard library; every other package depends on it.
package rlhf

import (
	"context"
	"fmt"
	"time"
)

// Side names one of the two anonymous panes of a battle.
type Side string

// The two sides of a battle.
const (
	SideA Side = "a"
	SideB Side = "b"
)

// Valid reports whether s is "a" or "b".
func (s Side) Valid() bool { return s == SideA || s == SideB }

// BattleStatus is where a battle is in its life.
type BattleStatus string

// Battle statuses. A battle is streaming until both sides have finished the
// last turn, ready while it waits for a vote, voted once the vote is
// committed, and abandoned when the contributor leaves without voting.
const (
	StatusStreaming BattleStatus = "streaming"
	StatusReady     BattleStatus = "ready"
	StatusVoted     BattleStatus = "voted"
	StatusAbandoned BattleStatus = "abandoned"
)

// Source says where a battle came from: collected by this server, or read
// from an existing data set by "agora import".
const (
	SourceArena = "arena"
)

// Message is one message of a chat conversation.
type Message struct {
	Role    string `json:"role"` // "system", "user" or "assistant"
	Content string `json:"content"`
}

// Answer is one side's answer to one turn, with what was measured while it
// streamed. Error is empty when the answer finished normally.
type Answer struct {
	Content      string        `json:"content"`
	FinishReason string        `json:"finish_reason,omitempty"`
	Tokens       int           `json:"tokens"`
	TTFT         time.Duration `json:"ttft"`     // time to first token
	Duration     time.Duration `json:"duration"` // request start to last token
	ErrorCode    string        `json:"error_code,omitempty"`
	Error        string        `json:"error,omitempty"` // internal detail, never sent to contributors
}

// Failed reports whether the answer ended in an error.
func (a Answer) Failed() bool { return a.ErrorCode != "" }

// Turn is one user message and both sides' answers to it.
type Turn struct {
	Index  int       `json:"index"` // 0 for the first turn
	Prompt string    `json:"prompt"`
	At     time.Time `json:"at"`
	A      Answer    `json:"a"`
	B      Answer    `json:"b"`
}

// Answer returns the answer of side s.
func (t *Turn) Answer(s Side) *Answer {
	if s == SideA {
		return &t.A
	}
	return &t.B
}

// Battle is one anonymous comparison: a contributor, two different models on
// random sides, and the turns of the conversation they had with both.
type Battle struct {
	ID            string       `json:"id"`
	ContributorID string       `json:"contributor_id"`
	ModelA        string       `json:"model_a"`
	ModelB        string       `json:"model_b"`
	Status        BattleStatus `json:"status"`
	Source        string       `json:"source"`                // SourceArena or the import's source name
	CampaignID    string       `json:"campaign_id,omitempty"` // set when the prompt came from a campaign
	Category      string       `json:"category,omitempty"`
	Language      string       `json:"language,omitempty"`
	CreatedAt     time.Time    `json:"created_at"`
	UpdatedAt     time.Time    `json:"updated_at"`
	Turns         []Turn       `json:"turns"`
	// IdentityLeak, when set, says why the battle was not anonymous (an
	// answer named its model, or the prompt asked who the model is). Its
	// vote is kept but not counted; see Record.Counted.
	IdentityLeak string `json:"identity_leak,omitempty"`
	// Gold, when set, is the kind of gold battle (GoldKinds): one side is
	// a degraded answer, and GoldWinner is the other side, the one a
	// careful contributor picks (empty when the degraded side came out
	// the same). Its vote is kept but never counted; see Record.Counted.
	Gold       string `json:"gold,omitempty"`
	GoldWinner Side   `json:"gold_winner,omitempty"`
}

// Model returns the name of the model on side s.
func (b *Battle) Model(s Side) string {
	if s == SideA {
		return b.ModelA
	}
	return b.ModelB
}

// Conversation returns the conversation that side s had: the user prompts
// interleaved with that side's answers.
func (b *Battle) Conversation(s Side) []Message {
	msgs := make([]Message, 0, 2*len(b.Turns))
	for i := range b.Turns {
		t := &b.Turns[i]
		msgs = append(msgs, Message{Role: "user", Content: t.Prompt})
		msgs = append(msgs, Message{Role: "assistant", Content: t.Answer(s).Content})
	}
	return msgs
}

// Validate checks the fields every stored battle must have.
func (b *Battle) Validate() error {
	switch {
	case b.ID == "":
		return Errorf(EInvalid, "battle: missing id")
	case b.ModelA == "" || b.ModelB == "":
		return Errorf(EInvalid, "battle %s: missing model", b.ID)
	case b.ModelA == b.ModelB:
		return Errorf(EInvalid, "battle %s: a model cannot battle itself (%q)", b.ID, b.ModelA)
	case len(b.Turns) == 0:
		return Errorf(EInvalid, "battle %s: no turns", b.ID)
	}
	for i, t := range b.Turns {
		if t.Index != i {
			return Errorf(EInvalid, "battle %s: turn %d has index %d", b.ID, i, t.Index)
		}
	}
	return nil
}

// Record is a complete comparison: a battle and its vote. Exports, imports
// and leaderboards work on records.
type Record struct {
	Battle Battle `json:"battle"`
	Vote   Vote   `json:"vote"`
	// Quarantined is set by exports when the vote's contributor is in
	// quarantine as the record is read: a state of the contributor, not of
	// the vote, and left out of leaderboards while it lasts.
	Quarantined bool `json:"quarantined,omitempty"`
}

// RecordSource yields voted records to fn, one at a time, in an order
// of its own; it stops at fn's first error and returns it. fn must not
// keep r. The store (*store.Store) is one, in vote order; leaderboards,
// matchmaking and exports read through it.
type RecordSource interface {
	Records(ctx context.Context, fn func(r *Record) error) error
}

// Validate checks that the battle and the vote are complete and belong
// together.
func (r *Record) Validate() error {
	if err := r.Battle.Validate(); err != nil {
		return err
	}
	if err := r.Vote.Validate(); err != nil {
		return err
	}
	if r.Vote.BattleID != r.Battle.ID {
		return Errorf(EInvalid, "vote %s is for battle %s, not %s", r.Vote.ID, r.Vote.BattleID, r.Battle.ID)
	}
	return nil
}

// Failed reports whether a side failed in some turn of b: an answer ended
// in an error. This is Agora's one counting rule: a battle where a side
// failed is never counted as a normal vote — not in leaderboards (live or
// from files), exports or analytics — but reported separately, as failed.
func (b *Battle) Failed() bool {
	for i := range b.Turns {
		if b.Turns[i].A.Failed() || b.Turns[i].B.Failed() {
			return true
		}
	}
	return false
}

// Failed reports whether r's battle failed (see Battle.Failed): its vote is
// never counted as a normal vote.
func (r *Record) Failed() bool { return r.Battle.Failed() }

// String returns a short description for logs. It names the battle, never
// the models.
func (b *Battle) String() string {
	return fmt.Sprintf("battle %s (%d turns, %s)", b.ID, len(b.Turns), b.Status)
}
