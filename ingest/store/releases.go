package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/agora-rlhf/agora/ingest/ledger"
	"github.com/agora-rlhf/agora/rlhf"
)

// ReleaseMigration keeps the releases appended to the log: their manifest
// and share table, for inclusion proofs and contributors' share history.
// The release and shares leaves keep their records in log_leaves.
const ReleaseMigration = `CREATE TABLE releases (
	root     TEXT PRIMARY KEY, -- the release root, base64
	leaf     INTEGER NOT NULL, -- the release leaf's index
	log_size INTEGER NOT NULL, -- the state of the log it was built from
	manifest BLOB NOT NULL,
	shares   BLOB NOT NULL     -- the share table
);`

// ReleaseKeyMigration keys releases by their root and the state of the log
// they were built from: the same votes released from two states of the log
// (with only releases' leaves between them) have one root but two release
// records. It also keeps each release's votes by licence (as its card
// counts them), for the release list and the transparency report.
const ReleaseKeyMigration = `CREATE TABLE releases_by_state (
	root     TEXT NOT NULL,    -- the release root, base64
	leaf     INTEGER NOT NULL, -- the release leaf's index
	log_size INTEGER NOT NULL, -- the state of the log it was built from
	manifest BLOB NOT NULL,
	shares   BLOB NOT NULL,    -- the share table
	licences TEXT NOT NULL DEFAULT '', -- "SPDX id<TAB>votes" lines; '' for releases kept before
	PRIMARY KEY (root, log_size)
);
INSERT INTO releases_by_state (root, leaf, log_size, manifest, shares)
	SELECT root, leaf, log_size, manifest, shares FROM releases;
DROP TABLE releases;
ALTER TABLE releases_by_state RENAME TO releases;`

// PutRelease appends the release and shares leaves of r and keeps r, in
// one transaction, and returns the release leaf's index. A release already
// kept with the same root, state of the log and record is not appended
// again.
func (s *Store) PutRelease(ctx context.Context, r *ledger.StoredRelease) (int64, error) {
	if k, _ := ledger.KindOf(r.Record); k != ledger.KindRelease {
		return 0, rlhf.Errorf(rlhf.EInvalid, "not a release record")
	}
	if k, _ := ledger.KindOf(r.Shares); k != ledger.KindShares {
		return 0, rlhf.Errorf(rlhf.EInvalid, "not a shares record")
	}
	root := r.Root.String()
	var leaf int64
	err := s.do(ctx, func(tx *sql.Tx) error {
		if err := s.flushLog(ctx, tx); err != nil { // the query reads log_leaves
			return err
		}
		var data []byte
		err := tx.QueryRowContext(ctx, `SELECT r.leaf, l.data FROM releases r JOIN log_leaves l ON l.idx = r.leaf
			WHERE r.root = ? AND r.log_size = ?`, root, r.LogSize).Scan(&leaf, &data)
		if err == nil {
			if string(data) != string(r.Record) {
				return rlhf.Errorf(rlhf.EConflict, "release %s is in the log (leaf %d) with another record", root, leaf)
			}
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("look up release %s: %w", root, err)
		}
		if leaf, err = s.appendLeaf(ctx, tx, ledger.KindRelease, "release "+root, r.Record, r.Record); err != nil {
			return err
		}
		if _, err := s.appendLeaf(ctx, tx, ledger.KindShares, "shares "+root, r.Shares, r.Shares); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO releases (root, leaf, log_size, manifest, shares, licences) VALUES (?, ?, ?, ?, ?, ?)`,
			root, leaf, r.LogSize, r.Manifest, r.Table, licencesText(r.Licences))
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("keep release %s: %w", root, err)
	}
	return leaf, nil
}

// Releases returns the releases kept, oldest first, with their records
// and share tables but not their manifests (ReleaseManifest).
func (s *Store) Releases(ctx context.Context) ([]*ledger.StoredRelease, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT r.root, r.leaf, r.log_size, r.shares, r.licences, l.data, coalesce(sh.data, x'')
		FROM releases r JOIN log_leaves l ON l.idx = r.leaf LEFT JOIN log_leaves sh ON sh.idx = r.leaf + 1
		ORDER BY r.leaf`)
	if err != nil {
		return nil, fmt.Errorf("read releases: %w", err)
	}
	defer rows.Close()
	var out []*ledger.StoredRelease
	for rows.Next() {
		var r ledger.StoredRelease
		var root, licences string
		if err := rows.Scan(&root, &r.Leaf, &r.LogSize, &r.Table, &licences, &r.Record, &r.Shares); err != nil {
			return nil, fmt.Errorf("read releases: %w", err)
		}
		if r.Licences, err = parseLicences(licences); err != nil {
			return nil, fmt.Errorf("release %s: %w", root, err)
		}
		if r.Root, err = ledger.ReleaseRoot(r.Record); err != nil || r.Root.String() != root {
			return nil, fmt.Errorf("release %s: its leaf %d is not its release record", root, r.Leaf)
		}
		out = append(out, &r)
	}
	return out, rows.Err()
}

// ReleaseManifest returns the manifest of the release with root.
func (s *Store) ReleaseManifest(ctx context.Context, root ledger.Hash) ([]byte, error) {
	var m []byte
	// Releases of one root from several states of the log have one manifest.
	err := s.read.QueryRowContext(ctx, `SELECT manifest FROM releases WHERE root = ? LIMIT 1`, root.String()).Scan(&m)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, rlhf.Errorf(rlhf.ENotFound, "no release with root %s", root)
	}
	if err != nil {
		return nil, fmt.Errorf("read the manifest of release %s: %w", root, err)
	}
	return m, nil
}

// licencesText writes a release's votes by licence as the releases
// table keeps them: "SPDX id<TAB>votes" lines.
func licencesText(ls []ledger.LicenceCount) string {
	var b strings.Builder
	for _, l := range ls {
		fmt.Fprintf(&b, "%s\t%d\n", l.Licence, l.Votes)
	}
	return b.String()
}

// parseLicences reads licencesText's lines.
func parseLicences(text string) ([]ledger.LicenceCount, error) {
	var out []ledger.LicenceCount
	for l := range strings.Lines(text) {
		id, n, ok := strings.Cut(strings.TrimSuffix(l, "\n"), "\t")
		votes, err := strconv.ParseInt(n, 10, 64)
		if !ok || err != nil {
			return nil, fmt.Errorf("malformed licence line %q", l)
		}
		out = append(out, ledger.LicenceCount{Licence: id, Votes: votes})
	}
	return out, nil
}

// PointsMigration indexes votes by contributor, for their points and
// receipts.
const PointsMigration = `CREATE INDEX votes_contributor ON votes(contributor_id, seq);`

// ContributorLeaves returns the newest limit votes of contributor that
// have a leaf in the log, newest first, and how many they have in all.
// Each says what its leaf says of its gold battle, if any.
func (s *Store) ContributorLeaves(ctx context.Context, contributor string, limit int) ([]ledger.ContributorLeaf, int64, error) {
	var n int64
	err := s.read.QueryRowContext(ctx, `SELECT count(*) FROM votes v JOIN log_leaves l ON l.idx = v.leaf AND l.kind = ?
		WHERE v.contributor_id = ?`, int(ledger.KindVote), contributor).Scan(&n)
	if err != nil {
		return nil, 0, fmt.Errorf("count the votes of %s: %w", contributor, err)
	}
	rows, err := s.read.QueryContext(ctx, `SELECT l.idx, v.id, v.created_at, `+leafGoldSQL+`
		FROM votes v JOIN log_leaves l ON l.idx = v.leaf AND l.kind = ? JOIN battles b ON b.id = v.battle_id
		WHERE v.contributor_id = ? ORDER BY v.seq DESC LIMIT ?`, int(ledger.KindVote), contributor, limit)
	if err != nil {
		return nil, 0, fmt.Errorf("read the votes of %s: %w", contributor, err)
	}
	defer rows.Close()
	out := []ledger.ContributorLeaf{}
	for rows.Next() {
		var l ledger.ContributorLeaf
		var at int64
		if err := rows.Scan(&l.Leaf, &l.Vote, &at, &l.Gold); err != nil {
			return nil, 0, fmt.Errorf("read the votes of %s: %w", contributor, err)
		}
		l.At = fromMS(at)
		out = append(out, l)
	}
	return out, n, rows.Err()
}

// leafGoldSQL is what a vote's leaf says of its battle, a
// ledger.GoldAnswer: 0 an ordinary battle (no gold line, no model named
// gold:…), 1 a gold battle its leaf does not score, 2 a right gold
// answer, 3 a wrong one. v is the vote, b its battle.
const leafGoldSQL = `CASE WHEN v.leaf_gold = '' AND b.model_a NOT GLOB 'gold:*' AND b.model_b NOT GLOB 'gold:*' THEN 0
	WHEN substr(v.leaf_gold, 1, 2) NOT IN ('a:', 'b:') THEN 1
	WHEN substr(v.leaf_gold, 1, 1) = v.winner THEN 2 ELSE 3 END`

// ContributorTally counts contributor's votes with a leaf in the log as a
// release does: ordinary votes, scored gold answers, right ones.
func (s *Store) ContributorTally(ctx context.Context, contributor string) (ledger.Tally, error) {
	var t ledger.Tally
	err := s.read.QueryRowContext(ctx, `SELECT coalesce(sum(g = 0), 0), coalesce(sum(g >= 2), 0), coalesce(sum(g = 2), 0)
		FROM (SELECT `+leafGoldSQL+` AS g FROM votes v JOIN log_leaves l ON l.idx = v.leaf AND l.kind = ?
		JOIN battles b ON b.id = v.battle_id WHERE v.contributor_id = ?)`, int(ledger.KindVote), contributor).
		Scan(&t.Votes, &t.Gold, &t.Correct)
	if err != nil {
		return t, fmt.Errorf("count the votes of %s: %w", contributor, err)
	}
	return t, nil
}

// LatestShareTable returns the share table of the newest release, or nil
// when there is none.
func (s *Store) LatestShareTable(ctx context.Context) ([]byte, error) {
	var table []byte
	err := s.read.QueryRowContext(ctx, `SELECT shares FROM releases ORDER BY leaf DESC LIMIT 1`).Scan(&table)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the newest share table: %w", err)
	}
	return table, nil
}
