package formats

import (
	"crypto/sha256"
	"encoding/binary"
	"strings"
	"time"

	"github.com/agora-rlhf/agora/rlhf"
)

// TieMode says what becomes of ties and both-bad verdicts in pair formats.
type TieMode string

// Tie modes. Battle formats (Arena) always keep every verdict.
const (
	TiesOmit     TieMode = "omit"     // no row (the default)
	TiesUnpaired TieMode = "unpaired" // trl-unpaired: two rows, label true for a tie, false for both bad
)

// ContributorMode says how contributor ids appear in formats that carry them
// (Arena's judge).
type ContributorMode string

// Contributor modes.
const (
	ContributorsPseudonym ContributorMode = "pseudonym" // HMAC-SHA-256 of the id under Options.Key (the default)
	ContributorsOmit      ContributorMode = "omit"      // no judge field at all
)

// Split selects one side of the deterministic train/test split.
type Split string

// Splits. The empty split exports everything.
const (
	SplitAll   Split = ""
	SplitTrain Split = "train"
	SplitTest  Split = "test"
)

// DefaultTestFraction is the share of prompts in the test split when
// Options.TestFraction is zero.
const DefaultTestFraction = 0.1

// Options are the choices of an export. The zero value exports every record
// in the source, leaves ties out, removes exact duplicates and pseudonymizes
// contributors under a random key.
type Options struct {
	Since, Until time.Time // vote time; Since inclusive, Until exclusive; zero is unbounded
	Models       []string  // keep battles in which at least one of these models took part
	Sources      []string  // keep battles from these sources ("arena" or an import's name)
	Languages    []string  // keep battles in these languages (case-insensitive); unknown never matches
	Categories   []string  // keep battles in these categories (case-insensitive); unknown never matches
	MinStrength  rlhf.Strength

	// Scope keeps only votes whose consent allows this use (a vote with
	// no recorded scope counts as rlhf.DefaultScope); "" keeps every vote,
	// for internal use. Licence is the licence of votes that record none:
	// the operator's.
	Scope   rlhf.Scope
	Licence string

	// NoRedact exports prompts, answers and reasons as they are, with the
	// e-mail addresses, phone numbers, keys and the like that redaction
	// replaces by default (redact.go): for internal use only.
	NoRedact bool

	Ties   TieMode // ties and both-bad in trl-unpaired
	Margin bool    // add TRL's margin column (from the vote's strength) to trl and trl-conversational

	Split        Split   // train, test or everything
	TestFraction float64 // share of prompts in the test split; 0 means DefaultTestFraction

	// KeepDuplicates writes exact duplicate rows again instead of dropping
	// them. The filter keeps a 16-byte digest of every row written, in at
	// most 24 MiB when Spill is set: past about 786,000 rows it spills
	// sorted digests to the storage Spill opens and reads them back, so it
	// stays exact. Without Spill it keeps them all in memory.
	KeepDuplicates bool
	// Spill opens scratch storage for the duplicate filter, once it needs
	// it (cmd/agora: an unlinked temporary file).
	Spill          func() (Spill, error)
	maxDigestSlots int // the filter's table size before it spills; 0 means 2^20 (tests set it lower)

	Contributors ContributorMode
	Key          []byte // HMAC key for pseudonyms; empty means a random key for this export

	// Detector names the language of battles stored without one, from their
	// prompts, before the filters run. Nil leaves their language unknown.
	Detector LanguageDetector

	// Progress, when set, is called every few thousand records with the
	// counts so far. It runs on the export's goroutine.
	Progress func(records, rows int)

	// Written, when set, is called with every record that gave at least
	// one row, after its rows are written (releases list them in their
	// manifest). It runs on the export's goroutine and must not keep r.
	Written func(r *rlhf.Record)
}

// Validate checks the options against the format.
func (o *Options) Validate(f Format) error {
	switch o.Ties {
	case "", TiesOmit:
	case TiesUnpaired:
		if f.Shape() != ShapeUnpaired {
			return rlhf.Errorf(rlhf.EInvalid, "ties as unpaired rows need --format %s (format %s has no place for them)", TRLUnpaired, f)
		}
	default:
		return rlhf.Errorf(rlhf.EInvalid, "unknown tie mode %q (want omit or unpaired)", o.Ties)
	}
	switch o.Contributors {
	case "", ContributorsPseudonym, ContributorsOmit:
	default:
		return rlhf.Errorf(rlhf.EInvalid, "unknown contributor mode %q (want pseudonym or omit)", o.Contributors)
	}
	switch o.Split {
	case SplitAll, SplitTrain, SplitTest:
	default:
		return rlhf.Errorf(rlhf.EInvalid, "unknown split %q (want train or test)", o.Split)
	}
	if o.TestFraction < 0 || o.TestFraction >= 1 {
		return rlhf.Errorf(rlhf.EInvalid, "test fraction %v is not in [0, 1)", o.TestFraction)
	}
	if o.Scope != "" && !o.Scope.Valid() {
		return rlhf.Errorf(rlhf.EInvalid, "scope %q is not one of leaderboard, research, training", o.Scope)
	}
	if err := rlhf.ValidLicence(o.Licence); err != nil {
		return err
	}
	if !o.MinStrength.Valid() {
		return rlhf.Errorf(rlhf.EInvalid, "strength %q is not one of significant, clear, slight, negligible", o.MinStrength)
	}
	if !o.Since.IsZero() && !o.Until.IsZero() && !o.Since.Before(o.Until) {
		return rlhf.Errorf(rlhf.EInvalid, "time range is empty: since %s is not before until %s",
			o.Since.Format(time.RFC3339), o.Until.Format(time.RFC3339))
	}
	return nil
}

// filterReason returns why the choices leave r out, or "" to keep it. lang
// is the battle's language, stored or detected.
func (o *Options) filterReason(r *rlhf.Record, lang string) string {
	b, v := &r.Battle, &r.Vote
	switch {
	case !o.Since.IsZero() && v.CreatedAt.Before(o.Since):
		return "before --since"
	case !o.Until.IsZero() && !v.CreatedAt.Before(o.Until):
		return "not before --until"
	case len(o.Models) > 0 && !contains(o.Models, b.ModelA) && !contains(o.Models, b.ModelB):
		return "model not chosen"
	case len(o.Sources) > 0 && !contains(o.Sources, b.Source):
		return "source not chosen"
	case len(o.Languages) > 0 && !containsFold(o.Languages, lang):
		return "language not chosen"
	case len(o.Categories) > 0 && !containsFold(o.Categories, b.Category):
		return "category not chosen"
	case o.MinStrength != "" && (v.Strength == "" || v.Strength.Rank() < o.MinStrength.Rank()):
		return "weaker than --min-strength"
	case o.Scope != "" && !v.Scope.Allows(o.Scope):
		return "consent narrower than --scope"
	}
	if o.Split != SplitAll {
		test := InTestSplit(splitKey(b), o.testFraction())
		if test != (o.Split == SplitTest) {
			return "other split"
		}
	}
	return ""
}

func (o *Options) testFraction() float64 {
	if o.TestFraction == 0 {
		return DefaultTestFraction
	}
	return o.TestFraction
}

// splitKey is the text whose hash places a battle in a split: its first
// prompt, so that every battle on the same prompt lands on the same side.
func splitKey(b *rlhf.Battle) string {
	if len(b.Turns) == 0 {
		return ""
	}
	return b.Turns[0].Prompt
}

// InTestSplit reports whether a battle whose first prompt is prompt belongs
// to the test split: the first 8 bytes of SHA-256(prompt), big-endian,
// modulo 10,000 are below fraction × 10,000. Anyone can recompute it.
func InTestSplit(prompt string, fraction float64) bool {
	sum := sha256.Sum256([]byte(prompt))
	bucket := binary.BigEndian.Uint64(sum[:8]) % 10000
	return float64(bucket) < fraction*10000
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func containsFold(list []string, s string) bool {
	if s == "" {
		return false
	}
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}
