package httpapi

import (
	_ "embed"
	"net/http"

	"github.com/gin-gonic/gin"
)

// openAPI is the OpenAPI 3 description of every route of Routes. It is
// written by hand and checked against the code (openapi_test.go): every
// route with its operationId and roles (x-agora-roles), exactly the query
// parameters its handler reads, its JSON bodies against the Go types
// encoded and decoded, and an error response for every code it can
// answer; and Redocly's linter passes it (openapi_lint_test.go).
//
//go:embed openapi.json
var openAPI []byte

func handleOpenAPI(c *gin.Context) error {
	c.Data(http.StatusOK, "application/json", openAPI)
	return nil
}

// handleAPIPage serves the API page: Swagger UI over openAPI, from
// /static alone, under the pages' content security policy.
func (s *Server) handleAPIPage(c *gin.Context) error {
	return s.servePage(c, "api.html")
}
