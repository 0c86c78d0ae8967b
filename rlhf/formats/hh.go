package formats

import "github.com/agora-rlhf/agora/rlhf"

// Anthropic HH-RLHF rows: {"chosen","rejected"}, each the whole transcript
// "\n\nHuman: …\n\nAssistant: …"; the prompt is their shared prefix.

const (
	hhHuman     = "\n\nHuman: "
	hhAssistant = "\n\nAssistant: "
)

type hhWriter struct {
	jsonl
}

func (w *hhWriter) WriteRow(r *Row) error {
	b := append(w.buf[:0], `{"chosen":`...)
	b = appendTranscript(b, r.Prompt, r.Chosen)
	b = append(b, `,"rejected":`...)
	b = appendTranscript(b, r.Prompt, r.Rejected)
	w.buf = append(b, '}')
	return w.line()
}

// appendTranscript appends the messages of prompt and then of answer, in
// HH-RLHF's Human/Assistant markup, as one JSON string.
func appendTranscript(b []byte, prompt, answer []rlhf.Message) []byte {
	b = append(b, '"')
	for _, msgs := range [][]rlhf.Message{prompt, answer} {
		for _, m := range msgs {
			if m.Role == "user" {
				b = appendEscaped(b, hhHuman)
			} else {
				b = appendEscaped(b, hhAssistant)
			}
			b = appendEscaped(b, m.Content)
		}
	}
	return append(b, '"')
}
