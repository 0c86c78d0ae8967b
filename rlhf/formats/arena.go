package formats

import (
	"bufio"
	"io"
	"strconv"
	"strings"

	"github.com/agora-rlhf/agora/rlhf"
)

// Chatbot Arena battle rows, the shape of FastChat's clean_battle files and
// the public arena-human-preference releases:
//
//	{"question_id","model_a","model_b","winner","judge","turn","anony",
//	 "language","language_confidence","tstamp","is_code","conversation_a",
//	 "conversation_b","conv_metadata"}
//
// Agora adds "gold" (the kind of a gold battle, whose vote measures the
// contributor and is never counted) and "quarantined": true (the
// contributor is in quarantine), each only when it applies.
// judge is the contributor's pseudonym (left out with ContributorsOmit),
// language is always there ("unknown" when neither stored nor detected),
// language_confidence only when it was detected (Agora's addition), tstamp
// is the vote time in seconds (a float, as in LMArena's releases), is_code
// says whether a prompt or answer holds a fenced code block, and
// num_tokens is given on assistant messages. Battles imported without
// conversations are written without conversation_a, conversation_b and
// conv_metadata.

type arenaWriter struct {
	w     *bufio.Writer
	buf   []byte
	array bool // a JSON array rather than JSONL
	rows  int
}

func newArenaWriter(w io.Writer, array bool) *arenaWriter {
	return &arenaWriter{w: bufio.NewWriterSize(w, 256<<10), array: array}
}

func (w *arenaWriter) WriteRow(r *Row) error {
	b := w.buf[:0]
	if w.array {
		if w.rows == 0 {
			b = append(b, "[\n"...)
		} else {
			b = append(b, ",\n"...)
		}
	}
	b = w.appendBattle(b, r)
	if !w.array {
		b = append(b, '\n')
	}
	w.buf = b
	w.rows++
	_, err := w.w.Write(b)
	return err
}

func (w *arenaWriter) Close() error {
	if w.array {
		if w.rows == 0 {
			w.w.WriteString("[]\n")
		} else {
			w.w.WriteString("\n]\n")
		}
	}
	return w.w.Flush()
}

func (w *arenaWriter) appendBattle(b []byte, r *Row) []byte {
	bt, v := &r.Record.Battle, &r.Record.Vote
	b = append(b, `{"question_id":`...)
	b = appendString(b, bt.ID)
	b = append(b, `,"model_a":`...)
	b = appendString(b, bt.ModelA)
	b = append(b, `,"model_b":`...)
	b = appendString(b, bt.ModelB)
	b = append(b, `,"winner":`...)
	b = appendString(b, v.Winner.ArenaWinner())
	if r.Judge != "" {
		b = append(b, `,"judge":`...)
		b = appendString(b, r.Judge)
	}
	b = append(b, `,"turn":`...)
	b = strconv.AppendInt(b, int64(len(bt.Turns)), 10)
	b = append(b, `,"anony":`...)
	b = strconv.AppendBool(b, bt.Anonymous())
	if bt.IsGold() {
		b = append(b, `,"gold":`...)
		b = appendString(b, bt.Gold)
	}
	if r.Record.Quarantined {
		b = append(b, `,"quarantined":true`...)
	}
	b = append(b, `,"language":`...)
	b = appendString(b, ArenaLanguage(r))
	if r.LanguageDetected {
		b = append(b, `,"language_confidence":`...)
		b = appendDouble(b, r.LanguageConfidence)
	}
	b = append(b, `,"tstamp":`...)
	b = appendUnixSeconds(b, v.CreatedAt)
	b = append(b, `,"is_code":`...)
	b = strconv.AppendBool(b, IsCode(bt))
	if HasText(bt) {
		b = append(b, `,"conversation_a":`...)
		b = appendArenaConversation(b, bt, rlhf.SideA)
		b = append(b, `,"conversation_b":`...)
		b = appendArenaConversation(b, bt, rlhf.SideB)
		b = append(b, `,"conv_metadata":{`...)
		b = w.appendSideMetadata(b, bt, rlhf.SideA, "a")
		b = append(b, ',')
		b = w.appendSideMetadata(b, bt, rlhf.SideB, "b")
		b = append(b, `,"turns":`...)
		b = strconv.AppendInt(b, int64(len(bt.Turns)), 10)
		b = append(b, '}')
	}
	return append(b, '}')
}

// ArenaLanguage returns the language an Arena row gives: the row's, or
// "unknown" as LMArena writes it.
func ArenaLanguage(r *Row) string {
	if r.Language == "" {
		return "unknown"
	}
	return r.Language
}

// IsCode reports whether a prompt or an answer of b holds a fenced code
// block (three backquotes), Agora's measure of LMArena's is_code.
func IsCode(b *rlhf.Battle) bool {
	for i := range b.Turns {
		t := &b.Turns[i]
		if strings.Contains(t.Prompt, "```") || strings.Contains(t.A.Content, "```") || strings.Contains(t.B.Content, "```") {
			return true
		}
	}
	return false
}

// HasText reports whether any prompt or answer of b has text.
func HasText(b *rlhf.Battle) bool {
	for i := range b.Turns {
		t := &b.Turns[i]
		if t.Prompt != "" || t.A.Content != "" || t.B.Content != "" {
			return true
		}
	}
	return false
}

func appendArenaConversation(b []byte, bt *rlhf.Battle, s rlhf.Side) []byte {
	b = append(b, '[')
	for i := range bt.Turns {
		t := &bt.Turns[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"role":"user","content":`...)
		b = appendString(b, t.Prompt)
		a := t.Answer(s)
		b = append(b, `},{"role":"assistant","content":`...)
		b = appendString(b, a.Content)
		b = append(b, `,"num_tokens":`...)
		b = strconv.AppendInt(b, int64(a.Tokens), 10)
		b = append(b, '}')
	}
	return append(b, ']')
}

// appendSideMetadata appends one side's conv_metadata fields:
// sum_assistant_X_tokens, header_count_X, list_count_X and bold_count_X.
func (w *arenaWriter) appendSideMetadata(b []byte, bt *rlhf.Battle, s rlhf.Side, x string) []byte {
	tokens, c := SideStyle(bt, s)
	b = append(append(append(b, `"sum_assistant_`...), x...), `_tokens":`...)
	b = strconv.AppendInt(b, int64(tokens), 10)
	b = append(append(append(b, `,"header_count_`...), x...), `":{`...)
	for i, n := range c.Headers {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '"', 'h', byte('1'+i), '"', ':')
		b = strconv.AppendInt(b, int64(n), 10)
	}
	b = append(append(append(b, `},"list_count_`...), x...), `":{"ordered":`...)
	b = strconv.AppendInt(b, int64(c.Ordered), 10)
	b = append(b, `,"unordered":`...)
	b = strconv.AppendInt(b, int64(c.Unordered), 10)
	b = append(append(append(b, `},"bold_count_`...), x...), `":{"**":`...)
	b = strconv.AppendInt(b, int64(c.BoldStars), 10)
	b = append(b, `,"__":`...)
	b = strconv.AppendInt(b, int64(c.BoldUnder), 10)
	return append(b, '}')
}
