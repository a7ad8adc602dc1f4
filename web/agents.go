package web

import (
	"context"
	"errors"

	"github.com/gin-gonic/gin"

	"github.com/lanscout/lanscout/agent/protocol"
	"github.com/lanscout/lanscout/inventory"
)

// AgentOptions configure this feature (scaffold: filled in by its owner).
type AgentOptions struct{}

type agentService struct{}

func (s *Server) initAgents() error { return nil }

func (s *Server) agentRoutes(e *gin.Engine, ui, api *gin.RouterGroup) {}

// scanViaAgents queues a scan of sn for its elected agents, when it has
// any, and reports whether it did. (Scaffold: the agents owner fills it.)
func (s *Server) scanViaAgents(ctx context.Context, sn inventory.Subnet) (dispatched, bool, error) {
	return dispatched{}, false, nil
}

// enqueueAgentTask queues t for an agent and returns its task id; the
// agent receives it on its next (long) poll.
func (s *Server) enqueueAgentTask(ctx context.Context, agentID int64, t protocol.Task) (string, error) {
	return "", errors.New("agent tasks: not built yet")
}

// awaitAgentTask waits for a task's result until ctx ends.
func (s *Server) awaitAgentTask(ctx context.Context, taskID string) (protocol.TaskResult, error) {
	return protocol.TaskResult{}, errors.New("agent tasks: not built yet")
}
