package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/agora-rlhf/agora/rlhf"
)

// LabsMigration creates the tables of accounts and their API tokens, the
// model registry and campaigns (accounts.go, registry.go, campaigns.go).
const LabsMigration = `CREATE TABLE accounts (
		id         TEXT PRIMARY KEY,
		kind       TEXT NOT NULL,
		name       TEXT NOT NULL,
		created_at INTEGER NOT NULL,
		disabled   INTEGER NOT NULL DEFAULT 0
	);
	CREATE TABLE account_tokens (
		hash       TEXT PRIMARY KEY, -- hex SHA-256 of the token; the token itself is never stored
		account_id TEXT NOT NULL REFERENCES accounts(id),
		created_at INTEGER NOT NULL
	);
	CREATE INDEX account_tokens_account ON account_tokens(account_id);
	CREATE TABLE models (
		name       TEXT PRIMARY KEY,
		lab        TEXT NOT NULL REFERENCES accounts(id),
		spec       TEXT NOT NULL, -- JSON of rlhf.EndpointModel, without the key
		sealed_key BLOB,          -- the API key sealed with AGORA_SECRETS_KEY; NULL when none
		paused     INTEGER NOT NULL,
		created_at INTEGER NOT NULL,
		updated_at INTEGER NOT NULL
	);
	CREATE INDEX models_lab ON models(lab);
	CREATE TABLE campaigns (
		id          TEXT PRIMARY KEY,
		lab         TEXT NOT NULL REFERENCES accounts(id),
		name        TEXT NOT NULL,
		models      TEXT NOT NULL, -- JSON array of public model names
		vote_target INTEGER NOT NULL,
		status      TEXT NOT NULL,
		created_at  INTEGER NOT NULL,
		updated_at  INTEGER NOT NULL
	);
	CREATE INDEX campaigns_lab ON campaigns(lab);
	CREATE TABLE campaign_prompts (
		campaign_id TEXT NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
		idx         INTEGER NOT NULL,
		prompt_id   TEXT NOT NULL,
		text        TEXT NOT NULL,
		category    TEXT NOT NULL,
		language    TEXT NOT NULL,
		served      INTEGER NOT NULL DEFAULT 0, -- battles started with it
		PRIMARY KEY (campaign_id, idx)
	) WITHOUT ROWID;
	CREATE INDEX campaign_prompts_next ON campaign_prompts(campaign_id, served, idx);
	CREATE INDEX battles_campaign ON battles(campaign_id) WHERE campaign_id != '';`

// CreateAccount stores a new account. It fails with rlhf.EConflict when
// the id is taken.
func (s *Store) CreateAccount(ctx context.Context, a *rlhf.Account) error {
	if err := a.Validate(); err != nil {
		return err
	}
	err := s.do(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO accounts (id, kind, name, created_at, disabled) VALUES (?, ?, ?, ?, ?)`,
			a.ID, string(a.Kind), a.Name, ms(a.CreatedAt), a.Disabled)
		return err
	})
	if isUnique(err, "accounts.id") {
		return rlhf.Errorf(rlhf.EConflict, "account %q exists", a.ID)
	}
	if err != nil {
		return fmt.Errorf("create account %s: %w", a.ID, err)
	}
	return nil
}

const accountColumns = `id, kind, name, created_at, disabled`

func scanAccount(row scanner) (*rlhf.Account, error) {
	var a rlhf.Account
	var kind string
	var created int64
	if err := row.Scan(&a.ID, &kind, &a.Name, &created, &a.Disabled); err != nil {
		return nil, err
	}
	a.Kind, a.CreatedAt = rlhf.AccountKind(kind), fromMS(created)
	return &a, nil
}

// Account returns the account with id, or rlhf.ENotFound.
func (s *Store) Account(ctx context.Context, id string) (*rlhf.Account, error) {
	a, err := scanAccount(s.read.QueryRowContext(ctx, `SELECT `+accountColumns+` FROM accounts WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, rlhf.Errorf(rlhf.ENotFound, "no account %q", id)
	}
	if err != nil {
		return nil, fmt.Errorf("read account %s: %w", id, err)
	}
	return a, nil
}

// Accounts returns the accounts of kind, sorted by id.
func (s *Store) Accounts(ctx context.Context, kind rlhf.AccountKind) ([]rlhf.Account, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+accountColumns+` FROM accounts WHERE kind = ? ORDER BY id`, string(kind))
	if err != nil {
		return nil, fmt.Errorf("list %s accounts: %w", kind, err)
	}
	defer rows.Close()
	out := []rlhf.Account{}
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, fmt.Errorf("list %s accounts: %w", kind, err)
		}
		out = append(out, *a)
	}
	return out, rows.Err()
}

// AddToken stores the hash of a new API token of account id. The account
// must exist and not be disabled.
func (s *Store) AddToken(ctx context.Context, id, hash string, at time.Time) error {
	err := s.do(ctx, func(tx *sql.Tx) error {
		var disabled bool
		err := tx.QueryRowContext(ctx, `SELECT disabled FROM accounts WHERE id = ?`, id).Scan(&disabled)
		if errors.Is(err, sql.ErrNoRows) {
			return rlhf.Errorf(rlhf.ENotFound, "no account %q", id)
		}
		if err != nil {
			return err
		}
		if disabled {
			return rlhf.Errorf(rlhf.EConflict, "account %q is disabled", id)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO account_tokens (hash, account_id, created_at) VALUES (?, ?, ?)`, hash, id, ms(at))
		return err
	})
	if err != nil {
		return fmt.Errorf("add a token to account %s: %w", id, err)
	}
	return nil
}

// AccountByToken returns the enabled account that owns the token with
// hash, or rlhf.EUnauthorized.
func (s *Store) AccountByToken(ctx context.Context, hash string) (*rlhf.Account, error) {
	a, err := scanAccount(s.read.QueryRowContext(ctx, `SELECT a.id, a.kind, a.name, a.created_at, a.disabled
		FROM account_tokens t JOIN accounts a ON a.id = t.account_id WHERE t.hash = ? AND a.disabled = 0`, hash))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, rlhf.Errorf(rlhf.EUnauthorized, "unknown or revoked token")
	}
	if err != nil {
		return nil, fmt.Errorf("look up a token: %w", err)
	}
	return a, nil
}

// DisableAccount revokes every token of account id and marks it disabled.
func (s *Store) DisableAccount(ctx context.Context, id string) error {
	err := s.do(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE accounts SET disabled = 1 WHERE id = ?`, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return rlhf.Errorf(rlhf.ENotFound, "no account %q", id)
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM account_tokens WHERE account_id = ?`, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("disable account %s: %w", id, err)
	}
	return nil
}

// RevokeTokens deletes every token of account id and returns how many.
func (s *Store) RevokeTokens(ctx context.Context, id string) (int64, error) {
	var n int64
	err := s.do(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM account_tokens WHERE account_id = ?`, id)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("revoke tokens of account %s: %w", id, err)
	}
	return n, nil
}
