package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/agora-rlhf/agora/rlhf"
)

// NarrowingMigration keeps the history of contributors' narrowings, for
// their download (docs/consent.md); an erasure deletes it.
const NarrowingMigration = `CREATE TABLE narrowings (
		seq            INTEGER PRIMARY KEY AUTOINCREMENT,
		contributor_id TEXT NOT NULL,
		scope          TEXT NOT NULL,
		vote_ids       TEXT NOT NULL, -- JSON array of the votes named; [] for all
		narrowed       INTEGER NOT NULL,
		at             INTEGER NOT NULL
	);
	CREATE INDEX narrowings_contributor ON narrowings(contributor_id);`

// recordNarrowing keeps n, which narrowed votes, in tx.
func recordNarrowing(ctx context.Context, tx *sql.Tx, n rlhf.Narrowing, narrowed int) error {
	ids, _ := json.Marshal(append([]string{}, n.VoteIDs...))
	_, err := tx.ExecContext(ctx, `INSERT INTO narrowings (contributor_id, scope, vote_ids, narrowed, at) VALUES (?, ?, ?, ?, ?)`,
		n.Contributor, string(n.Scope), string(ids), narrowed, ms(n.At))
	if err != nil {
		return fmt.Errorf("keep the narrowing: %w", err)
	}
	return nil
}

// addRecords fills in d what the store keeps about the contributor besides
// battles and votes: terms, narrowings, quarantine decisions, gold
// accuracy and account.
func (s *Store) addRecords(ctx context.Context, d *rlhf.ContributorData) error {
	id := d.Contributor
	var err error
	if d.Terms, err = s.termsOf(ctx, id); err != nil {
		return err
	}
	if d.Narrowings, err = s.narrowingsOf(ctx, id); err != nil {
		return err
	}
	if d.Quarantine, err = s.quarantineOf(ctx, id); err != nil {
		return err
	}
	if d.Gold, err = s.GoldScore(ctx, id); err != nil {
		return err
	}
	d.Account, err = s.accountOf(ctx, id)
	return err
}

// rowsOf runs query and scans each row with scan.
func (s *Store) rowsOf(ctx context.Context, what, query string, arg any, scan func(*sql.Rows) error) error {
	rows, err := s.read.QueryContext(ctx, query, arg)
	if err != nil {
		return fmt.Errorf("read %s: %w", what, err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return fmt.Errorf("read %s: %w", what, err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read %s: %w", what, err)
	}
	return nil
}

func (s *Store) termsOf(ctx context.Context, id string) ([]rlhf.TermsAcceptance, error) {
	out := []rlhf.TermsAcceptance{}
	err := s.rowsOf(ctx, "terms accepted", `SELECT version, at FROM terms_accepted WHERE contributor_id = ? ORDER BY at, version`, id,
		func(r *sql.Rows) error {
			var t rlhf.TermsAcceptance
			var at int64
			err := r.Scan(&t.Version, &at)
			t.At = fromMS(at)
			out = append(out, t)
			return err
		})
	return out, err
}

func (s *Store) narrowingsOf(ctx context.Context, id string) ([]rlhf.NarrowingRecord, error) {
	out := []rlhf.NarrowingRecord{}
	err := s.rowsOf(ctx, "narrowings", `SELECT scope, vote_ids, narrowed, at FROM narrowings WHERE contributor_id = ? ORDER BY seq`, id,
		func(r *sql.Rows) error {
			var n rlhf.NarrowingRecord
			var ids string
			var at int64
			if err := r.Scan(&n.Scope, &ids, &n.Narrowed, &at); err != nil {
				return err
			}
			n.At = fromMS(at)
			out = append(out, n)
			return json.Unmarshal([]byte(ids), &out[len(out)-1].VoteIDs)
		})
	return out, err
}

func (s *Store) quarantineOf(ctx context.Context, id string) ([]rlhf.QuarantineEvent, error) {
	out := []rlhf.QuarantineEvent{}
	err := s.rowsOf(ctx, "quarantine decisions", `SELECT contributor_id, action, reason, actor, at FROM quarantine_log WHERE contributor_id = ? ORDER BY seq`, id,
		func(r *sql.Rows) error {
			var ev rlhf.QuarantineEvent
			var at int64
			err := r.Scan(&ev.Contributor, &ev.Action, &ev.Reason, &ev.Actor, &at)
			ev.At = fromMS(at)
			out = append(out, ev)
			return err
		})
	return out, err
}

// accountOf returns the account the contributor id is linked to, or nil.
func (s *Store) accountOf(ctx context.Context, id string) (*rlhf.AccountData, error) {
	member, err := s.MemberOf(ctx, id)
	if err != nil || member == "" {
		return nil, err
	}
	m, err := s.Member(ctx, member)
	if err != nil {
		return nil, err
	}
	a := &rlhf.AccountData{Member: *m, Identities: []rlhf.AccountLogin{}, Sessions: []rlhf.SessionRecord{}}
	if a.Passkeys, err = s.Passkeys(ctx, member); err != nil {
		return nil, err
	}
	if a.Passkeys == nil {
		a.Passkeys = []rlhf.Passkey{}
	}
	for i := range a.Passkeys {
		a.Passkeys[i].Data = nil
	}
	err = s.rowsOf(ctx, "identities", `SELECT issuer, subject, created_at FROM member_identities WHERE member_id = ? ORDER BY created_at`, member,
		func(r *sql.Rows) error {
			var l rlhf.AccountLogin
			var at int64
			err := r.Scan(&l.Issuer, &l.Subject, &at)
			l.CreatedAt = fromMS(at)
			a.Identities = append(a.Identities, l)
			return err
		})
	if err != nil {
		return nil, err
	}
	err = s.rowsOf(ctx, "sessions", `SELECT created_at, revoked_at FROM member_sessions WHERE member_id = ? ORDER BY created_at`, member,
		func(r *sql.Rows) error {
			var se rlhf.SessionRecord
			var at, rev int64
			err := r.Scan(&at, &rev)
			se.CreatedAt = fromMS(at)
			if rev != 0 {
				se.RevokedAt = fromMS(rev)
			}
			a.Sessions = append(a.Sessions, se)
			return err
		})
	return a, err
}
