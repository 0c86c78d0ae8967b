package httpapi

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/agora-rlhf/agora/arena/policy"
	"github.com/agora-rlhf/agora/rlhf"
)

// Governance is the leaderboard policy in force and what it enforces on
// the model registry; *policy.Governor implements it.
type Governance interface {
	Change(ctx context.Context, text []byte, by, reason string) (policy.Change, error)
	ReserveUnlisted(lab string) (release func(), err error)
	Registered(ctx context.Context, lab, model string, unlisted bool) error
	List(ctx context.Context, lab, model string) (policy.Listing, error)
	MayRetract(ctx context.Context, model string) error
	Deleted(ctx context.Context, model string) error
	Deprecate(ctx context.Context, by, callerLab, model, reason string) (policy.Deprecation, error)
	Describe(model string) string
	Report(ctx context.Context) (*policy.Report, error)
}

var noPolicy = rlhf.Errorf(rlhf.EUnavailable, "no leaderboard policy is enforced on this server")

// reserveUnlisted reserves one of lab's unlisted slots when a registration
// asks to be unlisted; release (never nil) ends the reservation.
func (a *registryAPI) reserveUnlisted(lab string, unlisted *bool) (release func(), err error) {
	if unlisted == nil || !*unlisted {
		return func() {}, nil
	}
	if a.policy == nil {
		return nil, noPolicy
	}
	return a.policy.ReserveUnlisted(lab)
}

// registered records a new registration's listing state.
func (a *registryAPI) registered(ctx context.Context, lab, model string, unlisted *bool) error {
	if a.policy == nil {
		return nil
	}
	return a.policy.Registered(ctx, lab, model, unlisted != nil && *unlisted)
}

// deleteModel deletes lab's model name, unless the policy refuses to
// retract a listed model's scores, and records it.
func (a *registryAPI) deleteModel(ctx context.Context, lab, name string) error {
	if _, err := a.reg.Model(lab, name); err != nil {
		return err
	}
	if a.policy != nil {
		if err := a.policy.MayRetract(ctx, name); err != nil {
			return err
		}
	}
	if err := a.reg.Delete(ctx, lab, name); err != nil {
		return err
	}
	if a.policy != nil {
		return a.policy.Deleted(ctx, name)
	}
	return nil
}

// listing returns the listing state of model, or "" with no policy.
func (a *registryAPI) listing(model string) string {
	if a.policy == nil {
		return ""
	}
	return a.policy.Describe(model)
}

// handleListModel is POST /api/v1/models/:lab/:model/list: the lab makes
// its unlisted model public. Its scores can no longer be retracted.
func handleListModel(gov Governance) handler {
	return func(c *gin.Context) error {
		lab, name := modelName(c)
		l, err := gov.List(c.Request.Context(), lab, name)
		if err != nil {
			return err
		}
		c.JSON(http.StatusOK, gin.H{"listing": l})
		return nil
	}
}

// deprecationRequest is the body of POST /api/v1/deprecations.
type deprecationRequest struct {
	Model  string `json:"model"`
	Reason string `json:"reason"`
	By     string `json:"by"` // the admin's name; a lab is its account
}

// handleDeprecate is POST /api/v1/deprecations: a lab deprecates one of
// its models, the admin any model; the same rule for all, logged and
// published.
func handleDeprecate(gov Governance) handler {
	return func(c *gin.Context) error {
		var q deprecationRequest
		if err := decodeJSON(c, &q); err != nil {
			return err
		}
		lab, by := caller(c).lab(), caller(c).lab()
		if lab == "" {
			if by = q.By; by == "" {
				return rlhf.Errorf(rlhf.EInvalid, "by is required: the admin's name, published with the deprecation")
			}
		} else if q.By != "" && q.By != lab {
			return rlhf.Errorf(rlhf.EInvalid, "by must be your own lab, %q, or left out", lab)
		}
		d, err := gov.Deprecate(c.Request.Context(), by, lab, q.Model, q.Reason)
		if err != nil {
			return err
		}
		c.JSON(http.StatusCreated, gin.H{"deprecation": d})
		return nil
	}
}

// policyRequest is the body of PUT /api/v1/admin/policy.
type policyRequest struct {
	Policy string `json:"policy"` // the policy file, YAML
	By     string `json:"by"`
	Reason string `json:"reason"`
}

// handlePutPolicy is PUT /api/v1/admin/policy: the admin puts a new
// version of the policy in force, recorded with who, when and why, and in
// the verifiable log.
func handlePutPolicy(gov Governance) handler {
	return func(c *gin.Context) error {
		var q policyRequest
		if err := decodeJSON(c, &q); err != nil {
			return err
		}
		ch, err := gov.Change(c.Request.Context(), []byte(q.Policy), q.By, q.Reason)
		if err != nil {
			return err
		}
		c.JSON(http.StatusOK, gin.H{"change": ch})
		return nil
	}
}

// transparencyMaxAge is how long a transparency report is served before
// it is built again.
const transparencyMaxAge = 2 * time.Second

// handleTransparency returns the handler of GET /api/v1/transparency: the
// policy in force and its history, the deprecation log, battle shares
// against target, vote counts, unlisted models per lab and data releases.
func handleTransparency(gov Governance) handler {
	var (
		mu    sync.Mutex // guards last and at; held while a report is built
		last  *policy.Report
		built time.Time
	)
	return func(c *gin.Context) error {
		mu.Lock()
		defer mu.Unlock()
		if last == nil || time.Since(built) > transparencyMaxAge {
			r, err := gov.Report(c.Request.Context())
			if err != nil {
				return err
			}
			last, built = r, time.Now()
		}
		c.Header("Cache-Control", "no-cache")
		c.JSON(http.StatusOK, last)
		return nil
	}
}

// handleTransparencyPage serves the transparency page.
func (s *Server) handleTransparencyPage(c *gin.Context) error {
	return s.servePage(c, "transparency.html")
}
