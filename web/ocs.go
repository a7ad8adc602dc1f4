package web

import "github.com/gin-gonic/gin"

// OCSOptions configure this feature (scaffold: filled in by its owner).
type OCSOptions struct{}

type ocsService struct{}

func (s *Server) initOCS() error { return nil }

func (s *Server) ocsRoutes(e *gin.Engine) {}
