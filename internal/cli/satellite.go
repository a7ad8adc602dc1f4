package cli

import (
	"context"
	"errors"
)

// runSatellite is a scaffold, filled in by its owner.
func runSatellite(ctx context.Context, e env, args []string) int {
	return exitCode(e.stderr, "satellite", errors.New("not built yet"))
}
