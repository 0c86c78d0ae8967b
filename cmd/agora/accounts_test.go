package main

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/agora-rlhf/agora/configs"
)

// TestPasskeyDefaults checks the relying party derived from the listen
// address: browsers refuse IP addresses as RP IDs, so those mean localhost.
func TestPasskeyDefaults(t *testing.T) {
	for _, tc := range []struct {
		listen, rpID, origin string
	}{
		{"127.0.0.1:8080", "localhost", "http://localhost:8080"},
		{":8080", "localhost", "http://localhost:8080"},
		{"[::1]:9000", "localhost", "http://localhost:9000"},
		{"arena.example.org:443", "arena.example.org", "https://arena.example.org"},
		{"arena.example.org:8443", "arena.example.org", "https://arena.example.org:8443"},
	} {
		got := passkeyConfig(configs.Passkeys{}, tc.listen)
		if got.RPID != tc.rpID || !slices.Equal(got.Origins, []string{tc.origin}) {
			t.Errorf("passkeyConfig(%s) = %s %v, want %s [%s]", tc.listen, got.RPID, got.Origins, tc.rpID, tc.origin)
		}
	}
	set := passkeyConfig(configs.Passkeys{RPID: "example.org", Origins: []string{"https://arena.example.org"}}, "127.0.0.1:8080")
	if set.RPID != "example.org" || !slices.Equal(set.Origins, []string{"https://arena.example.org"}) {
		t.Errorf("configured relying party = %+v, want it kept", set)
	}
}

// TestOpenIDSecret checks that the client secret comes from the file when
// one is named, else from the environment, and the default redirect URL.
func TestOpenIDSecret(t *testing.T) {
	file := filepath.Join(t.TempDir(), "secret")
	os.WriteFile(file, []byte("from-file\n"), 0o600)
	env := func(k string) string { return map[string]string{"AGORA_OIDC_CLIENT_SECRET": "from-env"}[k] }
	o := configs.OIDC{Issuer: "https://idp.example", ClientID: "agora", ClientSecretEnv: "AGORA_OIDC_CLIENT_SECRET"}
	got, err := openIDConfig(o, "https://arena.example.org", env)
	if err != nil || got.ClientSecret != "from-env" || got.RedirectURL != "https://arena.example.org/api/v1/account/oidc/callback" {
		t.Errorf("from env: %+v, %v", got, err)
	}
	o.ClientSecretFile = file
	if got, err := openIDConfig(o, "https://arena.example.org", env); err != nil || got.ClientSecret != "from-file" {
		t.Errorf("from file: %q, %v; want from-file", got.ClientSecret, err)
	}
	o.ClientSecretFile = filepath.Join(t.TempDir(), "missing")
	if _, err := openIDConfig(o, "", env); err == nil {
		t.Error("a missing secret file was accepted")
	}
}
