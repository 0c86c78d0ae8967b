package ledger_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/agora-rlhf/agora/ingest/ledger"
	"github.com/agora-rlhf/agora/ingest/store"
)

// benchLeaves is the size of the log the proof benchmarks read.
const benchLeaves = 1 << 20

// openBenchLog opens a store with benchLeaves leaves (policy records), kept
// under $AGORA_BENCH_DIR (default the temporary directory) for later runs.
func openBenchLog(b *testing.B) *ledger.Log {
	b.Helper()
	dir := filepath.Join(os.Getenv("AGORA_BENCH_DIR"), "agora-ledger-bench-1m")
	if os.Getenv("AGORA_BENCH_DIR") == "" {
		dir = filepath.Join(os.TempDir(), "agora-ledger-bench-1m")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	store, err := store.Open(filepath.Join(dir, "agora.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { store.Close() })
	key, err := ledger.LoadKey(filepath.Join(dir, "log.key"), "bench.example/log")
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	n, err := store.LogSize(ctx)
	if err != nil {
		b.Fatal(err)
	}
	for n < benchLeaves {
		const batch = 8192
		refs, recs := make([]string, batch), make([][]byte, batch)
		for i := range recs {
			refs[i] = fmt.Sprint(n + int64(i))
			recs[i] = fmt.Appendf(nil, "policy 1\nbench %d\n", n+int64(i))
		}
		if _, err := store.AppendRecords(ctx, ledger.KindPolicy, refs, recs); err != nil {
			b.Fatal(err)
		}
		n += batch
	}
	l, err := ledger.New(ctx, ledger.Config{Store: store, Key: key})
	if err != nil {
		b.Fatal(err)
	}
	store.UseLedger(l.Encoder())
	if err := l.Publish(ctx); err != nil {
		b.Fatal(err)
	}
	return l
}

// BenchmarkProof measures, at a million leaves, the server's inclusion and
// consistency proofs (read from the store) and the verifier's checks of a
// receipt-sized claim: the checkpoint's signature, an inclusion proof from
// the tiles and the leaf's record against the tree, as agora verify does
// with a saved copy of the log.
func BenchmarkProof(b *testing.B) {
	l := openBenchLog(b)
	ctx := context.Background()
	c := l.Latest()
	rng := rand.New(rand.NewPCG(1, 2))
	b.Run("inclusion", func(b *testing.B) {
		for b.Loop() {
			if _, err := l.ProveInclusion(ctx, rng.Int64N(c.Size), 0); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("consistency", func(b *testing.B) {
		for b.Loop() {
			if _, err := l.ProveConsistency(ctx, 1+rng.Int64N(c.Size-1), 0); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("verify", func(b *testing.B) {
		a := &ledger.Auditor{Src: logSource{l}, Key: l.VerifierKey()}
		var claims []*ledger.InclusionProof // the leaf and hash a receipt gives
		for range 64 {
			p, err := l.ProveInclusion(ctx, rng.Int64N(c.Size), 0)
			if err != nil {
				b.Fatal(err)
			}
			claims = append(claims, p)
		}
		verifyClaims(b, a, claims)
	})
	// agora verify --tiles DIR: the same checks from a saved copy of the
	// checkpoint and tiles (saved once, as --save does), files only.
	b.Run("verify-offline", func(b *testing.B) {
		dir := b.TempDir()
		save := &ledger.Auditor{Src: logSource{l}, Key: l.VerifierKey(), Save: dir}
		var claims []*ledger.InclusionProof
		for range 64 {
			p, err := l.ProveInclusion(ctx, rng.Int64N(c.Size), 0)
			if err != nil {
				b.Fatal(err)
			}
			claims = append(claims, p)
			verifyClaim(b, save, p)
		}
		b.ResetTimer()
		verifyClaims(b, &ledger.Auditor{Src: ledger.DirSource(dir), Key: l.VerifierKey()}, claims)
	})
}

// verifyClaims checks the claims in turn, one per iteration.
func verifyClaims(b *testing.B, a *ledger.Auditor, claims []*ledger.InclusionProof) {
	k := 0
	for b.Loop() {
		verifyClaim(b, a, claims[k%len(claims)])
		k++
	}
}

// verifyClaim does what agora verify --receipt does with a receipt's leaf
// and hash: the checkpoint's signature, the inclusion proof from the
// tiles, and the leaf's record against the tree.
func verifyClaim(b *testing.B, a *ledger.Auditor, claim *ledger.InclusionProof) {
	ctx := context.Background()
	i := claim.Index
	cp, err := a.Checkpoint(ctx, "checkpoint")
	if err != nil {
		b.Fatal(err)
	}
	if err := a.CheckInclusion(ctx, cp, i, claim.LeafHash); err != nil {
		b.Fatal(err)
	}
	if err := a.CheckRecords(ctx, cp, i, i+1, nil); err != nil {
		b.Fatal(err)
	}
}

// logSource serves a Log's files in process, as its HTTP routes do.
type logSource struct{ l *ledger.Log }

func (s logSource) Read(ctx context.Context, path string) ([]byte, error) {
	if path == "checkpoint" {
		return s.l.Latest().Note, nil
	}
	return s.l.Tile(ctx, strings.TrimPrefix(path, "tile/"))
}
