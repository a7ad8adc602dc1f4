package web

import "github.com/gin-gonic/gin"

// MonitoringOptions configure this feature (scaffold: filled in by its owner).
type MonitoringOptions struct{}

type monitoringService struct{}

func (s *Server) initMonitoring() error { return nil }

func (s *Server) monitoringRoutes(e *gin.Engine, ui, api *gin.RouterGroup) {}
