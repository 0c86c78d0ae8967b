package passkey

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func newTest(t *testing.T) *Ceremonies {
	t.Helper()
	c, err := New(Config{RPID: "localhost", Origins: []string{"http://localhost:8080"}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestBeginRegistration checks the options the browser gets: a
// discoverable credential for the user, bound to the relying party.
func TestBeginRegistration(t *testing.T) {
	options, state, err := newTest(t).BeginRegistration(User{ID: "m_1", Name: "Ada"})
	if err != nil {
		t.Fatal(err)
	}
	var o struct {
		PublicKey struct {
			RP                     struct{ ID string }
			User                   struct{ ID, Name string }
			Challenge              string
			AuthenticatorSelection struct{ ResidentKey string } `json:"authenticatorSelection"`
		} `json:"publicKey"`
	}
	if err := json.Unmarshal(options, &o); err != nil {
		t.Fatal(err)
	}
	pk := o.PublicKey
	if pk.RP.ID != "localhost" || pk.User.Name != "Ada" || pk.User.ID != "bV8x" || pk.Challenge == "" || pk.AuthenticatorSelection.ResidentKey != "required" {
		t.Errorf("options = %s", options)
	}
	if !strings.Contains(string(state), pk.Challenge) {
		t.Errorf("state %s does not hold the challenge %s", state, pk.Challenge)
	}
}

// TestBadInput checks that wrong input is an error, never a panic.
func TestBadInput(t *testing.T) {
	c := newTest(t)
	_, state, _ := c.BeginRegistration(User{ID: "m_1"})
	_, loginState, _ := c.BeginLogin()
	load := func(string) (User, error) { return User{ID: "m_1"}, nil }
	for name, err := range map[string]error{
		"garbage response":  second(c.FinishRegistration(User{ID: "m_1"}, state, []byte(`{"id":1}`))),
		"garbage state":     second(c.FinishRegistration(User{ID: "m_1"}, []byte("{"), []byte(`{}`))),
		"empty assertion":   third(c.FinishLogin(loginState, []byte(``), load)),
		"garbage assertion": third(c.FinishLogin(loginState, []byte(`{"type":"public-key","id":"AA","rawId":"AA","response":{}}`), load)),
	} {
		if !errors.Is(err, ErrCeremony) {
			t.Errorf("%s: %v, want ErrCeremony", name, err)
		}
	}
	if _, _, err := c.BeginRegistration(User{ID: strings.Repeat("x", 65)}); err == nil {
		t.Error("a 65-byte user id was accepted")
	}
	if _, _, err := c.BeginRegistration(User{ID: "m_1", Credentials: [][]byte{[]byte("{")}}); err == nil {
		t.Error("a corrupt stored credential was accepted")
	}
	if _, err := New(Config{}); err == nil {
		t.Error("a relying party without an id was accepted")
	}
}

func second[A, B any](_ A, b B) B        { return b }
func third[A, B, C any](_ A, _ B, c C) C { return c }
