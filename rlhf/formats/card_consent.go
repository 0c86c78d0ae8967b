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
