package workflows

import "go.temporal.io/sdk/workflow"

// Registry is what workflows are registered with: a worker or a replayer.
type Registry interface {
	RegisterWorkflowWithOptions(w any, options workflow.RegisterOptions)
}

// RegisterAll registers every workflow under its stable name, so that the
// worker and the replay tests cannot register different sets.
func RegisterAll(r Registry) {
	for _, w := range []struct {
		name string
		fn   any
	}{
		{"Export", Export},
		{"ExportsCleanup", ExportsCleanup},
		{"Generate", Generate},
		{"Research", Research},
		{"AirtableSync", AirtableSync},
		{"AirtableSyncScheduled", AirtableSyncScheduled},
	} {
		r.RegisterWorkflowWithOptions(w.fn, workflow.RegisterOptions{Name: w.name})
	}
}
