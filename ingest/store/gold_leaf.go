package store

import (
	"strings"

	"github.com/agora-rlhf/agora/ingest/ledger"
	"github.com/agora-rlhf/agora/rlhf"
)

// GoldLeafMigration keeps, per vote, the gold line its leaf was written
// with (ledger.Encoder.Vote: "vote 2" records of votes on gold battles):
// "<side>:<kind>", the side being a, b or - (not scored). It is empty for
// votes on ordinary battles and for every vote stored before, whose leaves
// are "vote 1" records and are rebuilt as such.
const GoldLeafMigration = `ALTER TABLE votes ADD COLUMN leaf_gold TEXT NOT NULL DEFAULT '';`

// leafGold is the leaf_gold value of a vote on b.
func leafGold(b *rlhf.Battle) string {
	if !b.IsGold() {
		return ""
	}
	return ledger.GoldSide(b) + ":" + b.Gold
}

// setLeafGold gives b, a battle rebuilt to write its vote's record, the
// gold line the record was written with.
func setLeafGold(b *rlhf.Battle, v string) {
	side, kind, ok := strings.Cut(v, ":")
	if !ok {
		return
	}
	b.Gold = kind
	if side != "-" {
		b.GoldWinner = rlhf.Side(side)
	}
}
