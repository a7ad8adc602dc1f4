package web

import "github.com/gin-gonic/gin"

// ElectionOptions configure this feature (scaffold: filled in by its owner).
type ElectionOptions struct{}

type electionService struct{}

func (s *Server) initElection() error { return nil }

func (s *Server) electionRoutes(ui, api *gin.RouterGroup) {}
