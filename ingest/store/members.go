package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/agora-rlhf/agora/rlhf"
)

// MembersMigration keeps contributors' accounts (members), the contributor
// ids linked to each, their passkeys, their OpenID Connect identities and
// their signed-in sessions.
const MembersMigration = `CREATE TABLE members (
		id             TEXT PRIMARY KEY,
		contributor_id TEXT NOT NULL UNIQUE,
		name           TEXT NOT NULL,
		created_at     INTEGER NOT NULL
	);
	CREATE TABLE member_contributors (
		contributor_id TEXT PRIMARY KEY,
		member_id      TEXT NOT NULL REFERENCES members(id),
		linked_at      INTEGER NOT NULL
	);
	CREATE INDEX member_contributors_member ON member_contributors(member_id);
	CREATE TABLE passkeys (
		id         BLOB PRIMARY KEY,
		member_id  TEXT NOT NULL REFERENCES members(id),
		data       BLOB NOT NULL, -- the credential as the WebAuthn library keeps it (JSON)
		created_at INTEGER NOT NULL,
		used_at    INTEGER NOT NULL
	);
	CREATE INDEX passkeys_member ON passkeys(member_id);
	CREATE TABLE member_identities (
		issuer     TEXT NOT NULL,
		subject    TEXT NOT NULL,
		member_id  TEXT NOT NULL REFERENCES members(id),
		created_at INTEGER NOT NULL,
		PRIMARY KEY (issuer, subject)
	) WITHOUT ROWID;
	CREATE TABLE member_sessions (
		id         TEXT PRIMARY KEY,
		member_id  TEXT NOT NULL REFERENCES members(id),
		created_at INTEGER NOT NULL,
		revoked_at INTEGER NOT NULL DEFAULT 0
	);
	CREATE INDEX member_sessions_member ON member_sessions(member_id);`

// CreateMember stores a new member and links its contributor id to it.
// A contributor id that already belongs to a member is rlhf.EConflict.
func (s *Store) CreateMember(ctx context.Context, m rlhf.Member) error {
	return s.do(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO members (id, contributor_id, name, created_at) VALUES (?, ?, ?, ?)`,
			m.ID, m.Contributor, m.Name, ms(m.CreatedAt))
		if err == nil {
			_, err = tx.ExecContext(ctx, `INSERT INTO member_contributors (contributor_id, member_id, linked_at) VALUES (?, ?, ?)`,
				m.Contributor, m.ID, ms(m.CreatedAt))
		}
		if err != nil && strings.Contains(err.Error(), "UNIQUE") {
			return rlhf.Errorf(rlhf.EConflict, "contributor %s already belongs to an account", m.Contributor)
		}
		if err != nil {
			return fmt.Errorf("create member %s: %w", m.ID, err)
		}
		return nil
	})
}

// Member returns member id with its linked contributor ids, or
// rlhf.ENotFound.
func (s *Store) Member(ctx context.Context, id string) (*rlhf.Member, error) {
	m := rlhf.Member{ID: id}
	var created int64
	err := s.read.QueryRowContext(ctx, `SELECT contributor_id, name, created_at FROM members WHERE id = ?`, id).
		Scan(&m.Contributor, &m.Name, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, rlhf.Errorf(rlhf.ENotFound, "no account %q", id)
	}
	if err != nil {
		return nil, fmt.Errorf("read member %s: %w", id, err)
	}
	m.CreatedAt = fromMS(created)
	rows, err := s.read.QueryContext(ctx, `SELECT contributor_id FROM member_contributors WHERE member_id = ?
		ORDER BY contributor_id = ? DESC, linked_at, contributor_id`, id, m.Contributor)
	if err != nil {
		return nil, fmt.Errorf("read member %s: %w", id, err)
	}
	defer rows.Close()
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, fmt.Errorf("read member %s: %w", id, err)
		}
		m.Linked = append(m.Linked, c)
	}
	return &m, rows.Err()
}

// MemberOf returns the member that contributor id is linked to, or "".
func (s *Store) MemberOf(ctx context.Context, contributor string) (string, error) {
	var id string
	err := s.read.QueryRowContext(ctx, `SELECT member_id FROM member_contributors WHERE contributor_id = ?`, contributor).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("look up the member of %s: %w", contributor, err)
	}
	return id, nil
}

// LinkContributor links an anonymous contributor id to member, unless it
// is linked to a member already (then it stays where it is).
func (s *Store) LinkContributor(ctx context.Context, member, contributor string, at time.Time) error {
	return s.do(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO member_contributors (contributor_id, member_id, linked_at) VALUES (?, ?, ?)`,
			contributor, member, ms(at))
		if err != nil {
			return fmt.Errorf("link %s to member %s: %w", contributor, member, err)
		}
		return nil
	})
}

// AddPasskey stores a member's new passkey; a credential id seen before
// is rlhf.EConflict.
func (s *Store) AddPasskey(ctx context.Context, p rlhf.Passkey) error {
	return s.do(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO passkeys (id, member_id, data, created_at, used_at) VALUES (?, ?, ?, ?, ?)`,
			p.ID, p.Member, p.Data, ms(p.CreatedAt), ms(p.UsedAt))
		if err != nil && strings.Contains(err.Error(), "UNIQUE") {
			return rlhf.Errorf(rlhf.EConflict, "this passkey is registered already")
		}
		if err != nil {
			return fmt.Errorf("add passkey of %s: %w", p.Member, err)
		}
		return nil
	})
}

// Passkeys returns a member's passkeys, oldest first.
func (s *Store) Passkeys(ctx context.Context, member string) ([]rlhf.Passkey, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT id, data, created_at, used_at FROM passkeys WHERE member_id = ? ORDER BY created_at, id`, member)
	if err != nil {
		return nil, fmt.Errorf("read passkeys of %s: %w", member, err)
	}
	defer rows.Close()
	var out []rlhf.Passkey
	for rows.Next() {
		p := rlhf.Passkey{Member: member}
		var created, used int64
		if err := rows.Scan(&p.ID, &p.Data, &created, &used); err != nil {
			return nil, fmt.Errorf("read passkeys of %s: %w", member, err)
		}
		p.CreatedAt, p.UsedAt = fromMS(created), fromMS(used)
		out = append(out, p)
	}
	return out, rows.Err()
}

// UsePasskey records a sign-in with passkey id and its updated data (the
// authenticator's sign count).
func (s *Store) UsePasskey(ctx context.Context, id, data []byte, at time.Time) error {
	return s.do(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE passkeys SET data = ?, used_at = ? WHERE id = ?`, data, ms(at), id)
		if err != nil {
			return fmt.Errorf("update passkey: %w", err)
		}
		return nil
	})
}

// MemberByIdentity returns the member signed in as subject at issuer, or "".
func (s *Store) MemberByIdentity(ctx context.Context, issuer, subject string) (string, error) {
	var id string
	err := s.read.QueryRowContext(ctx, `SELECT member_id FROM member_identities WHERE issuer = ? AND subject = ?`, issuer, subject).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("look up an OpenID identity: %w", err)
	}
	return id, nil
}

// AddIdentity links subject at issuer to member; one already linked is
// rlhf.EConflict.
func (s *Store) AddIdentity(ctx context.Context, issuer, subject, member string, at time.Time) error {
	return s.do(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO member_identities (issuer, subject, member_id, created_at) VALUES (?, ?, ?, ?)`,
			issuer, subject, member, ms(at))
		if err != nil && strings.Contains(err.Error(), "UNIQUE") {
			return rlhf.Errorf(rlhf.EConflict, "this identity is linked to an account already")
		}
		if err != nil {
			return fmt.Errorf("link an OpenID identity to %s: %w", member, err)
		}
		return nil
	})
}

// CreateSession stores a new signed-in session.
func (s *Store) CreateSession(ctx context.Context, se rlhf.MemberSession) error {
	return s.do(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO member_sessions (id, member_id, created_at) VALUES (?, ?, ?)`,
			se.ID, se.Member, ms(se.CreatedAt))
		if err != nil {
			return fmt.Errorf("create a session of %s: %w", se.Member, err)
		}
		return nil
	})
}

// Session returns session id, revoked or not, or nil when there is none.
func (s *Store) Session(ctx context.Context, id string) (*rlhf.MemberSession, error) {
	se := rlhf.MemberSession{ID: id}
	var created, revoked int64
	err := s.read.QueryRowContext(ctx, `SELECT member_id, created_at, revoked_at FROM member_sessions WHERE id = ?`, id).
		Scan(&se.Member, &created, &revoked)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read session: %w", err)
	}
	se.CreatedAt, se.RevokedAt = fromMS(created), fromMS(revoked)
	return &se, nil
}

// RevokeSessions revokes member's sessions that are not revoked yet: all
// of them, or only session id when id is not empty. It returns how many.
func (s *Store) RevokeSessions(ctx context.Context, member, id string, at time.Time) (int64, error) {
	var n int64
	err := s.do(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE member_sessions SET revoked_at = ?
			WHERE member_id = ? AND revoked_at = 0 AND (? = '' OR id = ?)`, ms(at), member, id, id)
		if err != nil {
			return fmt.Errorf("revoke sessions of %s: %w", member, err)
		}
		n, _ = res.RowsAffected()
		return nil
	})
	return n, err
}
