package formats

import (
	"strings"
	"testing"
)

func TestHubLicence(t *testing.T) {
	tests := []struct{ in, id, name string }{
		{"apache 2.0", "apache-2.0", ""},
		{"Apache-2.0", "apache-2.0", ""},
		{"CC BY 4.0", "cc-by-4.0", ""},
		{"CC-BY-SA-4.0", "cc-by-sa-4.0", ""},
		{"GPL-3.0-only", "gpl-3.0", ""},
		{"MIT", "mit", ""},
		{"", "unknown", ""},
		{"Our Lab Research Licence v2", "other", "our-lab-research-licence-v2"},
	}
	for _, tt := range tests {
		id, name := HubLicence(tt.in)
		if id != tt.id || name != tt.name {
			t.Errorf("HubLicence(%q) = %q, %q; want %q, %q", tt.in, id, name, tt.id, tt.name)
		}
	}
}

// TestCardFrontMatter: the card's YAML front matter has a licence id the
// Hub accepts and configs naming the data files.
func TestCardFrontMatter(t *testing.T) {
	for _, tt := range []struct {
		licence string
		split   Split
		want    []string
	}{
		{"apache 2.0", SplitAll, []string{"license: apache-2.0\n", "configs:\n- config_name: default\n  data_files:\n  - split: train\n    path:\n    - \"data.jsonl\"\n"}},
		{"Lab Licence", SplitTest, []string{"license: other\nlicense_name: lab-licence\n", "  - split: test\n"}},
		{"", SplitAll, []string{"license: unknown\n"}},
	} {
		var b strings.Builder
		c := Card{Licence: tt.licence, Files: []string{"data.jsonl"}, Options: Options{Split: tt.split, Margin: true}, Stats: newStats(TRL)}
		c.Stats.Failed = 2
		if err := WriteCard(&b, c); err != nil {
			t.Fatal(err)
		}
		card := b.String()
		front, _, ok := strings.Cut(strings.TrimPrefix(card, "---\n"), "\n---\n")
		if !strings.HasPrefix(card, "---\n") || !ok {
			t.Fatalf("card has no front matter:\n%s", card)
		}
		for _, want := range append(tt.want, "| failed battles") {
			if !strings.Contains(card, want) {
				t.Errorf("licence %q: card lacks %q:\n%s", tt.licence, want, front)
			}
		}
		if !strings.Contains(card, "never null") {
			t.Errorf("card does not say margins are never null")
		}
	}
}
