package formats

import (
	"fmt"
	"strings"

	"github.com/agora-rlhf/agora/rlhf"
)

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

// CheckHHSharedPrefix checks HH-RLHF's rule for one row: chosen and
// rejected are identical up to and including their last "\n\nAssistant:",
// and differ after it. The common preprocessing splits both at that marker
// and takes the text before it as the prompt.
func CheckHHSharedPrefix(chosen, rejected string) error {
	const marker = "\n\nAssistant:"
	i, j := strings.LastIndex(chosen, marker), strings.LastIndex(rejected, marker)
	switch {
	case i < 0 || j < 0:
		return fmt.Errorf("hh-rlhf row without %q", marker)
	case chosen[:i] != rejected[:j]:
		return fmt.Errorf("hh-rlhf row: chosen and rejected differ before the last %q", marker)
	}
	return nil
}

// hasHHMarkup reports whether a prompt or answer of b holds HH-RLHF's turn
// markers, which would make its transcript split at the wrong place.
func hasHHMarkup(b *rlhf.Battle) bool {
	for i := range b.Turns {
		t := &b.Turns[i]
		for _, s := range []string{t.Prompt, t.A.Content, t.B.Content} {
			if strings.Contains(s, "\n\nHuman:") || strings.Contains(s, "\n\nAssistant:") {
				return true
			}
		}
	}
	return false
}
