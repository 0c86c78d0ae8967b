package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/agora-rlhf/agora/analytics"
	"github.com/agora-rlhf/agora/ingest/clickhouse"
	"github.com/agora-rlhf/agora/rlhf"
)

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
