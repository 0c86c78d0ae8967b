package web

import (
	"encoding/json"
	"io/fs"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestLocalesComplete checks that every string the pages use is in the
// English locale, and that every other locale has every English string
// and no stale one.
func TestLocalesComplete(t *testing.T) {
	load := func(lang string) map[string]string {
		b, err := fs.ReadFile(staticFiles, "static/locales/"+lang+".json")
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]string
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s.json: %v", lang, err)
		}
		return m
	}
	en := load("en")
	used := regexp.MustCompile(`data-i18n(?:-placeholder|-label|-title)?="([^"]+)"|data-title-key="([^"]+)"|"((?:arena|nav|prompt|examples|campaign|tabs|pane|side|code|vote|strength|reason|control|follow|reveal|keys|status|error|lb|notfound|me)\.[a-zA-Z0-9_]+)"`)
	for _, page := range []string{"index.html", "app.js", "leaderboard.html", "leaderboard.js", "404.html", "me.html", "me.js"} {
		b, err := fs.ReadFile(staticFiles, "static/"+page)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range used.FindAllStringSubmatch(string(b), -1) {
			key := m[1] + m[2] + m[3]
			if _, ok := en[key]; !ok {
				t.Errorf("%s uses %q, which en.json lacks", page, key)
			}
		}
	}
	for _, lang := range []string{"es", "ar"} {
		other := load(lang)
		for key, text := range en {
			tr, ok := other[key]
			if !ok || strings.TrimSpace(tr) == "" {
				t.Errorf("%s.json lacks %q", lang, key)
				continue
			}
			// Placeholders must survive translation.
			want := regexp.MustCompile(`\{\w+\}`).FindAllString(text, -1)
			got := regexp.MustCompile(`\{\w+\}`).FindAllString(tr, -1)
			slices.Sort(want)
			slices.Sort(got)
			if !slices.Equal(want, got) {
				t.Errorf("%s.json %q has placeholders %v, English has %v", lang, key, got, want)
			}
		}
		for key := range other {
			if _, ok := en[key]; !ok {
				t.Errorf("%s.json has %q, which en.json does not", lang, key)
			}
		}
	}
}
