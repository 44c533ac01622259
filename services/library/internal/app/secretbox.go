package app

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"fmt"
)

// sealVersion leads every sealed secret so that a later key rotation can tell formats apart.
const sealVersion = 1

// secretBox seals library secrets with AES-256-GCM under the key-encryption key
// (docs/architecture.md: secrets encrypted at rest). The library id is the additional data, so a
// sealed secret copied onto another library's key does not open.
type secretBox struct {
	aead cipher.AEAD
}

func newSecretBox(kek []byte) (*secretBox, error) {
	if len(kek) != 32 {
		return nil, fmt.Errorf("library: secret key-encryption key must be 32 bytes, got %d", len(kek))
	}
	block, err := aes.NewCipher(kek)
	if err != nil {
		return nil, fmt.Errorf("library: secret key-encryption key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("library: secret key-encryption key: %w", err)
	}
	return &secretBox{aead: aead}, nil
}

// seal answers version || nonce || ciphertext; the nonce is random per call.
func (b *secretBox) seal(libraryID, secret string) ([]byte, error) {
	out := make([]byte, 1+b.aead.NonceSize(), 1+b.aead.NonceSize()+len(secret)+b.aead.Overhead())
	out[0] = sealVersion
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, fmt.Errorf("seal secret: %w", err)
	}
	return b.aead.Seal(out, out[1:], []byte(secret), []byte(libraryID)), nil
}

func (b *secretBox) open(libraryID string, sealed []byte) (string, error) {
	n := b.aead.NonceSize()
	if len(sealed) < 1+n || sealed[0] != sealVersion {
		return "", fmt.Errorf("%w: library %s: bad format", ErrSecretUnreadable, libraryID)
	}
	plain, err := b.aead.Open(nil, sealed[1:1+n], sealed[1+n:], []byte(libraryID))
	if err != nil {
		return "", fmt.Errorf("%w: library %s", ErrSecretUnreadable, libraryID)
	}
	return string(plain), nil
}
