// Package langdetect names the language of prompts for exports, with the
// trigram detector github.com/abadojack/whatlanggo restricted to common
// languages. It is the only package that imports the detector; cmd/agora
// hands a Detector to the exports as a formats.LanguageDetector.
package langdetect

import (
	"unicode"
	"unicode/utf8"

	"github.com/abadojack/whatlanggo"
)

// Unknown is the language of a text the detector cannot place: too short,
// without letters, or not clearly one of the common languages.
const Unknown = "unknown"

// MinConfidence is the least confidence for which a language is named;
// below it the text is Unknown (with the confidence the detector had).
const MinConfidence = 0.25

// minLetters is the fewest letters a text needs for a guess.
const minLetters = 8

// maxBytes is how much of a text is looked at: a prompt's language shows
// in its first sentences, and detection costs in proportion to the text
// (BenchmarkDetectLanguage: about 4 times as much for 500 bytes as for 90).
const maxBytes = 512

// common are the languages a detection may name: the most used languages
// of chat prompts. Restricting the candidates keeps rare languages with
// similar trigrams from winning on short text.
var common = []whatlanggo.Lang{
	whatlanggo.Eng, whatlanggo.Cmn, whatlanggo.Spa, whatlanggo.Fra, whatlanggo.Deu, whatlanggo.Rus,
	whatlanggo.Por, whatlanggo.Ita, whatlanggo.Jpn, whatlanggo.Kor, whatlanggo.Arb, whatlanggo.Hin,
	whatlanggo.Tur, whatlanggo.Pol, whatlanggo.Nld, whatlanggo.Vie, whatlanggo.Ind, whatlanggo.Ukr,
	whatlanggo.Pes, whatlanggo.Swe, whatlanggo.Ces, whatlanggo.Heb, whatlanggo.Tha, whatlanggo.Ell,
	whatlanggo.Ron, whatlanggo.Hun, whatlanggo.Dan, whatlanggo.Fin, whatlanggo.Ben, whatlanggo.Bul,
}

// names are the Chatbot Arena spellings where whatlanggo's differ.
var names = map[whatlanggo.Lang]string{whatlanggo.Cmn: "Chinese", whatlanggo.Pes: "Persian", whatlanggo.Ell: "Greek"}

// Detector names languages. The zero value is not usable; call New. It is
// safe for concurrent use.
type Detector struct {
	opts whatlanggo.Options
}

// New returns a detector over the common languages.
func New() *Detector {
	wl := make(map[whatlanggo.Lang]bool, len(common))
	for _, l := range common {
		wl[l] = true
	}
	return &Detector{opts: whatlanggo.Options{Whitelist: wl}}
}

// DetectLanguage returns the English name of text's language, as Chatbot
// Arena writes it ("English", "Chinese"), and the detector's confidence in
// [0, 1]. It returns Unknown for a text with fewer than 8 letters or a
// confidence below MinConfidence.
func (d *Detector) DetectLanguage(text string) (string, float64) {
	if len(text) > maxBytes {
		text = text[:maxBytes]
		for len(text) > 0 && !utf8.ValidString(text) {
			text = text[:len(text)-1]
		}
	}
	if letters(text) < minLetters {
		return Unknown, 0
	}
	info := whatlanggo.DetectWithOptions(text, d.opts)
	if info.Lang < 0 || !d.opts.Whitelist[info.Lang] {
		return Unknown, info.Confidence
	}
	if info.Confidence < MinConfidence {
		return Unknown, info.Confidence
	}
	return Name(info.Lang), info.Confidence
}

// Name returns the English name of l.
func Name(l whatlanggo.Lang) string {
	if n, ok := names[l]; ok {
		return n
	}
	return l.String()
}

// ISO6391 returns the two-letter code of a language named as
// DetectLanguage names it, or "" for Unknown and names it does not give.
func ISO6391(name string) string {
	for _, l := range common {
		if Name(l) == name {
			return l.Iso6391()
		}
	}
	return ""
}

func letters(s string) int {
	n := 0
	for _, r := range s {
		if unicode.IsLetter(r) {
			n++
		}
	}
	return n
}
