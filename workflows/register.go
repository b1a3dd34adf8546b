package workflows

import (
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/groundwork-dev/groundwork"
)

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
		{groundwork.WorkflowExport, Export},
		{groundwork.WorkflowExportsCleanup, ExportsCleanup},
		{groundwork.WorkflowGenerate, Generate},
		{groundwork.WorkflowResearch, Research},
		{groundwork.WorkflowAirtableSync, AirtableSync},
		{groundwork.WorkflowAirtableSyncScheduled, AirtableSyncScheduled},
		{groundwork.WorkflowAssessment, Assessment},
		{groundwork.WorkflowAnalyticsRollup, AnalyticsRollup},
		{groundwork.WorkflowEventPartitions, EventPartitions},
		{groundwork.WorkflowWebhookDelivery, WebhookDelivery},
		{groundwork.WorkflowWebhookInbound, WebhookInbound},
		{groundwork.WorkflowEmailSend, EmailSend},
		{groundwork.WorkflowEmailDigest, EmailDigest},
		{groundwork.WorkflowStalledCustomers, StalledCustomers},
	} {
		r.RegisterWorkflowWithOptions(w.fn, workflow.RegisterOptions{Name: w.name})
	}
}

// Typed keys of the search attributes runs are started with.
var (
	// SearchAttrOwner is the typed key of groundwork.SearchAttrOwnerName.
	SearchAttrOwner = temporal.NewSearchAttributeKeyKeyword(groundwork.SearchAttrOwnerName)
	// SearchAttrKind is the typed key of groundwork.SearchAttrKindName.
	SearchAttrKind = temporal.NewSearchAttributeKeyKeyword(groundwork.SearchAttrKindName)
)
