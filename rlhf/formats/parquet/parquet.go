// Package parquet writes Agora's exports as Parquet files: the TRL
// conversational shape and the Chatbot Arena battle shape. It is the only
// package that imports parquet-go.
//
// Rows are written through the same formats.Run pipeline as the JSON
// formats, so the choices (filters, duplicates, pseudonyms) are identical.
// Memory is bounded by one row group (RowGroupRows rows) plus one batch.
package parquet

import (
	"context"
	"io"

	pq "github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress/snappy"

	"github.com/agora-rlhf/agora/rlhf"
	"github.com/agora-rlhf/agora/rlhf/formats"
)

// RowGroupRows is how many rows one row group holds. parquet-go keeps a row
// group in memory until it is full, so this bounds the writer's memory:
// about 8 MiB for rows of 2 KB.
const RowGroupRows = 4096

// batchRows is how many rows are handed to parquet-go at once.
const batchRows = 256

// Supports reports whether format f has a Parquet shape.
func Supports(f formats.Format) bool {
	switch f {
	case formats.TRLConversational, formats.ArenaJSON, formats.ArenaJSONL:
		return true
	}
	return false
}

// NewWriter returns a RowWriter that writes format f as Parquet to w.
// arena-json and arena-jsonl give the same Parquet file. A TRL file has a
// margin column (a required double) only when opts.Margin is set.
func NewWriter(f formats.Format, w io.Writer, opts formats.Options) (formats.RowWriter, error) {
	wopts := []pq.WriterOption{
		pq.Compression(&snappy.Codec{}),
		pq.MaxRowsPerRowGroup(RowGroupRows),
		pq.CreatedBy("agora", "", ""),
	}
	switch f {
	case formats.TRLConversational:
		if opts.Margin {
			return &writer[trlMarginRow]{w: pq.NewGenericWriter[trlMarginRow](w, wopts...), conv: trlMarginRowOf}, nil
		}
		return &writer[trlRow]{w: pq.NewGenericWriter[trlRow](w, wopts...), conv: trlRowOf}, nil
	case formats.ArenaJSON, formats.ArenaJSONL:
		return &writer[arenaRow]{w: pq.NewGenericWriter[arenaRow](w, wopts...), conv: arenaRowOf}, nil
	}
	return nil, rlhf.Errorf(rlhf.EInvalid, "format %s has no Parquet shape (Parquet is offered for %s and %s)",
		f, formats.TRLConversational, "arena-json/arena-jsonl")
}

// Export writes the records of src that opts selects to w as a Parquet
// file of the named format.
func Export(ctx context.Context, w io.Writer, format string, opts formats.Options, src rlhf.RecordSource) (formats.Stats, error) {
	f, err := formats.ParseFormat(format)
	if err != nil {
		return formats.Stats{Format: formats.Format(format)}, err
	}
	rw, err := NewWriter(f, w, opts)
	if err != nil {
		return formats.Stats{Format: f}, err
	}
	return formats.Run(ctx, rw, f, opts, src)
}

// writer batches converted rows into a parquet-go writer.
type writer[T any] struct {
	w     *pq.GenericWriter[T]
	conv  func(*formats.Row) T
	batch []T
}

func (w *writer[T]) WriteRow(r *formats.Row) error {
	w.batch = append(w.batch, w.conv(r))
	if len(w.batch) < batchRows {
		return nil
	}
	return w.flush()
}

func (w *writer[T]) flush() error {
	_, err := w.w.Write(w.batch)
	clear(w.batch) // drop references to the rows' text
	w.batch = w.batch[:0]
	return err
}

func (w *writer[T]) Close() error {
	if err := w.flush(); err != nil {
		return err
	}
	return w.w.Close()
}

// message is one chat message.
type message struct {
	Role    string `parquet:"role"`
	Content string `parquet:"content"`
}

func messagesOf(msgs []rlhf.Message) []message {
	out := make([]message, len(msgs))
	for i, m := range msgs {
		out[i] = message{Role: m.Role, Content: m.Content}
	}
	return out
}

// trlRow is a TRL conversational preference row.
type trlRow struct {
	Prompt   []message `parquet:"prompt,list"`
	Chosen   []message `parquet:"chosen,list"`
	Rejected []message `parquet:"rejected,list"`
}

func trlRowOf(r *formats.Row) trlRow {
	return trlRow{Prompt: messagesOf(r.Prompt), Chosen: messagesOf(r.Chosen), Rejected: messagesOf(r.Rejected)}
}

// trlMarginRow is a TRL row with its margin, never null: TRL's collator
// builds a tensor of margins (0 for a vote without a strength).
type trlMarginRow struct {
	Prompt   []message `parquet:"prompt,list"`
	Chosen   []message `parquet:"chosen,list"`
	Rejected []message `parquet:"rejected,list"`
	Margin   float64   `parquet:"margin"`
}

func trlMarginRowOf(r *formats.Row) trlMarginRow {
	return trlMarginRow{Prompt: messagesOf(r.Prompt), Chosen: messagesOf(r.Chosen), Rejected: messagesOf(r.Rejected), Margin: r.Margin}
}

// arenaMessage is a message of an Arena conversation; num_tokens is set on
// answers and null on prompts.
type arenaMessage struct {
	Role      string `parquet:"role"`
	Content   string `parquet:"content"`
	NumTokens *int64 `parquet:"num_tokens,optional"`
}

type headerCount struct {
	H1 int64 `parquet:"h1"`
	H2 int64 `parquet:"h2"`
	H3 int64 `parquet:"h3"`
	H4 int64 `parquet:"h4"`
	H5 int64 `parquet:"h5"`
	H6 int64 `parquet:"h6"`
}

type listCount struct {
	Ordered   int64 `parquet:"ordered"`
	Unordered int64 `parquet:"unordered"`
}

type boldCount struct {
	Stars int64 `parquet:"**"`
	Under int64 `parquet:"__"`
}

// convMetadata is Arena's per-side style counts.
type convMetadata struct {
	SumAssistantATokens int64       `parquet:"sum_assistant_a_tokens"`
	HeaderCountA        headerCount `parquet:"header_count_a"`
	ListCountA          listCount   `parquet:"list_count_a"`
	BoldCountA          boldCount   `parquet:"bold_count_a"`
	SumAssistantBTokens int64       `parquet:"sum_assistant_b_tokens"`
	HeaderCountB        headerCount `parquet:"header_count_b"`
	ListCountB          listCount   `parquet:"list_count_b"`
	BoldCountB          boldCount   `parquet:"bold_count_b"`
	Turns               int64       `parquet:"turns"`
}

// arenaRow is a Chatbot Arena battle, with the JSON formats' fields and
// types: tstamp is seconds since 1970 as a double, as in LMArena's
// releases; language is always set ("unknown" when not known);
// language_confidence is null unless the language was detected; judge is
// null when contributors are left out; battles imported without text have
// empty conversations and null conv_metadata.
type arenaRow struct {
	QuestionID         string         `parquet:"question_id"`
	ModelA             string         `parquet:"model_a"`
	ModelB             string         `parquet:"model_b"`
	Winner             string         `parquet:"winner"`
	Judge              *string        `parquet:"judge,optional"`
	Turn               int64          `parquet:"turn"`
	Anony              bool           `parquet:"anony"`
	Gold               string         `parquet:"gold"`        // the gold battle's kind, "" for others
	Quarantined        bool           `parquet:"quarantined"` // the contributor is in quarantine
	Language           string         `parquet:"language"`
	LanguageConfidence *float64       `parquet:"language_confidence,optional"`
	Tstamp             float64        `parquet:"tstamp"`
	IsCode             bool           `parquet:"is_code"`
	ConversationA      []arenaMessage `parquet:"conversation_a,list"`
	ConversationB      []arenaMessage `parquet:"conversation_b,list"`
	ConvMetadata       *convMetadata  `parquet:"conv_metadata,optional"`
}

func arenaRowOf(r *formats.Row) arenaRow {
	b, v := &r.Record.Battle, &r.Record.Vote
	row := arenaRow{
		QuestionID: b.ID, ModelA: b.ModelA, ModelB: b.ModelB, Winner: v.Winner.ArenaWinner(),
		Turn: int64(len(b.Turns)), Anony: b.Anonymous(), Gold: b.Gold, Quarantined: r.Record.Quarantined, Language: formats.ArenaLanguage(r),
		Tstamp: float64(v.CreatedAt.UnixMicro()) / 1e6, IsCode: formats.IsCode(b),
		ConversationA: []arenaMessage{}, ConversationB: []arenaMessage{},
	}
	if r.LanguageDetected {
		c := r.LanguageConfidence
		row.LanguageConfidence = &c
	}
	if r.Judge != "" {
		j := r.Judge
		row.Judge = &j
	}
	if !formats.HasText(b) {
		return row
	}
	meta := &convMetadata{Turns: int64(len(b.Turns))}
	for _, s := range []rlhf.Side{rlhf.SideA, rlhf.SideB} {
		conv := make([]arenaMessage, 0, 2*len(b.Turns))
		for i := range b.Turns {
			a := b.Turns[i].Answer(s)
			n := int64(a.Tokens)
			conv = append(conv, arenaMessage{Role: "user", Content: b.Turns[i].Prompt}, arenaMessage{Role: "assistant", Content: a.Content, NumTokens: &n})
		}
		n, c := formats.SideStyle(b, s)
		tokens := int64(n)
		h := headerCount{int64(c.Headers[0]), int64(c.Headers[1]), int64(c.Headers[2]), int64(c.Headers[3]), int64(c.Headers[4]), int64(c.Headers[5])}
		l := listCount{int64(c.Ordered), int64(c.Unordered)}
		bc := boldCount{int64(c.BoldStars), int64(c.BoldUnder)}
		if s == rlhf.SideA {
			row.ConversationA = conv
			meta.SumAssistantATokens, meta.HeaderCountA, meta.ListCountA, meta.BoldCountA = tokens, h, l, bc
		} else {
			row.ConversationB = conv
			meta.SumAssistantBTokens, meta.HeaderCountB, meta.ListCountB, meta.BoldCountB = tokens, h, l, bc
		}
	}
	row.ConvMetadata = meta
	return row
}
