package configs

import (
	"fmt"
	"net/url"
)

// Contributors configures contributors' accounts: optional by default,
// with passkeys (no outside service) and, when configured, one OpenID
// Connect issuer. docs/accounts.md describes them.
type Contributors struct {
	// RequireAccount makes the websocket refuse battles to contributors
	// who are not signed in (error account_required).
	RequireAccount bool     `yaml:"require_account"`
	Passkeys       Passkeys `yaml:"passkeys"`
	OIDC           OIDC     `yaml:"oidc"`
}

// Passkeys is the WebAuthn relying party. Empty fields are derived from
// server.addr: a host name is the RP ID with an https origin; an IP
// address or none means localhost (browsers refuse IP addresses).
type Passkeys struct {
	Enabled bool     `yaml:"enabled"`
	RPID    string   `yaml:"rp_id"`
	Name    string   `yaml:"name"`
	Origins []string `yaml:"origins"`
}

// OIDC is one OpenID Connect issuer; sign-in with it is on when Issuer is
// set. The client secret is read from the environment variable named by
// ClientSecretEnv or, when set, from ClientSecretFile, never from this
// file, and is never logged.
type OIDC struct {
	Name             string   `yaml:"name"` // the button's label: "Hugging Face"
	Issuer           string   `yaml:"issuer"`
	ClientID         string   `yaml:"client_id"`
	ClientSecretEnv  string   `yaml:"client_secret_env"`
	ClientSecretFile string   `yaml:"client_secret_file"`
	RedirectURL      string   `yaml:"redirect_url"` // default: the first passkey origin + /api/v1/account/oidc/callback
	Scopes           []string `yaml:"scopes"`
}

// Enabled reports whether an issuer is configured.
func (o *OIDC) Enabled() bool { return o.Issuer != "" }

func (c *Contributors) validate() error {
	for _, o := range c.Passkeys.Origins {
		if u, err := url.Parse(o); err != nil || u.Scheme == "" || u.Host == "" || u.Path != "" {
			return &FieldError{"contributors.passkeys.origins", fmt.Sprintf("%q is not an origin like https://arena.example.org", o)}
		}
	}
	o := &c.OIDC
	if !o.Enabled() {
		return nil
	}
	switch u, err := url.Parse(o.Issuer); {
	case err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "":
		return &FieldError{"contributors.oidc.issuer", fmt.Sprintf("%q is not a URL like https://accounts.example.org", o.Issuer)}
	case o.ClientID == "":
		return &FieldError{"contributors.oidc.client_id", "is required with an issuer"}
	}
	if o.RedirectURL != "" {
		if u, err := url.Parse(o.RedirectURL); err != nil || u.Scheme == "" || u.Host == "" {
			return &FieldError{"contributors.oidc.redirect_url", fmt.Sprintf("%q is not a URL", o.RedirectURL)}
		}
	}
	return nil
}
