package deploy_test

import (
	"debug/elf"
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/agora-rlhf/agora/cmd/agora/agoratest"
)

// podman runs podman on a private store under dir (the vfs driver, which
// needs no kernel support), so that the test touches no global state.
func podman(t *testing.T, bin, dir string, args ...string) string {
	t.Helper()
	base := []string{"--root", filepath.Join(dir, "root"), "--runroot", filepath.Join(dir, "run"), "--storage-driver", "vfs"}
	return strings.TrimSpace(runTool(t, "", bin, append(base, args...)...))
}

// TestImage builds the container image with podman from the real
// Dockerfile (FROM scratch: no registry needed), checks its configuration,
// copies the binary out of it (running containers is not permitted here)
// and checks that the binary is static, starts, and answers /readyz.
func TestImage(t *testing.T) {
	bin := needTool(t, "podman")
	agora := agoraBinary(t)
	// The build context holds what the Dockerfile copies, as the
	// repository root does after 'go build -o agora ./cmd/agora'.
	ctxDir, store := t.TempDir(), t.TempDir()
	copyTree(t, "data", filepath.Join(ctxDir, "configs", "deploy", "data"))
	copyTree(t, agora, filepath.Join(ctxDir, "agora"))
	dockerfile, _ := filepath.Abs("Dockerfile")
	const tag = "localhost/agora-deploy-test:latest"
	podman(t, bin, store, "build", "--quiet", "-f", dockerfile, "-t", tag, ctxDir)

	var inspect []struct {
		Config struct {
			User       string
			Entrypoint []string
			Cmd        []string
			Env        []string
			WorkingDir string
		}
		Size int64
	}
	if err := json.Unmarshal([]byte(podman(t, bin, store, "image", "inspect", tag)), &inspect); err != nil || len(inspect) != 1 {
		t.Fatalf("podman image inspect: %v", err)
	}
	img := inspect[0]
	if img.Config.User == "" || strings.HasPrefix(img.Config.User, "0") || strings.HasPrefix(img.Config.User, "root") {
		t.Errorf("image runs as user %q, want an unprivileged one", img.Config.User)
	}
	if strings.Join(img.Config.Entrypoint, " ") != "/agora" || strings.Join(img.Config.Cmd, " ") != "serve" {
		t.Errorf("image runs %v %v, want /agora serve", img.Config.Entrypoint, img.Config.Cmd)
	}
	if img.Size > 80<<20 {
		t.Errorf("image is %d MiB, want a small one", img.Size>>20)
	}

	id := podman(t, bin, store, "create", tag)
	out := filepath.Join(t.TempDir(), "agora")
	podman(t, bin, store, "cp", id+":/agora", out)
	podman(t, bin, store, "rm", id)
	checkStatic(t, out)

	env := []string{"AGORA_METRICS_TOKEN=" + metricsToken}
	for _, kv := range img.Config.Env {
		if k, _, _ := strings.Cut(kv, "="); k == "AGORA_LOG_FORMAT" {
			env = append(env, kv)
		}
	}
	cfg := writeFile(t, t.TempDir(), "agora.yaml", "demo:\n  enabled: true\n  token_delay: 1ms\n")
	base := startAgora(t, out, env, "--data", t.TempDir(), "--config", cfg)
	if status, body := agoratest.Get(t, base+"/readyz", ""); status != 200 {
		t.Errorf("GET /readyz of the binary from the image = %d %s, want 200", status, body)
	}
	if status, _ := agoratest.Get(t, base+"/metrics", metricsToken); status != 200 {
		t.Errorf("GET /metrics of the binary from the image = %d, want 200", status)
	}
}

// checkStatic fails unless path is an ELF executable with no dynamic
// loader (it runs FROM scratch, where there is no libc).
func checkStatic(t *testing.T, path string) {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Errorf("%s asks for a dynamic loader: not a static binary", path)
		}
	}
}

// copyTree copies a file or a directory tree.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		os.MkdirAll(filepath.Dir(target), 0o755)
		return os.WriteFile(target, data, info.Mode().Perm())
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestSystemdUnit verifies the unit with systemd-analyze (pointing
// ExecStart at a real binary, which verify insists on) and wants its
// exposure, as systemd-analyze security rates it, to be low.
func TestSystemdUnit(t *testing.T) {
	analyze := needTool(t, "systemd-analyze")
	unit, err := os.ReadFile("agora.service")
	if err != nil {
		t.Fatal(err)
	}
	text := strings.ReplaceAll(string(unit), "/usr/local/bin/agora", agoraBinary(t))
	if text == string(unit) {
		t.Fatal("agora.service no longer runs /usr/local/bin/agora")
	}
	path := writeFile(t, t.TempDir(), "agora.service", text)
	if out, err := exec.Command(analyze, "verify", path).CombinedOutput(); err != nil || len(out) > 0 {
		t.Errorf("systemd-analyze verify agora.service: %v\n%s", err, out)
	}
	out, err := exec.Command(analyze, "security", "--offline=true", path).CombinedOutput()
	if err != nil {
		t.Fatalf("systemd-analyze security: %v\n%s", err, out)
	}
	_, rest, ok := strings.Cut(string(out), "Overall exposure level for agora.service: ")
	fields := strings.Fields(rest)
	if !ok || len(fields) == 0 {
		t.Fatalf("systemd-analyze security said:\n%s", out)
	}
	if level, err := strconv.ParseFloat(fields[0], 64); err != nil || level > 2.0 {
		t.Errorf("exposure level %v (%v), want at most 2.0:\n%s", level, err, out)
	}
}

// TestVersion checks that the binary names the revision it was built
// from, both ways of asking.
func TestVersion(t *testing.T) {
	git := needTool(t, "git")
	head := strings.TrimSpace(runTool(t, repoRoot, git, "rev-parse", "HEAD"))
	bin := agoraBinary(t)
	long := runTool(t, "", bin, "--version")
	if short := runTool(t, "", bin, "version"); short != long {
		t.Errorf("agora version said\n%s\nagora --version\n%s", short, long)
	}
	wants := []string{"agora ", "revision  " + head, "time      20", "go        go1."}
	if st, err := os.Stat(filepath.Join(repoRoot, ".git")); err == nil && !st.IsDir() {
		// A git worktree (.git is a file): the go command records no VCS
		// information there. CI runs in a clone, where it does.
		t.Logf("a git worktree: the build has no revision to show")
		wants = []string{"agora ", "revision  unknown", "go        go1."}
	}
	for _, want := range wants {
		if !strings.Contains(long, want) {
			t.Errorf("agora --version lacks %q:\n%s", want, long)
		}
	}
}
