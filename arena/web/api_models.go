package web

import (
	"context"
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

// modelRequest is the body of POST and PATCH /api/v1/models. Every field
// is optional in a PATCH; api_key is write-only: it is never sent back.
type modelRequest struct {
	Name           *string     `json:"name"` // the local part: "llama-3" becomes "<lab>/llama-3"
	Lab            *string     `json:"lab"`  // the admin names the lab; a lab's own requests need not
	BaseURL        *string     `json:"base_url"`
	Model          *string     `json:"model"`
	APIKey         *string     `json:"api_key"`
	Temperature    *float32    `json:"temperature"`
	SystemPrompt   *string     `json:"system_prompt"`
	MaxTokens      *int        `json:"max_tokens"`
	MaxConcurrency *int        `json:"max_concurrency"`
	RatePerMinute  *int        `json:"rate_limit_per_minute"`
	ConnectTimeout *int        `json:"connect_timeout_ms"`
	IdleTimeout    *int        `json:"idle_timeout_ms"`
	MaxAnswerBytes *int        `json:"max_answer_bytes"`
	Tags           *[]string   `json:"tags"`
	Price          *rlhf.Price `json:"price"`
	Paused         *bool       `json:"paused"`
}

// apply sets the fields of m that q has.
func (q *modelRequest) apply(m *rlhf.EndpointModel) {
	set := func(dst *int, src *int) {
		if src != nil {
			*dst = *src
		}
	}
	if q.BaseURL != nil {
		m.BaseURL = *q.BaseURL
	}
	if q.Model != nil {
		m.ModelID = *q.Model
	}
	if q.Temperature != nil {
		t := *q.Temperature
		m.Temperature = &t
	}
	if q.SystemPrompt != nil {
		m.SystemPrompt = *q.SystemPrompt
	}
	set(&m.MaxTokens, q.MaxTokens)
	set(&m.MaxConcurrency, q.MaxConcurrency)
	set(&m.RatePerMinute, q.RatePerMinute)
	set(&m.ConnectTimeout, q.ConnectTimeout)
	set(&m.IdleTimeout, q.IdleTimeout)
	set(&m.MaxAnswerBytes, q.MaxAnswerBytes)
	if q.Tags != nil {
		m.Tags = append([]string{}, *q.Tags...)
	}
	if q.Price != nil {
		p := *q.Price
		m.Price = &p
	}
	if q.Paused != nil {
		m.Paused = *q.Paused
	}
}

// modelView is a model as the API shows it: the registry's view (never
// the key) and its circuit breaker.
type modelView struct {
	registry.Model
	Health *arena.ModelHealth `json:"health,omitempty"`
}

func (s *Server) registry() (ModelRegistry, error) {
	if s.cfg.Registry == nil {
		return nil, rlhf.Errorf(rlhf.EUnavailable, "the model registry is not available on this server")
	}
	return s.cfg.Registry, nil
}

// views adds each model's breaker state.
func (s *Server) views(ms ...registry.Model) []modelView {
	health := map[string]arena.ModelHealth{}
	if s.cfg.Health != nil {
		for _, h := range s.cfg.Health.Snapshot() {
			health[h.Model] = h
		}
	}
	out := make([]modelView, len(ms))
	for i, m := range ms {
		out[i].Model = m
		if h, ok := health[m.Name]; ok {
			out[i].Health = &h
		}
	}
	return out
}

func (s *Server) handleListModels(c *gin.Context) error {
	reg, err := s.registry()
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, gin.H{"models": s.views(reg.Models(caller(c).lab())...)})
	return nil
}

// modelName returns the model of the :lab/:model parameters, and the lab
// whose models the caller may touch. A lab naming another lab's model gets
// "no such model", the same answer as for one that does not exist.
func modelName(c *gin.Context) (lab, name string) {
	return caller(c).lab(), c.Param("lab") + "/" + c.Param("model")
}

func (s *Server) handleGetModel(c *gin.Context) error {
	reg, err := s.registry()
	if err != nil {
		return err
	}
	m, err := reg.Model(modelName(c))
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, gin.H{"model": s.views(m)[0]})
	return nil
}

// Defaults for a new model's fields that the request leaves out.
const (
	defaultMaxTokens      = 1024
	defaultConnectTimeout = 10_000
	defaultIdleTimeout    = 30_000
	defaultMaxAnswerBytes = 64 << 10
)

func (s *Server) handleCreateModel(c *gin.Context) error {
	reg, err := s.registry()
	if err != nil {
		return err
	}
	var q modelRequest
	if err := decodeJSON(c, &q); err != nil {
		return err
	}
	p := caller(c)
	lab := p.lab()
	if lab == "" { // the admin registers a model for a lab
		if q.Lab == nil {
			return rlhf.Errorf(rlhf.EInvalid, "lab is required: the lab whose model this is")
		}
		lab = *q.Lab
		if err := s.labExists(c.Request.Context(), lab); err != nil {
			return err
		}
	} else if q.Lab != nil && *q.Lab != lab {
		return rlhf.Errorf(rlhf.EInvalid, "lab must be your own lab, %q, or left out", lab)
	}
	if q.Name == nil {
		return rlhf.Errorf(rlhf.EInvalid, "name is required")
	}
	m := rlhf.EndpointModel{Name: rlhf.ModelName(lab, *q.Name), Lab: lab, MaxTokens: defaultMaxTokens,
		ConnectTimeout: defaultConnectTimeout, IdleTimeout: defaultIdleTimeout, MaxAnswerBytes: defaultMaxAnswerBytes, Tags: []string{}}
	q.apply(&m)
	key := ""
	if q.APIKey != nil {
		key = *q.APIKey
	}
	rm, test, err := reg.Create(c.Request.Context(), m, key)
	if err != nil {
		return err
	}
	c.JSON(http.StatusCreated, gin.H{"model": s.views(rm)[0], "test": test})
	return nil
}

// labExists checks that the admin named an enabled lab.
func (s *Server) labExists(ctx context.Context, lab string) error {
	accts, err := s.accounts()
	if err != nil {
		return err
	}
	a, err := accts.Account(ctx, lab)
	if err != nil || a.Kind != rlhf.KindLab || a.Disabled {
		return rlhf.Errorf(rlhf.EInvalid, "no enabled lab %q", lab)
	}
	return nil
}

func (s *Server) handleUpdateModel(c *gin.Context) error {
	reg, err := s.registry()
	if err != nil {
		return err
	}
	var q modelRequest
	if err := decodeJSON(c, &q); err != nil {
		return err
	}
	if q.Name != nil || q.Lab != nil {
		return rlhf.Errorf(rlhf.EInvalid, "a model's name and lab cannot change; register a new model")
	}
	lab, name := modelName(c)
	rm, test, err := reg.Update(c.Request.Context(), lab, name, q.apply, q.APIKey)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, gin.H{"model": s.views(rm)[0], "test": test})
	return nil
}

func (s *Server) handlePauseModel(paused bool) handler {
	return func(c *gin.Context) error {
		reg, err := s.registry()
		if err != nil {
			return err
		}
		lab, name := modelName(c)
		rm, test, err := reg.SetPaused(c.Request.Context(), lab, name, paused)
		if err != nil {
			return err
		}
		c.JSON(http.StatusOK, gin.H{"model": s.views(rm)[0], "test": test})
		return nil
	}
}

func (s *Server) handleDeleteModel(c *gin.Context) error {
	reg, err := s.registry()
	if err != nil {
		return err
	}
	lab, name := modelName(c)
	if err := reg.Delete(c.Request.Context(), lab, name); err != nil {
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
func (s *Server) handleUsage(c *gin.Context) error {
	reg, err := s.registry()
	if err != nil {
		return err
	}
	if s.cfg.Usage == nil {
		return rlhf.Errorf(rlhf.EUnavailable, "usage is not available on this server")
	}
	mine := map[string]registry.Model{}
	for _, m := range reg.Models(caller(c).lab()) {
		mine[m.Name] = m
	}
	out := []usageView{}
	seen := map[string]bool{}
	for _, u := range s.cfg.Usage.Snapshot() {
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
