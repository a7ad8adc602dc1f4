package cli

import (
	"context"
	"errors"
)

// runExport is a scaffold, filled in by its owner.
func runExport(ctx context.Context, e env, args []string) int {
	return exitCode(e.stderr, "export", errors.New("not built yet"))
}
