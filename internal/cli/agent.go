package cli

import (
	"context"
	"errors"
)

// runAgent is a scaffold, filled in by its owner.
func runAgent(ctx context.Context, e env, args []string) int {
	return exitCode(e.stderr, "agent", errors.New("not built yet"))
}
