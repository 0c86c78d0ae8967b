package formats

// TRL conversational preference rows: "prompt" is the shared conversation
// up to the first user turn the two sides answered differently; "chosen"
// and "rejected" continue it, so multi-turn battles fit.

type trlConversationalWriter struct{ jsonl }

func (w *trlConversationalWriter) WriteRow(r *Row) error {
	b := append(w.buf[:0], `{"prompt":`...)
	b = appendMessages(b, r.Prompt)
	b = append(b, `,"chosen":`...)
	b = appendMessages(b, r.Chosen)
	b = append(b, `,"rejected":`...)
	b = appendMessages(b, r.Rejected)
	b = appendMargin(b, r)
	w.buf = append(b, '}')
	return w.line()
}
