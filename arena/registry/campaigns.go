package registry

import (
	"context"

	"github.com/agora-rlhf/agora/arena"
	"github.com/agora-rlhf/agora/rlhf"
)

// PromptSource hands out the prompts of campaigns; *store.Store
// implements it.
type PromptSource interface {
	NextPrompt(ctx context.Context, campaignID string) (*rlhf.Campaign, *rlhf.Prompt, error)
}

// Campaigns gives the arena the prompts of labs' campaigns (it is an
// arena.Campaigns).
type Campaigns struct {
	Source PromptSource
}

// Next returns the next prompt of campaign id, with the campaign's models.
func (c Campaigns) Next(ctx context.Context, id string) (arena.CampaignPrompt, error) {
	camp, p, err := c.Source.NextPrompt(ctx, id)
	if err != nil {
		return arena.CampaignPrompt{}, err
	}
	return arena.CampaignPrompt{ID: p.ID, Text: p.Text, Category: p.Category, Language: p.Language,
		Models: append([]string(nil), camp.Models...)}, nil
}
