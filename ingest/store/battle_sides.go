package store

import (
	"context"
	"database/sql"
	"fmt"
)

// BattleSidesMigration keeps how many sides of the arena's own battles
// (source 'arena') each model took, for the leaderboard policy's steering
// (BattleSides): triggers count every battle inserted, deleted (erasure)
// or changed, so the server reads a row per model at start instead of
// scanning every battle (at 1,000,000 battles that scan took most of the
// time to /readyz). Existing stores are counted once, here.
const BattleSidesMigration = `CREATE TABLE battle_sides (
		model TEXT PRIMARY KEY,
		sides INTEGER NOT NULL
	) WITHOUT ROWID;
	INSERT INTO battle_sides (model, sides)
		SELECT model, count(*) FROM (
			SELECT model_a AS model FROM battles WHERE source = 'arena'
			UNION ALL SELECT model_b FROM battles WHERE source = 'arena')
		GROUP BY model;
	CREATE TRIGGER battle_sides_insert AFTER INSERT ON battles WHEN new.source = 'arena' BEGIN
		INSERT INTO battle_sides (model, sides) VALUES (new.model_a, 1) ON CONFLICT (model) DO UPDATE SET sides = sides + 1;
		INSERT INTO battle_sides (model, sides) VALUES (new.model_b, 1) ON CONFLICT (model) DO UPDATE SET sides = sides + 1;
	END;
	CREATE TRIGGER battle_sides_delete AFTER DELETE ON battles WHEN old.source = 'arena' BEGIN
		UPDATE battle_sides SET sides = sides - 1 WHERE model = old.model_a;
		UPDATE battle_sides SET sides = sides - 1 WHERE model = old.model_b;
		DELETE FROM battle_sides WHERE model IN (old.model_a, old.model_b) AND sides <= 0;
	END;
	CREATE TRIGGER battle_sides_update_old AFTER UPDATE OF model_a, model_b, source ON battles WHEN old.source = 'arena' BEGIN
		UPDATE battle_sides SET sides = sides - 1 WHERE model = old.model_a;
		UPDATE battle_sides SET sides = sides - 1 WHERE model = old.model_b;
		DELETE FROM battle_sides WHERE model IN (old.model_a, old.model_b) AND sides <= 0;
	END;
	CREATE TRIGGER battle_sides_update_new AFTER UPDATE OF model_a, model_b, source ON battles WHEN new.source = 'arena' BEGIN
		INSERT INTO battle_sides (model, sides) VALUES (new.model_a, 1) ON CONFLICT (model) DO UPDATE SET sides = sides + 1;
		INSERT INTO battle_sides (model, sides) VALUES (new.model_b, 1) ON CONFLICT (model) DO UPDATE SET sides = sides + 1;
	END;`

// withoutSideTriggers runs writeRows with battle_sides' insert and delete
// triggers dropped, then counts the arena's battles with seq from first on
// into battle_sides in one statement and makes the triggers again, all in
// tx. An import writes its battles in multi-row INSERTs: a trigger on them
// makes SQLite keep a statement journal (the trigger's upsert may abort),
// which copies every page each statement changes. Battles writeRows
// deletes again were not counted, as they are not when the triggers are
// off; writeRows must not delete battles stored before it.
func withoutSideTriggers(ctx context.Context, tx *sql.Tx, first int64, writeRows func() error) error {
	var makeSQL []string
	for _, name := range []string{"battle_sides_insert", "battle_sides_delete"} {
		var q string
		if err := tx.QueryRowContext(ctx, `SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?`, name).Scan(&q); err != nil {
			return fmt.Errorf("trigger %s: %w", name, err)
		}
		if _, err := tx.ExecContext(ctx, `DROP TRIGGER `+name); err != nil {
			return fmt.Errorf("drop trigger %s: %w", name, err)
		}
		makeSQL = append(makeSQL, q)
	}
	if err := writeRows(); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, countSidesSQL, first); err != nil {
		return fmt.Errorf("count the battles' sides: %w", err)
	}
	for _, q := range makeSQL {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("make a trigger again: %w", err)
		}
	}
	return nil
}

// countSidesSQL adds the sides of the arena's battles with seq ≥ ?1 to
// battle_sides.
const countSidesSQL = `INSERT INTO battle_sides (model, sides)
	SELECT model, count(*) FROM (
		SELECT model_a AS model FROM battles WHERE seq >= ?1 AND source = 'arena'
		UNION ALL SELECT model_b FROM battles WHERE seq >= ?1 AND source = 'arena')
	WHERE true GROUP BY model
	ON CONFLICT (model) DO UPDATE SET sides = sides + excluded.sides`
