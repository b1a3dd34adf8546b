// Package airtable is a small client for the Airtable Web API
// (https://airtable.com/developers/web/api/introduction): listing records
// a page at a time, writing them in batches of up to ten, reading a base's
// schema, and converting values between Postgres and Airtable's JSON.
//
// It is meant to run inside Temporal activities, which own retries, so the
// client never retries or sleeps on its own. Every request goes through
// Client.Wait, the caller's shared rate limiter, and every failure that
// came from Airtable or the network is an *Error that says whether trying
// again can help and, for 429s, how long to wait first.
package airtable
