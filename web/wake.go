package web

import "github.com/gin-gonic/gin"

// WakeOptions configure this feature (scaffold: filled in by its owner).
type WakeOptions struct{}

type wakeService struct{}

func (s *Server) initWake() error { return nil }

func (s *Server) wakeRoutes(ui, api *gin.RouterGroup) {}
