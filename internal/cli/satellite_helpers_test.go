package cli

import (
	"golang.org/x/crypto/ssh"

	"github.com/lanscout/lanscout/internal/sshtest"
)

func satelliteFingerprint(s *sshtest.Server) string {
	return ssh.FingerprintSHA256(s.HostKeys["ed25519"])
}

func sshMarshal(s *sshtest.Server) []byte { return ssh.MarshalAuthorizedKey(s.HostKeys["ed25519"]) }
