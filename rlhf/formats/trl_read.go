package formats

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"

	"github.com/agora-rlhf/agora/rlhf"
)

// trlIn is one TRL preference row as read: prompt, chosen and rejected are
// strings (standard) or lists of messages (conversational); without a
// prompt, chosen and rejected are whole conversations (implicit prompt).
type trlIn struct {
	Prompt     json.RawMessage `json:"prompt"`
	Chosen     json.RawMessage `json:"chosen"`
	Rejected   json.RawMessage `json:"rejected"`
	Completion json.RawMessage `json:"completion"`
	Margin     *float64        `json:"margin"`
}

func (rd *reader) trlLine(line int, text []byte) error {
	bad := func(err error) error { return &LineError{Line: line, Err: err} }
	var in trlIn
	if err := json.Unmarshal(text, &in); err != nil {
		return bad(jsonError(err))
	}
	switch {
	case in.Completion != nil:
		return bad(errors.New("unpaired (KTO) rows cannot be imported: a battle needs two answers"))
	case in.Chosen == nil:
		return bad(errors.New("missing chosen"))
	case in.Rejected == nil:
		return bad(errors.New("missing rejected"))
	}
	var prompt, chosen, rejected []rlhf.Message
	conversational := isJSONArray(in.Chosen)
	if conversational != isJSONArray(in.Rejected) || (in.Prompt != nil && conversational != isJSONArray(in.Prompt)) {
		return bad(errors.New("prompt, chosen and rejected must all be strings or all be lists of messages"))
	}
	if conversational {
		for _, f := range []struct {
			name string
			raw  json.RawMessage
			dst  *[]rlhf.Message
		}{{"prompt", in.Prompt, &prompt}, {"chosen", in.Chosen, &chosen}, {"rejected", in.Rejected, &rejected}} {
			if f.raw == nil {
				continue
			}
			if err := json.Unmarshal(f.raw, f.dst); err != nil {
				return bad(fmt.Errorf("%s: %v", f.name, jsonError(err)))
			}
		}
	} else {
		var p, c, r string
		if in.Prompt == nil {
			return bad(errors.New("a row of strings needs a prompt (implicit prompts need lists of messages)"))
		}
		for _, f := range []struct {
			name string
			raw  json.RawMessage
			dst  *string
		}{{"prompt", in.Prompt, &p}, {"chosen", in.Chosen, &c}, {"rejected", in.Rejected, &r}} {
			if err := json.Unmarshal(f.raw, f.dst); err != nil {
				return bad(fmt.Errorf("%s: %v", f.name, jsonError(err)))
			}
		}
		prompt = []rlhf.Message{{Role: "user", Content: p}}
		chosen = []rlhf.Message{{Role: "assistant", Content: c}}
		rejected = []rlhf.Message{{Role: "assistant", Content: r}}
	}
	rec, err := rd.pairRecord(line, text, prompt, chosen, rejected)
	if err != nil {
		return bad(err)
	}
	if in.Margin != nil {
		rec.Vote.Strength = strengthOfMargin(*in.Margin)
	}
	return rd.record(line, rec)
}

func isJSONArray(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) > 0 && raw[0] == '['
}

// strengthOfMargin maps TRL's "margin small" values back to Llama 2's
// levels; other margins give no strength.
func strengthOfMargin(m float64) rlhf.Strength {
	for _, s := range []rlhf.Strength{rlhf.StrengthSignificant, rlhf.StrengthClear, rlhf.StrengthSlight, rlhf.StrengthNegligible} {
		if v, _ := s.Margin(); math.Abs(v-m) < 1e-9 {
			return s
		}
	}
	return ""
}

// pairRecord builds a record from a shared prompt and the two
// continuations. The chosen answer goes on side A or B by the parity of the
// record id's hash, so that imported data has no side bias.
func (rd *reader) pairRecord(line int, text []byte, prompt, chosen, rejected []rlhf.Message) (*rlhf.Record, error) {
	full := func(cont []rlhf.Message) []rlhf.Message {
		return append(append(make([]rlhf.Message, 0, len(prompt)+len(cont)), prompt...), cont...)
	}
	convC, convR := full(chosen), full(rejected)
	if err := checkConversation("chosen", convC); err != nil {
		return nil, err
	}
	if err := checkConversation("rejected", convR); err != nil {
		return nil, err
	}
	if len(convC) != len(convR) {
		return nil, fmt.Errorf("chosen has %d turns, rejected %d", len(convC)/2, len(convR)/2)
	}
	if len(convC)/2 > maxImportTurns {
		return nil, fmt.Errorf("%d turns is over the limit of %d", len(convC)/2, maxImportTurns)
	}
	id := recordID(rd.opts.Source, line, text)
	chosenSide := rlhf.SideA
	if id[len(id)-1]%2 == 1 {
		chosenSide = rlhf.SideB
	}
	modelA, modelB, w := rd.opts.ChosenModel, rd.opts.RejectedModel, rlhf.WinnerA
	convA, convB := convC, convR
	if chosenSide == rlhf.SideB {
		modelA, modelB, w = modelB, modelA, rlhf.WinnerB
		convA, convB = convR, convC
	}
	at := rd.now()
	rec := rd.newRecord(id, modelA, modelB, w, at, "")
	for i := 0; i < len(convA); i += 2 {
		if convA[i].Content != convB[i].Content {
			return nil, fmt.Errorf("turn %d: chosen and rejected have different user messages", i/2+1)
		}
		rec.Battle.Turns = append(rec.Battle.Turns, rlhf.Turn{
			Index: i / 2, Prompt: convA[i].Content, At: at,
			A: rlhf.Answer{Content: convA[i+1].Content},
			B: rlhf.Answer{Content: convB[i+1].Content},
		})
	}
	return rec, nil
}

// checkConversation checks that msgs alternate user and assistant
// messages, starting with the user and ending with the assistant.
func checkConversation(name string, msgs []rlhf.Message) error {
	if len(msgs) == 0 {
		return fmt.Errorf("%s is empty", name)
	}
	for i, m := range msgs {
		want := "user"
		if i%2 == 1 {
			want = "assistant"
		}
		if m.Role != want {
			if m.Role == "system" {
				return fmt.Errorf("%s: message %d is a system message, which battles cannot hold", name, i+1)
			}
			return fmt.Errorf("%s: message %d has role %q, want %q", name, i+1, m.Role, want)
		}
	}
	if len(msgs)%2 != 0 {
		return fmt.Errorf("%s ends with a user message, want an assistant answer", name)
	}
	return nil
}
