package web

import (
	_ "embed"
	"net/http"

	"github.com/gin-gonic/gin"
)

// openAPI is the OpenAPI 3 description of the JSON API under /api/v1. A
// test checks it against Routes: every route is described, with the roles
// it admits (x-agora-roles), and nothing else is.
//
//go:embed openapi.json
var openAPI []byte

func handleOpenAPI(c *gin.Context) error {
	c.Data(http.StatusOK, "application/json", openAPI)
	return nil
}
