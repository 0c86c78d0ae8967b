package formats

import (
	"regexp"
	"strings"

	"github.com/agora-rlhf/agora/rlhf"
)

// A detector finds one kind of personal data or secret in text. Exports
// replace each match with the detector's placeholder (docs/consent.md
// lists them). hint is what text must hold for the regular expression to
// match at all, so that it runs only on the few texts that do (all hints
// are looked for in one pass, see redact_scan.go); valid, when set,
// checks a match further (a checksum).
type detector struct {
	name  string
	hint  hint
	re    *regexp.Regexp
	valid func(match string) bool
}

// A hint is what a detector's matches need: one of the substrings any
// (compared ignoring case when fold), a run of digits digits long (see
// digitRun), or an IBAN's start (two capital letters, two digits).
type hint struct {
	any    []string
	fold   bool
	digits int
	iban   bool
}

// test reports whether s holds h.
func (h hint) test(s string) bool {
	switch {
	case h.digits > 0:
		return digitRun(s, h.digits)
	case h.iban:
		return ibanStart(s)
	case h.fold:
		return hasAnyFold(s, h.any)
	}
	return hasAny(s, h.any)
}

func anyOf(subs ...string) hint     { return hint{any: subs} }
func anyOfFold(subs ...string) hint { return hint{any: subs, fold: true} }

// detectors run in this order: secrets first, so that an e-mail address
// inside a key block or a digit run inside a token is not counted twice.
var detectors = []detector{
	{"private_key", anyOf("PRIVATE KEY-----"),
		regexp.MustCompile(`(?s)-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----`), nil},
	{"jwt", anyOf("eyJ"),
		regexp.MustCompile(`\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}`), nil},
	{"api_key", anyOf("sk-", "sk_live_", "sk_test_", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "xox", "AKIA", "AIza", "hf_", "glpat-", "agora_"),
		regexp.MustCompile(`\b(?:sk-(?:proj-|ant-)?[A-Za-z0-9_-]{20,}|sk_(?:live|test)_[A-Za-z0-9]{16,}|gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{40,}|xox[abprs]-[A-Za-z0-9-]{10,}|AKIA[0-9A-Z]{16}|AIza[0-9A-Za-z_-]{35}|hf_[A-Za-z0-9]{30,}|glpat-[A-Za-z0-9_-]{20,}|agora_[A-Za-z0-9_-]{40,})`), nil},
	{"secret", anyOfFold("bearer", "token", "key", "secret", "password", "passwd"),
		regexp.MustCompile(`(?i)\b(?:bearer|(?:access|auth|api|secret)[_-]?(?:token|key)|api[_-]?key|client[_-]?secret|password|passwd)["']?(?:\s*[:=]\s*|\s+)["']?[A-Za-z0-9_\-./+=~]{12,}`), hasDigitAndLetter},
	{"email", anyOf("@"),
		regexp.MustCompile(`\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b`), nil},
	{"card", hint{digits: 13},
		regexp.MustCompile(`\b\d(?:[ -]?\d){12,18}\b`), luhn},
	{"iban", hint{iban: true},
		regexp.MustCompile(`\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b`), ibanValid},
	{"phone", hint{digits: 7},
		regexp.MustCompile(`\+\d{1,3}(?:[ .-]?\(?\d{1,4}\)?){2,5}\d\b|(?:\(\d{2,4}\)[ .-]?|\b\d{2,5}[ .-])\d{3,4}[ .-]\d{3,4}\b`), phoneShape},
}

// Placeholder returns what a detector's matches become: "[EMAIL]", say.
func Placeholder(detector string) string { return "[" + strings.ToUpper(detector) + "]" }

// Detectors returns the names of the redaction detectors, in the order
// they run.
func Detectors() []string {
	out := make([]string, len(detectors))
	for i, d := range detectors {
		out[i] = d.name
	}
	return out
}

// Redact returns s with every match of every detector replaced by its
// placeholder, and adds the matches to counts (by detector name).
// The hints of all detectors are looked for in one pass over s (most
// texts hold none); a detector whose hint may be there is checked as
// before, and the pass is made again on what a replacement leaves.
func Redact(s string, counts map[string]int) string {
	may := hints.scan(s)
	for i := range detectors {
		d := &detectors[i]
		if may&(1<<i) == 0 || !d.hint.test(s) {
			continue
		}
		out := d.re.ReplaceAllStringFunc(s, func(m string) string {
			if d.valid != nil && !d.valid(m) {
				return m
			}
			counts[d.name]++
			return Placeholder(d.name)
		})
		if out != s {
			s, may = out, hints.scan(out)
		}
	}
	return s
}

// redactRecord returns r with its prompts, answers and reason redacted:
// r itself when nothing matched, else a copy in into (r is not changed:
// the source may hold it).
func redactRecord(r *rlhf.Record, into *rlhf.Record, counts map[string]int) *rlhf.Record {
	changed := false
	red := func(s string) string {
		out := Redact(s, counts)
		if out != s {
			changed = true
		}
		return out
	}
	turns := into.Battle.Turns[:0]
	for _, t := range r.Battle.Turns {
		t.Prompt, t.A.Content, t.B.Content = red(t.Prompt), red(t.A.Content), red(t.B.Content)
		turns = append(turns, t)
	}
	reason := red(r.Vote.Reason)
	if !changed {
		into.Battle.Turns = turns
		return r
	}
	*into = *r
	into.Battle.Turns, into.Vote.Reason = turns, reason
	return into
}

func hasAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

func hasAnyFold(s string, subs []string) bool {
	return hasAny(strings.ToLower(s), subs)
}

// digitRun reports whether s has n digits in a row, allowing one or two
// separators (space, hyphen, dot, parentheses, plus) between them, as card
// and phone numbers are written.
func digitRun(s string, n int) bool {
	return longestDigitRun(s, n) >= n
}

// longestDigitRun returns the length of the longest such run in s, or
// stop once a run is that long.
func longestDigitRun(s string, stop int) int {
	k, gap, most := 0, 0, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			if k++; k > most {
				if most = k; most >= stop {
					return most
				}
			}
			gap = 0
		case k > 0 && gap < 2 && strings.IndexByte(digitGaps, c) >= 0:
			gap++
		default:
			k, gap = 0, 0
		}
	}
	return most
}

// digitGaps are the separators digitRun allows in a run.
const digitGaps = " -.()+"

// ibanStart is the hint of an IBAN: two capital letters, then two digits.
func ibanStart(s string) bool {
	for i := 0; i+3 < len(s); i++ {
		if s[i] >= 'A' && s[i] <= 'Z' && s[i+1] >= 'A' && s[i+1] <= 'Z' && s[i+2] >= '0' && s[i+2] <= '9' && s[i+3] >= '0' && s[i+3] <= '9' {
			return true
		}
	}
	return false
}

func onlyDigits(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}

// luhn reports whether the digits of m pass the Luhn check of card
// numbers.
func luhn(m string) bool {
	d := onlyDigits(m)
	sum := 0
	for i := range len(d) {
		n := int(d[len(d)-1-i] - '0')
		if i%2 == 1 {
			if n *= 2; n > 9 {
				n -= 9
			}
		}
		sum += n
	}
	return len(d) >= 13 && sum%10 == 0
}

// ibanValid reports whether m passes the IBAN check (ISO 13616 mod 97).
func ibanValid(m string) bool {
	s := strings.ReplaceAll(m, " ", "")
	if len(s) < 15 || len(s) > 34 {
		return false
	}
	s = s[4:] + s[:4]
	rem := 0
	for _, c := range s {
		switch {
		case c >= '0' && c <= '9':
			rem = (rem*10 + int(c-'0')) % 97
		case c >= 'A' && c <= 'Z':
			rem = (rem*100 + int(c-'A'+10)) % 97
		default:
			return false
		}
	}
	return rem == 1
}

// phoneShape keeps phone-number-like matches that are not something else
// that looks like one: a date (2024-01-15) or a version (1.2.3).
func phoneShape(m string) bool {
	d := onlyDigits(m)
	if len(d) < 7 || len(d) > 15 {
		return false
	}
	return !strings.Contains(m, ".") || strings.Count(m, ".") >= 2 && len(d) >= 9
}

// hasDigitAndLetter keeps secret-like values that mix letters and digits,
// as generated tokens do, and not plain words ("password is correcthorse").
func hasDigitAndLetter(m string) bool {
	letter, digit := false, false
	for _, c := range m {
		switch {
		case c >= '0' && c <= '9':
			digit = true
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
			letter = true
		}
	}
	return letter && digit
}
