// Package passkey runs the WebAuthn ceremonies that register a passkey and
// sign in with one. It is the one package that imports go-webauthn: the
// rest of Agora sees JSON options for the browser, opaque ceremony state
// to keep between the two steps, and credentials as stored bytes.
package passkey

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
)

// Config is the relying party: the server as passkeys know it.
type Config struct {
	// RPID is the domain passkeys are bound to ("arena.example.org",
	// or "localhost"); never an IP address, which browsers refuse.
	RPID string
	// Name is shown by the browser when it asks for a passkey.
	Name string
	// Origins are the page origins that may use them, as the browser
	// reports them ("https://arena.example.org").
	Origins []string
	// Timeout bounds each ceremony (default 5 minutes).
	Timeout time.Duration
}

// Ceremonies registers passkeys and signs in with them.
type Ceremonies struct {
	w *webauthn.WebAuthn
}

// New returns Ceremonies for the relying party cfg.
func New(cfg Config) (*Ceremonies, error) {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 5 * time.Minute
	}
	if cfg.Name == "" {
		cfg.Name = "Agora"
	}
	timeout := webauthn.TimeoutConfig{Enforce: true, Timeout: cfg.Timeout, TimeoutUVD: cfg.Timeout}
	w, err := webauthn.New(&webauthn.Config{
		RPID: cfg.RPID, RPDisplayName: cfg.Name, RPOrigins: cfg.Origins,
		Timeouts: webauthn.TimeoutsConfig{Login: timeout, Registration: timeout},
	})
	if err != nil {
		return nil, fmt.Errorf("passkeys for %q: %w", cfg.RPID, err)
	}
	return &Ceremonies{w: w}, nil
}

// User is the account a ceremony is for: its id (the passkey's user
// handle, at most 64 bytes), a name to show, and its stored credentials.
type User struct {
	ID          string
	Name        string
	Credentials [][]byte // as Credential.Data returned them
}

// Credential is a passkey as the store keeps it: its id and its data.
type Credential struct {
	ID   []byte
	Data []byte
}

// ErrCeremony is a ceremony that failed on the client's side: a bad
// response, an expired or replayed challenge, an unknown passkey.
var ErrCeremony = errors.New("passkey ceremony failed")

// BeginRegistration returns the options for navigator.credentials.create
// (JSON, {"publicKey": ...}) and the state FinishRegistration needs.
// Passkeys are discoverable, so that signing in needs no user name.
func (c *Ceremonies) BeginRegistration(u User) (options, state []byte, err error) {
	wu, err := newUser(u)
	if err != nil {
		return nil, nil, err
	}
	creation, session, err := c.w.BeginRegistration(wu,
		webauthn.WithResidentKeyRequirement(protocol.ResidentKeyRequirementRequired),
		webauthn.WithExclusions(webauthn.Credentials(wu.creds).CredentialDescriptors()))
	if err != nil {
		return nil, nil, fmt.Errorf("begin registration: %w", err)
	}
	return encode(creation, session)
}

// FinishRegistration checks the browser's response against state and
// returns the new credential to store.
func (c *Ceremonies) FinishRegistration(u User, state, response []byte) (Credential, error) {
	wu, err := newUser(u)
	if err != nil {
		return Credential{}, err
	}
	var session webauthn.SessionData
	if err := json.Unmarshal(state, &session); err != nil {
		return Credential{}, fmt.Errorf("%w: ceremony state: %v", ErrCeremony, err)
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(response)
	if err != nil {
		return Credential{}, fmt.Errorf("%w: %v", ErrCeremony, detail(err))
	}
	cred, err := c.w.CreateCredential(wu, session, parsed)
	if err != nil {
		return Credential{}, fmt.Errorf("%w: %v", ErrCeremony, detail(err))
	}
	return stored(cred)
}

// BeginLogin returns the options for navigator.credentials.get and the
// state FinishLogin needs. Any of the site's passkeys may answer.
func (c *Ceremonies) BeginLogin() (options, state []byte, err error) {
	assertion, session, err := c.w.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationPreferred))
	if err != nil {
		return nil, nil, fmt.Errorf("begin login: %w", err)
	}
	return encode(assertion, session)
}

// FinishLogin checks the browser's response against state, with load
// finding the user of the passkey's user handle, and returns that user's
// id and the credential with its updated sign count.
func (c *Ceremonies) FinishLogin(state, response []byte, load func(id string) (User, error)) (string, Credential, error) {
	var session webauthn.SessionData
	if err := json.Unmarshal(state, &session); err != nil {
		return "", Credential{}, fmt.Errorf("%w: ceremony state: %v", ErrCeremony, err)
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(response)
	if err != nil {
		return "", Credential{}, fmt.Errorf("%w: %v", ErrCeremony, detail(err))
	}
	handler := func(_, handle []byte) (webauthn.User, error) {
		u, err := load(string(handle))
		if err != nil {
			return nil, err
		}
		return newUser(u)
	}
	user, cred, err := c.w.ValidatePasskeyLogin(handler, session, parsed)
	if err != nil {
		return "", Credential{}, fmt.Errorf("%w: %v", ErrCeremony, detail(err))
	}
	if cred.Authenticator.CloneWarning {
		return "", Credential{}, fmt.Errorf("%w: the passkey's sign count went back (a cloned authenticator?)", ErrCeremony)
	}
	out, err := stored(cred)
	return string(user.WebAuthnID()), out, err
}

func encode(options any, session *webauthn.SessionData) ([]byte, []byte, error) {
	o, err := json.Marshal(options)
	if err != nil {
		return nil, nil, fmt.Errorf("encode ceremony options: %w", err)
	}
	s, err := json.Marshal(session)
	if err != nil {
		return nil, nil, fmt.Errorf("encode ceremony state: %w", err)
	}
	return o, s, nil
}

func stored(cred *webauthn.Credential) (Credential, error) {
	data, err := json.Marshal(cred)
	if err != nil {
		return Credential{}, fmt.Errorf("encode credential: %w", err)
	}
	return Credential{ID: cred.ID, Data: data}, nil
}

// detail returns the library's explanation of a protocol error, which
// names what was wrong (its Error() is only the type).
func detail(err error) string {
	var pe *protocol.Error
	if errors.As(err, &pe) && pe.Details != "" {
		return pe.Details
	}
	return err.Error()
}

// user is a User as the library wants it.
type user struct {
	id, name string
	creds    []webauthn.Credential
}

func newUser(u User) (*user, error) {
	if u.ID == "" || len(u.ID) > 64 {
		return nil, fmt.Errorf("passkey user id %q: want 1 to 64 bytes", u.ID)
	}
	wu := &user{id: u.ID, name: u.Name}
	for _, data := range u.Credentials {
		var c webauthn.Credential
		if err := json.Unmarshal(data, &c); err != nil {
			return nil, fmt.Errorf("stored passkey of %s: %w", u.ID, err)
		}
		wu.creds = append(wu.creds, c)
	}
	return wu, nil
}

func (u *user) WebAuthnID() []byte                         { return []byte(u.id) }
func (u *user) WebAuthnName() string                       { return u.name }
func (u *user) WebAuthnDisplayName() string                { return u.name }
func (u *user) WebAuthnCredentials() []webauthn.Credential { return u.creds }
