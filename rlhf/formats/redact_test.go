package formats

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/agora-rlhf/agora/rlhf"
)

// TestRedactFixture checks each detector on the formats people paste,
// and that ordinary text, numbers included, is left as it is.
func TestRedactFixture(t *testing.T) {
	secret := []struct{ detector, text string }{
		{"email", "write to jane.doe@example.com today"},
		{"email", "Jane.Doe+arena@mail.example.co.uk"},
		{"email", "CONTACT: J_SMITH99@EXAMPLE.ORG."},
		{"phone", "call (555) 123-4567 after six"},
		{"phone", "my number is 555-123-4567"},
		{"phone", "phone: 555.123.4567"},
		{"phone", "+1 202 555 0143"},
		{"phone", "+44 20 7946 0958"},
		{"phone", "+33 1 23 45 67 89"},
		{"phone", "+4915123456789"},
		{"phone", "07700 900 123"},
		{"api_key", "OPENAI_API_KEY=sk-proj-abcdefghijklmnopqrstuvwxyz012345"},
		{"api_key", "sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789"},
		{"api_key", "token ghp_abcdefghijklmnopqrstuvwxyz0123456789AB"},
		{"api_key", "aws AKIAIOSFODNN7EXAMPLE key"},
		{"api_key", "AIzaSyD-abcdefghijklmnopqrstuvwxyz01234"},
		{"api_key", "slack xoxb-123456789012-abcdefghijkl"},
		{"api_key", "hf_abcdefghijklmnopqrstuvwxyzABCDEF"},
		{"api_key", "stripe sk_live_abcdefghijklmnop1234"},
		{"jwt", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"},
		{"secret", "Authorization: Bearer 9f8e7d6c5b4a3f2e1d0c"},
		{"secret", `"password": "hunter2hunter2X9"`},
		{"secret", "client_secret=Zx81kLmQ0pWs7vTy"},
		{"private_key", "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA1\n-----END RSA PRIVATE KEY-----"},
		{"card", "card 4111 1111 1111 1111 exp 12/29"},
		{"card", "5500-0000-0000-0004"},
		{"iban", "IBAN DE89 3704 0044 0532 0130 00"},
		{"iban", "GB82WEST12345698765432"},
	}
	for _, tc := range secret {
		counts := map[string]int{}
		got := Redact(tc.text, counts)
		if counts[tc.detector] != 1 || !strings.Contains(got, Placeholder(tc.detector)) {
			t.Errorf("Redact(%q) = %q, counts %v; want one %s", tc.text, got, counts, tc.detector)
		}
	}
	ordinary := []string{
		"The meeting is at 10:30 on 2024-01-15, room 4.",
		"Go 1.26.0 was released; upgrade from 1.25.3.",
		"What is 12345 * 67890? And 3.14159 * 2.71828?",
		"In 1999 there were 365 days and 8760 hours.",
		"Use @decorator in Python, or @Override in Java.",
		"A password needs 12 characters; my token limit is 4096.",
		"Sort key=value pairs by key.",
		"ISBN 978-3-16-148410-0 is a book number.",
		"The population grew from 1,234,567 to 2,345,678.",
		"Coordinates 48.8566, 2.3522 are in Paris.",
		"Call me maybe, or email me at the office.",
		"The function sk_train(x) is fine; so is task-specific-tuning.",
		"Order #100234 shipped on 12/05/2024.",
	}
	for _, s := range ordinary {
		counts := map[string]int{}
		if got := Redact(s, counts); got != s {
			t.Errorf("Redact(%q) = %q (%v); ordinary text must stay as it is", s, got, counts)
		}
	}
}

// TestRedactFalsePositives measures how often the detectors fire on text
// that holds no personal data: every line of the LLMFAO crowd comparisons
// (ids, verdicts, 59 model names: the data set ships prompt ids, not
// prompt text) and the ordinary and probing prompts of the trust tests.
// The rate is stated in docs/consent.md.
func TestRedactFalsePositives(t *testing.T) {
	for _, f := range []string{
		"/work/shared/datasets/llmfao/crowd-comparisons.csv",
		"../../arena/trust/testdata/ordinary.txt",
		"../../arena/trust/testdata/probes.txt",
	} {
		file, err := os.Open(f)
		if os.IsNotExist(err) && os.Getenv("CI") == "" {
			t.Logf("SKIPPED: %s is not here", f)
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		defer file.Close()
		var lines, hit int
		counts := map[string]int{}
		sc := bufio.NewScanner(file)
		for sc.Scan() {
			if s := sc.Text(); s != "" && !strings.HasPrefix(s, "#") {
				lines++
				if Redact(s, counts) != s {
					hit++
					t.Logf("%s: redacted %q", f, s)
				}
			}
		}
		t.Logf("%s: %d of %d texts redacted (%.2f%%) %v", f, hit, lines, 100*float64(hit)/float64(max(lines, 1)), counts)
		if lines == 0 || hit*200 > lines {
			t.Errorf("%s: %d of %d texts redacted; want under 0.5%%", f, hit, lines)
		}
	}
}

// TestExportRedacts exports records holding personal data: by default
// every occurrence is replaced and the card counts them; --no-redact keeps
// the text and the card says so.
func TestExportRedacts(t *testing.T) {
	at := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	r := rec("b1", rlhf.WinnerA, "", at, "mail me at ann@example.com or call +44 20 7946 0958", "Sure: ann@example.com", "no")
	r.Vote.Reason = "it repeated my key sk-proj-abcdefghijklmnopqrstuvwxyz012345"
	src := RecordsFunc(func(ctx context.Context, fn func(*rlhf.Record) error) error {
		c := r
		c.Battle.Turns = slices.Clone(r.Battle.Turns)
		return fn(&c)
	})
	for _, noRedact := range []bool{false, true} {
		var out, card bytes.Buffer
		st, err := Export(context.Background(), &out, "arena-jsonl", Options{NoRedact: noRedact}, src)
		if err != nil {
			t.Fatal(err)
		}
		if err := WriteCard(&card, Card{Options: Options{NoRedact: noRedact}, Stats: st}); err != nil {
			t.Fatal(err)
		}
		leaked := strings.Contains(out.String(), "ann@example.com") || strings.Contains(out.String(), "7946") || strings.Contains(out.String(), "sk-proj-")
		if noRedact {
			if !leaked || !strings.Contains(card.String(), "Not redacted") {
				t.Errorf("--no-redact changed the text or the card does not say it: %s", out.String())
			}
			continue
		}
		if leaked || st.Redacted["email"] != 2 || st.Redacted["phone"] != 1 || st.Redacted["api_key"] != 1 {
			t.Errorf("export = %s, counts %v; want every e-mail, phone and key replaced (2, 1, 1)", out.String(), st.Redacted)
		}
		if !strings.Contains(card.String(), "| email | 2 |") {
			t.Errorf("the card does not count the redacted e-mail addresses:\n%s", card.String())
		}
	}
	if strings.Contains(r.Battle.Turns[0].Prompt, "[EMAIL]") {
		t.Error("redaction changed the source's record")
	}
}

// BenchmarkExportRedaction compares an export with redaction (the
// default) and without (--no-redact), in one run: compare the two.
func BenchmarkExportRedaction(b *testing.B) {
	for _, noRedact := range []bool{false, true} {
		b.Run(fmt.Sprintf("no-redact=%v", noRedact), func(b *testing.B) {
			b.SetBytes(int64(len(benchPrompt) + 2*len(benchAnswer)))
			if _, err := Export(context.Background(), io.Discard, string(ArenaJSONL), Options{Key: []byte("k"), NoRedact: noRedact}, genSource{n: b.N}); err != nil {
				b.Fatal(err)
			}
		})
	}
}
