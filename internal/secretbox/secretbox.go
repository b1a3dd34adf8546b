// Package secretbox encrypts small secrets (third-party API tokens) for
// storage in Postgres with AES-256-GCM, so a database dump alone does not
// reveal them.
package secretbox

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
)

// ErrNoKey is returned when a secret must be sealed or opened without a key.
var ErrNoKey = errors.New("no encryption key configured (GROUNDWORK_ENCRYPTION_KEY)")

// Box seals and opens secrets with one key.
type Box struct {
	aead cipher.AEAD
}

// New returns a Box for a 32-byte key; a nil key gives a Box that refuses
// to work, so callers can hold one unconditionally.
func New(key []byte) (*Box, error) {
	if key == nil {
		return &Box{}, nil
	}
	if len(key) < 32 {
		return nil, fmt.Errorf("secretbox: key must be 32 bytes, got %d", len(key))
	}
	block, err := aes.NewCipher(key[:32])
	if err != nil {
		return nil, fmt.Errorf("secretbox: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("secretbox: %w", err)
	}
	return &Box{aead: aead}, nil
}

// Enabled reports whether the box has a key.
func (b *Box) Enabled() bool { return b != nil && b.aead != nil }

// Seal encrypts plaintext; label binds the ciphertext to what it belongs
// to (a mapping ID), so it cannot be copied to another row.
func (b *Box) Seal(plaintext []byte, label string) ([]byte, error) {
	if !b.Enabled() {
		return nil, ErrNoKey
	}
	nonce := make([]byte, b.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("secretbox: nonce: %w", err)
	}
	return b.aead.Seal(nonce, nonce, plaintext, []byte(label)), nil
}

// Open decrypts what Seal produced for the same label.
func (b *Box) Open(ciphertext []byte, label string) ([]byte, error) {
	if !b.Enabled() {
		return nil, ErrNoKey
	}
	n := b.aead.NonceSize()
	if len(ciphertext) < n {
		return nil, errors.New("secretbox: ciphertext too short")
	}
	out, err := b.aead.Open(nil, ciphertext[:n], ciphertext[n:], []byte(label))
	if err != nil {
		return nil, fmt.Errorf("secretbox: open: %w", err)
	}
	return out, nil
}
