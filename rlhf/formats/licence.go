package formats

import (
	"strings"
)

// hfLicences are the licence ids the Hugging Face Hub accepts in a card's
// front matter (besides "other", which needs a license_name).
var hfLicences = strings.Fields(`apache-2.0 mit openrail bigscience-openrail-m creativeml-openrail-m
bigscience-bloom-rail-1.0 bigcode-openrail-m afl-3.0 artistic-2.0 bsl-1.0 bsd bsd-2-clause bsd-3-clause
bsd-3-clause-clear c-uda cc cc0-1.0 cc-by-2.0 cc-by-2.5 cc-by-3.0 cc-by-4.0 cc-by-sa-3.0 cc-by-sa-4.0
cc-by-nc-2.0 cc-by-nc-3.0 cc-by-nc-4.0 cc-by-nd-4.0 cc-by-nc-nd-3.0 cc-by-nc-nd-4.0 cc-by-nc-sa-2.0
cc-by-nc-sa-3.0 cc-by-nc-sa-4.0 cdla-sharing-1.0 cdla-permissive-1.0 cdla-permissive-2.0 wtfpl ecl-2.0
epl-1.0 epl-2.0 etalab-2.0 eupl-1.1 eupl-1.2 agpl-3.0 gfdl gpl gpl-2.0 gpl-3.0 lgpl lgpl-2.1 lgpl-3.0 isc
h-research intel-research lppl-1.3c ms-pl apple-ascl apple-amlr mpl-2.0 odc-by odbl openrail++ osl-3.0
postgresql ofl-1.1 ncsa unlicense zlib pddl lgpl-lr deepfloyd-if-license fair-noncommercial-research-license
llama2 llama3 llama3.1 llama3.2 llama3.3 llama4 gemma unknown`)

// HubLicence returns the Hugging Face licence id for a licence as an
// operator wrote it ("Apache 2.0", "CC-BY-4.0", "cc by 4.0"), and, when it
// is none of the Hub's ids, "other" with a license_name made from it. No
// licence at all is "unknown".
func HubLicence(l string) (id, name string) {
	l = strings.TrimSpace(l)
	if l == "" {
		return "unknown", ""
	}
	slug := licenceSlug(l)
	for _, want := range []string{slug, strings.TrimSuffix(slug, "-only"), strings.TrimSuffix(slug, "-or-later")} {
		for _, id := range hfLicences {
			if want == id {
				return id, ""
			}
		}
	}
	if slug == "" {
		slug = "custom"
	}
	return "other", slug
}

// licenceSlug lowers l and joins its words with hyphens: "Apache 2.0" →
// "apache-2.0", "CC BY-SA 4.0" → "cc-by-sa-4.0".
func licenceSlug(l string) string {
	var b strings.Builder
	dash := false
	for _, c := range strings.ToLower(l) {
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '.', c == '+':
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(c)
		default:
			dash = true
		}
	}
	return strings.Trim(b.String(), ".")
}
