// Package openid signs contributors in with an OpenID Connect issuer
// (Hugging Face, Google, Keycloak, GitHub through a bridge): the
// authorization code flow with state, nonce and PKCE. It is the one
// package that imports go-oidc and x/oauth2.
package openid

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"sync"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// Config is one issuer and this server's client there.
type Config struct {
	Issuer       string // https://accounts.example.org, as its discovery document says
	ClientID     string
	ClientSecret string // never logged
	RedirectURL  string // this server's callback: https://arena.example.org/api/v1/account/oidc/callback
	Scopes       []string
	// Client makes the calls to the issuer (default http.DefaultClient).
	Client *http.Client
}

// Provider runs the flow against one issuer. Its discovery document is
// fetched on first use, and again after a failure, so that a server
// starts even while the issuer is down.
type Provider struct {
	cfg Config

	mu       sync.Mutex // guards provider; never held across the fetch
	provider *oidc.Provider
}

// New returns a Provider for cfg.
func New(cfg Config) (*Provider, error) {
	switch {
	case cfg.Issuer == "":
		return nil, errors.New("openid: the issuer is required")
	case cfg.ClientID == "":
		return nil, errors.New("openid: the client id is required")
	case cfg.RedirectURL == "":
		return nil, errors.New("openid: the redirect URL is required")
	}
	if cfg.Client == nil {
		cfg.Client = http.DefaultClient
	}
	return &Provider{cfg: cfg}, nil
}

// Issuer returns the configured issuer.
func (p *Provider) Issuer() string { return p.cfg.Issuer }

// Flow is one sign-in's secrets, kept by the client between the redirect
// and the callback (sealed, so the client can neither read nor change
// them): state ties the callback to this flow, nonce the id token, and
// the PKCE verifier the code.
type Flow struct {
	State    string `json:"state"`
	Nonce    string `json:"nonce"`
	Verifier string `json:"verifier"`
}

// NewFlow returns fresh random secrets for one sign-in.
func NewFlow() Flow {
	return Flow{State: random(), Nonce: random(), Verifier: oauth2.GenerateVerifier()}
}

func random() string {
	var b [24]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// AuthURL returns the issuer's URL to send the browser to.
func (p *Provider) AuthURL(ctx context.Context, f Flow) (string, error) {
	conf, _, err := p.oauth(ctx)
	if err != nil {
		return "", err
	}
	return conf.AuthCodeURL(f.State, oidc.Nonce(f.Nonce), oauth2.S256ChallengeOption(f.Verifier)), nil
}

// Claims is who the issuer says signed in.
type Claims struct {
	Issuer  string
	Subject string
	Name    string
}

// Exchange trades the callback's code for tokens and verifies the id
// token: signature, issuer, audience, expiry and f's nonce.
func (p *Provider) Exchange(ctx context.Context, code string, f Flow) (Claims, error) {
	conf, verifier, err := p.oauth(ctx)
	if err != nil {
		return Claims{}, err
	}
	ctx = oidc.ClientContext(ctx, p.cfg.Client)
	tok, err := conf.Exchange(ctx, code, oauth2.VerifierOption(f.Verifier))
	if err != nil {
		return Claims{}, fmt.Errorf("exchange the code at %s: %w", p.cfg.Issuer, err)
	}
	raw, ok := tok.Extra("id_token").(string)
	if !ok {
		return Claims{}, fmt.Errorf("%s sent no id_token", p.cfg.Issuer)
	}
	idt, err := verifier.Verify(ctx, raw)
	if err != nil {
		return Claims{}, fmt.Errorf("verify the id token of %s: %w", p.cfg.Issuer, err)
	}
	if idt.Nonce != f.Nonce {
		return Claims{}, fmt.Errorf("the id token of %s has the wrong nonce", p.cfg.Issuer)
	}
	var extra struct {
		Name              string `json:"name"`
		PreferredUsername string `json:"preferred_username"`
	}
	if err := idt.Claims(&extra); err != nil {
		return Claims{}, fmt.Errorf("read the id token's claims: %w", err)
	}
	return Claims{Issuer: idt.Issuer, Subject: idt.Subject, Name: cmpOr(extra.PreferredUsername, extra.Name)}, nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// oauth returns the client configuration and the id token verifier,
// fetching the discovery document the first time.
func (p *Provider) oauth(ctx context.Context) (*oauth2.Config, *oidc.IDTokenVerifier, error) {
	p.mu.Lock()
	pr := p.provider
	p.mu.Unlock()
	if pr == nil { // fetched outside the lock: two first sign-ins may both fetch it
		var err error
		if pr, err = oidc.NewProvider(oidc.ClientContext(ctx, p.cfg.Client), p.cfg.Issuer); err != nil {
			return nil, nil, fmt.Errorf("discover %s: %w", p.cfg.Issuer, err)
		}
		p.mu.Lock()
		p.provider = pr
		p.mu.Unlock()
	}
	scopes := p.cfg.Scopes
	if len(scopes) == 0 {
		scopes = []string{oidc.ScopeOpenID, "profile"}
	}
	conf := &oauth2.Config{ClientID: p.cfg.ClientID, ClientSecret: p.cfg.ClientSecret, RedirectURL: p.cfg.RedirectURL,
		Endpoint: pr.Endpoint(), Scopes: scopes}
	return conf, pr.Verifier(&oidc.Config{ClientID: p.cfg.ClientID}), nil
}
