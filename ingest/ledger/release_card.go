package ledger

import (
	"fmt"
	"strings"

	"github.com/agora-rlhf/agora/rlhf"
	"github.com/agora-rlhf/agora/rlhf/formats"
)

// releaseCard writes the data card of a release: the export's card, with
// no time in it (the state of the log is the release's time), then what
// makes the release checkable: the log's state, the release root, the
// votes left out and why, and the share formula.
func releaseCard(cfg *ReleaseConfig, rel *Release, st formats.Stats, data string) ([]byte, error) {
	var b strings.Builder
	cmd := fmt.Sprintf("agora release --log-size %d --format %s --share-cap %s", rel.LogSize, cfg.Format, cfg.Cap.RatString())
	switch s := cfg.Options.Scope; { // the default is left out, so that older cards read the same
	case s == "":
		cmd += " --scope all"
	case s != rlhf.DefaultScope:
		cmd += " --scope " + string(s)
	}
	card := formats.Card{Title: "Agora preference data: release " + rel.Root.String(), Files: []string{data},
		Licence: cfg.Licence, Command: cmd, Options: cfg.Options, Stats: st}
	if err := formats.WriteCard(&b, card); err != nil {
		return nil, err
	}
	quarantined, erased := 0, 0
	for _, e := range rel.Excluded {
		if e.Reason == "erased" {
			erased++
		} else {
			quarantined++
		}
	}
	fmt.Fprintf(&b, "\n## Release\n\n| | |\n|---|---|\n")
	fmt.Fprintf(&b, "| log | `%s` |\n| state of the log | its first %d leaves, root `%s` |\n", cfg.Origin, rel.LogSize, rel.LogRoot)
	fmt.Fprintf(&b, "| release root | `%s` |\n| votes in the release | %d |\n", rel.Root, rel.Votes)
	fmt.Fprintf(&b, "| votes left out: contributor quarantined | %d |\n| votes left out: erased | %d |\n", quarantined, erased)
	fmt.Fprintf(&b, "| contributors with a share | %d |\n\n", len(rel.Shares))
	fmt.Fprintf(&b, "`%s` lists every vote in the data by its leaf in the log and the leaf's hash; its lines are the records of a Merkle tree (RFC 6962 hashing) whose root is the release root, appended to the log as a release leaf with `%s`. ", ManifestFile, ReleaseFile)
	fmt.Fprintf(&b, "`%s` lists each vote of the log left out, with the leaf (a quarantine decision or an erasure tombstone) that says why. ", ExcludedFile)
	b.WriteString("`agora verify --release DIR --leaf N` proves a vote's leaf is in the release.\n\n")
	fmt.Fprintf(&b, "## Shares\n\n`%s` gives each contributor (the log's pseudonym, as in the data's judge column) their share of this release; its SHA-256 is in the log as a shares leaf.\n\n", SharesFile)
	fmt.Fprintf(&b, "| | |\n|---|---|\n| ordinary votes (O) | %d |\n| scored gold answers (n) | %d |\n| right ones (c) | %d |\n", rel.Population.Votes, rel.Population.Gold, rel.Population.Correct)
	fmt.Fprintf(&b, "| gold strength (RHO) | %s |\n| a right gold answer is worth (Right) | %s |\n| a wrong one (Wrong) | %s |\n\n", cfg.GoldStrength.RatString(), rel.Quality.Right.RatString(), rel.Quality.Wrong.RatString())
	b.WriteString(strings.NewReplacer("CAP", cfg.Cap.RatString(), "RHO", cfg.GoldStrength.RatString()).Replace(ShareFormula) + "\n")
	return []byte(b.String()), nil
}
