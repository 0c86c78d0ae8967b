package formats

// OpenAI preference fine-tuning rows (also read by Together and Fireworks):
// {"input":{"messages","tools","parallel_tool_calls"},"preferred_output",
// "non_preferred_output"}. Each output is one assistant message, so only
// battles whose sides first differ in their last answer fit.

type openAIWriter struct{ jsonl }

func (w *openAIWriter) WriteRow(r *Row) error {
	b := append(w.buf[:0], `{"input":{"messages":`...)
	b = appendMessages(b, r.Prompt)
	b = append(b, `,"tools":[],"parallel_tool_calls":true},"preferred_output":`...)
	b = appendMessages(b, r.Chosen)
	b = append(b, `,"non_preferred_output":`...)
	b = appendMessages(b, r.Rejected)
	w.buf = append(b, '}')
	return w.line()
}
