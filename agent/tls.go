package agent

import (
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
)

// ParseFingerprint reads a certificate's SHA-256 fingerprint in either
// form `lanscout server` prints at start: OpenSSH-style
// "SHA256:base64" or colon-separated hex ("AB:CD:…", optionally after
// "SHA-256 "). Hex without colons is accepted too.
func ParseFingerprint(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if rest, ok := strings.CutPrefix(s, "SHA256:"); ok {
		b, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(rest, "="))
		if err != nil || len(b) != sha256.Size {
			return nil, fmt.Errorf("fingerprint %q: want SHA256: and 43 base64 characters", s)
		}
		return b, nil
	}
	for _, p := range []string{"SHA-256 ", "SHA-256:", "sha256 ", "sha-256 "} {
		s = strings.TrimPrefix(s, p)
	}
	h := strings.ReplaceAll(strings.TrimSpace(s), ":", "")
	b, err := hex.DecodeString(h)
	if err != nil || len(b) != sha256.Size {
		return nil, fmt.Errorf("fingerprint %q: want SHA256:base64 or 32 hex bytes (AB:CD:…)", s)
	}
	return b, nil
}

// TLSOptions say how the agent trusts the server. With neither set, the
// system's roots verify it as any HTTPS client would. There is no option
// that turns verification off.
type TLSOptions struct {
	// CAFile is a PEM bundle of the CAs (or the server's self-signed
	// certificate itself) that verify the server, host name included.
	CAFile string
	// Fingerprint pins the server's certificate by its SHA-256: the
	// certificate presented must be exactly that one, whoever signed it.
	Fingerprint string
}

// ErrFingerprintMismatch is returned when the server presents a
// certificate other than the pinned one.
var ErrFingerprintMismatch = errors.New("the server's certificate does not match the pinned fingerprint")

// TLSConfig builds the client side of the agent's TLS.
func (o TLSOptions) TLSConfig() (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if o.CAFile != "" {
		pem, err := os.ReadFile(o.CAFile)
		if err != nil {
			return nil, fmt.Errorf("read CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("CA file %s: no PEM certificate in it", o.CAFile)
		}
		cfg.RootCAs = pool
	}
	if o.Fingerprint != "" {
		want, err := ParseFingerprint(o.Fingerprint)
		if err != nil {
			return nil, err
		}
		// Pinning replaces chain verification (a self-signed certificate
		// has no chain) by something stricter: the exact certificate.
		// Both checks run when a CA file is given too.
		withCA := cfg.RootCAs != nil
		cfg.InsecureSkipVerify = true
		cfg.VerifyConnection = func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("the server presented no certificate")
			}
			leaf := cs.PeerCertificates[0]
			sum := sha256.Sum256(leaf.Raw)
			if !bytes.Equal(sum[:], want) {
				return fmt.Errorf("%w: it is SHA256:%s", ErrFingerprintMismatch, base64.RawStdEncoding.EncodeToString(sum[:]))
			}
			if withCA {
				inter := x509.NewCertPool()
				for _, c := range cs.PeerCertificates[1:] {
					inter.AddCert(c)
				}
				if _, err := leaf.Verify(x509.VerifyOptions{Roots: cfg.RootCAs, Intermediates: inter, DNSName: cs.ServerName}); err != nil {
					return fmt.Errorf("verify server certificate: %w", err)
				}
			}
			return nil
		}
	}
	return cfg, nil
}
