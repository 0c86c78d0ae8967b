package httpapi

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
)

// progressWriter extends the connection's write deadline before each write.
type progressWriter struct {
	gin.ResponseWriter
	rc *http.ResponseController
	d  time.Duration
}

func (w *progressWriter) extend() { w.rc.SetWriteDeadline(time.Now().Add(w.d)) }

func (w *progressWriter) Write(p []byte) (int, error) {
	w.extend()
	return w.ResponseWriter.Write(p)
}

func (w *progressWriter) WriteString(s string) (int, error) {
	w.extend()
	return w.ResponseWriter.WriteString(s)
}

func (w *progressWriter) Flush() {
	w.extend()
	w.ResponseWriter.Flush()
}

// Unwrap lets http.ResponseController reach the connection.
func (w *progressWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// streamingRoute serves routes whose answers may stream for longer than
// the server's write timeout (exports, the demo models' token streams).
// Instead of one deadline for the whole answer, each write gets
// WriteTimeout: a client that keeps reading is served to the end, one that
// stops reading is cut off.
func (s *Server) streamingRoute(h gin.HandlerFunc) gin.HandlerFunc {
	return func(c *gin.Context) {
		if s.cfg.WriteTimeout > 0 {
			pw := &progressWriter{ResponseWriter: c.Writer, rc: http.NewResponseController(c.Writer), d: s.cfg.WriteTimeout}
			pw.extend()
			c.Writer = pw
		}
		h(c)
	}
}
