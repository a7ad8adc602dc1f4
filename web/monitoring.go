package web

import (
	"context"

	"github.com/gin-gonic/gin"
)

// MonitoringOptions configure this feature (scaffold: filled in by its owner).
type MonitoringOptions struct{}

type monitoringService struct{}

func (s *Server) initMonitoring() error { return nil }

func (s *Server) monitoringRoutes(e *gin.Engine, ui, api *gin.RouterGroup) {}

// observeWake counts a wake's outcome for /metrics ("confirmed",
// "unconfirmed", "failed", "no_route"). (Scaffold: monitoring fills it.)
func (s *Server) observeWake(outcome string) {}

// emitEvent hands an event that is not in the store's device event log
// (a wake's outcome) to the webhooks. kind is e.g. "wake.outcome".
func (s *Server) emitEvent(ctx context.Context, kind string, payload any) {}
