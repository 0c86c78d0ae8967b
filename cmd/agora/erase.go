package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/agora-rlhf/agora/analytics"
	"github.com/agora-rlhf/agora/arena/httpapi"
	"github.com/agora-rlhf/agora/configs"
	"github.com/agora-rlhf/agora/rlhf"
)

// loadTerms reads the operator's terms, when configured.
func loadTerms(c *configs.Consent, keeper httpapi.TermsKeeper) (httpapi.Terms, error) {
	if c.TermsFile == "" {
		return httpapi.Terms{}, nil
	}
	text, err := os.ReadFile(c.TermsFile)
	if err != nil {
		return httpapi.Terms{}, usageError{fmt.Sprintf("configuration: consent.terms_file: %v", err)}
	}
	return httpapi.Terms{Version: c.TermsVersion, Text: string(text), Keeper: keeper}, nil
}

// eraseWait bounds how long an erasure request waits for ClickHouse; past
// it the contributor is told, and the shipper still erases once
// ClickHouse answers.
const eraseWait = time.Minute

// onErase returns what serve does after a contributor's data left the
// store: delete the copies of their battles from ClickHouse and recount its
// leaderboard's pair counts (when configured; through the shipper, so that
// no batch in flight puts them back), and reload the live leaderboard
// without their votes.
func onErase(ch clickhouseParts, live *analytics.Live, store rlhf.RecordSource) func(ctx context.Context, battles []string) error {
	return func(ctx context.Context, battles []string) error {
		var errs []error
		if ch.shipper != nil {
			wctx, cancel := context.WithTimeout(ctx, eraseWait)
			err := ch.shipper.Erase(wctx, battles)
			cancel()
			if err != nil {
				errs = append(errs, fmt.Errorf("clickhouse: %w", err))
			}
			if b, ok := ch.leaderboards.(*analytics.CountsBoard); ok {
				b.Forget()
			}
		}
		if err := live.Reload(ctx, store); err != nil {
			errs = append(errs, fmt.Errorf("reload the leaderboard: %w", err))
		}
		return errors.Join(errs...)
	}
}
