package store

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
