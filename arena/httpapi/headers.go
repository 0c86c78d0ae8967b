package httpapi

import "github.com/gin-gonic/gin"

// The content security policies. Pages load their scripts and styles from
// /static only: no inline script or style, no framing, no plugins.
const (
	// apiCSP is sent with every response that is not a page: nothing it
	// holds may run or be framed.
	apiCSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
	// pageCSP is the arena page's and the leaderboard page's.
	pageCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
		"connect-src 'self' ws: wss:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)

// securityHeaders sets the headers every response carries. Pages replace
// the content security policy with pageCSP (servePage).
func securityHeaders(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("Content-Security-Policy", apiCSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	c.Next()
}
