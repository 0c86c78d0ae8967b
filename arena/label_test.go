package arena

import "testing"

// sayEnglish names every text English.
type sayEnglish struct{}

func (sayEnglish) DetectLanguage(string) (string, float64) { return "English", 0.9 }

func TestLabel(t *testing.T) {
	a := &Arena{cfg: Config{Languages: sayEnglish{}}}
	tests := []struct {
		name           string
		prompt         string
		cp             *CampaignPrompt
		category, lang string
	}{
		{"coding", "Fix this:\n```go\nx := 1\n```", nil, "coding", "English"},
		{"general", "Tell me about the sea", nil, "", "English"},
		{"campaign keeps the lab's", "What is 2 + 2?", &CampaignPrompt{Category: "quiz", Language: "German"}, "quiz", "German"},
	}
	for _, tt := range tests {
		if c, l := a.label(tt.prompt, tt.cp); c != tt.category || l != tt.lang {
			t.Errorf("%s: label = %q, %q; want %q, %q", tt.name, c, l, tt.category, tt.lang)
		}
	}
	if c, l := (&Arena{}).label("What is 2 + 2?", nil); c != "math" || l != "" {
		t.Errorf("without a detector: label = %q, %q; want math and no language", c, l)
	}
}
