package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/agora-rlhf/agora/rlhf"
)

// CreateCampaign stores a new campaign, without prompts.
func (s *Store) CreateCampaign(ctx context.Context, c *rlhf.Campaign) error {
	if err := c.Validate(); err != nil {
		return err
	}
	models, err := json.Marshal(c.Models)
	if err != nil {
		return err
	}
	err = s.do(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO campaigns (id, lab, name, models, vote_target, status, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, c.ID, c.Lab, c.Name, string(models), c.VoteTarget, string(c.Status), ms(c.CreatedAt), ms(c.UpdatedAt))
		return err
	})
	if isUnique(err, "campaigns.id") {
		return rlhf.Errorf(rlhf.EConflict, "campaign %s exists", c.ID)
	}
	if err != nil {
		return fmt.Errorf("create campaign %s: %w", c.ID, err)
	}
	return nil
}

// UpdateCampaign stores c's name, models, vote target and status.
func (s *Store) UpdateCampaign(ctx context.Context, c *rlhf.Campaign) error {
	if err := c.Validate(); err != nil {
		return err
	}
	models, err := json.Marshal(c.Models)
	if err != nil {
		return err
	}
	err = s.do(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE campaigns SET name = ?, models = ?, vote_target = ?, status = ?, updated_at = ?
			WHERE id = ? AND lab = ?`, c.Name, string(models), c.VoteTarget, string(c.Status), ms(c.UpdatedAt), c.ID, c.Lab)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return rlhf.Errorf(rlhf.ENotFound, "no such campaign")
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("update campaign %s: %w", c.ID, err)
	}
	return nil
}

// DeleteCampaign deletes campaign id and its prompts. Its battles stay,
// still marked with its id.
func (s *Store) DeleteCampaign(ctx context.Context, id string) error {
	err := s.do(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM campaign_prompts WHERE campaign_id = ?`, id); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM campaigns WHERE id = ?`, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return rlhf.Errorf(rlhf.ENotFound, "no such campaign")
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("delete campaign %s: %w", id, err)
	}
	return nil
}

const campaignColumns = `c.id, c.lab, c.name, c.models, c.vote_target, c.status, c.created_at, c.updated_at,
	(SELECT count(*) FROM campaign_prompts p WHERE p.campaign_id = c.id),
	(SELECT count(*) FROM battles b JOIN votes v ON v.battle_id = b.id WHERE b.campaign_id = c.id)`

func scanCampaign(row scanner) (*rlhf.Campaign, error) {
	var (
		c                rlhf.Campaign
		models, status   string
		created, updated int64
	)
	if err := row.Scan(&c.ID, &c.Lab, &c.Name, &models, &c.VoteTarget, &status, &created, &updated, &c.Prompts, &c.Votes); err != nil {
		return nil, err
	}
	if c.Votes >= c.VoteTarget {
		status = string(rlhf.CampaignDone)
	}
	if err := json.Unmarshal([]byte(models), &c.Models); err != nil {
		return nil, fmt.Errorf("campaign %s models: %w", c.ID, err)
	}
	c.Status, c.CreatedAt, c.UpdatedAt = rlhf.CampaignStatus(status), fromMS(created), fromMS(updated)
	return &c, nil
}

// Campaign returns campaign id, or rlhf.ENotFound.
func (s *Store) Campaign(ctx context.Context, id string) (*rlhf.Campaign, error) {
	c, err := scanCampaign(s.read.QueryRowContext(ctx, `SELECT `+campaignColumns+` FROM campaigns c WHERE c.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, rlhf.Errorf(rlhf.ENotFound, "no such campaign")
	}
	if err != nil {
		return nil, fmt.Errorf("read campaign %s: %w", id, err)
	}
	return c, nil
}

// Campaigns returns the campaigns of lab (every lab's when lab is ""),
// newest first.
func (s *Store) Campaigns(ctx context.Context, lab string) ([]rlhf.Campaign, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+campaignColumns+` FROM campaigns c
		WHERE ? = '' OR c.lab = ? ORDER BY c.created_at DESC, c.id`, lab, lab)
	if err != nil {
		return nil, fmt.Errorf("list campaigns: %w", err)
	}
	defer rows.Close()
	out := []rlhf.Campaign{}
	for rows.Next() {
		c, err := scanCampaign(rows)
		if err != nil {
			return nil, fmt.Errorf("list campaigns: %w", err)
		}
		out = append(out, *c)
	}
	return out, rows.Err()
}

// SetPrompts replaces the prompts of campaign id, which must not be
// running.
func (s *Store) SetPrompts(ctx context.Context, id string, ps []rlhf.Prompt) error {
	err := s.do(ctx, func(tx *sql.Tx) error {
		var status string
		err := tx.QueryRowContext(ctx, `SELECT status FROM campaigns WHERE id = ?`, id).Scan(&status)
		if errors.Is(err, sql.ErrNoRows) {
			return rlhf.Errorf(rlhf.ENotFound, "no such campaign")
		}
		if err != nil {
			return err
		}
		if rlhf.CampaignStatus(status) == rlhf.CampaignRunning {
			return rlhf.Errorf(rlhf.EConflict, "pause the campaign before replacing its prompts")
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM campaign_prompts WHERE campaign_id = ?`, id); err != nil {
			return err
		}
		st, err := tx.PrepareContext(ctx, `INSERT INTO campaign_prompts (campaign_id, idx, prompt_id, text, category, language)
			VALUES (?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer st.Close()
		for i, p := range ps {
			if _, err := st.ExecContext(ctx, id, i, p.ID, p.Text, p.Category, p.Language); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("set prompts of campaign %s: %w", id, err)
	}
	return nil
}

// Prompts returns the prompts of campaign id in order, with how many
// battles each has started.
func (s *Store) Prompts(ctx context.Context, id string) ([]rlhf.Prompt, []int, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT prompt_id, text, category, language, served FROM campaign_prompts
		WHERE campaign_id = ? ORDER BY idx`, id)
	if err != nil {
		return nil, nil, fmt.Errorf("read prompts of campaign %s: %w", id, err)
	}
	defer rows.Close()
	ps, served := []rlhf.Prompt{}, []int{}
	for rows.Next() {
		var p rlhf.Prompt
		var n int
		if err := rows.Scan(&p.ID, &p.Text, &p.Category, &p.Language, &n); err != nil {
			return nil, nil, fmt.Errorf("read prompts of campaign %s: %w", id, err)
		}
		ps, served = append(ps, p), append(served, n)
	}
	return ps, served, rows.Err()
}

// NextPrompt hands out the next prompt of running campaign id: the one
// served least, first in the set among equals, so that every prompt is
// used before any is used again. It counts the prompt as served. A
// campaign that is not running, or has its target of votes, has no next
// prompt (rlhf.ENotFound and rlhf.EConflict).
func (s *Store) NextPrompt(ctx context.Context, id string) (*rlhf.Campaign, *rlhf.Prompt, error) {
	var (
		c *rlhf.Campaign
		p rlhf.Prompt
	)
	err := s.do(ctx, func(tx *sql.Tx) error {
		// Only what a prompt needs: not the count of prompts, which
		// costs a scan of the set.
		var models, status string
		c = &rlhf.Campaign{ID: id}
		err := tx.QueryRowContext(ctx, `SELECT c.lab, c.models, c.vote_target, c.status,
			(SELECT count(*) FROM battles b JOIN votes v ON v.battle_id = b.id WHERE b.campaign_id = c.id)
			FROM campaigns c WHERE c.id = ?`, id).Scan(&c.Lab, &models, &c.VoteTarget, &status, &c.Votes)
		if errors.Is(err, sql.ErrNoRows) {
			return rlhf.Errorf(rlhf.ENotFound, "no such campaign")
		}
		if err != nil {
			return err
		}
		if err := json.Unmarshal([]byte(models), &c.Models); err != nil {
			return fmt.Errorf("campaign %s models: %w", id, err)
		}
		c.Status = rlhf.CampaignStatus(status)
		if c.Votes >= c.VoteTarget {
			c.Status = rlhf.CampaignDone
		}
		switch c.Status {
		case rlhf.CampaignDone:
			return rlhf.Errorf(rlhf.EConflict, "this campaign has all the votes it asked for; thank you")
		case rlhf.CampaignRunning:
		default:
			return rlhf.Errorf(rlhf.EConflict, "this campaign is not running")
		}
		var idx int
		err = tx.QueryRowContext(ctx, `SELECT idx, prompt_id, text, category, language FROM campaign_prompts
			WHERE campaign_id = ? ORDER BY served, idx LIMIT 1`, id).Scan(&idx, &p.ID, &p.Text, &p.Category, &p.Language)
		if errors.Is(err, sql.ErrNoRows) {
			return rlhf.Errorf(rlhf.EConflict, "this campaign has no prompts")
		}
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE campaign_prompts SET served = served + 1 WHERE campaign_id = ? AND idx = ?`, id, idx)
		return err
	})
	if err != nil {
		return nil, nil, fmt.Errorf("next prompt of campaign %s: %w", id, err)
	}
	return c, &p, nil
}

// CampaignProgress counts the battles and votes of campaign id, in all
// and per pair of models.
func (s *Store) CampaignProgress(ctx context.Context, id string) (*rlhf.CampaignProgress, error) {
	c, err := s.Campaign(ctx, id)
	if err != nil {
		return nil, err
	}
	pr := &rlhf.CampaignProgress{Campaign: id, Status: c.Status, VoteTarget: c.VoteTarget, Prompts: c.Prompts, Pairs: []rlhf.PairProgress{}}
	if err := s.read.QueryRowContext(ctx, `SELECT count(*) FROM campaign_prompts WHERE campaign_id = ? AND served > 0`, id).
		Scan(&pr.PromptsServed); err != nil {
		return nil, fmt.Errorf("progress of campaign %s: %w", id, err)
	}
	rows, err := s.read.QueryContext(ctx, campaignPairsSQL, id)
	if err != nil {
		return nil, fmt.Errorf("progress of campaign %s: %w", id, err)
	}
	defer rows.Close()
	pairs := map[[2]string]*rlhf.PairProgress{}
	for rows.Next() {
		var (
			a, b, winner string
			battles      int
		)
		if err := rows.Scan(&a, &b, &winner, &battles); err != nil {
			return nil, fmt.Errorf("progress of campaign %s: %w", id, err)
		}
		w := rlhf.Winner(winner)
		if b < a { // count the pair once, whichever side each model had
			a, b = b, a
			switch w {
			case rlhf.WinnerA:
				w = rlhf.WinnerB
			case rlhf.WinnerB:
				w = rlhf.WinnerA
			}
		}
		p := pairs[[2]string{a, b}]
		if p == nil {
			p = &rlhf.PairProgress{ModelA: a, ModelB: b}
			pairs[[2]string{a, b}] = p
		}
		p.Battles += battles
		pr.Battles += battles
		if w != "" {
			p.Votes += battles
			pr.Votes += battles
		}
		switch w {
		case rlhf.WinnerA:
			p.WinsA += battles
		case rlhf.WinnerB:
			p.WinsB += battles
		case rlhf.WinnerTie:
			p.Ties += battles
		case rlhf.WinnerBothBad:
			p.BothBad += battles
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("progress of campaign %s: %w", id, err)
	}
	for _, p := range pairs {
		pr.Pairs = append(pr.Pairs, *p)
	}
	slices.SortFunc(pr.Pairs, func(x, y rlhf.PairProgress) int {
		if x.ModelA != y.ModelA {
			return strings.Compare(x.ModelA, y.ModelA)
		}
		return strings.Compare(x.ModelB, y.ModelB)
	})
	return pr, nil
}

// campaignPairsSQL counts a campaign's battles by models and verdict
// (empty for battles without a vote).
const campaignPairsSQL = `SELECT b.model_a, b.model_b, coalesce(v.winner, ''), count(*)
	FROM battles b LEFT JOIN votes v ON v.battle_id = b.id
	WHERE b.campaign_id = ? GROUP BY 1, 2, 3`
