package llm

import (
	"net/http"
	"testing"
	"time"
)

func TestRetryAfter(t *testing.T) {
	now := time.Date(2025, 3, 10, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name        string
		headers     []string
		rateLimited bool
		want        time.Duration
	}{
		{"nothing", nil, true, 0},
		{"seconds", []string{"retry-after", "7"}, false, 7 * time.Second},
		{"fractional seconds", []string{"retry-after", "0.5"}, false, 500 * time.Millisecond},
		{"milliseconds win over seconds", []string{"retry-after-ms", "250", "retry-after", "1"}, false, 250 * time.Millisecond},
		{"HTTP date", []string{"retry-after", now.Add(90 * time.Second).Format(http.TimeFormat)}, false, 90 * time.Second},
		{"HTTP date in the past", []string{"retry-after", now.Add(-time.Minute).Format(http.TimeFormat)}, false, 0},
		{"garbage", []string{"retry-after", "soon"}, false, 0},
		{"negative", []string{"retry-after", "-3"}, false, 0},
		{"absurd", []string{"retry-after", "1e12"}, false, maxRetryAfter},
		{"OpenAI requests reset", []string{"x-ratelimit-reset-requests", "1s"}, true, time.Second},
		{"OpenAI exhausted bucket wins", []string{
			"x-ratelimit-remaining-requests", "0", "x-ratelimit-reset-requests", "20ms",
			"x-ratelimit-remaining-tokens", "1200", "x-ratelimit-reset-tokens", "6m0s",
		}, true, 20 * time.Millisecond},
		{"OpenAI latest reset when none says exhausted", []string{
			"x-ratelimit-reset-requests", "20ms", "x-ratelimit-reset-tokens", "6m0s",
		}, true, 6 * time.Minute},
		{"reset headers ignored unless rate limited", []string{"x-ratelimit-reset-tokens", "6m0s"}, false, 0},
		{"retry-after beats reset headers", []string{"retry-after", "3", "x-ratelimit-reset-tokens", "6m0s"}, true, 3 * time.Second},
		{"Anthropic reset", []string{
			"anthropic-ratelimit-requests-remaining", "50", "anthropic-ratelimit-requests-reset", now.Add(2 * time.Second).Format(time.RFC3339),
			"anthropic-ratelimit-output-tokens-remaining", "0", "anthropic-ratelimit-output-tokens-reset", now.Add(45 * time.Second).Format(time.RFC3339),
		}, true, 45 * time.Second},
		{"Anthropic reset with garbage", []string{"anthropic-ratelimit-tokens-reset", "tomorrow"}, true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for i := 0; i+1 < len(tt.headers); i += 2 {
				h.Set(tt.headers[i], tt.headers[i+1])
			}
			if got := retryAfter(h, tt.rateLimited, now); got != tt.want {
				t.Errorf("retryAfter = %v, want %v", got, tt.want)
			}
		})
	}
}
