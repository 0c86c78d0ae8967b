package store

// LayoutMigration lays battles and turns out in the order they are
// written, so that saving, importing and exporting them is sequential I/O.
//
// Before it, turns were a WITHOUT ROWID table keyed on the battle's id.
// Ids are random (UUIDs, hashes of imported lines), so every turn went to a
// random place in a tree of all the text, and every seek read the whole
// rows (2 KB and more) of the cells it compared: an import of 1M Arena
// battles with their conversations ran 4.4 times slower than a plain
// insert of the same rows.
//
// Now a battle has an internal sequential key, seq (its rowid, so that a
// VACUUM keeps it), and its external id is in a unique index. Turns are
// kept by rowid, in the order they are written, under the key (battle_seq,
// idx): a battle's turns are written together or soon after each other, so
// the turns' rows are in the order of that key and reading in it is
// sequential. Only small integer and id indexes take random inserts.
//
// Existing stores are copied into the new tables once, battles in the
// order they were stored and turns in the order of their battles. (migrate
// runs every migration with foreign keys off and checks them before it
// commits, as SQLite's procedure for changing a table asks.)
const LayoutMigration = `CREATE TABLE battles_seq (
		seq            INTEGER PRIMARY KEY,
		id             TEXT NOT NULL UNIQUE,
		contributor_id TEXT NOT NULL,
		model_a        TEXT NOT NULL,
		model_b        TEXT NOT NULL,
		status         TEXT NOT NULL,
		created_at     INTEGER NOT NULL,
		updated_at     INTEGER NOT NULL,
		source         TEXT NOT NULL DEFAULT 'arena',
		campaign_id    TEXT NOT NULL DEFAULT '',
		category       TEXT NOT NULL DEFAULT '',
		language       TEXT NOT NULL DEFAULT '',
		identity_leak  TEXT NOT NULL DEFAULT '',
		gold           TEXT NOT NULL DEFAULT ''
	);
	INSERT INTO battles_seq (id, contributor_id, model_a, model_b, status, created_at, updated_at,
		source, campaign_id, category, language, identity_leak, gold)
		SELECT id, contributor_id, model_a, model_b, status, created_at, updated_at,
			source, campaign_id, category, language, identity_leak, gold
		FROM battles ORDER BY rowid;
	CREATE TABLE turns_seq (
		battle_seq    INTEGER NOT NULL REFERENCES battles(seq),
		idx           INTEGER NOT NULL,
		prompt        TEXT NOT NULL,
		at            INTEGER NOT NULL,
		a_content     TEXT NOT NULL,
		a_finish      TEXT NOT NULL,
		a_tokens      INTEGER NOT NULL,
		a_ttft_us     INTEGER NOT NULL,
		a_duration_us INTEGER NOT NULL,
		a_error_code  TEXT NOT NULL,
		a_error       TEXT NOT NULL,
		b_content     TEXT NOT NULL,
		b_finish      TEXT NOT NULL,
		b_tokens      INTEGER NOT NULL,
		b_ttft_us     INTEGER NOT NULL,
		b_duration_us INTEGER NOT NULL,
		b_error_code  TEXT NOT NULL,
		b_error       TEXT NOT NULL,
		PRIMARY KEY (battle_seq, idx)
	);
	INSERT INTO turns_seq
		SELECT b.seq, t.idx, t.prompt, t.at,
			t.a_content, t.a_finish, t.a_tokens, t.a_ttft_us, t.a_duration_us, t.a_error_code, t.a_error,
			t.b_content, t.b_finish, t.b_tokens, t.b_ttft_us, t.b_duration_us, t.b_error_code, t.b_error
		FROM battles_seq b JOIN turns t ON t.battle_id = b.id ORDER BY b.seq, t.idx;
	DROP TABLE turns;
	DROP TABLE battles;
	ALTER TABLE battles_seq RENAME TO battles;
	ALTER TABLE turns_seq RENAME TO turns;
	CREATE INDEX battles_status ON battles(status, updated_at);
	CREATE INDEX battles_campaign ON battles(campaign_id) WHERE campaign_id != '';
	CREATE INDEX battles_contributor ON battles(contributor_id);`
