package formats

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// hintScanner looks for the hints of all detectors in one pass over a
// text (Redact's cost on text that holds nothing to redact, which is
// nearly all of it). Its answer is a set of detectors, bit i for
// detectors[i], that holds every detector whose hint.test would be true:
// the pass may say "maybe" where the hint is not there (then the hint is
// tested as it is), never "no" where it is.
//
// Each substring of a hint is looked for at one anchor, its rarest byte in
// English text, so that the pass stops at few bytes: at an anchor the
// substring is compared around it. Digit runs and IBAN starts are followed
// as digitRun and ibanStart do.
type hintScanner struct {
	anchors [256][]anchor
	// class marks digits, and the stops: the bytes at which the pass has
	// more to do than follow a digit run: anchors, capital letters
	// (IBAN), the first bytes of runes whose lower case is ASCII (Kelvin
	// sign: strings.ToLower makes it 'k').
	class   [256]uint8
	upper   [256]bool
	iban    uint16 // detectors whose hint is an IBAN start
	fold    uint16 // detectors whose substrings ignore case
	digits  []digitHint
	special []string // UTF-8 of runes that lower-case to ASCII
}

// An anchor is one substring of a hint, found at off bytes into it.
type anchor struct {
	sub  string
	off  int
	fold bool
	bit  uint16
}

const (
	classDigit = 1 << iota
	classStop
)

type digitHint struct {
	n   int
	bit uint16
}

var hints = newHintScanner(detectors)

func newHintScanner(ds []detector) *hintScanner {
	h := &hintScanner{}
	for r := rune(utf8.RuneSelf); r <= unicode.MaxRune; r++ {
		if unicode.ToLower(r) < utf8.RuneSelf {
			enc := string(r)
			h.special = append(h.special, enc)
			h.class[enc[0]] |= classStop
		}
	}
	for c := 'A'; c <= 'Z'; c++ {
		h.upper[c] = true
	}
	for c := '0'; c <= '9'; c++ {
		h.class[c] |= classDigit
	}
	for i, d := range ds {
		bit := uint16(1) << i
		switch {
		case d.hint.digits > 0:
			h.digits = append(h.digits, digitHint{d.hint.digits, bit})
		case d.hint.iban:
			h.iban |= bit
			for c := 'A'; c <= 'Z'; c++ {
				h.class[c] |= classStop
			}
		default:
			if d.hint.fold {
				h.fold |= bit
			}
			for _, sub := range d.hint.any {
				h.add(sub, d.hint.fold, bit)
			}
		}
	}
	return h
}

// add anchors sub at its rarest byte (both cases of it when fold).
func (h *hintScanner) add(sub string, fold bool, bit uint16) {
	off := 0
	for i := range len(sub) {
		if rarity(sub[i]) > rarity(sub[off]) {
			off = i
		}
	}
	a := anchor{sub: sub, off: off, fold: fold, bit: bit}
	cs := []byte{sub[off]}
	if fold {
		cs = []byte{lowerASCII(sub[off]), upperASCII(sub[off])}
	}
	for _, c := range cs {
		if len(h.anchors[c]) == 0 || h.anchors[c][len(h.anchors[c])-1] != a {
			h.anchors[c] = append(h.anchors[c], a)
		}
		h.class[c] |= classStop
	}
}

// rarity ranks a byte by how seldom it appears in English text: the
// letters by their frequency, capitals and underscores rarer than any
// small letter, spaces the most common.
func rarity(c byte) int {
	const byFrequency = " etaoinshrdlcumwfgypbvkjxqz"
	switch {
	case c >= 'a' && c <= 'z', c == ' ':
		return strings.IndexByte(byFrequency, c)
	case c >= 'A' && c <= 'Z':
		return 30 + strings.IndexByte(byFrequency, c-'A'+'a')
	case c == '-':
		return 10
	}
	return 60
}

func lowerASCII(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func upperASCII(c byte) byte {
	if c >= 'a' && c <= 'z' {
		return c - 'a' + 'A'
	}
	return c
}

// scan returns the detectors whose hint s may hold. Outside a digit run
// it skips the bytes that are neither digits nor stops (most of a text)
// in a loop of its own.
func (h *hintScanner) scan(s string) uint16 {
	var may uint16
	k, gap, most := 0, 0, 0
	for i := 0; i < len(s); i++ {
		if k == 0 {
			for i < len(s) && h.class[s[i]] == 0 {
				i++
			}
			if i == len(s) {
				break
			}
		}
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			if k++; k > most {
				most = k
			}
			gap = 0
		case k > 0 && gap < 2 && strings.IndexByte(digitGaps, c) >= 0:
			gap++
		default:
			k, gap = 0, 0
		}
		if h.class[c]&classStop != 0 {
			may |= h.at(s, i)
		}
	}
	for _, d := range h.digits {
		if most >= d.n {
			may |= d.bit
		}
	}
	return may
}

// at returns the detectors whose hint may start around s[i].
func (h *hintScanner) at(s string, i int) uint16 {
	var may uint16
	c := s[i]
	for _, a := range h.anchors[c] {
		start := i - a.off
		if start >= 0 && start+len(a.sub) <= len(s) && a.matches(s[start:start+len(a.sub)]) {
			may |= a.bit
		}
	}
	if h.upper[c] && i+3 < len(s) && h.upper[s[i+1]] && isDigit(s[i+2]) && isDigit(s[i+3]) {
		may |= h.iban
	}
	if c >= utf8.RuneSelf {
		for _, enc := range h.special {
			if strings.HasPrefix(s[i:], enc) {
				may |= h.fold
			}
		}
	}
	return may
}

func (a anchor) matches(t string) bool {
	if !a.fold {
		return t == a.sub
	}
	for j := range len(t) {
		if lowerASCII(t[j]) != a.sub[j] {
			return false
		}
	}
	return true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
