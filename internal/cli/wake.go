package cli

import (
	"context"
	"errors"
)

// runWake is a scaffold, filled in by its owner.
func runWake(ctx context.Context, e env, args []string) int {
	return exitCode(e.stderr, "wake", errors.New("not built yet"))
}
