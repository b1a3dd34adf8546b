package stdwebhook

import (
	"errors"
	"net/http"
	"testing"
	"time"
)

// The specification's example: secret, id, timestamp, body and signature
// as its reference libraries compute them.
func TestSpecExample(t *testing.T) {
	key, err := Key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	if err != nil {
		t.Fatal(err)
	}
	ts := time.Unix(1614265330, 0)
	body := []byte(`{"test": 2432232314}`)
	const want = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
	if got := Signature(key, "msg_p5jXN8AQM9LWM0D4loKWxJek", ts, body); got != want {
		t.Fatalf("Signature = %s, want %s", got, want)
	}
	h := http.Header{}
	h.Set(HeaderID, "msg_p5jXN8AQM9LWM0D4loKWxJek")
	h.Set(HeaderTimestamp, "1614265330")
	h.Set(HeaderSignature, "v1,bm9ldHUganVzdCBzb21lIGJ5dGVz "+want)
	other, _ := Key(NewSecret())
	if id, err := Verify(h, body, [][]byte{other, key}, ts.Add(time.Minute), 5*time.Minute); err != nil || id != "msg_p5jXN8AQM9LWM0D4loKWxJek" {
		t.Errorf("Verify = %q, %v", id, err)
	}
	if _, err := Verify(h, body, [][]byte{key}, ts.Add(6*time.Minute), 5*time.Minute); !errors.Is(err, ErrTimestamp) {
		t.Errorf("stale: %v", err)
	}
	if _, err := Verify(h, []byte(`{"test": 2432232315}`), [][]byte{key}, ts, 5*time.Minute); !errors.Is(err, ErrSignature) {
		t.Errorf("altered body: %v", err)
	}
	if _, err := Verify(h, body, [][]byte{other}, ts, 5*time.Minute); !errors.Is(err, ErrSignature) {
		t.Errorf("wrong secret: %v", err)
	}
}
