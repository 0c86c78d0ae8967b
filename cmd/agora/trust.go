package main

import (
	"strings"

	"github.com/agora-rlhf/agora/arena/trust"
	"github.com/agora-rlhf/agora/configs"
)

// newLeakGuard returns the identity-leak guard, knowing the configured
// models' ids and aliases. Models that labs register are known by their
// public names (see trust.Guard).
func newLeakGuard(cfg *configs.Config) (*trust.Guard, error) {
	words, err := trust.DefaultWords()
	if err != nil {
		return nil, err
	}
	g := trust.NewGuard(words)
	for _, m := range cfg.Models {
		g.SetIdentity(m.Name, m.ModelID, m.Aliases)
	}
	return g, nil
}

// demoModelNames maps each built-in demo model's id to the public name the
// configuration gives it, so that a demo model asked who it is answers
// with its name.
func demoModelNames(cfg *configs.Config) map[string]string {
	names := map[string]string{}
	for _, m := range cfg.Models {
		if strings.HasPrefix(m.BaseURL, "{self}/demo/") {
			names[m.ModelID] = m.Name
		}
	}
	return names
}
