package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/agora-rlhf/agora/analytics"
)

const genUsage = `gen-battles [flags]

Writes synthetic Chatbot Arena battles (JSONL: model_a, model_b, winner,
tstamp) drawn from known ratings, for benchmarks and for checking
leaderboards: "agora gen-battles --models 200 --battles 10000000 -o b.jsonl"
then "agora leaderboard b.jsonl". The true ratings (mean 1000) go to
--truth FILE as CSV when given. Ties happen with probability
ties·2·min(p, 1−p), so ties-as-half-a-win ratings stay unbiased.`

func runGenBattles(ctx context.Context, args []string, e env) error {
	fs := newFlagSet("gen-battles", genUsage, e)
	var cfg analytics.SynthConfig
	var out, truth string
	fs.IntVar(&cfg.Models, "models", 50, "number of models")
	fs.IntVar(&cfg.Battles, "battles", 100000, "number of battles")
	fs.Uint64Var(&cfg.Seed, "seed", 1, "random seed")
	fs.Float64Var(&cfg.Spread, "spread", 150, "standard deviation of the true ratings, in rating points")
	fs.Float64Var(&cfg.TieRate, "ties", 0.3, "tie propensity in [0, 1]")
	fs.StringVar(&out, "o", "-", "output file (- for stdout)")
	fs.StringVar(&truth, "truth", "", "also write the true ratings to this CSV file")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("gen-battles takes no arguments; got %q", fs.Arg(0))}
	}
	s, err := analytics.NewSynth(cfg)
	if err != nil {
		return usageError{err.Error()}
	}
	var w io.Writer = e.stdout
	var f *os.File
	if out != "-" {
		if f, err = os.Create(out); err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	n := 0
	err = s.Generate(func(b *analytics.Battle) error {
		if n++; n%65536 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		return analytics.WriteJSONL(bw, b)
	})
	if err == nil {
		err = bw.Flush()
	}
	if err == nil && f != nil {
		err = f.Close()
	}
	if err != nil {
		return fmt.Errorf("gen-battles: %w", err)
	}
	if truth != "" {
		var sb strings.Builder
		sb.WriteString("model,rating\n")
		for i, m := range s.Models {
			fmt.Fprintf(&sb, "%s,%.6f\n", m, s.Truth[i])
		}
		if err := os.WriteFile(truth, []byte(sb.String()), 0o644); err != nil {
			return fmt.Errorf("gen-battles: %w", err)
		}
	}
	return nil
}
