package httpapi

import (
	"net/url"
	"slices"
	"strings"

	"github.com/agora-rlhf/agora/rlhf"
)

// The published leaderboard may be cut, by anyone, by one category or one
// language of a small known set, so that every public variant fits in
// the live leaderboard's cache: (1 + categories + languages) × style on or
// off. Categories are rlhf.PromptCategories (the rule of thumb that labels
// each arena battle's first prompt; a campaign's prompts keep the lab's
// category); languages are the languages the detector names that arenas
// see most. Any other value, list or combination needs a researcher token.
var (
	publicCategories = rlhf.PromptCategories
	publicLanguages  = []string{"English", "Chinese", "Spanish", "French", "German", "Russian", "Arabic", "Japanese", "Portuguese"}
)

// publicCut checks the category and language parameters of a request
// served the published fits: at most one of them, once, with a known
// value. It returns nil when neither is given.
func publicCut(q url.Values) error {
	cat, lang := q["category"], q["language"]
	switch {
	case len(cat) == 0 && len(lang) == 0:
		return nil
	case len(cat) > 0 && len(lang) > 0:
		return rlhf.Errorf(rlhf.EInvalid, "the published leaderboard is cut by a category or a language, not both; both need a researcher token")
	case len(cat) > 0 && (len(cat) > 1 || !slices.Contains(publicCategories, cat[0])):
		return badParam(q, "category", "one of "+strings.Join(publicCategories, ", ")+" (others need a researcher token)")
	case len(lang) > 0 && (len(lang) > 1 || !slices.Contains(publicLanguages, lang[0])):
		return badParam(q, "language", "one of "+strings.Join(publicLanguages, ", ")+" (others need a researcher token)")
	}
	return nil
}
