package inventory

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"time"

	"github.com/lanscout/lanscout/snmp"
)

// Credential is an SNMP credential as everyone but the scanner sees it: its
// name and parameters, never its secrets.
type Credential struct {
	ID           int64          `json:"id"`
	Name         string         `json:"name"`
	Version      snmp.Version   `json:"version"`
	User         string         `json:"user,omitempty"`
	AuthProtocol snmp.AuthProto `json:"auth_protocol,omitempty"`
	PrivProtocol snmp.PrivProto `json:"priv_protocol,omitempty"`
	Context      string         `json:"context,omitempty"`
	Updated      time.Time      `json:"updated"`
}

// sealedSecrets is what is encrypted. Its fields are plain strings because
// snmp.Secret masks itself when marshalled, on purpose.
type sealedSecrets struct {
	Community string `json:"c,omitempty"`
	AuthPass  string `json:"a,omitempty"`
	PrivPass  string `json:"p,omitempty"`
}

// sealer encrypts small secrets with AES-256-GCM. The nonce is random and
// stored in front of the ciphertext; the associated data binds a ciphertext
// to its row, so a sealed secret copied onto another credential fails to
// open.
type sealer struct{ aead cipher.AEAD }

const keySize = 32

// loadOrCreateKey reads the key file, creating it (0600, 32 random bytes)
// when missing. An existing key that anyone but its owner can read is used
// but reported: refusing to start would lock the admin out of their own
// credentials.
func loadOrCreateKey(path string, log *slog.Logger) (*sealer, error) {
	key, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		key = make([]byte, keySize)
		if _, err := rand.Read(key); err != nil {
			return nil, fmt.Errorf("generate key: %w", err)
		}
		// O_EXCL: two processes starting at once must not each write a key.
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			return loadOrCreateKey(path, log)
		}
		if err != nil {
			return nil, fmt.Errorf("create key file %s: %w", path, err)
		}
		if _, err := f.Write(key); err != nil {
			f.Close()
			os.Remove(path)
			return nil, fmt.Errorf("write key file %s: %w", path, err)
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return nil, fmt.Errorf("sync key file %s: %w", path, err)
		}
		if err := f.Close(); err != nil {
			return nil, fmt.Errorf("close key file %s: %w", path, err)
		}
		log.Info("created credential key file", "path", path)
	} else if err != nil {
		return nil, fmt.Errorf("read key file %s: %w", path, err)
	}
	if len(key) != keySize {
		return nil, fmt.Errorf("key file %s holds %d bytes, want %d", path, len(key), keySize)
	}
	if st, err := os.Stat(path); err == nil && st.Mode().Perm()&0o077 != 0 {
		log.Warn("credential key file is readable by others; chmod 600 it", "path", path, "mode", st.Mode().Perm().String())
	}
	return newSealer(key)
}

func newSealer(key []byte) (*sealer, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("init AES: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("init GCM: %w", err)
	}
	return &sealer{aead: aead}, nil
}

func (s *sealer) seal(plain, ad []byte) ([]byte, error) {
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(plain)+s.aead.Overhead())
	if _, err := io.ReadFull(rand.Reader, nonce); err != nil {
		return nil, fmt.Errorf("generate nonce: %w", err)
	}
	return s.aead.Seal(nonce, nonce, plain, ad), nil
}

func (s *sealer) open(sealed, ad []byte) ([]byte, error) {
	n := s.aead.NonceSize()
	if len(sealed) < n+s.aead.Overhead() {
		return nil, errors.New("sealed secret too short")
	}
	plain, err := s.aead.Open(nil, sealed[:n], sealed[n:], ad)
	if err != nil {
		return nil, fmt.Errorf("open sealed secret (wrong key file?): %w", err)
	}
	return plain, nil
}
