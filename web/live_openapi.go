package web

import (
	_ "embed"
	"net/http"

	"github.com/gin-gonic/gin"
)

// openAPIDoc describes every /api/v1 endpoint. TestOpenAPIMatchesRoutes
// compares it with the routes the server registers and the roles they
// enforce, so it cannot drift from the code unnoticed.
//
//go:embed openapi.yaml
var openAPIDoc []byte

// apiOpenAPI serves the document to any authenticated caller: it holds
// nothing secret, but the appliance answers nothing about itself to
// strangers either.
func (s *Server) apiOpenAPI(c *gin.Context) {
	c.Data(http.StatusOK, "application/yaml; charset=utf-8", openAPIDoc)
}
