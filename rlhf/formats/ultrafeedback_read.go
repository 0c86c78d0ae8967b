package formats

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/agora-rlhf/agora/rlhf"
)

// ufIn is one row of HuggingFaceH4/ultrafeedback_binarized as shipped:
// chosen and rejected are whole conversations (the user's prompt, then the
// answer), prompt repeats the first user message, and the scores are
// UltraFeedback's ratings of the two answers. messages (a copy of chosen)
// and prompt_id are not kept.
type ufIn struct {
	Prompt        *string        `json:"prompt"`
	Chosen        []rlhf.Message `json:"chosen"`
	Rejected      []rlhf.Message `json:"rejected"`
	ScoreChosen   *float64       `json:"score_chosen"`
	ScoreRejected *float64       `json:"score_rejected"`
}

// ultraFeedbackLine reads one row. The chosen conversation wins, unless
// the two scores are equal (the binarized set keeps such rows): then the
// vote is a tie. A system message at the start of both conversations is
// dropped, as battles hold none.
func (rd *reader) ultraFeedbackLine(line int, text []byte) error {
	bad := func(err error) error { return &LineError{Line: line, Err: err} }
	var in ufIn
	if err := json.Unmarshal(text, &in); err != nil {
		return bad(jsonError(err))
	}
	switch {
	case in.Chosen == nil:
		return bad(errors.New("missing chosen"))
	case in.Rejected == nil:
		return bad(errors.New("missing rejected"))
	case in.ScoreChosen == nil || in.ScoreRejected == nil:
		return bad(errors.New("missing score_chosen or score_rejected"))
	case *in.ScoreChosen < *in.ScoreRejected:
		return bad(fmt.Errorf("score_chosen %g is below score_rejected %g", *in.ScoreChosen, *in.ScoreRejected))
	}
	chosen, rejected := dropSystem(in.Chosen), dropSystem(in.Rejected)
	if in.Prompt != nil && len(chosen) > 0 && chosen[0].Content != *in.Prompt {
		return bad(errors.New("prompt is not the first user message of chosen"))
	}
	rec, err := rd.pairRecord(line, text, nil, chosen, rejected)
	if err != nil {
		return bad(err)
	}
	if *in.ScoreChosen == *in.ScoreRejected {
		rec.Vote.Winner = rlhf.WinnerTie
	}
	return rd.record(line, rec)
}

// dropSystem returns msgs without a leading system message.
func dropSystem(msgs []rlhf.Message) []rlhf.Message {
	if len(msgs) > 0 && msgs[0].Role == "system" {
		return msgs[1:]
	}
	return msgs
}
