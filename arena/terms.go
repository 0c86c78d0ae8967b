package arena

// TermsInfo tells a client, in its hello, that the operator's terms must
// be accepted before a battle starts, and where to read them.
type TermsInfo struct {
	Version string `json:"version"` // send it back in accept_terms
	URL     string `json:"url"`     // where the terms' Markdown text is served
}
