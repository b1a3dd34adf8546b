// Package signedurl makes and checks short-lived HMAC-signed download links,
// so a browser can follow a download without the bearer token. fileblob has
// no signed URLs of its own, and signing our own route keeps the owner check
// and Content-Disposition in one place for every blob backend.
package signedurl

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"time"
)

// Errors returned by Verify.
var (
	// ErrExpired means the link was genuine but is past its expiry.
	ErrExpired = errors.New("signed url expired")
	// ErrInvalid means the link was not signed by us or was altered.
	ErrInvalid = errors.New("signed url invalid")
)

// Query parameters of a signed link.
const (
	ParamExpires   = "expires"
	ParamSignature = "signature"
)

// Signer signs resource paths with one secret key.
type Signer struct {
	key []byte
}

// New returns a Signer; key should hold at least 32 random bytes.
func New(key []byte) (*Signer, error) {
	if len(key) < 32 {
		return nil, fmt.Errorf("signing key has %d bytes, need at least 32", len(key))
	}
	return &Signer{key: append([]byte(nil), key...)}, nil
}

// Sign returns the query string ("expires=…&signature=…") that authorises
// path until expires.
func (s *Signer) Sign(path string, expires time.Time) string {
	exp := strconv.FormatInt(expires.Unix(), 10)
	v := url.Values{}
	v.Set(ParamExpires, exp)
	v.Set(ParamSignature, s.mac(path, exp))
	return v.Encode()
}

// Verify checks that q carries a valid, unexpired signature for path.
func (s *Signer) Verify(path string, q url.Values, now time.Time) error {
	exp, sig := q.Get(ParamExpires), q.Get(ParamSignature)
	if exp == "" || sig == "" {
		return ErrInvalid
	}
	want := s.mac(path, exp)
	if !hmac.Equal([]byte(sig), []byte(want)) {
		return ErrInvalid
	}
	unix, err := strconv.ParseInt(exp, 10, 64)
	if err != nil {
		return ErrInvalid
	}
	if now.After(time.Unix(unix, 0)) {
		return ErrExpired
	}
	return nil
}

func (s *Signer) mac(path, exp string) string {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(path))
	m.Write([]byte{0})
	m.Write([]byte(exp))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}
