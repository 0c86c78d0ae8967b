// Package deploy_test checks the deployment kit in configs/deploy against
// the real binary: the alert rules and the Grafana dashboard against a real
// scrape and a real ClickHouse, the container image, the systemd unit,
// `agora --version`, and backup and restore.
package deploy_test

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/agora-rlhf/agora/cmd/agora/agoratest"
)

// repoRoot is the module's root, from this package's directory.
const repoRoot = "../.."

const metricsToken = "deploy-test-metrics-token"

var (
	buildOnce sync.Once
	buildDir  string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// agoraBinary builds the static agora binary once per test run, as the
// Dockerfile's instructions do: CGO_ENABLED=0, with the VCS stamp.
func agoraBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		if buildDir, buildErr = os.MkdirTemp("", "agora-deploy-"); buildErr != nil {
			return
		}
		cmd := exec.Command("go", "build", "-buildvcs=true", "-ldflags=-s -w", "-o", filepath.Join(buildDir, "agora"), "./cmd/agora")
		cmd.Dir = repoRoot
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return filepath.Join(buildDir, "agora")
}

// needTool returns the path of a command the test needs. Locally a
// missing one skips the test loudly; in CI (CI=true) it fails it.
func needTool(t testing.TB, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s is required in CI: %v", name, err)
	}
	t.Skipf("SKIPPED: %s not installed: %v", name, err)
	return ""
}

// runTool runs a command and fails the test with its output if it fails.
func runTool(t testing.TB, dir string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

type syncBuffer = agoratest.SyncBuffer

// startAgora runs bin serve with args and env until the test ends
// (stopped with SIGTERM, which must exit 0) and returns its base URL.
func startAgora(t testing.TB, bin string, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	out, errOut := &syncBuffer{}, &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		if err := cmd.Wait(); err != nil {
			t.Errorf("agora serve after SIGTERM: %v; stderr:\n%s", err, errOut)
		}
	})
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if u, ok := agoratest.ServingURL(out.String()); ok {
			return u
		}
		if cmd.ProcessState != nil {
			break
		}
	}
	t.Fatalf("agora did not start; stdout:\n%s\nstderr:\n%s", out, errOut)
	return ""
}

// writeFile writes a file under dir and returns its path.
func writeFile(t testing.TB, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// metricNames returns the names of the samples in a scrape.
func metricNames(scrape string) map[string]bool {
	names := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(scrape))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if i := strings.IndexAny(line, "{ "); i > 0 {
			names[line[:i]] = true
		}
	}
	return names
}
