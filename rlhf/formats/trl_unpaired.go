package formats

// TRL unpaired (KTO) rows: {"prompt","completion","label"} as strings. A
// decisive vote gives two rows (the winner true, the loser false); with
// TiesUnpaired a tie gives two true rows and both-bad two false rows.

type trlUnpairedWriter struct{ jsonl }

func (w *trlUnpairedWriter) WriteRow(r *Row) error {
	b := append(w.buf[:0], `{"prompt":`...)
	b = appendString(b, r.Prompt[0].Content)
	b = append(b, `,"completion":`...)
	b = appendString(b, r.Completion[0].Content)
	b = append(b, `,"label":`...)
	b = appendBool(b, r.Label)
	w.buf = append(b, '}')
	return w.line()
}
