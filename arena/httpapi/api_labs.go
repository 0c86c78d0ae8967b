package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/agora-rlhf/agora/rlhf"
)

// The account kinds that the /labs and /researchers routes manage.
const (
	labKind        = rlhf.KindLab
	researcherKind = rlhf.KindResearcher
)

// accountAPI manages lab and researcher accounts and their tokens, with
// what it uses: the accounts, what pauses a disabled lab's models (nil
// without a registry), the log and the clock.
type accountAPI struct {
	accts    Accounts
	pauseLab func(ctx context.Context, lab string) error
	log      *slog.Logger
	now      func() time.Time
}

// newAccountAPI gives the account routes what they use of s.
func (s *Server) newAccountAPI(accts Accounts) *accountAPI {
	api := &accountAPI{accts: accts, log: s.log, now: s.now}
	if s.cfg.Registry != nil {
		api.pauseLab = s.cfg.Registry.PauseLab
	}
	return api
}

// decodeJSON reads the request body as one JSON object into v, refusing
// unknown fields. Its errors never repeat the body.
func decodeJSON(c *gin.Context, v any) error {
	dec := json.NewDecoder(c.Request.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if asMaxBytes(err, &mbe) {
			return err
		}
		return &rlhf.Error{Code: rlhf.EInvalid, Message: "the body must be one JSON object with the documented fields: " + jsonProblem(err), Err: err}
	}
	if dec.More() {
		return rlhf.Errorf(rlhf.EInvalid, "the body must be one JSON object")
	}
	return nil
}

// handleCreateAccount creates an account of kind and its first API token,
// which is in the answer and nowhere else: it is stored only as a hash.
func (api *accountAPI) handleCreateAccount(kind rlhf.AccountKind) handler {
	return func(c *gin.Context) error {
		var req struct {
			ID   string `json:"id"`
			Name string `json:"name"`
		}
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
		a := &rlhf.Account{ID: req.ID, Kind: kind, Name: req.Name, CreatedAt: api.now()}
		if err := api.accts.CreateAccount(c.Request.Context(), a); err != nil {
			return err
		}
		token, hash := newToken()
		if err := api.accts.AddToken(c.Request.Context(), a.ID, hash, a.CreatedAt); err != nil {
			return err
		}
		api.log.Info("account created", "kind", kind, "account", a.ID)
		c.Header("Cache-Control", "no-store")
		c.JSON(http.StatusCreated, gin.H{"account": a, "token": token})
		return nil
	}
}

// handleListAccounts lists the accounts of kind.
func (api *accountAPI) handleListAccounts(kind rlhf.AccountKind) handler {
	return func(c *gin.Context) error {
		list, err := api.accts.Accounts(c.Request.Context(), kind)
		if err != nil {
			return err
		}
		c.JSON(http.StatusOK, gin.H{"accounts": list})
		return nil
	}
}

// account returns the account named by the :id parameter if it is of
// kind.
func (api *accountAPI) account(c *gin.Context, kind rlhf.AccountKind) (*rlhf.Account, error) {
	a, err := api.accts.Account(c.Request.Context(), c.Param("id"))
	if err != nil {
		return nil, err
	}
	if a.Kind != kind {
		return nil, rlhf.Errorf(rlhf.ENotFound, "no %s account %q", kind, a.ID)
	}
	return a, nil
}

// handleNewToken adds an API token to an account (to rotate tokens: add
// one, switch, then revoke the old ones by revoking all and adding one).
func (api *accountAPI) handleNewToken(kind rlhf.AccountKind) handler {
	return func(c *gin.Context) error {
		a, err := api.account(c, kind)
		if err != nil {
			return err
		}
		token, hash := newToken()
		if err := api.accts.AddToken(c.Request.Context(), a.ID, hash, api.now()); err != nil {
			return err
		}
		api.log.Info("token added", "account", a.ID)
		c.Header("Cache-Control", "no-store")
		c.JSON(http.StatusCreated, gin.H{"account": a, "token": token})
		return nil
	}
}

// handleRevokeTokens revokes every token of an account.
func (api *accountAPI) handleRevokeTokens(kind rlhf.AccountKind) handler {
	return func(c *gin.Context) error {
		a, err := api.account(c, kind)
		if err != nil {
			return err
		}
		n, err := api.accts.RevokeTokens(c.Request.Context(), a.ID)
		if err != nil {
			return err
		}
		api.log.Info("tokens revoked", "account", a.ID, "count", n)
		c.JSON(http.StatusOK, gin.H{"revoked": n})
		return nil
	}
}

// handleDisableAccount revokes an account's tokens for good; a lab's
// models are paused (kept, out of battles).
func (api *accountAPI) handleDisableAccount(kind rlhf.AccountKind) handler {
	return func(c *gin.Context) error {
		a, err := api.account(c, kind)
		if err != nil {
			return err
		}
		if err := api.accts.DisableAccount(c.Request.Context(), a.ID); err != nil {
			return err
		}
		if kind == rlhf.KindLab && api.pauseLab != nil {
			if err := api.pauseLab(c.Request.Context(), a.ID); err != nil {
				return err
			}
		}
		api.log.Info("account disabled", "account", a.ID)
		a.Disabled = true
		c.JSON(http.StatusOK, gin.H{"account": a})
		return nil
	}
}

// handleMe returns the calling lab's account.
func handleMe(c *gin.Context) error {
	c.JSON(http.StatusOK, gin.H{"account": caller(c).account})
	return nil
}

func (s *Server) now() time.Time { return time.Now().UTC() }

func asMaxBytes(err error, target **http.MaxBytesError) bool { return errors.As(err, target) }

// jsonProblem describes a JSON decoding error without quoting the body.
func jsonProblem(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var field *rlhf.Error
	switch {
	case errors.As(err, &field): // a field's own decoder says what is wrong
		return field.Message
	case errors.Is(err, io.EOF):
		return "the body is empty"
	case errors.As(err, &syn):
		return fmt.Sprintf("not valid JSON (at byte %d)", syn.Offset)
	case errors.As(err, &typ):
		return fmt.Sprintf("field %q must be a JSON %s", typ.Field, typ.Type.Kind())
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return strings.TrimPrefix(err.Error(), "json: ")
	}
	return "not valid JSON"
}
