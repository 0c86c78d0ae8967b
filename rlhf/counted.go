package rlhf

// Anonymous reports whether the battle stayed anonymous until the vote:
// no answer named its own model, provider or family, and no prompt asked
// who the model is.
func (b *Battle) Anonymous() bool { return b.IdentityLeak == "" }

// Counted reports whether the record's vote counts in leaderboards. It is
// the one rule every leaderboard applies (live, from the store, from
// files); records that fail it are kept, exported with their flags, and
// reported apart.
func (r *Record) Counted() bool {
	return r.Battle.Anonymous()
}
