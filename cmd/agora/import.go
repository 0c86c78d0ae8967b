package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/agora-rlhf/agora/rlhf"
	"github.com/agora-rlhf/agora/rlhf/formats"
)

const importUsage = `import --format FORMAT [flags] FILE

Reads an existing preference data set into the store so that it can be
rated, merged and exported. FILE "-" reads stdin (then --source is needed).

Formats:
  arena    Chatbot Arena battles: a JSON array or JSONL, with or without
           conversation_a/conversation_b (model_a, model_b, winner, optional
           question_id, judge, language, tstamp, turn)
  trl      TRL preference JSONL: standard (strings), conversational (lists of
           messages) or implicit prompt; margin maps back to a strength
  hh-rlhf  Anthropic HH-RLHF JSONL ({"chosen","rejected"} transcripts)
           (also LMArena's 140k release: id, timestamp, content as parts)
  csv      one battle per row with a header: model_a, model_b, winner and
           optionally question_id, judge, tstamp, language, category, prompt,
           response_a, response_b. Map other names with --columns and other
           winner labels with --winner-map, e.g. for LLMFAO:
             --columns model_a=left,model_b=right,judge=worker,prompt=
             --winner-map left=model_a,right=model_b
           One-hot verdict columns with --winner-columns; prompt and
           responses that are JSON lists of strings are one turn each, e.g.
           for the Kaggle 55k (lmsys-chatbot-arena train.csv):
             --columns question_id=id
             --winner-columns model_a=winner_model_a,model_b=winner_model_b,tie=winner_tie
  ultrafeedback
           HuggingFaceH4/ultrafeedback_binarized as shipped (prompt, chosen
           and rejected message lists, score_chosen, score_rejected); equal
           scores give a tie

A Parquet FILE (recognised by its content) is read row by row as the JSON
of the format, or as CSV columns for --format csv.

Every record carries its source (--source, default the file's base name),
and its id is derived from the source, the line and its number (or Arena's
question_id), so importing the same file again adds nothing. TRL and
HH-RLHF rows do not name their models: the chosen side is --chosen-model and
the other --rejected-model, placed on side A or B by the id's hash.

Bad records are reported with their line numbers and skipped; --strict stops
at the first. A file with no valid record at all is an error. The records are stored as the file is read, in one transaction: all of
them or, on any error, none.`

type importFlags struct {
	format, source, data, config, columns, winners string
	winnerCols                                     string
	chosen, rejected                               string
	strict, dryRun                                 bool
	maxLine                                        int
}

func runImport(ctx context.Context, args []string, e env) error {
	fs, f := newImportFlags(e)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError{fmt.Sprintf("import needs one FILE; got %d arguments", fs.NArg())}
	}
	file := fs.Arg(0)
	format, err := formats.ParseImportFormat(f.format)
	if err != nil {
		return usageError{err.Error()}
	}
	opts, err := f.readOptions(file)
	if err != nil {
		return err
	}
	prog := newProgress(e.stderr)
	defer prog.done()
	in, closeIn, err := importInput(file, format, e.stdin, prog)
	if err != nil {
		return err
	}
	defer closeIn()
	if f.dryRun {
		return f.dryRunImport(e, file, in, format, opts, prog)
	}
	cfg, err := loadConfig(f.config)
	if err != nil {
		return err
	}
	store, err := openStore(or(f.data, or(cfg.Server.Data, "./agora-data")))
	if err != nil {
		return err
	}
	defer store.Close()
	// The file is read and stored in one pass and one transaction: a bad
	// record in strict mode, or any error, leaves the store as it was.
	var st formats.ReadStats
	var rerr error
	is, err := store.Import(ctx, func(put func(*rlhf.Record) error) error {
		st, rerr = formats.Read(in, format, opts, put)
		prog.done()
		return rerr
	})
	reportBad(e.stderr, file, &st, f.strict)
	if rerr != nil {
		return importReadError(file, rerr)
	}
	if err == nil && st.Records == 0 {
		return nothingRead(file, &st)
	}
	if err != nil {
		return fmt.Errorf("import %s: %w; nothing was imported", file, err)
	}
	fmt.Fprintf(e.stdout, "%s: imported %d new records as source %q (%d already present, %d bad lines skipped, %d lines)\n",
		file, is.Added, opts.Source, is.Present, st.Bad, st.Lines)
	return nil
}

// newImportFlags declares import's flags.
func newImportFlags(e env) (*flag.FlagSet, *importFlags) {
	fs := newFlagSet("import", importUsage, e)
	f := &importFlags{}
	fs.StringVar(&f.format, "format", "", "input format: arena, trl, hh-rlhf, csv or ultrafeedback (required)")
	fs.StringVar(&f.source, "source", "", "source name the records carry (default: the file's base name)")
	fs.StringVar(&f.data, "data", e.getenv("AGORA_DATA"), "data directory of the store (default from the configuration: ./agora-data)")
	fs.StringVar(&f.config, "config", e.getenv("AGORA_CONFIG"), "configuration file (default: the embedded configs/agora.yaml)")
	fs.StringVar(&f.columns, "columns", "", "CSV: map Agora's column names to the file's, NAME=FILECOLUMN,… (FILECOLUMN empty to ignore one)")
	fs.StringVar(&f.winners, "winner-map", "", "map the file's winner labels, LABEL=model_a|model_b|tie|tie (bothbad),…")
	fs.StringVar(&f.winnerCols, "winner-columns", "", "CSV: one-hot verdict columns, VERDICT=COLUMN,… (Kaggle: model_a=winner_model_a,model_b=winner_model_b,tie=winner_tie)")
	fs.StringVar(&f.chosen, "chosen-model", "chosen", "trl, hh-rlhf: model name of the chosen answers")
	fs.StringVar(&f.rejected, "rejected-model", "rejected", "trl, hh-rlhf: model name of the rejected answers")
	fs.BoolVar(&f.strict, "strict", false, "stop at the first bad record")
	fs.BoolVar(&f.dryRun, "dry-run", false, "read and check the file, store nothing")
	fs.IntVar(&f.maxLine, "max-line-bytes", formats.DefaultMaxLineBytes, "longest line (or array element) accepted")
	return fs, f
}

// importInput opens the file to import ("-": stdin), its progress shown,
// its rows read from Parquet when it is a Parquet file; closeIn closes it.
func importInput(file string, format formats.ImportFormat, stdin io.Reader, prog *progress) (in io.Reader, closeIn func(), err error) {
	if file == "-" {
		return stdin, func() {}, nil
	}
	fh, err := os.Open(file)
	if err != nil {
		return nil, nil, fmt.Errorf("import: %w", err)
	}
	in = fh
	if fi, err := fh.Stat(); err == nil && fi.Size() > 0 {
		in = &progressReader{r: fh, total: fi.Size(), prog: prog}
	}
	rows, stop, err := parquetInput(fh, format == formats.ImportCSV)
	if err != nil {
		fh.Close()
		return nil, nil, fmt.Errorf("import: %w", err)
	}
	if rows != nil {
		return rows, func() { stop(); fh.Close() }, nil
	}
	return in, func() { fh.Close() }, nil
}

// dryRunImport reads and checks the input and stores nothing.
func (f *importFlags) dryRunImport(e env, file string, in io.Reader, format formats.ImportFormat, opts formats.ReadOptions, prog *progress) error {
	st, err := formats.Read(in, format, opts, func(*rlhf.Record) error { return nil })
	prog.done()
	reportBad(e.stderr, file, &st, f.strict)
	if err != nil {
		return importReadError(file, err)
	}
	if st.Records == 0 {
		return nothingRead(file, &st)
	}
	fmt.Fprintf(e.stdout, "%s: %d good records of %d lines, %d bad (dry run: nothing stored)\n", file, st.Records, st.Lines, st.Bad)
	return nil
}

// importReadError says where reading the file failed, and that nothing
// was imported.
func importReadError(file string, err error) error {
	var le *formats.LineError
	if errors.As(err, &le) {
		return fmt.Errorf("%s:%d: %v; nothing was imported", file, le.Line, le.Err)
	}
	return fmt.Errorf("%s: %w; nothing was imported", file, err)
}

// readOptions turns the flags into read options.
func (f *importFlags) readOptions(file string) (formats.ReadOptions, error) {
	opts := formats.ReadOptions{
		Source: f.source, Strict: f.strict, MaxLineBytes: f.maxLine, Now: time.Now().UTC().Truncate(time.Millisecond),
		ChosenModel: f.chosen, RejectedModel: f.rejected,
	}
	if opts.Source == "" {
		if file == "-" {
			return opts, usageError{"import from stdin needs --source"}
		}
		base := filepath.Base(file)
		opts.Source = strings.TrimSuffix(base, filepath.Ext(base))
	}
	if opts.Source == rlhf.SourceArena {
		return opts, usageError{fmt.Sprintf("source %q is reserved for battles collected by this server; pick another --source", rlhf.SourceArena)}
	}
	if f.columns != "" {
		opts.Columns = map[string]string{}
		for _, kv := range strings.Split(f.columns, ",") {
			name, col, ok := strings.Cut(kv, "=")
			if !ok {
				return opts, usageError{fmt.Sprintf("--columns %q: want NAME=FILECOLUMN", kv)}
			}
			opts.Columns[strings.TrimSpace(name)] = strings.TrimSpace(col)
		}
	}
	if f.winners != "" {
		opts.Winners = map[string]rlhf.Winner{}
		for _, kv := range strings.Split(f.winners, ",") {
			label, verdict, ok := strings.Cut(kv, "=")
			if !ok {
				return opts, usageError{fmt.Sprintf("--winner-map %q: want LABEL=VERDICT", kv)}
			}
			w, err := parseVerdict(verdict)
			if err != nil {
				return opts, usageError{fmt.Sprintf("--winner-map %q: %s", kv, rlhf.ErrorMessage(err))}
			}
			opts.Winners[strings.TrimSpace(label)] = w
		}
	}
	if f.winnerCols != "" {
		opts.WinnerColumns = map[rlhf.Winner]string{}
		for _, kv := range strings.Split(f.winnerCols, ",") {
			verdict, col, ok := strings.Cut(kv, "=")
			if !ok {
				return opts, usageError{fmt.Sprintf("--winner-columns %q: want VERDICT=COLUMN", kv)}
			}
			w, err := parseVerdict(verdict)
			if err != nil {
				return opts, usageError{fmt.Sprintf("--winner-columns %q: %s", kv, rlhf.ErrorMessage(err))}
			}
			opts.WinnerColumns[w] = strings.TrimSpace(col)
		}
	}
	return opts, nil
}

// parseVerdict reads a verdict in Arena's spelling or Agora's.
func parseVerdict(s string) (rlhf.Winner, error) {
	s = strings.TrimSpace(s)
	w, err := rlhf.ParseArenaWinner(s)
	if err != nil {
		if v := rlhf.Winner(s); v.Valid() {
			return v, nil
		}
	}
	return w, err
}

// nothingRead is the error of an import that found no valid record: it
// exits non-zero, as a file of junk must not look like a success.
func nothingRead(file string, st *formats.ReadStats) error {
	return fmt.Errorf("%s: no valid record in %d lines (%d bad); nothing was imported", file, st.Lines, st.Bad)
}

// reportBad lists the bad records on stderr.
func reportBad(w io.Writer, file string, st *formats.ReadStats, strict bool) {
	if st.Bad == 0 || strict { // in strict mode the error says it
		return
	}
	fmt.Fprintf(w, "agora: %s: skipped %d bad records of %d lines (--strict to stop at the first):\n", file, st.Bad, st.Lines)
	for _, le := range st.Errors {
		fmt.Fprintf(w, "  %s:%d: %v\n", file, le.Line, le.Err)
	}
	if st.Bad > len(st.Errors) {
		fmt.Fprintf(w, "  … and %d more\n", st.Bad-len(st.Errors))
	}
}

// progressReader shows on a terminal how much of a file has been read.
type progressReader struct {
	r     io.Reader
	n     int64
	total int64
	prog  *progress
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.n += int64(n)
	p.prog.update("importing: MiB read", int(p.n>>20), int(p.total>>20))
	return n, err
}
