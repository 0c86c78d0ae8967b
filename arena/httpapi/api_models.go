package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/agora-rlhf/agora/arena"
	"github.com/agora-rlhf/agora/arena/registry"
	"github.com/agora-rlhf/agora/rlhf"
)

// ModelRegistry is the runtime model registry; *registry.Registry
// implements it. A lab argument of "" means the admin, who sees all.
type ModelRegistry interface {
	Models(lab string) []registry.Model
	Model(lab, name string) (registry.Model, error)
	Create(ctx context.Context, m rlhf.EndpointModel, apiKey string) (registry.Model, *registry.TestResult, error)
	Update(ctx context.Context, lab, name string, change func(*rlhf.EndpointModel), apiKey *string) (registry.Model, *registry.TestResult, error)
	SetPaused(ctx context.Context, lab, name string, paused bool) (registry.Model, *registry.TestResult, error)
	Delete(ctx context.Context, lab, name string) error
	PauseLab(ctx context.Context, lab string) error
}

// UsageSource reports every model's usage; *arena.Usage implements it.
type UsageSource interface {
	Snapshot() []arena.ModelUsage
}

// HealthSource reports every model's circuit breaker; *arena.Health
// implements it.
type HealthSource interface {
	Snapshot() []arena.ModelHealth
}

// modelRequest is the body of POST and PATCH /api/v1/models: the model's
// fields as rlhf.EndpointModel decodes them from JSON, every one optional
// in a PATCH, plus the write-only api_key (never sent back). Fields the
// server sets are refused.
type modelRequest struct {
	rlhf.EndpointModel
	Name      *string     `json:"name"` // the local part: "llama-3" becomes "<lab>/llama-3"
	Lab       *string     `json:"lab"`  // the admin names the lab; a lab's own requests need not
	APIKey    *string     `json:"api_key"`
	Unlisted  *bool       `json:"unlisted"` // at registration: tested anonymously, off the public board (api_policy.go)
	HasKey    serverField `json:"has_api_key"`
	CreatedAt serverField `json:"created_at"`
	UpdatedAt serverField `json:"updated_at"`
}

// serverField is a field of a model that only the server sets.
type serverField struct{}

func (serverField) UnmarshalJSON([]byte) error {
	return rlhf.Errorf(rlhf.EInvalid, "has_api_key, created_at and updated_at are set by the server")
}

// decodeModelRequest reads the body of a model request over base (the
// model being changed, or the zero model), and returns the body too.
func decodeModelRequest(c *gin.Context, base rlhf.EndpointModel) (modelRequest, []byte, error) {
	body, err := io.ReadAll(c.Request.Body)
	if err != nil {
		return modelRequest{}, nil, err
	}
	c.Request.Body = io.NopCloser(bytes.NewReader(body))
	q := modelRequest{EndpointModel: base}
	return q, body, decodeJSON(c, &q)
}

// modelView is a model as the API shows it: the registry's view (never
// the key) and its circuit breaker.
type modelView struct {
	registry.Model
	Health  *arena.ModelHealth `json:"health,omitempty"`
	Listing string             `json:"listing,omitempty"` // unlisted, listed or deprecated, under the leaderboard policy
}

// registryAPI serves the model registry and labs' usage, with what it
// uses: the registry, and what the server has of the models' usage and
// health, the labs' accounts and the leaderboard policy (each nil when
// the server has none).
type registryAPI struct {
	reg       ModelRegistry
	usage     UsageSource
	health    HealthSource
	labExists func(ctx context.Context, lab string) error
	policy    Governance
}

// newRegistryAPI gives the registry's routes what they use of s.
func (s *Server) newRegistryAPI(reg ModelRegistry, usage UsageSource) *registryAPI {
	return &registryAPI{reg: reg, usage: usage, health: s.cfg.Health, labExists: labExists(s.cfg.Accounts), policy: s.cfg.Policy}
}

// views adds each model's breaker state.
func (a *registryAPI) views(ms ...registry.Model) []modelView {
	health := map[string]arena.ModelHealth{}
	if a.health != nil {
		for _, h := range a.health.Snapshot() {
			health[h.Model] = h
		}
	}
	out := make([]modelView, len(ms))
	for i, m := range ms {
		out[i].Model, out[i].Listing = m, a.listing(m.Name)
		if h, ok := health[m.Name]; ok {
			out[i].Health = &h
		}
	}
	return out
}

func (a *registryAPI) handleListModels(c *gin.Context) error {
	c.JSON(http.StatusOK, gin.H{"models": a.views(a.reg.Models(caller(c).lab())...)})
	return nil
}

// modelName returns the model of the :lab/:model parameters, and the lab
// whose models the caller may touch. A lab naming another lab's model gets
// "no such model", the same answer as for one that does not exist.
func modelName(c *gin.Context) (lab, name string) {
	return caller(c).lab(), c.Param("lab") + "/" + c.Param("model")
}

func (a *registryAPI) handleGetModel(c *gin.Context) error {
	m, err := a.reg.Model(modelName(c))
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, gin.H{"model": a.views(m)[0]})
	return nil
}

func (a *registryAPI) handleCreateModel(c *gin.Context) error {
	q, _, err := decodeModelRequest(c, rlhf.EndpointModel{})
	if err != nil {
		return err
	}
	p := caller(c)
	lab := p.lab()
	if lab == "" { // the admin registers a model for a lab
		if q.Lab == nil {
			return rlhf.Errorf(rlhf.EInvalid, "lab is required: the lab whose model this is")
		}
		lab = *q.Lab
		if err := a.labExists(c.Request.Context(), lab); err != nil {
			return err
		}
	} else if q.Lab != nil && *q.Lab != lab {
		return rlhf.Errorf(rlhf.EInvalid, "lab must be your own lab, %q, or left out", lab)
	}
	if q.Name == nil {
		return rlhf.Errorf(rlhf.EInvalid, "name is required")
	}
	m := q.EndpointModel
	m.Name, m.Lab = rlhf.ModelName(lab, *q.Name), lab
	m.SetDefaults()
	key := ""
	if q.APIKey != nil {
		key = *q.APIKey
	}
	release, err := a.reserveUnlisted(lab, q.Unlisted)
	if err != nil {
		return err
	}
	defer release()
	rm, test, err := a.reg.Create(c.Request.Context(), m, key)
	if err != nil {
		return err
	}
	if err := a.registered(c.Request.Context(), lab, rm.Name, q.Unlisted); err != nil {
		return err
	}
	c.JSON(http.StatusCreated, gin.H{"model": a.views(rm)[0], "test": test})
	return nil
}

// labExists returns the check that the admin named an enabled lab among
// accts (nil: the server has no accounts, and the check says so).
func labExists(accts Accounts) func(ctx context.Context, lab string) error {
	return func(ctx context.Context, lab string) error {
		if accts == nil {
			return rlhf.Errorf(rlhf.EUnavailable, "accounts are not available on this server")
		}
		a, err := accts.Account(ctx, lab)
		if err != nil || a.Kind != rlhf.KindLab || a.Disabled {
			return rlhf.Errorf(rlhf.EInvalid, "no enabled lab %q", lab)
		}
		return nil
	}
}

func (a *registryAPI) handleUpdateModel(c *gin.Context) error {
	q, body, err := decodeModelRequest(c, rlhf.EndpointModel{})
	if err != nil {
		return err
	}
	if q.Name != nil || q.Lab != nil {
		return rlhf.Errorf(rlhf.EInvalid, "a model's name and lab cannot change; register a new model")
	}
	if q.Unlisted != nil {
		return rlhf.Errorf(rlhf.EInvalid, "unlisted is set at registration; list a model with POST .../list")
	}
	// The fields the body has replace the model's; the body decoded once
	// already, so it decodes again.
	change := func(m *rlhf.EndpointModel) {
		over := modelRequest{EndpointModel: *m}
		if json.Unmarshal(body, &over) == nil {
			*m = over.EndpointModel
		}
	}
	lab, name := modelName(c)
	rm, test, err := a.reg.Update(c.Request.Context(), lab, name, change, q.APIKey)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, gin.H{"model": a.views(rm)[0], "test": test})
	return nil
}

func (a *registryAPI) handlePauseModel(paused bool) handler {
	return func(c *gin.Context) error {
		lab, name := modelName(c)
		rm, test, err := a.reg.SetPaused(c.Request.Context(), lab, name, paused)
		if err != nil {
			return err
		}
		c.JSON(http.StatusOK, gin.H{"model": a.views(rm)[0], "test": test})
		return nil
	}
}

func (a *registryAPI) handleDeleteModel(c *gin.Context) error {
	lab, name := modelName(c)
	if err := a.deleteModel(c.Request.Context(), lab, name); err != nil {
		return err
	}
	c.Status(http.StatusNoContent)
	return nil
}

// usageView is a model's usage as a lab sees it: the cost comes from the
// operator's price, or else the lab's own.
type usageView struct {
	arena.ModelUsage
	PriceSource string `json:"price_source,omitempty"` // "operator" or "lab"
}

// handleUsage reports the caller's models' usage: calls, tokens, latency
// and time-to-first-token percentiles, error rate and cost.
func (a *registryAPI) handleUsage(c *gin.Context) error {
	mine := map[string]registry.Model{}
	for _, m := range a.reg.Models(caller(c).lab()) {
		mine[m.Name] = m
	}
	out := []usageView{}
	seen := map[string]bool{}
	for _, u := range a.usage.Snapshot() {
		m, ok := mine[u.Model]
		if !ok {
			continue
		}
		seen[u.Model] = true
		out = append(out, priced(u, m))
	}
	for name, m := range mine { // models with no calls yet
		if !seen[name] {
			out = append(out, priced(arena.ModelUsage{Model: name}, m))
		}
	}
	sortUsage(out)
	c.JSON(http.StatusOK, gin.H{"usage": out})
	return nil
}

func priced(u arena.ModelUsage, m registry.Model) usageView {
	v := usageView{ModelUsage: u}
	switch {
	case u.Priced:
		v.PriceSource = "operator"
	case m.Price != nil:
		v.Cost = float64(u.TokensIn)/1e6*m.Price.InputPerMillion + float64(u.TokensOut)/1e6*m.Price.OutputPerMillion
		v.Priced, v.PriceSource = true, "lab"
	}
	return v
}

func sortUsage(us []usageView) {
	slices.SortFunc(us, func(a, b usageView) int { return strings.Compare(a.Model, b.Model) })
}
