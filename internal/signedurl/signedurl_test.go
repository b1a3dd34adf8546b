package signedurl

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestSignVerify(t *testing.T) {
	s, err := New([]byte(strings.Repeat("k", 32)))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_800_000_000, 0)
	path := "/v1/exports/export-1/download"
	q, _ := url.ParseQuery(s.Sign(path, now.Add(15*time.Minute)))
	if err := s.Verify(path, q, now); err != nil {
		t.Fatalf("fresh link: %v", err)
	}
	if err := s.Verify(path, q, now.Add(16*time.Minute)); !errors.Is(err, ErrExpired) {
		t.Errorf("expired link: %v", err)
	}
	if err := s.Verify("/v1/exports/export-2/download", q, now); !errors.Is(err, ErrInvalid) {
		t.Errorf("link for another export: %v", err)
	}
	later := url.Values{ParamExpires: {"1900000000"}, ParamSignature: q[ParamSignature]}
	if err := s.Verify(path, later, now); !errors.Is(err, ErrInvalid) {
		t.Errorf("extended expiry: %v", err)
	}
	other, _ := New([]byte(strings.Repeat("j", 32)))
	if err := other.Verify(path, q, now); !errors.Is(err, ErrInvalid) {
		t.Errorf("other key: %v", err)
	}
	if err := s.Verify(path, url.Values{}, now); !errors.Is(err, ErrInvalid) {
		t.Errorf("no signature: %v", err)
	}
	if _, err := New([]byte("short")); err == nil {
		t.Error("short key accepted")
	}
}
