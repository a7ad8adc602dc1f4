package web

import "github.com/gin-gonic/gin"

type liveService struct{}

func (s *Server) initLive() error { return nil }

func (s *Server) liveRoutes(ui, api *gin.RouterGroup) {}
