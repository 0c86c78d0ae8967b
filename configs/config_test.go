package configs

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestDefaultIsValid(t *testing.T) {
	c, err := Parse(nil)
	if err != nil {
		t.Fatalf("the embedded default does not parse: %v", err)
	}
	if c.Server.Addr != "127.0.0.1:8080" || c.Server.Data != "./agora-data" || len(c.Models) < 4 || !c.Demo.Enabled {
		t.Errorf("default = %+v", c.Server)
	}
	for _, m := range c.Models {
		if !IsDemo(&m) || m.IdleTimeout.D() <= 0 || m.FirstTokenTimeout <= m.IdleTimeout || m.MaxAnswerBytes <= 0 {
			t.Errorf("default model %+v", m)
		}
	}
}

func TestParseOverridesKeepDefaults(t *testing.T) {
	c, err := Parse([]byte("arena:\n  max_turns: 2\ndemo:\n  token_delay: 5ms\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Arena.MaxTurns != 2 || c.Demo.TokenDelay.D() != 5*time.Millisecond || c.Arena.VoteWindow.D() != time.Hour || len(c.Models) != 4 {
		t.Errorf("after overrides: arena %+v, demo %+v, %d models", c.Arena, c.Demo, len(c.Models))
	}
	c, err = Parse([]byte("models:\n  - {name: a, base_url: 'https://x.example/v1', model: m}\n"))
	if err != nil || len(c.Models) != 1 || c.Models[0].MaxTokens != 0 || c.Models[0].Temperature != nil {
		t.Errorf("models from the file replace the demo models, max_tokens and temperature unset: %+v, %v", c.Models, err)
	}
}

func TestParseErrorsNameTheField(t *testing.T) {
	var fe *FieldError
	_, err := Parse([]byte("server:\n  max_body_bytes: -1\n"))
	if !errors.As(err, &fe) || fe.Field != "server.max_body_bytes" {
		t.Errorf("negative body cap: %v", err)
	}
	_, err = Parse([]byte("server:\n  allowed_origins: [not-an-origin]\n"))
	if !errors.As(err, &fe) || fe.Field != "server.allowed_origins" {
		t.Errorf("bad origin: %v", err)
	}
	_, err = Parse([]byte("nonsense: 1\n"))
	if err == nil || !strings.Contains(err.Error(), "nonsense") {
		t.Errorf("unknown field: %v", err)
	}
	for _, tt := range []struct{ yaml, field string }{
		{"{name: a, base_url: 'http://h/v1', model: m, idle_timeout: 11m}", "models[0].idle_timeout"},
		{"{name: a, base_url: 'http://h/v1', model: m, first_token_timeout: 2h}", "models[0].first_token_timeout"},
		{"{name: a, base_url: 'http://h/v1', model: m, max_tokens: -1}", "models[0].max_tokens"},
		{"{name: a, base_url: 'http://h/v1', model: m, max_concurrency: -1}", "models[0].max_concurrency"},
		{"{name: '', base_url: 'http://h/v1', model: m}", "models[0].name"},
	} {
		_, err = Parse([]byte("models:\n  - " + tt.yaml + "\n"))
		if !errors.As(err, &fe) || fe.Field != tt.field {
			t.Errorf("Parse(%s) = %v, want an error naming %s", tt.yaml, err, tt.field)
		}
	}
	for _, field := range []string{"lab", "paused", "has_api_key", "created_at"} {
		if _, err = Parse([]byte("models:\n  - {name: a, base_url: 'http://h/v1', model: m, " + field + ": x}\n")); err == nil {
			t.Errorf("a model's %s in the configuration was accepted", field)
		}
	}
	_, err = Parse([]byte("demo:\n  enabled: false\n"))
	if !errors.As(err, &fe) || !strings.HasSuffix(fe.Field, "base_url") {
		t.Errorf("demo models with the demo off: %v", err)
	}
}
