package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/agora-rlhf/agora/rlhf"
)

// CreateModel stores a lab's new endpoint model with its sealed API key
// (m.SealedKey; nil for none). It fails with rlhf.EConflict when the name
// is taken.
func (s *Store) CreateModel(ctx context.Context, m *rlhf.EndpointModel) error {
	spec, err := modelSpec(m)
	if err != nil {
		return err
	}
	err = s.do(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO models (name, lab, spec, sealed_key, paused, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, m.Name, m.Lab, spec, nullBlob(m.SealedKey), m.Paused, ms(m.CreatedAt), ms(m.UpdatedAt))
		return err
	})
	if isUnique(err, "models.name") {
		return rlhf.Errorf(rlhf.EConflict, "model %q exists", m.Name)
	}
	if err != nil {
		return fmt.Errorf("create model %s: %w", m.Name, err)
	}
	return nil
}

// UpdateModel replaces the stored model m.Name, its sealed API key too (nil
// for none). It fails with rlhf.ENotFound when there is no such model.
func (s *Store) UpdateModel(ctx context.Context, m *rlhf.EndpointModel) error {
	spec, err := modelSpec(m)
	if err != nil {
		return err
	}
	err = s.do(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE models SET spec = ?, sealed_key = ?, paused = ?, updated_at = ?
			WHERE name = ? AND lab = ?`, spec, nullBlob(m.SealedKey), m.Paused, ms(m.UpdatedAt), m.Name, m.Lab)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return rlhf.Errorf(rlhf.ENotFound, "no model %q", m.Name)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("update model %s: %w", m.Name, err)
	}
	return nil
}

// DeleteModel deletes model name. Battles and votes that name it stay.
func (s *Store) DeleteModel(ctx context.Context, name string) error {
	err := s.do(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM models WHERE name = ?`, name)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return rlhf.Errorf(rlhf.ENotFound, "no model %q", name)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("delete model %s: %w", name, err)
	}
	return nil
}

// Models returns every registered endpoint model, sorted by name, with
// their sealed keys.
func (s *Store) Models(ctx context.Context) ([]rlhf.EndpointModel, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT name, lab, spec, sealed_key, paused, created_at, updated_at FROM models ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list models: %w", err)
	}
	defer rows.Close()
	var out []rlhf.EndpointModel
	for rows.Next() {
		var (
			m                rlhf.EndpointModel
			spec             string
			created, updated int64
			name, lab        string
			sealed           []byte
			paused           bool
		)
		if err := rows.Scan(&name, &lab, &spec, &sealed, &paused, &created, &updated); err != nil {
			return nil, fmt.Errorf("list models: %w", err)
		}
		if err := json.Unmarshal([]byte(spec), &m); err != nil {
			return nil, fmt.Errorf("list models: model %s: %w", name, err)
		}
		m.Name, m.Lab, m.SealedKey, m.Paused = name, lab, sealed, paused
		m.HasKey = len(sealed) > 0
		m.CreatedAt, m.UpdatedAt = fromMS(created), fromMS(updated)
		out = append(out, m)
	}
	return out, rows.Err()
}

// modelSpec is the JSON kept in models.spec: m without the fields that have
// columns of their own (the sealed key is never in it: its field has no
// JSON form).
func modelSpec(m *rlhf.EndpointModel) (string, error) {
	if err := m.Validate(); err != nil {
		return "", err
	}
	c := *m
	c.Paused, c.HasKey = false, false
	b, err := json.Marshal(&c)
	if err != nil {
		return "", fmt.Errorf("model %s: %w", m.Name, err)
	}
	return string(b), nil
}

// nullBlob is b, or SQL NULL when b is empty.
func nullBlob(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}
