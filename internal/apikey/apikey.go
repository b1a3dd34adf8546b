// Package apikey makes and hashes Groundwork API keys ("gw_…"). Keys carry
// 160 random bits, so a SHA-256 of the key is stored and looked up by index;
// a slow password hash would add latency to every request for no gain.
package apikey

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"strings"
)

// Prefix starts every API key, so a token is told apart from a JWT at a
// glance and secret scanners can find leaked keys.
const Prefix = "gw_"

var enc = base32.StdEncoding.WithPadding(base32.NoPadding)

// Key is a new API key and what is stored of it.
type Key struct {
	// Secret is shown once, to the user who created it.
	Secret string
	// Hash is stored.
	Hash []byte
	// Display is a non-secret prefix shown in listings.
	Display string
}

// New returns a fresh random key.
func New() Key {
	b := make([]byte, 20)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms.
	secret := Prefix + strings.ToLower(enc.EncodeToString(b))
	return Key{Secret: secret, Hash: Hash(secret), Display: secret[:len(Prefix)+6]}
}

// Hash returns the stored form of a key.
func Hash(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// Looks reports whether token has the shape of an API key.
func Looks(token string) bool { return strings.HasPrefix(token, Prefix) }
