package rlhf

// The kinds of gold battle: one side is a deliberately degraded answer,
// so a careful contributor knows which side wins. See Battle.Gold.
const (
	GoldTruncated = "truncated" // the model's answer, cut short
	GoldShuffled  = "shuffled"  // the model's answer with its sentences out of order
	GoldOffTopic  = "off_topic" // the model's answer to a different prompt
	GoldLanguage  = "language"  // the model's answer to a prompt in another language
)

// GoldKinds lists every kind of gold battle.
var GoldKinds = []string{GoldTruncated, GoldShuffled, GoldOffTopic, GoldLanguage}

// GoldModelPrefix starts the name of a gold battle's degraded side
// ("gold:truncated"), revealed like a model's after the vote.
const GoldModelPrefix = "gold:"

// IsGold reports whether b is a gold battle. Its vote measures the
// contributor, not the models: it is never counted (Record.Counted).
func (b *Battle) IsGold() bool { return b.Gold != "" }

// GoldScored reports whether r's vote scores its contributor's gold
// accuracy: a gold battle with a known right side where no side failed.
// A degraded side that came out the same as the model's answer (a
// truncation of an answer shorter than the cut) has no right side.
func (r *Record) GoldScored() bool {
	return r.Battle.IsGold() && r.Battle.GoldWinner.Valid() && !r.Failed()
}

// GoldCorrect reports whether r's vote picked the right side of its gold
// battle; ties and "both bad" are wrong.
func (r *Record) GoldCorrect() bool {
	return r.GoldScored() && string(r.Vote.Winner) == string(r.Battle.GoldWinner)
}

// GoldScore is a contributor's record on gold battles.
type GoldScore struct {
	Contributor string `json:"contributor"`
	Battles     int    `json:"battles"` // gold battles voted on and scored (Record.GoldScored)
	Correct     int    `json:"correct"`
	// Accuracy is Correct/Battles, 0 with no battles.
	Accuracy float64 `json:"accuracy"`
	// Estimate is the accuracy with a uniform Beta(1, 1) prior,
	// (Correct+1)/(Battles+2): 0.5 for a contributor not yet measured.
	Estimate float64 `json:"estimate"`
}

// NewGoldScore returns the score of correct right answers in battles.
func NewGoldScore(contributor string, battles, correct int) GoldScore {
	s := GoldScore{Contributor: contributor, Battles: battles, Correct: correct,
		Estimate: float64(correct+1) / float64(battles+2)}
	if battles > 0 {
		s.Accuracy = float64(correct) / float64(battles)
	}
	return s
}
