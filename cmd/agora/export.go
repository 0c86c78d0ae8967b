package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strings"
	"time"

	"github.com/agora-rlhf/agora/ingest/store"
	"github.com/agora-rlhf/agora/rlhf"
	"github.com/agora-rlhf/agora/rlhf/formats"
	"github.com/agora-rlhf/agora/rlhf/formats/langdetect"
	"github.com/agora-rlhf/agora/rlhf/formats/parquet"
)

const exportUsage = `export --format FORMAT --output PATH [flags]

Writes the votes in the store as reward-model training data, one record at a
time (memory stays flat whatever the size of the store), and a data card
(README.md) beside it.

Formats:
  trl                 {"prompt","chosen","rejected"} strings (single-turn battles)
  trl-conversational  the same as lists of messages; multi-turn battles fit  [--parquet]
  trl-unpaired        KTO: {"prompt","completion","label"} (single-turn battles)
  openai-preference   OpenAI preference fine-tuning JSONL
  hh-rlhf             Anthropic HH-RLHF {"chosen","rejected"} transcripts
  arena-json          Chatbot Arena battles, one JSON array             [--parquet]
  arena-jsonl         Chatbot Arena battles, one per line               [--parquet]

Only votes whose contributor allowed the use named by --scope are exported
(default research; see docs/consent.md); the card counts the rows by scope and
licence. --scope all exports every vote, for internal use only. E-mail addresses,
phone numbers, API keys, tokens, private keys, card numbers and IBANs in
prompts, answers and reasons are replaced by placeholders ([EMAIL], ...) and
counted on the card; --no-redact keeps them, for internal use only.
Ties and both-bad verdicts give no training pair; with --format trl-unpaired
--ties unpaired they give two rows labelled true (tie) or false (both bad).
Contributor ids (Arena's judge) are HMAC-SHA-256 pseudonyms under the key in
AGORA_EXPORT_KEY or --key-file (a random key when neither is set, so that
pseudonyms match no other export), or left out with --contributors omit.
A battle where a side's answer ended in an error is never exported (nor
counted as a vote anywhere): the card counts it as failed. No internal
field is exported. Battles stored without a language get the one detected
from their prompts (Arena rows keep the detector's language_confidence).
--margin gives every row a numeric margin: 0 when the vote has no strength.

PATH "-" writes to stdout without a data card. Otherwise the data is written
to PATH.tmp and renamed when complete, so PATH is never half-written.`

// ExportMemoryLimit is the soft limit on the Go heap during an export
// (runtime/debug.SetMemoryLimit). The export keeps at most about 30 MiB
// live: the duplicate filter's table (up to 24 MiB while it grows) and a
// few batches of records.
const ExportMemoryLimit = 40 << 20

// exportConfig is the export section of the configuration file.
type exportConfig struct {
	Licence      string `yaml:"licence"`
	License      string `yaml:"license"`
	Contributors string `yaml:"contributors"`
}

type exportFlags struct {
	format, output, data, config                string
	parquet                                     bool
	since, until, models, sources, langs, cats  string
	minStrength, ties, split, contributors, key string
	margin, keepDuplicates, noCard, noRedact    bool
	testFraction                                float64
	licence, scope                              string
}

func runExport(ctx context.Context, args []string, e env) error {
	fs, f := newExportFlags(e)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	format, err := f.check(fs)
	if err != nil {
		return err
	}
	cfg, err := loadConfig(f.config)
	if err != nil {
		return err
	}
	var xc exportConfig
	if !cfg.Export.IsZero() {
		if err := cfg.Export.Decode(&xc); err != nil {
			return usageError{fmt.Sprintf("configuration: export: %v", err)}
		}
	}
	opts, err := f.options(e, &xc)
	if err != nil {
		return err
	}
	dir := or(f.data, or(cfg.Server.Data, "./agora-data"))
	if _, err := os.Stat(filepath.Join(dir, storeFile)); err != nil {
		return fmt.Errorf("no store in %s: %w", dir, err)
	}
	db, err := openStore(dir)
	if err != nil {
		return err
	}
	defer db.Close()

	// The export makes garbage as fast as it reads (every text it reads
	// is a new string) while what it keeps is small: a soft limit on the
	// Go heap makes the collector keep up, so that the resident size stays
	// flat whatever the size of the db. GOMEMLIMIT, when set, wins.
	if e.getenv("GOMEMLIMIT") == "" {
		defer debug.SetMemoryLimit(debug.SetMemoryLimit(ExportMemoryLimit))
	}
	st, err := f.export(ctx, e, db, format, opts)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "agora: exported %d rows from %d of %d records (%s)\n", st.Rows, st.Written, st.Records, describeLeftOut(&st))
	if f.output == "-" || f.noCard {
		return nil
	}
	card := formats.Card{
		Files: []string{filepath.Base(f.output)}, Parquet: f.parquet, Licence: or(f.licence, or(xc.Licence, xc.License)),
		Command: commandLine(append([]string{"agora", "export"}, args...)), Generated: time.Now(),
		Options: opts, Stats: st,
	}
	cardPath, err := writeCard(filepath.Dir(f.output), filepath.Base(f.output), card)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "agora: data card %s\n", cardPath)
	return nil
}

// newExportFlags declares export's flags.
func newExportFlags(e env) (*flag.FlagSet, *exportFlags) {
	fs := newFlagSet("export", exportUsage, e)
	f := &exportFlags{}
	fs.StringVar(&f.format, "format", "", "export format (required; see above)")
	fs.StringVar(&f.output, "output", "", `output file (required); "-" for stdout`)
	fs.BoolVar(&f.parquet, "parquet", false, "write Parquet (trl-conversational, arena-json, arena-jsonl)")
	fs.StringVar(&f.data, "data", e.getenv("AGORA_DATA"), "data directory of the store (default from the configuration: ./agora-data)")
	fs.StringVar(&f.config, "config", e.getenv("AGORA_CONFIG"), "configuration file (default: the embedded configs/agora.yaml)")
	fs.StringVar(&f.since, "since", "", "votes at or after this time (RFC 3339 or YYYY-MM-DD)")
	fs.StringVar(&f.until, "until", "", "votes before this time (RFC 3339 or YYYY-MM-DD)")
	fs.StringVar(&f.models, "models", "", "battles with at least one of these models (comma-separated)")
	fs.StringVar(&f.sources, "source", "", `battles from these sources (comma-separated; "arena" is what this server collected)`)
	fs.StringVar(&f.langs, "language", "", "battles in these languages (comma-separated)")
	fs.StringVar(&f.cats, "category", "", "battles in these categories (comma-separated)")
	fs.StringVar(&f.minStrength, "min-strength", "", "votes at least this strong: negligible, slight, clear or significant")
	fs.StringVar(&f.ties, "ties", "omit", "ties and both-bad: omit, or unpaired (trl-unpaired only)")
	fs.BoolVar(&f.margin, "margin", false, "add TRL's margin column from the vote's strength (trl, trl-conversational)")
	fs.StringVar(&f.split, "split", "", "train or test: one side of the split by prompt hash (default: everything)")
	fs.Float64Var(&f.testFraction, "test-fraction", formats.DefaultTestFraction, "share of prompts in the test split")
	fs.BoolVar(&f.keepDuplicates, "keep-duplicates", false, "keep exact duplicate rows")
	fs.StringVar(&f.contributors, "contributors", "", "pseudonym (default) or omit")
	fs.StringVar(&f.key, "key-file", "", "file holding the pseudonym key (default: $AGORA_EXPORT_KEY)")
	fs.StringVar(&f.licence, "licence", "", "licence for the data card (default: the configuration's export.licence)")
	fs.BoolVar(&f.noCard, "no-card", false, "do not write the data card")
	fs.BoolVar(&f.noRedact, "no-redact", false, "keep e-mail addresses, phone numbers, keys and tokens in the text (internal use only; docs/consent.md)")
	fs.StringVar(&f.scope, "scope", string(rlhf.ScopeResearch), `only votes whose contributor allowed this use: leaderboard, research or training; "all" for every vote (internal use)`)
	return fs, f
}

// check checks the flags that need no configuration, and returns the
// format.
func (f *exportFlags) check(fs *flag.FlagSet) (formats.Format, error) {
	if fs.NArg() > 0 {
		return "", usageError{fmt.Sprintf("export takes no arguments; got %q", fs.Args())}
	}
	if f.format == "" || f.output == "" {
		return "", usageError{"export needs --format and --output"}
	}
	format, err := formats.ParseFormat(f.format)
	if err != nil {
		return "", usageError{err.Error()}
	}
	if f.parquet && !parquet.Supports(format) {
		return "", usageError{fmt.Sprintf("--parquet is offered for trl-conversational, arena-json and arena-jsonl, not %s", format)}
	}
	return format, nil
}

// export writes the store's records to the output in format, showing
// progress.
func (f *exportFlags) export(ctx context.Context, e env, db *store.Store, format formats.Format, opts formats.Options) (formats.Stats, error) {
	prog := newProgress(e.stderr)
	defer prog.done()
	if votes, err := db.ExportCount(ctx); err == nil {
		opts.Progress = func(records, rows int) { prog.update("exporting records", records, int(votes)) }
	}
	// The filters the store can apply itself go down to SQL; the records
	// come in battle id order, in memory that does not grow with the store.
	src := db.ExportSource(store.RecordFilter{Since: opts.Since, Until: opts.Until, Sources: opts.Sources})
	return writeExport(f.output, e.stdout, func(w io.Writer) (formats.Stats, error) {
		if f.parquet {
			return parquet.Export(ctx, w, string(format), opts, src)
		}
		return formats.Export(ctx, w, string(format), opts, src)
	})
}

// options turns the flags into export options.
func (f *exportFlags) options(e env, xc *exportConfig) (formats.Options, error) {
	var o formats.Options
	var err error
	if o.Since, err = parseWhen("since", f.since); err != nil {
		return o, err
	}
	if o.Until, err = parseWhen("until", f.until); err != nil {
		return o, err
	}
	o.Models, o.Sources = splitList(f.models), splitList(f.sources)
	o.Languages, o.Categories = splitList(f.langs), splitList(f.cats)
	o.MinStrength = rlhf.Strength(f.minStrength)
	o.Ties = formats.TieMode(f.ties)
	o.Margin = f.margin
	o.Split = formats.Split(f.split)
	o.TestFraction = f.testFraction
	o.KeepDuplicates, o.Spill = f.keepDuplicates, tempSpill
	o.NoRedact = f.noRedact
	o.Detector = langdetect.New()
	o.Licence = or(f.licence, or(xc.Licence, xc.License))
	if o.Scope, err = scopeFlag(f.scope); err != nil {
		return o, err
	}
	o.Contributors = formats.ContributorMode(or(f.contributors, xc.Contributors))
	if o.Contributors != formats.ContributorsOmit {
		if f.key != "" {
			key, err := os.ReadFile(f.key)
			if err != nil {
				return o, usageError{fmt.Sprintf("--key-file: %v", err)}
			}
			o.Key = []byte(strings.TrimSpace(string(key)))
			if len(o.Key) == 0 {
				return o, usageError{fmt.Sprintf("--key-file %s is empty", f.key)}
			}
		} else if k := e.getenv("AGORA_EXPORT_KEY"); k != "" {
			o.Key = []byte(k)
		}
	}
	format, _ := formats.ParseFormat(f.format)
	if err := o.Validate(format); err != nil {
		return o, usageError{rlhf.ErrorMessage(err)}
	}
	return o, nil
}

// tempSpill is the duplicate filter's scratch storage: a temporary file,
// unlinked at once, so that it is gone when closed (or the process ends).
func tempSpill() (formats.Spill, error) {
	f, err := os.CreateTemp("", "agora-export-digests-*")
	if err != nil {
		return nil, err
	}
	os.Remove(f.Name())
	return f, nil
}

// scopeFlag reads --scope: a scope, or "all" (no filter, for internal use).
func scopeFlag(s string) (rlhf.Scope, error) {
	if s == "all" {
		return "", nil
	}
	sc, err := rlhf.ParseScope(s)
	if err != nil {
		return "", usageError{"--scope: " + rlhf.ErrorMessage(err) + `, or "all"`}
	}
	return sc, nil
}

// writeExport runs write into path through a temporary file that is
// renamed only when write succeeds; "-" writes to stdout.
func writeExport(path string, stdout io.Writer, write func(io.Writer) (formats.Stats, error)) (formats.Stats, error) {
	if path == "-" {
		return write(stdout)
	}
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return formats.Stats{}, fmt.Errorf("output directory: %w", err)
		}
	}
	tmp := path + ".tmp"
	out, err := os.Create(tmp)
	if err != nil {
		return formats.Stats{}, fmt.Errorf("create output: %w", err)
	}
	st, err := write(out)
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return st, fmt.Errorf("write %s: %w", path, err)
	}
	return st, nil
}

// cardMarker identifies a README.md that Agora wrote, which it may replace.
const cardMarker = "<!-- agora data card -->"

// writeCard writes the data card as README.md in dir, or as
// NAME.README.md when dir already has a README.md that Agora did not write.
func writeCard(dir, name string, c formats.Card) (string, error) {
	path := filepath.Join(dir, "README.md")
	if old, err := os.ReadFile(path); err == nil && !strings.Contains(string(old), cardMarker) {
		path = filepath.Join(dir, name+".README.md")
	}
	var b strings.Builder
	if err := formats.WriteCard(&b, c); err != nil {
		return "", err
	}
	b.WriteString("\n" + cardMarker + "\n")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		return "", fmt.Errorf("write data card: %w", err)
	}
	return path, nil
}

// describeLeftOut summarizes why records gave no rows.
func describeLeftOut(st *formats.Stats) string {
	var parts []string
	add := func(m map[string]int) {
		for k, v := range m {
			parts = append(parts, fmt.Sprintf("%d %s", v, k))
		}
	}
	add(st.Filtered)
	add(st.Skipped)
	if st.Failed > 0 {
		parts = append(parts, fmt.Sprintf("%d failed battles", st.Failed))
	}
	if st.Duplicates > 0 {
		parts = append(parts, fmt.Sprintf("%d duplicate rows", st.Duplicates))
	}
	if len(parts) == 0 {
		return "nothing left out"
	}
	return "left out: " + strings.Join(sorted(parts), ", ")
}

// commandLine quotes args as a shell would need them.
func commandLine(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		if a == "" || strings.ContainsAny(a, " \t\n'\"\\$`|&;<>()*?[]{}!#~") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		q[i] = a
	}
	return strings.Join(q, " ")
}

func sorted(s []string) []string {
	sort.Strings(s)
	return s
}
