package web

import "github.com/gin-gonic/gin"

func (s *Server) adminRoutes(ui, api *gin.RouterGroup) {}
