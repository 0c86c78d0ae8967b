package arena

import "github.com/agora-rlhf/agora/rlhf"

// LanguageDetector names the language of a text as Chatbot Arena names
// languages ("English"), with the detector's confidence;
// formats/langdetect provides one.
type LanguageDetector interface {
	DetectLanguage(text string) (language string, confidence float64)
}

// label returns the category and language of a new battle: a campaign's
// prompt keeps the lab's; any other prompt gets rlhf.PromptCategory's
// category and the detector's language (none without a detector). Only the
// first prompt counts: a battle keeps its labels through its follow-ups.
func (a *Arena) label(prompt string, cp *CampaignPrompt) (category, language string) {
	if cp != nil {
		return cp.Category, cp.Language
	}
	category = rlhf.PromptCategory(prompt)
	if a.cfg.Languages != nil {
		language, _ = a.cfg.Languages.DetectLanguage(prompt)
	}
	return category, language
}
