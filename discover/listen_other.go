//go:build !linux

package discover

import (
	"context"
	"errors"
	"log/slog"
)

// Listen needs Linux packet sockets; elsewhere it fails at once.
func Listen(ctx context.Context, iface string, logger *slog.Logger, found func(Host)) error {
	return errors.New("passive listening is only supported on Linux")
}
