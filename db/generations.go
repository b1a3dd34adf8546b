package db

import (
	"encoding/json"

	"github.com/groundwork-dev/groundwork"
	"github.com/groundwork-dev/groundwork/db/sqlc"
)

// GenerationResultOf turns a stored generation into its result.
func GenerationResultOf(g sqlc.Generation) groundwork.GenerationResult {
	r := groundwork.GenerationResult{
		Template: g.Template, TemplateVersion: int(g.TemplateVersion), Provider: g.Provider, Model: g.Model,
		Text: g.Text, CostUSD: g.CostUsd, CacheHit: g.CacheHit, StopReason: g.StopReason, Warnings: g.Warnings,
		Usage:     groundwork.GenerationUsage{InputTokens: g.InputTokens, OutputTokens: g.OutputTokens, CachedTokens: g.CachedTokens},
		CreatedAt: g.CreatedAt,
	}
	if len(g.Fields) > 0 {
		_ = json.Unmarshal(g.Fields, &r.Fields)
	}
	if len(r.Warnings) == 0 {
		r.Warnings = nil
	}
	return r
}
