package rlhf

// Anonymous reports whether the battle stayed anonymous until the vote:
// no answer named its own model, provider or family, and no prompt asked
// who the model is.
func (b *Battle) Anonymous() bool { return b.IdentityLeak == "" }

// Counted reports whether the record's vote counts in leaderboards: its
// battle did not fail (Failed), stayed anonymous (Anonymous) and is not a
// gold battle (IsGold: it measures the contributor). It is the
// one rule every leaderboard applies (live, from the store, from files).
// Records that fail it are kept and reported apart: failed battles as
// failed, and never exported as votes; battles that were not anonymous
// and gold battles as uncounted, exported with their flags.
func (r *Record) Counted() bool {
	return !r.Failed() && r.Battle.Anonymous() && !r.Battle.IsGold()
}
