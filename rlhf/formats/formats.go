// Package formats writes Agora's records as the preference data sets labs
// train on — TRL, OpenAI preference fine-tuning, Anthropic HH-RLHF and
// Chatbot Arena battles — and reads existing data sets back into records.
// An Arena battle file (or a battle CSV) is read either as whole records
// (Read, for import) or as summaries without the text (ReadCounts, the
// columnar reader leaderboards use), with the same options and errors.
//
// Every writer streams: Export reads one record at a time from a
// rlhf.RecordSource and writes its rows before reading the next, so memory does
// not grow with the size of the store (apart from the duplicate filter's 16
// bytes per row, which Options.KeepDuplicates turns off).
//
// Parquet lives in the sub-package formats/parquet, which plugs its own
// RowWriter into Run.
package formats

import (
	"context"
	"io"
	"sort"
	"strings"

	"github.com/agora-rlhf/agora/rlhf"
)

// Format names an export format, as given to "agora export --format".
type Format string

// The export formats.
const (
	TRL               Format = "trl"                // {"prompt","chosen","rejected"} strings
	TRLConversational Format = "trl-conversational" // the same as lists of messages
	TRLUnpaired       Format = "trl-unpaired"       // KTO: {"prompt","completion","label"}
	OpenAIPreference  Format = "openai-preference"  // {"input","preferred_output","non_preferred_output"}
	HHRLHF            Format = "hh-rlhf"            // {"chosen","rejected"} transcripts
	ArenaJSON         Format = "arena-json"         // Chatbot Arena battles, one JSON array
	ArenaJSONL        Format = "arena-jsonl"        // Chatbot Arena battles, one per line
)

// Formats lists the export formats in the order the help text shows them.
var Formats = []Format{TRL, TRLConversational, TRLUnpaired, OpenAIPreference, HHRLHF, ArenaJSON, ArenaJSONL}

// ParseFormat returns the format named s.
func ParseFormat(s string) (Format, error) {
	for _, f := range Formats {
		if string(f) == s {
			return f, nil
		}
	}
	names := make([]string, len(Formats))
	for i, f := range Formats {
		names[i] = string(f)
	}
	return "", rlhf.Errorf(rlhf.EInvalid, "unknown export format %q (want one of %s)", s, strings.Join(names, ", "))
}

// Shape is what one row of a format stands for.
type Shape int

// The three shapes of rows.
const (
	ShapePair     Shape = iota // a chosen and a rejected answer to one prompt
	ShapeUnpaired              // one answer labelled good or bad (KTO)
	ShapeBattle                // a whole battle with its verdict
)

// Shape returns the shape of f's rows.
func (f Format) Shape() Shape {
	switch f {
	case TRLUnpaired:
		return ShapeUnpaired
	case ArenaJSON, ArenaJSONL:
		return ShapeBattle
	}
	return ShapePair
}

// singleExchange reports whether f can only hold one prompt and one answer
// per side: its prompt and answers are plain strings, or (OpenAI) the
// preferred output is a single assistant message.
func (f Format) singleExchange() bool {
	return f == TRL || f == TRLUnpaired || f == OpenAIPreference
}

// ContentType returns the MIME type of f's JSON output.
func (f Format) ContentType() string {
	if f == ArenaJSON {
		return "application/json"
	}
	return "application/jsonl"
}

// Ext returns the usual file extension of f's JSON output.
func (f Format) Ext() string {
	if f == ArenaJSON {
		return ".json"
	}
	return ".jsonl"
}

// RecordsFunc adapts a function to rlhf.RecordSource.
type RecordsFunc func(ctx context.Context, fn func(r *rlhf.Record) error) error

// Records calls f(ctx, fn).
func (f RecordsFunc) Records(ctx context.Context, fn func(r *rlhf.Record) error) error {
	return f(ctx, fn)
}

// SliceSource is an rlhf.RecordSource over records in memory, for tests and small
// conversions.
type SliceSource []rlhf.Record

// Records calls fn for each record in order.
func (s SliceSource) Records(ctx context.Context, fn func(r *rlhf.Record) error) error {
	for i := range s {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(&s[i]); err != nil {
			return err
		}
	}
	return nil
}

// Row is one output row, before it is encoded. Writers read it; they must
// not keep it or its slices after WriteRow returns.
type Row struct {
	Shape  Shape
	Record *rlhf.Record

	// Prompt is the conversation both sides share: the user turns (and any
	// identical earlier answers) up to the first user turn the sides answered
	// differently. It ends with a user message.
	Prompt []rlhf.Message
	// Chosen and Rejected continue Prompt with the preferred and the other
	// side's answers (ShapePair).
	Chosen, Rejected []rlhf.Message
	// Completion continues Prompt with one side's answers and Label says
	// whether they were good (ShapeUnpaired).
	Completion []rlhf.Message
	Label      bool

	// Margin is the Llama 2 margin of the vote's strength, 0 when the vote
	// has none; HasMargin is false when margins were not asked for.
	Margin    float64
	HasMargin bool

	// Judge is the contributor's pseudonym, or "" when contributors are left
	// out (ShapeBattle).
	Judge string

	// Language is the battle's language: as stored, or detected from its
	// prompts (LanguageDetected, with the detector's LanguageConfidence);
	// "" when unknown and no detector was given.
	Language           string
	LanguageConfidence float64
	LanguageDetected   bool
}

// LanguageDetector names the language of a text, as Chatbot Arena names
// languages ("English"), and says how sure it is, in [0, 1]. Exports use one
// to fill the language of battles that have none; formats/langdetect
// provides one.
type LanguageDetector interface {
	DetectLanguage(text string) (language string, confidence float64)
}

// RowWriter encodes rows of one format. Close finishes the output (a closing
// bracket, a Parquet footer) without closing the underlying io.Writer.
type RowWriter interface {
	WriteRow(r *Row) error
	Close() error
}

// NewWriter returns the JSON or JSONL writer of format f.
func NewWriter(f Format, w io.Writer) (RowWriter, error) {
	switch f {
	case TRL:
		return &trlWriter{jsonl: newJSONL(w)}, nil
	case TRLConversational:
		return &trlConversationalWriter{jsonl: newJSONL(w)}, nil
	case TRLUnpaired:
		return &trlUnpairedWriter{jsonl: newJSONL(w)}, nil
	case OpenAIPreference:
		return &openAIWriter{jsonl: newJSONL(w)}, nil
	case HHRLHF:
		return &hhWriter{jsonl: newJSONL(w)}, nil
	case ArenaJSON:
		return newArenaWriter(w, true), nil
	case ArenaJSONL:
		return newArenaWriter(w, false), nil
	}
	return nil, rlhf.Errorf(rlhf.EInvalid, "no JSON writer for format %q", f)
}

// Export writes the records of src that opts selects to w in the named JSON
// format, one record at a time, and returns what it wrote. It is the entry
// point for "agora export" and the HTTP export handler.
func Export(ctx context.Context, w io.Writer, format string, opts Options, src rlhf.RecordSource) (Stats, error) {
	f, err := ParseFormat(format)
	if err != nil {
		return Stats{Format: Format(format)}, err
	}
	rw, err := NewWriter(f, w)
	if err != nil {
		return Stats{Format: f}, err
	}
	return Run(ctx, rw, f, opts, src)
}

// sortedKeys returns the keys of m in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
