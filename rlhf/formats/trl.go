package formats

// TRL standard preference rows: {"prompt","chosen","rejected"} as strings,
// with an optional "margin". One exchange per row; multi-turn battles go to
// trl-conversational.

type trlWriter struct{ jsonl }

func (w *trlWriter) WriteRow(r *Row) error {
	b := append(w.buf[:0], `{"prompt":`...)
	b = appendString(b, r.Prompt[0].Content)
	b = append(b, `,"chosen":`...)
	b = appendString(b, r.Chosen[0].Content)
	b = append(b, `,"rejected":`...)
	b = appendString(b, r.Rejected[0].Content)
	b = appendMargin(b, r)
	w.buf = append(b, '}')
	return w.line()
}

func appendMargin(b []byte, r *Row) []byte {
	if !r.HasMargin {
		return b
	}
	b = append(b, `,"margin":`...)
	return appendDouble(b, r.Margin)
}
