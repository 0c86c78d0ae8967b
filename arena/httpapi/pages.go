package httpapi

import (
	"context"
	"io/fs"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/agora-rlhf/agora/rlhf"
)

// tokenCookie holds the contributor token for the page.
const tokenCookie = "agora_token"

// handleIndex serves the arena page, giving a new visitor an identity and
// renewing an old visitor's token (a revoked or altered one is replaced).
// With proof of work, a new visitor gets no identity here: the page earns
// one (static/pow.js) when it connects.
func (s *Server) handleIndex(c *gin.Context) error {
	token := ""
	if cookie, err := c.Cookie(tokenCookie); err == nil {
		_, renew, err := s.checkToken(c.Request.Context(), cookie)
		switch {
		case err == nil:
			token = renew
		case rlhf.ErrorCode(err) == rlhf.EUnauthorized && s.pow == nil:
			_, token = s.cfg.Identity.New()
		case rlhf.ErrorCode(err) == rlhf.EUnauthorized: // the page earns one (pow.js)
		default: // the store cannot tell: keep the cookie, the websocket will say
			s.log.Error("check the page's contributor token", "err", err)
		}
	} else if s.pow == nil { // with proof of work, the page earns one (pow.js)
		_, token = s.cfg.Identity.New()
	}
	if token != "" {
		s.setTokenCookie(c, token)
	}
	return s.servePage(c, "index.html")
}

// servePage serves one of the embedded HTML pages with the pages' content
// security policy (the other security headers are on every response).
func (s *Server) servePage(c *gin.Context, name string) error {
	page, err := s.assets.get(name, true)
	if err != nil {
		return err
	}
	c.Header("Content-Security-Policy", pageCSP)
	page.serve(c, "text/html; charset=utf-8", "no-cache")
	return nil
}

func handleHealthz(c *gin.Context) error {
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
	return nil
}

// handleReadyz reports ready when the store takes a write (and whatever
// else ReadyDetail checks).
func (s *Server) handleReadyz(c *gin.Context) error {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 5*time.Second)
	defer cancel()
	body := gin.H{"status": "ready", "store": "ok"}
	status := http.StatusOK
	if err := s.cfg.Store.Ping(ctx); err != nil {
		s.log.Error("readiness: store not writable", "err", err)
		body["status"], body["store"] = "not ready", "not writable"
		status = http.StatusServiceUnavailable
	}
	if s.cfg.ReadyDetail != nil {
		detail, err := s.cfg.ReadyDetail(ctx)
		body["detail"] = detail
		if err != nil {
			body["status"] = "not ready"
			body["reason"] = rlhf.ErrorMessage(err)
			status = http.StatusServiceUnavailable
		}
	}
	c.JSON(status, body)
	return nil
}

// handleNoRoute answers a browser's request for a page that does not
// exist with the 404 page, anything else with handleNotFound's error.
func handleNoRoute(c *gin.Context) error {
	if r := c.Request; (r.Method == http.MethodGet || r.Method == http.MethodHead) && strings.Contains(r.Header.Get("Accept"), "text/html") {
		if page, err := fs.ReadFile(staticFiles, "static/404.html"); err == nil {
			c.Header("Content-Security-Policy", pageCSP)
			c.Data(http.StatusNotFound, "text/html; charset=utf-8", page)
			return nil
		}
	}
	return handleNotFound(c)
}

func handleNotFound(c *gin.Context) error {
	return rlhf.Errorf(rlhf.ENotFound, "no route %s %s", c.Request.Method, c.Request.URL.Path)
}
