package formats

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// redactBefore is Redact as it was before the one-pass hint scan (commit
// 1dddf8f), kept as the oracle: each detector's hint tested on its own,
// by the code of then.
func redactBefore(s string, counts map[string]int) string {
	before := []func(string) bool{
		beforeHasAny("PRIVATE KEY-----"),
		beforeHasAny("eyJ"),
		beforeHasAny("sk-", "sk_live_", "sk_test_", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "xox", "AKIA", "AIza", "hf_", "glpat-", "agora_"),
		beforeHasAnyFold("bearer", "token", "key", "secret", "password", "passwd"),
		beforeHasAny("@"),
		beforeDigitRun(13),
		beforeIBANStart,
		beforeDigitRun(7),
	}
	for i := range detectors {
		d := &detectors[i]
		if !before[i](s) {
			continue
		}
		s = d.re.ReplaceAllStringFunc(s, func(m string) string {
			if d.valid != nil && !d.valid(m) {
				return m
			}
			counts[d.name]++
			return Placeholder(d.name)
		})
	}
	return s
}

func beforeHasAny(subs ...string) func(string) bool {
	return func(s string) bool {
		for _, sub := range subs {
			if strings.Contains(s, sub) {
				return true
			}
		}
		return false
	}
}

func beforeHasAnyFold(subs ...string) func(string) bool {
	return func(s string) bool {
		l := strings.ToLower(s)
		for _, sub := range subs {
			if strings.Contains(l, sub) {
				return true
			}
		}
		return false
	}
}

func beforeDigitRun(n int) func(string) bool {
	return func(s string) bool {
		k, gap := 0, 0
		for i := 0; i < len(s); i++ {
			switch c := s[i]; {
			case c >= '0' && c <= '9':
				if k++; k >= n {
					return true
				}
				gap = 0
			case k > 0 && gap < 2 && strings.IndexByte(" -.()+", c) >= 0:
				gap++
			default:
				k, gap = 0, 0
			}
		}
		return false
	}
}

func beforeIBANStart(s string) bool {
	for i := 0; i+3 < len(s); i++ {
		if s[i] >= 'A' && s[i] <= 'Z' && s[i+1] >= 'A' && s[i+1] <= 'Z' && s[i+2] >= '0' && s[i+2] <= '9' && s[i+3] >= '0' && s[i+3] <= '9' {
			return true
		}
	}
	return false
}

// redactPieces are what the varied texts are made of: every hint's
// substring in several cases, near misses, digits and separators, secrets
// that match, runes whose lower case is ASCII, invalid UTF-8, prose.
var redactPieces = []string{
	"PRIVATE KEY-----", "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA1\n-----END RSA PRIVATE KEY-----", "PRIVATE KEY----",
	"eyJ", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U", "eYJ",
	"sk-", "sk_live_", "sk_test_", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "xox", "AKIA", "AIza", "hf_",
	"glpat-", "agora_", "sk-proj-abcdefghijklmnopqrstuvwxyz012345", "ghp_abcdefghijklmnopqrstuvwxyz0123456789AB",
	"AKIAIOSFODNN7EXAMPLE", "xoxb-123456789012-abcdefghijkl", "SK-", "Hf_", "gh", "_", "-",
	"bearer", "BEARER", "Bearer 9f8e7d6c5b4a3f2e1d0c", "token", "ToKeN", "key", "KEY", "kEy", "secret", "SeCrEt",
	"password", "PassWord", "passwd", "client_secret=Zx81kLmQ0pWs7vTy", `"password": "hunter2hunter2X9"`, "api_key: ",
	"\u212Aey", "to\u212Aen", "\u0130", "\u212A", "\xe2\x84", "\xff", "\xe2", "é", "“quoted”", "日本語",
	"@", "jane.doe@example.com", "a@b", "@x.io",
	"0", "1", "4111 1111 1111 1111", "5500-0000-0000-0004", "12345", "1234567", "(555) 123-4567", "+1 202 555 0143",
	"2024-01-15", "1.2.3", " ", "  ", ".", "(", ")", "+", "-", "\n",
	"DE89 3704 0044 0532 0130 00", "GB82WEST12345698765432", "AB12", "Ab12", "ZZ9",
	"The meeting is at 10:30, ", "Explain how a hash map works. ", "## Lists\n\nA **list** is mutable; ", "a", "Z",
}

// randomText joins a few random pieces, sometimes cutting one.
func randomText(rng *rand.Rand) string {
	var b strings.Builder
	for range 1 + rng.IntN(8) {
		p := redactPieces[rng.IntN(len(redactPieces))]
		if rng.IntN(4) == 0 && len(p) > 1 {
			i := rng.IntN(len(p))
			p = p[:i] + p[i+1:]
		}
		b.WriteString(p)
	}
	return b.String()
}

// TestRedactScanSameAsBefore checks that Redact with the one-pass hint
// scan redacts exactly as the detector-by-detector hints did, with the
// same counts, on varied texts built to hold every hint, near misses and
// real secrets, and that the scan never says "no" where a hint holds.
func TestRedactScanSameAsBefore(t *testing.T) {
	rng := rand.New(rand.NewPCG(16, 7))
	found := map[string]int{}
	for range 20_000 {
		s := randomText(rng)
		checkRedactSame(t, s)
		Redact(s, found)
	}
	for _, d := range detectors {
		if found[d.name] == 0 {
			t.Errorf("no random text held a %s: the test does not cover it", d.name)
		}
	}
}

func checkRedactSame(t *testing.T, s string) {
	t.Helper()
	want, got := map[string]int{}, map[string]int{}
	if w, g := redactBefore(s, want), Redact(s, got); w != g || !sameCounts(want, got) {
		t.Fatalf("Redact(%q) = %q %v; before the scan %q %v", s, g, got, w, want)
	}
	may := hints.scan(s)
	for i, d := range detectors {
		if d.hint.test(s) && may&(1<<i) == 0 {
			t.Fatalf("scan(%q) misses the %s hint", s, d.name)
		}
	}
}

func sameCounts(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestRedactScanSkips checks the scan does what it is for: ordinary prose
// asks for no detector.
func TestRedactScanSkips(t *testing.T) {
	prose := strings.Repeat("Explain the difference between a list and a tuple. ## Lists\n\nA **list** is mutable; a tuple is not.\n1. one\n- two \"quoted\" “smart” é. ", 20)
	if may := hints.scan(prose); may != 0 {
		t.Errorf("scan of plain prose = %b, want no detector", may)
	}
}

func FuzzRedactScan(f *testing.F) {
	for _, p := range redactPieces {
		f.Add(p)
	}
	f.Add("Authorization: Bearer 9f8e7d6c5b4a3f2e1d0c and jane@example.com, card 4111 1111 1111 1111")
	f.Fuzz(func(t *testing.T, s string) { checkRedactSame(t, s) })
}

// BenchmarkRedact is Redact on the export benchmark's text (nothing to
// redact) and on text holding an e-mail address.
func BenchmarkRedact(b *testing.B) {
	plain := strings.Repeat("## Lists\n\nA **list** is mutable; a tuple is not.\n1. one\n- two \"quoted\"\n", 14)[:900]
	for _, tc := range []struct{ name, text string }{{"plain", plain}, {"email", plain + " write to jane@example.com"}} {
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(int64(len(tc.text)))
			counts := map[string]int{}
			for b.Loop() {
				Redact(tc.text, counts)
			}
		})
		b.Run(tc.name+"/before", func(b *testing.B) {
			b.SetBytes(int64(len(tc.text)))
			counts := map[string]int{}
			for b.Loop() {
				redactBefore(tc.text, counts)
			}
		})
	}
}
