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
	text []byte // the transcript being built, reused
}

func (w *hhWriter) WriteRow(r *Row) error {
	b := append(w.buf[:0], `{"chosen":`...)
	w.text = appendTranscript(appendTranscript(w.text[:0], r.Prompt), r.Chosen)
	b = appendString(b, string(w.text))
	b = append(b, `,"rejected":`...)
	w.text = appendTranscript(appendTranscript(w.text[:0], r.Prompt), r.Rejected)
	b = appendString(b, string(w.text))
	w.buf = append(b, '}')
	return w.line()
}

// appendTranscript appends msgs in HH-RLHF's Human/Assistant markup.
func appendTranscript(b []byte, msgs []rlhf.Message) []byte {
	for _, m := range msgs {
		if m.Role == "user" {
			b = append(b, hhHuman...)
		} else {
			b = append(b, hhAssistant...)
		}
		b = append(b, m.Content...)
	}
	return b
}
