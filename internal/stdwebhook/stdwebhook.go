// Package stdwebhook signs and verifies webhook messages per the Standard
// Webhooks specification (https://www.standardwebhooks.com): the headers
// webhook-id, webhook-timestamp and webhook-signature, the last holding one
// or more space-separated "v1,<base64 HMAC-SHA256 of id.timestamp.body>";
// secrets are "whsec_" and the base64 of the key.
package stdwebhook

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Header names of the specification.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
	secretPrefix    = "whsec_"
)

// Errors of Verify; both mean the message is refused.
var (
	// ErrSignature: no signature matches any of the secrets, or the headers are missing or malformed.
	ErrSignature = errors.New("no valid signature")
	// ErrTimestamp: the timestamp is outside the tolerance.
	ErrTimestamp = errors.New("timestamp outside the tolerance")
)

// NewSecret returns a fresh secret of 32 random bytes, "whsec_…".
func NewSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return secretPrefix + base64.StdEncoding.EncodeToString(b)
}

// Key decodes a "whsec_…" secret into its HMAC key.
func Key(secret string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, secretPrefix))
	if err != nil || len(key) == 0 {
		return nil, fmt.Errorf("webhook secret: not whsec_ and base64")
	}
	return key, nil
}

// Signature is the "v1,…" signature of a message.
func Signature(key []byte, id string, ts time.Time, body []byte) string {
	mac := hmac.New(sha256.New, key)
	fmt.Fprintf(mac, "%s.%d.", id, ts.Unix())
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// Sign sets the three headers of a message on h.
func Sign(h http.Header, key []byte, id string, ts time.Time, body []byte) {
	h.Set(HeaderID, id)
	h.Set(HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
	h.Set(HeaderSignature, Signature(key, id, ts, body))
}

// Verify checks a message's headers against any of keys (several while a
// secret rotates) and its timestamp against now ± tolerance, comparing in
// constant time. It returns the message's id.
func Verify(h http.Header, body []byte, keys [][]byte, now time.Time, tolerance time.Duration) (string, error) {
	id, tsText, sigs := h.Get(HeaderID), h.Get(HeaderTimestamp), h.Get(HeaderSignature)
	if id == "" || tsText == "" || sigs == "" || len(id) > 255 {
		return "", ErrSignature
	}
	sec, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil {
		return "", ErrSignature
	}
	ts := time.Unix(sec, 0)
	if ts.Before(now.Add(-tolerance)) || ts.After(now.Add(tolerance)) {
		return "", ErrTimestamp
	}
	for _, key := range keys {
		want := []byte(Signature(key, id, ts, body))
		for _, got := range strings.Fields(sigs) {
			if hmac.Equal([]byte(got), want) {
				return id, nil
			}
		}
	}
	return "", ErrSignature
}
