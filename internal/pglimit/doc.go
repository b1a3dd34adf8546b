// Package pglimit holds the rate limiter every worker process shares
// through Postgres: SlotLimiter, which reserves exact time slots per key
// (Airtable's requests per base and per token, webhook deliveries per
// endpoint, web pages per research domain, and, weighted by their size,
// LLM tokens per provider). Limits kept in one process's memory would let
// N workers send N times the rate.
package pglimit
