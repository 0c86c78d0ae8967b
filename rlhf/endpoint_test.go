package rlhf

import (
	"encoding/json"
	"math"
	"testing"
	"time"
)

func TestEndpointModelValidate(t *testing.T) {
	ok := EndpointModel{Name: "acme/m-1", Lab: "acme", BaseURL: "https://x.example/v1", ModelID: "m"}
	ok.SetDefaults()
	if err := ok.Validate(); err != nil {
		t.Fatalf("Validate(%+v) = %v", ok, err)
	}
	configured := ok
	configured.Name, configured.Lab = "My Model 3", ""
	if err := configured.Validate(); err != nil {
		t.Errorf("Validate(a configured model) = %v", err)
	}
	nan := float32(math.NaN())
	bad := []struct {
		field string // as the API names it
		f     func(m *EndpointModel)
	}{
		{"name", func(m *EndpointModel) { m.Name = "m-1" }},
		{"name", func(m *EndpointModel) { m.Name = "other/m-1" }},
		{"name", func(m *EndpointModel) { m.Name = "acme/M" }},
		{"name", func(m *EndpointModel) { m.Name, m.Lab = "", "" }},
		{"base_url", func(m *EndpointModel) { m.BaseURL = "ftp://x/v1" }},
		{"model", func(m *EndpointModel) { m.ModelID = "" }},
		{"max_tokens", func(m *EndpointModel) { m.MaxTokens = -1 }},
		{"max_concurrency", func(m *EndpointModel) { m.MaxConcurrency = -1 }},
		{"connect_timeout_ms", func(m *EndpointModel) { m.ConnectTimeout = 0 }},
		{"first_token_timeout_ms", func(m *EndpointModel) { m.FirstTokenTimeout = Duration(time.Hour) }},
		{"idle_timeout_ms", func(m *EndpointModel) { m.IdleTimeout = Duration(time.Microsecond) }},
		{"temperature", func(m *EndpointModel) { m.Temperature = &nan }},
		{"tags", func(m *EndpointModel) { m.Tags = []string{""} }},
		{"price", func(m *EndpointModel) { m.Price = &Price{InputPerMillion: -1} }},
	}
	for _, tt := range bad {
		m := ok.Clone()
		tt.f(&m)
		p := m.Problem()
		if err := m.Validate(); ErrorCode(err) != EInvalid || p == nil || p.JSON != tt.field {
			t.Errorf("Validate(%+v) = %v (%+v), want invalid naming %s", m, err, p, tt.field)
		}
	}
}

func TestEndpointModelDefaultsAndClone(t *testing.T) {
	var m EndpointModel
	m.SetDefaults()
	if m.MaxTokens != 0 || m.Temperature != nil || m.FirstTokenTimeout <= m.IdleTimeout || m.ConnectTimeout == 0 || m.Tags == nil {
		t.Errorf("defaults = %+v; want no max_tokens or temperature, a first-token limit above the idle one", m)
	}
	temp := float32(0)
	m.Temperature, m.Price, m.Tags = &temp, &Price{InputPerMillion: 1}, []string{"a"}
	c := m.Clone()
	*c.Temperature, c.Price.InputPerMillion, c.Tags[0] = 1, 2, "b"
	if *m.Temperature != 0 || m.Price.InputPerMillion != 1 || m.Tags[0] != "a" {
		t.Errorf("changing a clone changed the original: %+v", m)
	}
}

func TestDurationForms(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want time.Duration
	}{
		{`1500`, 1500 * time.Millisecond},
		{`"1m30s"`, 90 * time.Second},
		{`0`, 0},
	} {
		var d Duration
		if err := json.Unmarshal([]byte(tt.in), &d); err != nil || d.D() != tt.want {
			t.Errorf("json %s = %v, %v; want %v", tt.in, d.D(), err, tt.want)
		}
	}
	for _, in := range []string{`1.5`, `-1`, `"soon"`, `true`, `1e3`} {
		var d Duration
		if err := json.Unmarshal([]byte(in), &d); ErrorCode(err) != EInvalid {
			t.Errorf("json %s = %v, %v; want an invalid error", in, d.D(), err)
		}
	}
	var d Duration
	if err := d.UnmarshalText([]byte("2m")); err != nil || d.D() != 2*time.Minute {
		t.Errorf("text 2m = %v, %v", d.D(), err)
	}
	if err := d.UnmarshalText([]byte("120000")); err == nil {
		t.Errorf("text without a unit was accepted as %v", d.D())
	}
	b, err := json.Marshal(EndpointModel{IdleTimeout: Duration(30 * time.Second)})
	var back map[string]any
	if err != nil || json.Unmarshal(b, &back) != nil || back["idle_timeout_ms"] != 30000.0 {
		t.Errorf("JSON of a model = %s, %v; want idle_timeout_ms 30000", b, err)
	}
	if _, ok := back["max_tokens"]; ok {
		t.Errorf("JSON of a model without max_tokens has it: %s", b)
	}
}
