package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/agora-rlhf/agora/rlhf"
)

// Privacy keeps contributors' consent and serves their download and
// erasure (docs/consent.md); *store.Store implements it.
type Privacy interface {
	ConsentDefaults(ctx context.Context, contributor string) (*rlhf.Consent, error)
	SetConsentDefaults(ctx context.Context, contributor string, c rlhf.Consent) error
	NarrowVotes(ctx context.Context, n rlhf.Narrowing) (int, error)
	ContributorData(ctx context.Context, contributor string) (*rlhf.ContributorData, error)
	// Erase deletes the contributor's data, keeps e as a tombstone and
	// returns the ids of the deleted battles.
	Erase(ctx context.Context, contributor string, e *rlhf.Erasure) ([]string, error)
}

// Unrecallable is what an erasure cannot reach; every erasure answer and
// the page say it.
const Unrecallable = "Data releases made before the deletion, and models already trained on them, cannot be recalled."

var noContributor = rlhf.Errorf(rlhf.EUnauthorized, "a contributor token is required (the page's cookie, or Authorization: Bearer TOKEN with the token of the websocket's hello)")

// contributor returns the contributor the request's token proves. Unlike
// the websocket, it never hands out a new identity.
func (s *Server) contributor(c *gin.Context) (string, error) {
	token, _ := strings.CutPrefix(c.GetHeader("Authorization"), "Bearer ")
	if token == "" {
		token, _ = c.Cookie(tokenCookie)
	}
	if token == "" {
		return "", noContributor
	}
	w, _, err := s.checkToken(c.Request.Context(), token) // a signed-out (revoked) token proves no one
	if err != nil {
		return "", err
	}
	return w.contributor, nil
}

// privacyAPI serves contributors' consent, download and erasure, with
// what they use: the store, who the caller is, the operator's default
// consent, and what an erasure must also reach.
type privacyAPI struct {
	p           Privacy
	contributor func(c *gin.Context) (string, error) // the contributor the request's token proves
	defaults    rlhf.Consent                         // the operator's, with rlhf.DefaultScope when none is configured
	onErase     func(ctx context.Context, battles []string) error
	forget      func() // drops the published leaderboards, which count erased votes; nil without them
	log         *slog.Logger
	now         func() time.Time
}

// newPrivacyAPI gives consent and erasure what they use of s.
func (s *Server) newPrivacyAPI(p Privacy) *privacyAPI {
	api := &privacyAPI{p: p, contributor: s.contributor, defaults: s.cfg.DefaultConsent,
		onErase: s.cfg.OnErase, log: s.log, now: s.now}
	api.defaults.Scope = api.defaults.Scope.Effective()
	if s.public != nil {
		api.forget = s.public.forget
	}
	return api
}

// subject returns the contributor the request is about (the caller, or
// the :contributor of an admin route) and who acts.
func (api *privacyAPI) subject(c *gin.Context) (string, string, error) {
	if id := c.Param("contributor"); id != "" {
		return id, "admin", nil
	}
	id, err := api.contributor(c)
	return id, "contributor", err
}

// consentAnswer is GET /api/v1/me/consent's answer.
type consentAnswer struct {
	Consent      rlhf.Consent `json:"consent"`                // what the next vote gets
	Chosen       bool         `json:"chosen"`                 // false: the operator's default applies
	Default      rlhf.Consent `json:"default"`                // the operator's default
	Scopes       []rlhf.Scope `json:"scopes"`                 // narrowest first
	Unrecallable string       `json:"unrecallable,omitempty"` // what narrowing cannot reach
}

// handleGetConsent answers the consent the caller's next vote gets.
func (api *privacyAPI) handleGetConsent(c *gin.Context) error {
	id, _, err := api.subject(c)
	if err != nil {
		return err
	}
	ans := consentAnswer{Consent: api.defaults, Default: api.defaults, Scopes: rlhf.Scopes,
		Unrecallable: "Narrowing applies to releases made after it. " + Unrecallable}
	got, err := api.p.ConsentDefaults(c.Request.Context(), id)
	switch {
	case err == nil:
		ans.Consent, ans.Chosen = *got, true
		if got.Licence == "" {
			ans.Consent.Licence = ans.Default.Licence
		}
	case rlhf.ErrorCode(err) != rlhf.ENotFound:
		return err
	}
	c.JSON(http.StatusOK, ans)
	return nil
}

// handlePutConsent sets the consent of the caller's future votes.
func (api *privacyAPI) handlePutConsent(c *gin.Context) error {
	id, _, err := api.subject(c)
	if err != nil {
		return err
	}
	var body rlhf.Consent
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	body.At = api.now()
	if err := api.p.SetConsentDefaults(c.Request.Context(), id, body); err != nil {
		return err
	}
	c.JSON(http.StatusOK, body)
	return nil
}

// handleNarrow narrows the scope of the caller's past votes (all, or
// those named); it never widens one.
func (api *privacyAPI) handleNarrow(c *gin.Context) error {
	id, _, err := api.subject(c)
	if err != nil {
		return err
	}
	var body rlhf.Narrowing
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	body.Contributor, body.At = id, api.now()
	n, err := api.p.NarrowVotes(c.Request.Context(), body)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, gin.H{"narrowed": n, "scope": body.Scope,
		"unrecallable": "Narrowing applies to releases made after it. " + Unrecallable})
	return nil
}

// handleDownload answers everything Agora holds about the contributor, as
// one JSON document.
func (api *privacyAPI) handleDownload(c *gin.Context) error {
	id, _, err := api.subject(c)
	if err != nil {
		return err
	}
	d, err := api.p.ContributorData(c.Request.Context(), id)
	if err != nil {
		return err
	}
	c.Header("Content-Disposition", `attachment; filename="agora-my-data.json"`)
	c.JSON(http.StatusOK, d)
	return nil
}

// handleErase deletes everything Agora holds about the contributor, and
// answers the content-free tombstone that stays.
func (api *privacyAPI) handleErase(c *gin.Context) error {
	id, actor, err := api.subject(c)
	if err != nil {
		return err
	}
	var b [8]byte
	rand.Read(b[:])
	e := &rlhf.Erasure{ID: "e_" + hex.EncodeToString(b[:]), Actor: actor, At: api.now()}
	ctx := c.Request.Context()
	battles, err := api.p.Erase(ctx, id, e)
	if err != nil && rlhf.ErrorCode(err) != rlhf.EUnavailable { // unavailable: deleted, but the WAL not yet cleared
		return err
	}
	api.log.Info("erased a contributor's data", "erasure", e.ID, "actor", actor, "battles", e.Battles, "votes", e.Votes)
	if api.forget != nil {
		api.forget() // the published fits count the erased votes, whatever happens to the copies
	}
	if api.onErase != nil {
		if err := api.onErase(context.WithoutCancel(ctx), battles); err != nil {
			return &rlhf.Error{Code: rlhf.EUnavailable, Err: err,
				Message: "your data was deleted from the store, but removing its copies (analytics, leaderboard) failed; the operator has been told (erasure " + e.ID + ")"}
		}
	}
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, gin.H{"erasure": e, "unrecallable": Unrecallable})
	return nil
}
