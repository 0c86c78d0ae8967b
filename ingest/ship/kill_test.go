package ship_test

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/agora-rlhf/agora/ingest/clickhouse"
	"github.com/agora-rlhf/agora/ingest/clickhouse/chtest"
	"github.com/agora-rlhf/agora/ingest/ship"
	"github.com/agora-rlhf/agora/ingest/store"
)

// The test binary re-executes itself as a shipping Agora when these are set.
const (
	childEnv      = "AGORA_SHIP_TEST_CHILD_STORE"
	childAddrEnv  = "AGORA_SHIP_TEST_CHILD_ADDR"
	childDBEnv    = "AGORA_SHIP_TEST_CHILD_DB"
	childBatchEnv = "AGORA_SHIP_TEST_CHILD_BATCH"
)

// shipperChild ships the store named in the environment until it is killed.
func shipperChild() {
	st, err := store.Open(os.Getenv(childEnv))
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(3)
	}
	c, err := clickhouse.Open(clickhouse.Config{
		Addrs:    []string{os.Getenv(childAddrEnv)},
		Database: os.Getenv(childDBEnv),
	}, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(3)
	}
	var batch int
	fmt.Sscan(os.Getenv(childBatchEnv), &batch)
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	sh := ship.New(st, c, ship.Options{BatchSize: batch, FlushInterval: 10 * time.Millisecond, Log: log})
	sh.Run(context.Background()) // until SIGKILL
	os.Exit(4)
}

func TestShipperKilledWhileShipping(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: re-executes the test binary several times")
	}
	srv := chtest.Start(t)
	cfg := srv.NewConfig(t)
	c := openClient(t, cfg)
	if err := c.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "agora.db")
	st := openStore(t, path)
	gen := chtest.NewRecords(21)
	gen.Turns = 2
	const total = 8000
	importVotes(t, st, gen, total)

	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 4 {
		var stderr strings.Builder
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(),
			childEnv+"="+path, childAddrEnv+"="+srv.Addr, childDBEnv+"="+cfg.Database, childBatchEnv+"=200")
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Kill it at a random moment once it is shipping.
		before := audit(t, c).Rows
		deadline := time.Now().Add(30 * time.Second)
		for audit(t, c).Rows == before {
			if time.Now().After(deadline) {
				cmd.Process.Kill()
				cmd.Wait()
				t.Fatalf("round %d: child shipped nothing in 30s:\n%s", round, stderr.String())
			}
			time.Sleep(5 * time.Millisecond)
		}
		time.Sleep(time.Duration(rng.IntN(150)) * time.Millisecond)
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		err := cmd.Wait()
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || ws.Signal() != syscall.SIGKILL {
			t.Fatalf("round %d: child ended with %v, not by SIGKILL:\n%s", round, err, stderr.String())
		}
		_, cursor, _ := st.ShipCursor(context.Background(), "clickhouse")
		t.Logf("round %d: killed with %d vote rows in ClickHouse, cursor at %d", round, audit(t, c).Rows, cursor)
		if cursor >= total {
			break
		}
	}

	r := startShipper(t, st, c, ship.Options{BatchSize: 400})
	waitDrained(t, r.Shipper, st, 120*time.Second)
	checkExactlyOnce(t, c, allRecords(t, st))
}

func audit(t testing.TB, c *clickhouse.Client) clickhouse.Audit {
	t.Helper()
	a, err := c.AuditVotes(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return a
}
