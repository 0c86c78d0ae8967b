package formats

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// writeConsent writes the card's consent section: which scope the export
// kept, and its rows counted by their votes' scope and licence, each
// licence with its SPDX id and its Hugging Face id.
func writeConsent(b *strings.Builder, c *Card) {
	st, o := &c.Stats, &c.Options
	b.WriteString("\n## Consent and licences\n\n")
	if o.Scope != "" {
		fmt.Fprintf(b, "Only votes whose contributor allowed **%s** use are included (scopes, narrowest first: leaderboard, research, training).\n\n", o.Scope)
	} else {
		b.WriteString("Every vote is included, whatever its contributor allowed (an internal export, made without --scope).\n\n")
	}
	if len(st.Consent) == 0 {
		return
	}
	keys := make([]ConsentKey, 0, len(st.Consent))
	for k := range st.Consent {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(x, y ConsentKey) int {
		return cmp.Or(cmp.Compare(x.Scope, y.Scope), cmp.Compare(x.Licence, y.Licence))
	})
	b.WriteString("| scope | licence (SPDX) | Hugging Face id | rows |\n|---|---|---|---|\n")
	for _, k := range keys {
		spdx, hub := k.Licence, "unknown"
		if spdx == "" {
			spdx = "(not given)"
		} else if id, name := HubLicence(k.Licence); id == "other" {
			hub = "other (license_name: " + name + ")"
		} else {
			hub = id
		}
		fmt.Fprintf(b, "| %s | %s | %s | %d |\n", k.Scope, mdEscape(spdx), hub, st.Consent[k])
	}
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// writeRedaction writes the card's redaction section: what the detectors
// replaced, or that the export was made without redaction.
func writeRedaction(b *strings.Builder, c *Card) {
	st, o := &c.Stats, &c.Options
	b.WriteString("\n## Personal data and secrets\n\n")
	if o.NoRedact {
		b.WriteString("**Not redacted** (made with --no-redact, for internal use): prompts, answers and reasons are as contributors and models wrote them, e-mail addresses, phone numbers and keys included. Do not publish this export.\n")
		return
	}
	b.WriteString("E-mail addresses, phone numbers, API keys, tokens, private keys, card numbers and IBANs found in prompts, answers and reasons were replaced by a placeholder (`[EMAIL]`, `[PHONE]`, `[API_KEY]`, …). Redaction finds what its detectors know; it is not a guarantee that no personal data is left.\n\n")
	b.WriteString("| detector | replaced |\n|---|---|\n")
	for _, d := range Detectors() {
		fmt.Fprintf(b, "| %s | %d |\n", d, st.Redacted[d])
	}
}
