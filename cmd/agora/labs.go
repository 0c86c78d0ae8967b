package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/agora-rlhf/agora/arena"
	"github.com/agora-rlhf/agora/arena/openai"
	"github.com/agora-rlhf/agora/arena/registry"
	"github.com/agora-rlhf/agora/configs"
	"github.com/agora-rlhf/agora/ingest/sqlite"
	"github.com/agora-rlhf/agora/rlhf"
)

// labSecrets reads the admin token (AGORA_ADMIN_TOKEN, else the
// configuration's server.admin_token) and the key that seals labs' API
// keys (AGORA_SECRETS_KEY). Either may be unset: no admin, or no keys kept.
func labSecrets(cfg *configs.Config, getenv func(string) string) (adminToken string, sealer *registry.Sealer, err error) {
	adminToken = or(getenv("AGORA_ADMIN_TOKEN"), cfg.Server.AdminToken)
	if adminToken != "" && len(adminToken) < 16 {
		return "", nil, usageError{"AGORA_ADMIN_TOKEN (or server.admin_token) must have at least 16 characters"}
	}
	if k := getenv("AGORA_SECRETS_KEY"); k != "" {
		key, err := registry.ParseKey(k)
		if err != nil {
			return "", nil, usageError{"AGORA_SECRETS_KEY: " + err.Error()}
		}
		if sealer, err = registry.NewSealer(key); err != nil {
			return "", nil, usageError{"AGORA_SECRETS_KEY: " + err.Error()}
		}
	}
	return adminToken, sealer, nil
}

// openRegistry builds the model registry: the configured models (already
// in the arena) and those labs registered, loaded from the store into
// the arena.
func openRegistry(ctx context.Context, cfg *configs.Config, store *sqlite.Store, battles *arena.Arena, health *arena.Health,
	usage *arena.Usage, guard *openai.Guard, sealer *registry.Sealer, self string, log *slog.Logger) (*registry.Registry, error) {
	reg, err := registry.New(registry.Config{Store: store, Arena: battles, Health: health, Guard: guard, Sealer: sealer,
		Observers: []arena.Observer{health, usage}, Log: log})
	if err != nil {
		return nil, err
	}
	for _, m := range cfg.Models {
		reg.AddConfigModel(rlhf.EndpointModel{Name: m.Name, BaseURL: m.ResolveBaseURL(self), ModelID: m.Model,
			Temperature: m.Temperature, SystemPrompt: m.SystemPrompt, MaxTokens: m.MaxTokens,
			ConnectTimeout: int(m.ConnectTimeout.D().Milliseconds()), IdleTimeout: int(m.IdleTimeout.D().Milliseconds()),
			MaxAnswerBytes: m.MaxAnswerBytes, HasKey: m.APIKeyEnv != "", Tags: []string{}, Aliases: m.Aliases})
	}
	if err := reg.Load(ctx); err != nil {
		return nil, fmt.Errorf("model registry: %w", err)
	}
	if sealer == nil {
		log.Info("AGORA_SECRETS_KEY is not set: labs can register only models without an API key")
	}
	return reg, nil
}
