package formats

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/agora-rlhf/agora/rlhf"
)

type hhIn struct {
	Chosen   *string `json:"chosen"`
	Rejected *string `json:"rejected"`
}

func (rd *reader) hhLine(line int, text []byte) error {
	bad := func(err error) error { return &LineError{Line: line, Err: err} }
	var in hhIn
	if err := json.Unmarshal(text, &in); err != nil {
		return bad(jsonError(err))
	}
	if in.Chosen == nil {
		return bad(errors.New("missing chosen"))
	}
	if in.Rejected == nil {
		return bad(errors.New("missing rejected"))
	}
	chosen, err := parseTranscript(*in.Chosen)
	if err != nil {
		return bad(fmt.Errorf("chosen: %w", err))
	}
	rejected, err := parseTranscript(*in.Rejected)
	if err != nil {
		return bad(fmt.Errorf("rejected: %w", err))
	}
	if len(chosen) != len(rejected) {
		return bad(fmt.Errorf("chosen has %d messages, rejected %d", len(chosen), len(rejected)))
	}
	// Every message but the last answer is the shared prompt in HH-RLHF;
	// pairRecord checks the user turns and keeps earlier answers per side.
	rec, err := rd.pairRecord(line, text, nil, chosen, rejected)
	if err != nil {
		return bad(err)
	}
	return rd.record(line, rec)
}

// parseTranscript splits "\n\nHuman: …\n\nAssistant: …" into messages.
func parseTranscript(s string) ([]rlhf.Message, error) {
	const human, assistant = "\n\nHuman:", "\n\nAssistant:"
	if !strings.HasPrefix(s, human) {
		return nil, errors.New(`transcript does not start with "\n\nHuman:"`)
	}
	var msgs []rlhf.Message
	for len(s) > 0 {
		role := "user"
		if strings.HasPrefix(s, human) {
			s = s[len(human):]
		} else {
			role = "assistant"
			s = s[len(assistant):]
		}
		end := len(s)
		if i := strings.Index(s, human); i >= 0 {
			end = i
		}
		if i := strings.Index(s[:end], assistant); i >= 0 {
			end = i
		}
		msgs = append(msgs, rlhf.Message{Role: role, Content: strings.TrimPrefix(s[:end], " ")})
		s = s[end:]
	}
	return msgs, nil
}
