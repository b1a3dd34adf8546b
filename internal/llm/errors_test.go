package llm

import (
	"errors"
	"strings"
	"testing"
)

func TestStatusKind(t *testing.T) {
	want := map[int]ErrorKind{
		400: KindBadRequest, 401: KindAuth, 402: KindRateLimited, 403: KindAuth, 404: KindNotFound,
		408: KindTimeout, 409: KindServer, 413: KindBadRequest, 422: KindBadRequest, 429: KindRateLimited,
		500: KindServer, 502: KindServer, 503: KindOverloaded, 504: KindServer, 529: KindOverloaded,
	}
	for status, kind := range want {
		if got := statusKind(status); got != kind {
			t.Errorf("statusKind(%d) = %q, want %q", status, got, kind)
		}
	}
}

func TestBodyMessage(t *testing.T) {
	long := strings.Repeat("é", maxDetail)
	tests := map[string]string{
		`{"error":{"message":"bad  model\n name","type":"invalid_request_error"}}`: "bad model name",
		`{"type":"error","error":{"type":"api_error","message":"Internal"}}`:       "Internal",
		`{"error":"model \"x\" not found"}`:                                        `model "x" not found`,
		`{"object":"error","message":"vLLM says no","code":400}`:                   "vLLM says no",
		`{"detail":"Not Found"}`:                                                   "Not Found",
		`{"detail":[{"msg":"field required"}]}`:                                    `[{"msg":"field required"}]`,
		"upstream connect error\n":                                                 "upstream connect error",
		"<html><body>502 Bad Gateway</body></html>":                                "",
		`{"unrelated":true}`:                                                       "",
		`{"error":"` + long + `"}`:                                                 long[:maxDetail] + "…",
	}
	for body, want := range tests {
		if got := bodyMessage([]byte(body)); got != want {
			t.Errorf("bodyMessage(%.40q) = %.60q, want %.60q", body, got, want)
		}
	}
}

func TestErrorText(t *testing.T) {
	cause := errors.New("boom")
	e := &Error{Provider: "openai", Kind: KindServer, Message: "openai failed", Err: cause}
	if e.Error() != "openai failed" || !errors.Is(e, cause) {
		t.Errorf("Error() = %q, Is(cause) = %v", e.Error(), errors.Is(e, cause))
	}
	bare := &Error{Provider: "openai", Kind: KindNetwork, Err: cause}
	if got := bare.Error(); got != "openai: network: boom" {
		t.Errorf("Error() without a message = %q", got)
	}
}
