package web

import "github.com/gin-gonic/gin"

// AgentOptions configure this feature (scaffold: filled in by its owner).
type AgentOptions struct{}

type agentService struct{}

func (s *Server) initAgents() error { return nil }

func (s *Server) agentRoutes(e *gin.Engine, ui, api *gin.RouterGroup) {}
