// Package pglimit holds the rate limiters every worker process shares
// through Postgres: TokenBucket (a per-minute budget per key: LLM tokens
// per provider, requests per web domain) and SlotLimiter (exact time
// slots per key: Airtable's requests per base and per token). Limits kept
// in one process's memory would let N workers send N times the rate.
package pglimit
