package api

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"go.temporal.io/sdk/client"
)

// healthz says the process is alive; it checks nothing else, so an
// orchestrator never restarts a healthy API because Postgres blinked.
func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`{"status":"ok"}` + "\n"))
}

// readyz checks Postgres and Temporal and names each one that failed.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	checks := map[string]string{}
	failed := false
	// Names only: the driver's errors carry user, host and database, and
	// this route answers without a token. The log keeps the detail.
	if err := s.d.Pool.Ping(ctx); err != nil {
		s.d.Log.WarnContext(ctx, "readyz: postgres", "error", err)
		checks["postgres"], failed = "unreachable", true
	} else {
		checks["postgres"] = "ok"
	}
	if _, err := s.d.Temporal.CheckHealth(ctx, &client.CheckHealthRequest{}); err != nil {
		s.d.Log.WarnContext(ctx, "readyz: temporal", "error", err)
		checks["temporal"], failed = "unreachable", true
	} else {
		checks["temporal"] = "ok"
	}
	status, code := "ok", http.StatusOK
	if failed {
		status, code = "unavailable", http.StatusServiceUnavailable
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]any{"status": status, "checks": checks})
}
