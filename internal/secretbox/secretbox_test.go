package secretbox

import (
	"bytes"
	"errors"
	"testing"
)

func TestSealOpen(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 32)
	b, err := New(key)
	if err != nil {
		t.Fatal(err)
	}
	ct, err := b.Seal([]byte("pat-secret"), "map_1")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(ct, []byte("pat-secret")) {
		t.Fatal("ciphertext contains the plaintext")
	}
	pt, err := b.Open(ct, "map_1")
	if err != nil || string(pt) != "pat-secret" {
		t.Fatalf("open: %q %v", pt, err)
	}
	if _, err := b.Open(ct, "map_2"); err == nil {
		t.Fatal("a ciphertext opened under another label")
	}
	ct[len(ct)-1] ^= 1
	if _, err := b.Open(ct, "map_1"); err == nil {
		t.Fatal("a tampered ciphertext opened")
	}
	other, _ := New(bytes.Repeat([]byte{8}, 32))
	ct2, _ := b.Seal([]byte("x"), "l")
	if _, err := other.Open(ct2, "l"); err == nil {
		t.Fatal("opened with another key")
	}
}

func TestNoKey(t *testing.T) {
	b, err := New(nil)
	if err != nil || b.Enabled() {
		t.Fatalf("nil key: %v %v", b.Enabled(), err)
	}
	if _, err := b.Seal([]byte("x"), "l"); !errors.Is(err, ErrNoKey) {
		t.Fatalf("seal without key: %v", err)
	}
	if _, err := New([]byte("short")); err == nil {
		t.Fatal("a short key was accepted")
	}
}
