package browsertest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// LighthouseReport is what the tests read of a Lighthouse report: the
// category scores (0–1) and each audit's score and numeric value.
type LighthouseReport struct {
	Categories map[string]struct {
		Score *float64 `json:"score"`
	} `json:"categories"`
	Audits map[string]LighthouseAudit `json:"audits"`
	// Environment.BenchmarkIndex is Lighthouse's measure of the host's
	// CPU speed.
	Environment struct {
		BenchmarkIndex float64 `json:"benchmarkIndex"`
	} `json:"environment"`
	// ConfigSettings.Throttling.CPUSlowdown is the CPU slowdown the
	// scores were simulated with.
	ConfigSettings struct {
		Throttling struct {
			CPUSlowdown float64 `json:"cpuSlowdownMultiplier"`
		} `json:"throttling"`
	} `json:"configSettings"`
	// RuntimeError is set when Lighthouse could not load the page.
	RuntimeError *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"runtimeError"`
}

// LighthouseAudit is one audit's result.
type LighthouseAudit struct {
	Title        string   `json:"title"`
	Score        *float64 `json:"score"`
	NumericValue float64  `json:"numericValue"`
	DisplayValue string   `json:"displayValue"`
}

// Score returns the category's score out of 100 (-1 when Lighthouse gave
// none).
func (r *LighthouseReport) Score(category string) int {
	c, ok := r.Categories[category]
	if !ok || c.Score == nil {
		return -1
	}
	return int(*c.Score*100 + 0.5)
}

// Failing lists the audits that count and scored below 0.9 (their title
// and shown value), for a failure message that says what to fix.
func (r *LighthouseReport) Failing() []string {
	var out []string
	for id, a := range r.Audits {
		if a.Score != nil && *a.Score < 0.9 {
			out = append(out, id+": "+a.Title+" "+a.DisplayValue)
		}
	}
	return out
}

// Lighthouse's simulated throttling slows the CPU by 4 for its phone and
// not at all for its desktop, assuming a host as fast as lighthouseHost
// on its BenchmarkIndex: a Moto G Power (2022), the phone it emulates,
// scores about 264 (Chrome DevTools' CPU calibration), a quarter of it.
// Below slowHost, Lighthouse warns that its performance score is too low
// and asks for the multiplier to be calibrated.
const (
	lighthouseHost = 1056
	slowHost       = 1000
)

// Calibrated returns the CPU slowdown that makes Lighthouse's simulation
// of preset ("desktop" or "mobile") on a host of this benchmark index the
// one it would run on the host it assumes (4 for a phone and 1 for a
// desktop, times index/lighthouseHost), and whether the host is slower
// than Lighthouse trusts its defaults on. See Lighthouse's
// docs/throttling.md, "CPU throttling". On a loaded machine the index
// changes from run to run and during one, so the calibrated score is an
// estimate.
func Calibrated(preset string, index float64) (float64, bool) {
	base := 4.0
	if preset == "desktop" {
		base = 1
	}
	return base * index / lighthouseHost, index < slowHost
}

// Lighthouse runs Lighthouse's CLI (arena/httpapi/browsertest/js, installed by
// npm ci) with Debian's Chromium on url, for the preset "desktop" or
// "mobile" (Lighthouse's default: a phone with simulated throttling),
// scoring the categories named (all three the tests use when none). It
// loads the page once and scores that load with Lighthouse's CPU
// slowdown for the preset, or, on a host slower than Lighthouse trusts
// that slowdown on (a BenchmarkIndex below 1000, as on a loaded shared
// machine), with the slowdown calibrated to the host as Lighthouse's
// documentation says (see Calibrated); the report's CPUSlowdown says
// which. The report is saved beside the screenshots as
// testdata/screenshots/name.json (with LIGHTHOUSE_KEEP=dir, the load's
// trace and artifacts are kept in dir/name for a person to study). In CI
// a missing Lighthouse or Chromium fails the test; elsewhere the test is
// skipped, loudly.
func Lighthouse(t *testing.T, url, preset, name string, categories ...string) *LighthouseReport {
	t.Helper()
	chrome, err := exec.LookPath("chromium")
	_, self, _, _ := runtime.Caller(0)
	cli := filepath.Join(filepath.Dir(self), "js", "node_modules", "lighthouse", "cli", "index.js")
	if _, statErr := os.Stat(cli); err == nil && statErr != nil {
		err = statErr
	}
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("Lighthouse needs chromium and npm ci --prefix arena/httpapi/browsertest/js: %v", err)
		}
		t.Skipf("SKIPPED: Lighthouse needs chromium and npm ci --prefix arena/httpapi/browsertest/js: %v", err)
	}
	dir := filepath.Join("testdata", "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if len(categories) == 0 {
		categories = []string{"performance", "accessibility", "best-practices"}
	}
	// (--only-categories takes several values: the URL goes first.)
	// bf-cache navigates away and back, which headless Chromium cannot
	// judge (Lighthouse's own lightrider config skips it too).
	base := []string{cli, "--quiet", "--only-categories=" + strings.Join(categories, ","), "--skip-audits=bf-cache",
		"--disable-full-page-screenshot"}
	if preset == "desktop" {
		base = append(base, "--preset=desktop")
	}
	// Lighthouse asks to be run again when Chromium's trace of the load
	// is unusable (NO_NAVSTART and the like): up to three loads.
	var r *LighthouseReport
	for attempt := 1; ; attempt++ {
		artifacts := t.TempDir()
		if keep := os.Getenv("LIGHTHOUSE_KEEP"); keep != "" {
			artifacts = filepath.Join(keep, name)
		}
		err = lighthouseRun(chrome, append([]string{cli, url}, append(base[1:], "--gather-mode="+artifacts,
			"--chrome-flags=--headless=new --no-sandbox --disable-gpu --disable-component-update --disable-background-networking --disable-sync --user-data-dir="+t.TempDir())...))
		if err == nil {
			r, err = lighthouseScore(t, chrome, base, preset, artifacts, filepath.Join(dir, name+".json"))
		}
		if err == nil || attempt == 3 || !strings.Contains(err.Error(), "run Lighthouse again") {
			break
		}
		t.Logf("attempt %d: %v", attempt, err)
	}
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// lighthouseScore scores the load gathered in artifacts with the
// preset's CPU slowdown, calibrated to the host's benchmark index when the
// host is slower than Lighthouse trusts (Lighthouse wants the gathering's
// settings to match the audit's, so the saved settings are edited too).
func lighthouseScore(t *testing.T, chrome string, base []string, preset, artifacts, out string) (*LighthouseReport, error) {
	t.Helper()
	path := filepath.Join(artifacts, "artifacts.json")
	var saved map[string]any
	data, err := os.ReadFile(path)
	if err == nil {
		err = json.Unmarshal(data, &saved)
	}
	index, _ := saved["BenchmarkIndex"].(float64)
	settings, _ := saved["settings"].(map[string]any)
	throttling, _ := settings["throttling"].(map[string]any)
	if err != nil || throttling == nil || index <= 0 {
		return nil, fmt.Errorf("lighthouse artifacts %s: no BenchmarkIndex or settings.throttling (%v)", path, err)
	}
	args := base
	if cpu, slow := Calibrated(preset, index); slow {
		throttling["cpuSlowdownMultiplier"] = cpu
		if data, err = json.Marshal(saved); err == nil {
			err = os.WriteFile(path, data, 0o644)
		}
		if err != nil {
			return nil, err
		}
		args = append(args, fmt.Sprintf("--throttling.cpuSlowdownMultiplier=%v", cpu))
	}
	return lighthouseAudit(t, chrome, args, artifacts, out)
}

// lighthouseAudit scores the load saved in artifacts, writes the JSON
// report to out and returns it.
func lighthouseAudit(t *testing.T, chrome string, args []string, artifacts, out string) (*LighthouseReport, error) {
	t.Helper()
	if err := lighthouseRun(chrome, append(args, "--audit-mode="+artifacts, "--output=json", "--output-path="+out)); err != nil {
		return nil, err
	}
	data, err := os.ReadFile(out)
	if err != nil {
		return nil, err
	}
	var r LighthouseReport
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("lighthouse report %s: %v", out, err)
	}
	if r.RuntimeError != nil && r.RuntimeError.Code != "" {
		return nil, fmt.Errorf("lighthouse (%s): %s: %s", out, r.RuntimeError.Code, r.RuntimeError.Message)
	}
	t.Logf("lighthouse report: %s", out)
	return &r, nil
}

// lighthouseRun runs Lighthouse's CLI with args on Chromium at chrome.
func lighthouseRun(chrome string, args []string) error {
	cmd := exec.Command("node", args...)
	cmd.Env = append(os.Environ(), "CHROME_PATH="+chrome)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("lighthouse %v: %v\n%s", args[1:], err, stderr.String())
	}
	return nil
}
