package httpapi

import (
	"encoding/json"
	"io/fs"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// pluralForms are the plural categories of each locale's language, as
// Unicode CLDR (and so Intl.PluralRules) has them: a count string KEY is
// written once per category, as KEY#category.
var pluralForms = map[string][]string{
	"en": {"one", "other"},
	"es": {"one", "many", "other"},
	"ar": {"zero", "one", "two", "few", "many", "other"},
}

// TestLocalesComplete checks that every string the pages use is in the
// English locale, and that every other locale has every English string
// and no stale one, and each count string in every plural form of its
// language.
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
	used := regexp.MustCompile(`data-i18n(?:-placeholder|-label|-title)?="([^"]+)"|data-title-key="([^"]+)"|"((?:arena|nav|prompt|examples|campaign|tabs|pane|side|code|vote|strength|reason|control|follow|reveal|keys|status|error|lb|notfound|me|count|account|terms|pow)\.[a-zA-Z0-9_]+)"`)
	for _, page := range []string{"index.html", "app.js", "leaderboard.html", "leaderboard.js", "404.html", "me.html", "me.js", "accounts.js", "terms.js", "pow.js"} {
		b, err := fs.ReadFile(staticFiles, "static/"+page)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range used.FindAllStringSubmatch(string(b), -1) {
			key := m[1] + m[2] + m[3]
			if _, ok := en[key]; !ok && en[key+"#other"] == "" {
				t.Errorf("%s uses %q, which en.json lacks", page, key)
			}
		}
	}
	checkPlurals(t, "en", en, en)
	for _, lang := range []string{"es", "ar"} {
		other := load(lang)
		checkPlurals(t, lang, other, en)
		for key, text := range en {
			if strings.Contains(key, "#") {
				continue // checkPlurals
			}
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
			if _, ok := en[key]; !ok && !strings.Contains(key, "#") {
				t.Errorf("%s.json has %q, which en.json does not", lang, key)
			}
		}
	}
}

// checkPlurals wants every count string of en (KEY#other) in lang's
// locale m in exactly the plural forms of lang, each with no placeholder
// but the number {n} (a form such as Arabic's "two" may spell it out).
func checkPlurals(t *testing.T, lang string, m, en map[string]string) {
	t.Helper()
	forms := map[string][]string{}
	for key := range m {
		if base, form, ok := strings.Cut(key, "#"); ok {
			forms[base] = append(forms[base], form)
		}
	}
	for key := range en {
		if base, form, ok := strings.Cut(key, "#"); ok && form == "other" && forms[base] == nil {
			t.Errorf("%s.json lacks the count string %q", lang, base)
		}
	}
	want := slices.Sorted(slices.Values(pluralForms[lang]))
	for base, got := range forms {
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("%s.json: %q has the plural forms %v; %s has %v", lang, base, got, lang, want)
		}
		if en[base+"#other"] == "" {
			t.Errorf("%s.json: %q is not an English count string", lang, base)
		}
		for _, form := range got {
			text := m[base+"#"+form]
			if ph := regexp.MustCompile(`\{\w+\}`).FindAllString(text, -1); len(ph) > 1 || (len(ph) == 1 && ph[0] != "{n}") {
				t.Errorf("%s.json %q: placeholders %v; a count string has only {n}", lang, base+"#"+form, ph)
			}
			if form == "other" && !strings.Contains(text, "{n}") {
				t.Errorf("%s.json %q lacks the number {n}", lang, base+"#"+form)
			}
		}
	}
}
