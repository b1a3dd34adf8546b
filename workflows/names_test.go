package workflows

import (
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
)

// Matchers for OnActivity arguments.
var (
	ctxAny = mock.Anything
	anyArg = mock.Anything
)

func TestRunIDRoundTrip(t *testing.T) {
	id := NewRunID(KindExport, time.Now())
	kind, _, err := ParseRunID(id)
	if err != nil || kind != KindExport {
		t.Fatalf("ParseRunID(%q) = %q, %v", id, kind, err)
	}
	later := NewRunID(KindExport, time.Now().Add(time.Millisecond))
	if later <= id {
		t.Errorf("IDs must sort by time: %q <= %q", later, id)
	}
	for _, bad := range []string{"", "export", "export-", "pdf-01JD4X7Q2W6ZC5D3V9N8K1M2P3", "export-01JD4X7Q2W6ZC5D3V9N8K1M2P3/../x", "export-zzzzzzzzzzzzzzzzzzzzzzzzzz"} {
		if _, _, err := ParseRunID(bad); err == nil {
			t.Errorf("ParseRunID(%q) accepted", bad)
		}
	}
}

func TestPercent(t *testing.T) {
	for _, tc := range []struct {
		done, total int64
		want        int
	}{{0, 0, 0}, {3, 10, 30}, {10, 10, 100}, {12, 10, 100}, {-1, 10, 0}} {
		if got := (Progress{Done: tc.done, Total: tc.total}).Percent(); got != tc.want {
			t.Errorf("Percent(%d/%d) = %d, want %d", tc.done, tc.total, got, tc.want)
		}
	}
}
