package formats

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/agora-rlhf/agora/rlhf"
)

// Card is what the data card (README.md beside the data) says.
type Card struct {
	Title     string    // defaults to "Agora preference data"
	Files     []string  // the data files, relative to the card
	Parquet   bool      // the files are Parquet
	Licence   string    // an SPDX id or a sentence; "" says the licence was not given
	Command   string    // the exact command that made the data
	Generated time.Time // when
	Options   Options
	Stats     Stats
}

// WriteCard writes c as a Markdown data card with Hugging Face front matter.
func WriteCard(w io.Writer, c Card) error {
	var b strings.Builder
	title := c.Title
	if title == "" {
		title = "Agora preference data"
	}
	st, o := &c.Stats, &c.Options
	writeFrontMatter(&b, &c)
	fmt.Fprintf(&b, "# %s\n\n", title)
	kind := "JSON Lines"
	switch {
	case c.Parquet:
		kind = "Parquet"
	case st.Format == ArenaJSON:
		kind = "a JSON array"
	}
	fmt.Fprintf(&b, "Pairwise human preferences exported from an Agora store, in the **%s** format (%s).\n\n", st.Format, kind)
	if len(c.Files) > 0 {
		b.WriteString("Files: " + "`" + strings.Join(c.Files, "`, `") + "`\n\n")
	}

	b.WriteString("## Counts\n\n| | |\n|---|---|\n")
	fmt.Fprintf(&b, "| rows | %d |\n| battles in the rows | %d |\n| records read | %d |\n", st.Rows, st.Written, st.Records)
	fmt.Fprintf(&b, "| exact duplicate rows removed | %d |\n", st.Duplicates)
	fmt.Fprintf(&b, "| failed battles (a side's answer ended in an error; never counted as votes) | %d |\n", st.Failed)
	if !st.First.IsZero() {
		fmt.Fprintf(&b, "| votes from | %s |\n| votes until | %s |\n", st.First.UTC().Format(time.RFC3339), st.Last.UTC().Format(time.RFC3339))
	}
	b.WriteString("\n")

	b.WriteString("## Vote mix\n\n| verdict | battles |\n|---|---|\n")
	for _, w := range []rlhf.Winner{rlhf.WinnerA, rlhf.WinnerB, rlhf.WinnerTie, rlhf.WinnerBothBad} {
		fmt.Fprintf(&b, "| %s | %d |\n", w.ArenaWinner(), st.Winners[w])
	}
	b.WriteString("\n")

	writeCountTable(&b, "Models", "model", st.Models)
	writeCountTable(&b, "Sources", "source", st.Sources)
	langs := map[string]int{}
	for k, v := range st.Languages {
		if k == "" {
			k = "(unknown)"
		}
		langs[k] = v
	}
	writeCountTable(&b, "Languages", "language", langs)
	if st.Detected > 0 {
		fmt.Fprintf(&b, "The language of %d battles stored without one was detected from their prompts (mean confidence %.2f; each row keeps its `language_confidence` in the Arena formats).\n\n",
			st.Detected, st.DetectedConfidence/float64(st.Detected))
	}

	if len(st.Filtered) > 0 || len(st.Skipped) > 0 {
		b.WriteString("## Left out\n\n| reason | records |\n|---|---|\n")
		for _, k := range sortedKeys(st.Filtered) {
			fmt.Fprintf(&b, "| %s | %d |\n", k, st.Filtered[k])
		}
		for _, k := range sortedKeys(st.Skipped) {
			fmt.Fprintf(&b, "| %s | %d |\n", k, st.Skipped[k])
		}
		b.WriteString("\n")
	}

	b.WriteString("## Fields\n\n")
	b.WriteString(fieldDocs(st.Format, o, c.Parquet))
	b.WriteString("\n## How it was made\n\n")
	b.WriteString("Two anonymous models answered the same prompts side by side; a contributor read both and voted. ")
	b.WriteString("A vote for one side gives that side's answers as chosen and the other's as rejected; ")
	b.WriteString("the prompt is the conversation both sides share up to the first user turn they answered differently.\n\n")
	b.WriteString(choices(o, st))
	fmt.Fprintf(&b, "\n## Licence\n\n%s\n", licenceText(c.Licence))
	writeConsent(&b, &c)
	writeRedaction(&b, &c)
	b.WriteString("\n## Command\n\n```\n" + c.Command + "\n```\n")
	if !c.Generated.IsZero() {
		fmt.Fprintf(&b, "\nGenerated %s.\n", c.Generated.UTC().Format(time.RFC3339))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeFrontMatter writes the Hugging Face metadata: a licence id the Hub
// accepts (with license_name for "other"), tags, and configs naming the
// data files as the split they hold.
func writeFrontMatter(b *strings.Builder, c *Card) {
	b.WriteString("---\n")
	id, name := HubLicence(c.Licence)
	fmt.Fprintf(b, "license: %s\n", id)
	if name != "" {
		fmt.Fprintf(b, "license_name: %s\n", yamlScalar(name))
	}
	b.WriteString("tags:\n- rlhf\n- preference\n- agora\n")
	if len(c.Files) > 0 {
		split := string(c.Options.Split)
		if split == "" {
			split = "train"
		}
		fmt.Fprintf(b, "configs:\n- config_name: default\n  data_files:\n  - split: %s\n    path:\n", split)
		for _, f := range c.Files {
			fmt.Fprintf(b, "    - %s\n", yamlQuoted(f))
		}
	}
	b.WriteString("---\n\n")
}

// yamlQuoted returns s as a double-quoted YAML scalar.
func yamlQuoted(s string) string {
	q, _ := json.Marshal(s) // JSON strings are YAML double-quoted scalars
	return string(q)
}

func writeCountTable(b *strings.Builder, title, col string, m map[string]int) {
	if len(m) == 0 {
		return
	}
	keys := sortedKeys(m)
	sort.SliceStable(keys, func(i, j int) bool { return m[keys[i]] > m[keys[j]] })
	fmt.Fprintf(b, "## %s\n\n| %s | battles |\n|---|---|\n", title, col)
	for _, k := range keys {
		fmt.Fprintf(b, "| %s | %d |\n", mdEscape(k), m[k])
	}
	b.WriteString("\n")
}

func mdEscape(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ", "`", "'").Replace(s)
}

func yamlScalar(s string) string {
	for _, c := range s {
		if !(c == '-' || c == '.' || c == '+' || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
			return fmt.Sprintf("%q", s)
		}
	}
	return s
}

func licenceText(l string) string {
	if l == "" {
		return "No licence was given when this export was made (set one with --licence or the export.licence setting); the card says `license: unknown`."
	}
	if id, name := HubLicence(l); id == "other" {
		return fmt.Sprintf("%s (not a Hugging Face licence id: the card says `license: other`, `license_name: %s`).", l, name)
	}
	return l
}

// choices describes the options in prose.
func choices(o *Options, st *Stats) string {
	var b strings.Builder
	b.WriteString("Choices:\n\n")
	line := func(format string, args ...any) { fmt.Fprintf(&b, "- "+format+"\n", args...) }
	if !o.Since.IsZero() || !o.Until.IsZero() {
		line("votes from %s until %s", timeOr(o.Since, "the start"), timeOr(o.Until, "the end"))
	}
	if len(o.Models) > 0 {
		line("battles with at least one of: %s", strings.Join(o.Models, ", "))
	}
	if len(o.Sources) > 0 {
		line("sources: %s", strings.Join(o.Sources, ", "))
	}
	if len(o.Languages) > 0 {
		line("languages: %s", strings.Join(o.Languages, ", "))
	}
	if len(o.Categories) > 0 {
		line("categories: %s", strings.Join(o.Categories, ", "))
	}
	if o.MinStrength != "" {
		line("votes of strength %s or stronger", o.MinStrength)
	}
	switch st.Format.Shape() {
	case ShapePair:
		line("ties and both-bad verdicts give no pair")
	case ShapeUnpaired:
		if o.Ties == TiesUnpaired {
			line("ties give two rows labelled true, both-bad two rows labelled false")
		} else {
			line("ties and both-bad verdicts give no rows")
		}
	}
	if o.Margin {
		line("margin from the vote's strength (Llama 2 levels: 1, 2/3, 1/3, 0)")
	}
	if o.Split != SplitAll {
		line("the %s split: a battle is in test when the first 8 bytes of SHA-256 of its first prompt, big-endian, modulo 10000 are below %.0f", o.Split, o.testFraction()*10000)
	}
	if o.KeepDuplicates {
		line("exact duplicate rows kept")
	} else {
		line("exact duplicate rows removed")
	}
	if st.Format.Shape() == ShapeBattle {
		switch {
		case o.Contributors == ContributorsOmit:
			line("contributor ids left out")
		case st.RandomKey:
			line("contributor ids replaced by HMAC-SHA-256 pseudonyms under a random key (they match no other export)")
		default:
			line("contributor ids replaced by HMAC-SHA-256 pseudonyms under the operator's key")
		}
	}
	line("a battle where a side's answer ended in an error is never counted as a vote: it is left out and counted as failed; no internal field (errors, endpoints, timings) is exported")
	if st.Format == HHRLHF {
		line("multi-turn battles only when both sides gave the same earlier answers, so that chosen and rejected share everything up to the last \"\\n\\nAssistant:\"")
	}
	return b.String()
}

func timeOr(t time.Time, zero string) string {
	if t.IsZero() {
		return zero
	}
	return t.UTC().Format(time.RFC3339)
}

// fieldDocs describes the fields of a format.
func fieldDocs(f Format, o *Options, parquet bool) string {
	margin := ""
	if o.Margin {
		margin = "- `margin` (number, on every row, never null): 1, 2/3, 1/3 or 0 for significantly, clearly, slightly or negligibly better; 0 also when the contributor gave no strength.\n"
	}
	switch f {
	case TRL:
		return "- `prompt` (string): the user's message.\n- `chosen` (string): the preferred answer.\n- `rejected` (string): the other answer.\n" + margin
	case TRLConversational:
		return "- `prompt` (list of {role, content}): the shared conversation, ending with a user message.\n" +
			"- `chosen` (list of {role, content}): the preferred side's continuation.\n" +
			"- `rejected` (list of {role, content}): the other side's continuation.\n" + margin
	case TRLUnpaired:
		return "- `prompt` (string): the user's message.\n- `completion` (string): one side's answer.\n- `label` (bool): true for a good answer.\n"
	case OpenAIPreference:
		return "- `input.messages` (list of {role, content}): the prompt.\n- `input.tools` (empty list), `input.parallel_tool_calls` (true).\n" +
			"- `preferred_output` (list of one assistant message).\n- `non_preferred_output` (list of one assistant message).\n"
	case HHRLHF:
		return "- `chosen` (string): the whole conversation with the preferred answers, as `\\n\\nHuman: …\\n\\nAssistant: …`.\n" +
			"- `rejected` (string): the same with the other answers.\n"
	}
	ts := "number, seconds since 1970, to the microsecond (a double in Parquet, as in LMArena's releases)"
	return "- `question_id` (string): the battle's id.\n- `model_a`, `model_b` (string): the models on each side.\n" +
		"- `winner` (string): `model_a`, `model_b`, `tie` or `tie (bothbad)`.\n" +
		"- `judge` (string, absent or null when left out): the contributor's pseudonym.\n" +
		"- `turn` (integer): number of turns.\n- `anony` (bool): false when the battle was not anonymous (an answer named its model, or the prompt asked who the model is); leaderboards leave those votes out.\n" +
		"- `language` (string): the battle's language, stored or detected from its prompts; `unknown` when neither.\n" +
		"- `language_confidence` (number, only when the language was detected; null in Parquet otherwise): the detector's confidence, 0 to 1.\n" +
		"- `tstamp` (" + ts + "): the vote's time.\n- `is_code` (bool): a prompt or answer holds a fenced code block.\n" +
		"- `conversation_a`, `conversation_b` (list of {role, content, num_tokens}): each side's conversation; `num_tokens` is set on answers. Absent (empty in Parquet) for battles imported without text.\n" +
		"- `conv_metadata`: per side X in a, b, `sum_assistant_X_tokens`, `header_count_X` {h1..h6}, `list_count_X` {ordered, unordered}, `bold_count_X` {\"**\", \"__\"} (counted as FastChat counts them, code blocks removed), and `turns`.\n"
}
