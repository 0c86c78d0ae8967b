package httpapi

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// redocly returns the path of the Redocly CLI that testdata/openapi pins
// (npm ci --prefix arena/httpapi/testdata/openapi). Locally a missing one
// skips the test loudly; in CI (CI=true) it fails it.
func redocly(t *testing.T) string {
	t.Helper()
	bin, err := filepath.Abs("testdata/openapi/node_modules/.bin/redocly")
	if err != nil {
		t.Fatal(err)
	}
	_, errBin := os.Stat(bin)
	_, errNode := exec.LookPath("node")
	if errBin == nil && errNode == nil {
		return bin
	}
	why := "node is not installed"
	if errBin != nil {
		why = "run npm ci --prefix arena/httpapi/testdata/openapi"
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("the Redocly CLI is required in CI: %s", why)
	}
	t.Skipf("SKIPPED: no Redocly CLI: %s", why)
	return ""
}

// TestOpenAPILint lints the document the server serves with Redocly's
// recommended rules (testdata/openapi/redocly.yaml; the problems it may
// ignore are listed with their reasons in .redocly.lint-ignore.yaml): 0
// errors and 0 warnings.
func TestOpenAPILint(t *testing.T) {
	bin := redocly(t)
	_, hs := openAPIServer(t)
	doc, _ := servedDoc(t, hs)
	dir := t.TempDir()
	files := map[string][]byte{"openapi.json": doc}
	for _, name := range []string{"redocly.yaml", ".redocly.lint-ignore.yaml"} {
		data, err := os.ReadFile(filepath.Join("testdata/openapi", name))
		if err != nil {
			t.Fatal(err)
		}
		files[name] = data
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(bin, "lint", "openapi.json", "--format=json")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "REDOCLY_TELEMETRY=off", "REDOCLY_SUPPRESS_UPDATE_NOTICE=true")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, runErr := cmd.Output()
	var report struct {
		Totals   struct{ Errors, Warnings, Ignored int }
		Problems []struct {
			RuleID   string `json:"ruleId"`
			Severity string
			Message  string
			Location []struct{ Pointer string }
		}
	}
	if err := json.Unmarshal(out, &report); err != nil {
		t.Fatalf("redocly lint: %v, %v\n%s\n%s", runErr, err, out, stderr.Bytes())
	}
	for _, p := range report.Problems {
		at := ""
		if len(p.Location) > 0 {
			at = p.Location[0].Pointer
		}
		t.Errorf("%s %s at %s: %s", p.Severity, p.RuleID, at, p.Message)
	}
	if report.Totals.Errors != 0 || report.Totals.Warnings != 0 || runErr != nil {
		t.Errorf("redocly lint: %d errors, %d warnings (%d ignored), %v; want none", report.Totals.Errors, report.Totals.Warnings, report.Totals.Ignored, runErr)
	}
	t.Logf("redocly lint: %d errors, %d warnings, %d ignored", report.Totals.Errors, report.Totals.Warnings, report.Totals.Ignored)
}
