package main

import (
	"context"
	"errors"
	"fmt"

	"os"

	"github.com/agora-rlhf/agora/analytics"
	"github.com/agora-rlhf/agora/arena/web"
	"github.com/agora-rlhf/agora/configs"
	"github.com/agora-rlhf/agora/ingest/clickhouse"
	"github.com/agora-rlhf/agora/rlhf"
)

// loadTerms reads the operator's terms, when configured.
func loadTerms(c *configs.Consent, keeper web.TermsKeeper) (web.Terms, error) {
	if c.TermsFile == "" {
		return web.Terms{}, nil
	}
	text, err := os.ReadFile(c.TermsFile)
	if err != nil {
		return web.Terms{}, usageError{fmt.Sprintf("configuration: consent.terms_file: %v", err)}
	}
	return web.Terms{Version: c.TermsVersion, Text: string(text), Keeper: keeper}, nil
}

// onErase returns what serve does after a contributor's data left the
// store: delete the copies of their battles from ClickHouse (when
// configured) and reload the live leaderboard without their votes.
func onErase(ch *clickhouse.Client, live *analytics.Live, store rlhf.RecordSource) func(ctx context.Context, battles []string) error {
	return func(ctx context.Context, battles []string) error {
		var errs []error
		if ch != nil {
			if err := ch.Erase(ctx, battles); err != nil {
				errs = append(errs, fmt.Errorf("clickhouse: %w", err))
			}
		}
		if err := live.Reload(ctx, store); err != nil {
			errs = append(errs, fmt.Errorf("reload the leaderboard: %w", err))
		}
		return errors.Join(errs...)
	}
}
