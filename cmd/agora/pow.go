package main

import (
	"crypto/hmac"
	"crypto/sha256"

	"github.com/agora-rlhf/agora/arena/httpapi"
	"github.com/agora-rlhf/agora/configs"
	"github.com/agora-rlhf/agora/ingest/store"
)

// powConfig is the proof of work for new identities: challenges signed
// with a key derived from the server's secret (kept in the data directory
// or AGORA_SECRET) and redeemed once in the store, so that a restart
// voids no challenge and lets none redeem twice.
func powConfig(cfg configs.ProofOfWork, secret []byte, store *store.Store) httpapi.PoWConfig {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("agora proof of work"))
	return httpapi.PoWConfig{Bits: cfg.Bits, TTL: cfg.TTL.D(), Key: m.Sum(nil), Spent: store}
}
