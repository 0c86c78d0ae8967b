package main

import (
	"encoding/json"
	"errors"
	"flag"
	"strings"
	"testing"
)

func TestSimulateJSONRepeatable(t *testing.T) {
	args := []string{"simulate", "--models", "8", "--runs", "1", "--target-width", "80", "--rounds", "50", "--json"}
	out, _, err := runAgora(t, args...)
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Config struct {
			Models int `json:"models"`
		} `json:"config"`
		Scenarios []struct {
			Name      string `json:"name"`
			NewModels int    `json:"new_models"`
			Summary   []struct {
				Policy  string  `json:"policy"`
				Votes   float64 `json:"votes"`
				Reached int     `json:"reached"`
			} `json:"summary"`
			Results []json.RawMessage `json:"results"`
		} `json:"scenarios"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("--json output: %v\n%s", err, out)
	}
	if rep.Config.Models != 8 || len(rep.Scenarios) != 2 || rep.Scenarios[1].NewModels != 2 {
		t.Fatalf("report = %+v, want 8 models, scenarios cold and join (2 new)", rep)
	}
	for _, sc := range rep.Scenarios {
		if len(sc.Summary) != 3 || len(sc.Results) != 3 {
			t.Errorf("%s: %d summaries and %d results, want 3 policies", sc.Name, len(sc.Summary), len(sc.Results))
		}
		for _, s := range sc.Summary {
			if s.Reached != 1 || s.Votes <= 0 {
				t.Errorf("%s %s: reached %d, votes %v", sc.Name, s.Policy, s.Reached, s.Votes)
			}
		}
	}
	// Same flags, same numbers (the timings aside).
	again, _, err := runAgora(t, args...)
	if err != nil {
		t.Fatal(err)
	}
	if dropSeconds(out) != dropSeconds(again) {
		t.Error("two runs with the same flags printed different reports")
	}
}

// dropSeconds removes the timing lines of a JSON report.
func dropSeconds(s string) string {
	var keep []string
	for _, line := range strings.Split(s, "\n") {
		if !strings.Contains(line, `"seconds"`) {
			keep = append(keep, line)
		}
	}
	return strings.Join(keep, "\n")
}

func TestSimulateTable(t *testing.T) {
	out, errOut, err := runAgora(t, "simulate", "--models", "6", "--runs", "1", "--target-width", "90", "--rounds", "50",
		"--policies", "uniform,active", "--scenarios", "join", "--new-models", "1")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"6 models", "join: 1 new models join 5 established ones", "uniform", "active", "spearman", "pairs in play"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "weighted") || strings.Contains(out, "cold:") {
		t.Errorf("output has a policy or scenario that was not asked for:\n%s", out)
	}
	if errOut != "" {
		t.Errorf("stderr is not a terminal, want no progress; got %q", errOut)
	}
}

func TestSimulateBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--models", "1"},
		{"--policies", "greedy"},
		{"--scenarios", "hot"},
		{"--noise", "2"},
		{"--new-models", "30"},
		{"--policies", ","},
		{"extra"},
		{"--epsilon", "-1"},
	} {
		_, _, err := runAgora(t, append([]string{"simulate"}, args...)...)
		if exitCode(err) != 2 {
			t.Errorf("simulate %v: error %v (exit %d), want a usage error", args, err, exitCode(err))
		}
	}
	_, errOut, err := runAgora(t, "simulate", "--help")
	if !errors.Is(err, flag.ErrHelp) || !strings.Contains(errOut, "--target-width") || !strings.Contains(errOut, "Bradley–Terry") {
		t.Errorf("simulate --help: %v\n%s", err, errOut)
	}
}
