package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"

	"github.com/agora-rlhf/agora/arena"
	"github.com/agora-rlhf/agora/arena/openai"
	"github.com/agora-rlhf/agora/arena/registry"
	"github.com/agora-rlhf/agora/configs"
	"github.com/agora-rlhf/agora/ingest/store"
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

// modelParts are what every model's client is built with: the egress
// guards, the circuit breaker and the usage counter.
type modelParts struct {
	guard     *openai.Guard // labs' endpoints and the configured ones
	selfGuard *openai.Guard // the demo models, which this server serves itself
	health    *arena.Health
	usage     *arena.Usage
}

// newModelParts builds the parts of the configuration's egress, health
// and usage sections, for a server listening on addr.
func newModelParts(cfg *configs.Config, addr *net.TCPAddr) (*modelParts, error) {
	guard, err := openai.NewGuard(openai.GuardConfig{Allow: cfg.Egress.Allow})
	if err != nil {
		return nil, usageError{"configuration: egress.allow: " + err.Error()}
	}
	selfGuard, err := guard.Allowing(selfAddr(addr))
	if err != nil {
		return nil, err
	}
	usage, err := arena.NewUsage(cfg.Usage)
	if err != nil {
		return nil, usageError{"configuration: usage: " + err.Error()}
	}
	health, err := arena.NewHealth(cfg.Health, nil) // the registry adds each model; probes are not counted as usage
	if err != nil {
		return nil, usageError{"configuration: health: " + err.Error()}
	}
	return &modelParts{guard: guard, selfGuard: selfGuard, health: health, usage: usage}, nil
}

// openRegistry builds the model registry and through it puts every model
// into battles: the configured ones (keys from the environment, {self}
// resolved to this server) and those labs registered, loaded from the
// store. Both are built the same way: limits, usage, circuit breaker,
// redaction, client.
func openRegistry(ctx context.Context, cfg *configs.Config, keys map[string]string, store *store.Store, battles *arena.Arena,
	mp *modelParts, sealer *registry.Sealer, self string, log *slog.Logger) (*registry.Registry, error) {
	reg, err := registry.New(registry.Config{Store: store, Arena: battles, Health: mp.health, Guard: mp.guard, Sealer: sealer,
		Observers: []arena.Observer{mp.health, mp.usage}, Log: log})
	if err != nil {
		return nil, err
	}
	for i := range cfg.Models {
		m := cfg.Models[i].Clone()
		g := mp.guard
		if configs.IsDemo(&m) {
			g = mp.selfGuard
		}
		m.BaseURL = configs.ResolveBaseURL(&m, self)
		if err := reg.AddConfigModel(ctx, m, keys[m.Name], g); err != nil {
			return nil, usageError{fmt.Sprintf("configuration: models[%d].base_url: %v (allow-list it in egress.allow)", i, err)}
		}
	}
	if err := reg.Load(ctx); err != nil {
		return nil, fmt.Errorf("model registry: %w", err)
	}
	if sealer == nil {
		log.Info("AGORA_SECRETS_KEY is not set: labs can register only models without an API key")
	}
	return reg, nil
}
