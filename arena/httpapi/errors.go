package httpapi

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/agora-rlhf/agora/rlhf"
)

// handler is an HTTP handler that returns its error instead of writing it.
type handler func(c *gin.Context) error

// statusOf maps each domain error code to its HTTP status. It is the one
// place where the two meet.
var statusOf = map[string]int{
	rlhf.EInvalid:         http.StatusBadRequest,
	rlhf.ENotFound:        http.StatusNotFound,
	rlhf.EConflict:        http.StatusConflict,
	rlhf.ENotReady:        http.StatusConflict,
	rlhf.ELimit:           http.StatusTooManyRequests,
	rlhf.ERateLimited:     http.StatusTooManyRequests,
	rlhf.EUnavailable:     http.StatusServiceUnavailable,
	rlhf.EUnauthorized:    http.StatusUnauthorized,
	rlhf.EForbidden:       http.StatusForbidden,
	rlhf.EAccountRequired: http.StatusUnauthorized,
	rlhf.EUpstream:        http.StatusBadGateway,
	rlhf.ETimeout:         http.StatusGatewayTimeout,
	rlhf.EInternal:        http.StatusInternalServerError,
}

// errorBody is the JSON body of every error response.
type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// wrap adapts h to gin, writing any error it returns: the client sees a
// stable code and a safe message; the log sees the cause.
func (s *Server) wrap(h handler) gin.HandlerFunc {
	return func(c *gin.Context) {
		if err := h(c); err != nil {
			s.writeError(c, err)
		}
	}
}

func (s *Server) writeError(c *gin.Context, err error) {
	code := rlhf.ErrorCode(err)
	status, ok := statusOf[code]
	if !ok {
		status = http.StatusInternalServerError
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		code, status = rlhf.ELimit, http.StatusRequestEntityTooLarge
		err = rlhf.Errorf(rlhf.ELimit, "request body is larger than %d bytes", mbe.Limit)
	}
	if status >= 500 {
		s.log.Error("request failed", "method", c.Request.Method, "path", c.FullPath(), "err", err)
	} else {
		s.log.Debug("request refused", "method", c.Request.Method, "path", c.FullPath(), "code", code, "err", err)
	}
	if status == http.StatusServiceUnavailable {
		c.Header("Retry-After", "5")
	}
	if d := RetryAfter(err); d > 0 {
		c.Header("Retry-After", strconv.Itoa(int((d+time.Second-1)/time.Second)))
	}
	if c.Request.ContentLength != 0 {
		// The body may be unread (a refusal before the handler) or cut
		// (too large): close rather than drain it, so that a slow or
		// endless body costs nothing more.
		c.Header("Connection", "close")
	}
	var body errorBody
	body.Error.Code, body.Error.Message = code, rlhf.ErrorMessage(err)
	if mbe != nil {
		body.Error.Message = err.Error()
	}
	c.AbortWithStatusJSON(status, body)
}

// logRequests logs every request at debug level, and failures above.
func logRequests(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		c.Next()
		log.Debug("http", "method", c.Request.Method, "path", c.Request.URL.Path, "status", c.Writer.Status())
	}
}
