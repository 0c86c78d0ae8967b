package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"mime"
	"net/http"
	"slices"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/agora-rlhf/agora/rlhf"
)

// CampaignStore keeps campaigns and their prompts; *store.Store
// implements it.
type CampaignStore interface {
	CreateCampaign(ctx context.Context, c *rlhf.Campaign) error
	UpdateCampaign(ctx context.Context, c *rlhf.Campaign) error
	DeleteCampaign(ctx context.Context, id string) error
	Campaign(ctx context.Context, id string) (*rlhf.Campaign, error)
	Campaigns(ctx context.Context, lab string) ([]rlhf.Campaign, error)
	SetPrompts(ctx context.Context, id string, ps []rlhf.Prompt) error
	Prompts(ctx context.Context, id string) ([]rlhf.Prompt, []int, error)
	CampaignProgress(ctx context.Context, id string) (*rlhf.CampaignProgress, error)
}

var errNoCampaign = rlhf.Errorf(rlhf.ENotFound, "no such campaign")

// campaignAPI serves labs' campaigns, with what they use: the campaigns,
// the registry their models are checked against, the labs' accounts.
type campaignAPI struct {
	cs        CampaignStore
	reg       ModelRegistry
	labExists func(ctx context.Context, lab string) error
	limits    rlhf.PromptLimits
	log       *slog.Logger
	now       func() time.Time
}

// newCampaignAPI gives the campaigns what they use of s.
func (s *Server) newCampaignAPI(cs CampaignStore, reg ModelRegistry) *campaignAPI {
	return &campaignAPI{cs: cs, reg: reg, labExists: labExists(s.cfg.Accounts), limits: s.cfg.PromptLimits, log: s.log, now: s.now}
}

// campaign returns the campaign of the :id parameter if the caller may see
// it. Another lab's campaign is "no such campaign", like a missing one.
func (api *campaignAPI) campaign(c *gin.Context) (CampaignStore, *rlhf.Campaign, error) {
	cs := api.cs
	camp, err := cs.Campaign(c.Request.Context(), c.Param("id"))
	if rlhf.ErrorCode(err) == rlhf.ENotFound {
		return nil, nil, errNoCampaign
	}
	if err != nil {
		return nil, nil, err
	}
	if lab := caller(c).lab(); lab != "" && camp.Lab != lab {
		return nil, nil, errNoCampaign
	}
	return cs, camp, nil
}

// campaignRequest is the body of POST and PATCH /api/v1/campaigns.
type campaignRequest struct {
	Lab        *string   `json:"lab"` // the admin names the lab
	Name       *string   `json:"name"`
	Models     *[]string `json:"models"`
	VoteTarget *int      `json:"vote_target"`
}

// checkModels checks that lab may put models in its campaign: its own
// models and the operator's (configured) ones. Another lab's model is
// "no such model", like a missing one.
func (api *campaignAPI) checkModels(lab string, models []string) error {
	for _, name := range models {
		m, err := api.reg.Model("", name)
		if err != nil || (m.Source != "config" && m.Lab != lab) {
			return rlhf.Errorf(rlhf.EInvalid, "no such model %q", name)
		}
	}
	return nil
}

func (api *campaignAPI) handleCreateCampaign(c *gin.Context) error {
	cs := api.cs
	var q campaignRequest
	if err := decodeJSON(c, &q); err != nil {
		return err
	}
	lab := caller(c).lab()
	if lab == "" {
		if q.Lab == nil {
			return rlhf.Errorf(rlhf.EInvalid, "lab is required: the lab whose campaign this is")
		}
		lab = *q.Lab
		if err := api.labExists(c.Request.Context(), lab); err != nil {
			return err
		}
	} else if q.Lab != nil && *q.Lab != lab {
		return rlhf.Errorf(rlhf.EInvalid, "lab must be your own lab, %q, or left out", lab)
	}
	now := api.now()
	camp := &rlhf.Campaign{ID: newCampaignID(), Lab: lab, Status: rlhf.CampaignDraft, CreatedAt: now, UpdatedAt: now}
	q.apply(camp)
	if err := camp.Validate(); err != nil {
		return err
	}
	if err := api.checkModels(lab, camp.Models); err != nil {
		return err
	}
	if err := cs.CreateCampaign(c.Request.Context(), camp); err != nil {
		return err
	}
	api.log.Info("campaign created", "campaign", camp.ID, "lab", lab)
	c.JSON(http.StatusCreated, gin.H{"campaign": camp})
	return nil
}

func (q *campaignRequest) apply(c *rlhf.Campaign) {
	if q.Name != nil {
		c.Name = *q.Name
	}
	if q.Models != nil {
		c.Models = slices.Clone(*q.Models)
	}
	if q.VoteTarget != nil {
		c.VoteTarget = *q.VoteTarget
	}
}

// newCampaignID returns a random campaign id. It is unguessable: knowing
// it is what lets a contributor choose the campaign.
func newCampaignID() string {
	var b [16]byte
	rand.Read(b[:])
	return "cmp_" + hex.EncodeToString(b[:])
}

func (api *campaignAPI) handleListCampaigns(c *gin.Context) error {
	cs := api.cs
	list, err := cs.Campaigns(c.Request.Context(), caller(c).lab())
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, gin.H{"campaigns": list})
	return nil
}

func (api *campaignAPI) handleGetCampaign(c *gin.Context) error {
	_, camp, err := api.campaign(c)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, gin.H{"campaign": camp})
	return nil
}

func (api *campaignAPI) handleUpdateCampaign(c *gin.Context) error {
	cs, camp, err := api.campaign(c)
	if err != nil {
		return err
	}
	var q campaignRequest
	if err := decodeJSON(c, &q); err != nil {
		return err
	}
	if q.Lab != nil {
		return rlhf.Errorf(rlhf.EInvalid, "a campaign's lab cannot change")
	}
	q.apply(camp)
	if err := camp.Validate(); err != nil {
		return err
	}
	if q.Models != nil {
		if err := api.checkModels(camp.Lab, camp.Models); err != nil {
			return err
		}
	}
	if err := api.saveCampaign(c.Request.Context(), cs, camp); err != nil {
		return err
	}
	c.JSON(http.StatusOK, gin.H{"campaign": camp})
	return nil
}

// saveCampaign stores camp and reads it back (its status may be done).
func (api *campaignAPI) saveCampaign(ctx context.Context, cs CampaignStore, camp *rlhf.Campaign) error {
	if camp.Status == rlhf.CampaignDone {
		camp.Status = rlhf.CampaignRunning // done is worked out from the votes, never stored
	}
	camp.UpdatedAt = api.now()
	if err := cs.UpdateCampaign(ctx, camp); err != nil {
		return err
	}
	fresh, err := cs.Campaign(ctx, camp.ID)
	if err != nil {
		return err
	}
	*camp = *fresh
	return nil
}

func (api *campaignAPI) handleDeleteCampaign(c *gin.Context) error {
	cs, camp, err := api.campaign(c)
	if err != nil {
		return err
	}
	if err := cs.DeleteCampaign(c.Request.Context(), camp.ID); err != nil {
		return err
	}
	api.log.Info("campaign deleted", "campaign", camp.ID)
	c.Status(http.StatusNoContent)
	return nil
}

// promptFormat is the prompt-set format of the request: the format query
// parameter, or else its Content-Type.
func promptFormat(c *gin.Context) (string, error) {
	if f := c.Query("format"); f != "" {
		return f, nil
	}
	mt, _, _ := mime.ParseMediaType(c.GetHeader("Content-Type"))
	switch mt {
	case "text/csv":
		return "csv", nil
	case "application/jsonl", "application/x-ndjson", "application/jsonlines", "application/x-jsonlines":
		return "jsonl", nil
	}
	return "", rlhf.Errorf(rlhf.EInvalid, "send the prompt set as text/csv or application/jsonl (or say ?format=csv or jsonl)")
}

// handlePutPrompts replaces a campaign's prompt set with the uploaded one
// (JSONL or CSV: text, and optional id, category and language).
func (api *campaignAPI) handlePutPrompts(c *gin.Context) error {
	cs, camp, err := api.campaign(c)
	if err != nil {
		return err
	}
	format, err := promptFormat(c)
	if err != nil {
		return err
	}
	ps, err := rlhf.ParsePrompts(c.Request.Body, format, api.limits)
	if err != nil {
		return err
	}
	if err := cs.SetPrompts(c.Request.Context(), camp.ID, ps); err != nil {
		return err
	}
	api.log.Info("campaign prompts set", "campaign", camp.ID, "prompts", len(ps))
	c.JSON(http.StatusOK, gin.H{"campaign": camp.ID, "prompts": len(ps)})
	return nil
}

// promptView is a prompt and how many battles it has started.
type promptView struct {
	rlhf.Prompt
	Served int `json:"served"`
}

func (api *campaignAPI) handleGetPrompts(c *gin.Context) error {
	cs, camp, err := api.campaign(c)
	if err != nil {
		return err
	}
	ps, served, err := cs.Prompts(c.Request.Context(), camp.ID)
	if err != nil {
		return err
	}
	out := make([]promptView, len(ps))
	for i := range ps {
		out[i] = promptView{ps[i], served[i]}
	}
	c.JSON(http.StatusOK, gin.H{"prompts": out})
	return nil
}

// handleCampaignStatus starts (or resumes) or pauses a campaign.
func (api *campaignAPI) handleCampaignStatus(start bool) handler {
	return func(c *gin.Context) error {
		cs, camp, err := api.campaign(c)
		if err != nil {
			return err
		}
		camp.Status = rlhf.CampaignPaused
		if start {
			if camp.Prompts == 0 {
				return rlhf.Errorf(rlhf.EConflict, "upload prompts before starting the campaign")
			}
			camp.Status = rlhf.CampaignRunning
		}
		if err := api.saveCampaign(c.Request.Context(), cs, camp); err != nil {
			return err
		}
		c.JSON(http.StatusOK, gin.H{"campaign": camp})
		return nil
	}
}

func (api *campaignAPI) handleCampaignProgress(c *gin.Context) error {
	cs, camp, err := api.campaign(c)
	if err != nil {
		return err
	}
	pr, err := cs.CampaignProgress(c.Request.Context(), camp.ID)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, gin.H{"progress": pr})
	return nil
}
