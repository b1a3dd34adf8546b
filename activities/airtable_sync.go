package activities

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/groundwork-dev/groundwork"
	"github.com/groundwork-dev/groundwork/db"
	"github.com/groundwork-dev/groundwork/db/sqlc"
	"github.com/groundwork-dev/groundwork/internal/airtable"
	"github.com/groundwork-dev/groundwork/internal/pglimit"
	"github.com/groundwork-dev/groundwork/internal/secretbox"
)

// Airtable syncs mappings between Airtable and Postgres. Every request to
// Airtable first reserves a time slot per base (5/s) and per token (50/s)
// in Postgres, so all workers together stay under Airtable's limits; a 429
// is therefore a bug in our limiter, logged as such, and waited out
// through the activity's next retry delay.
type Airtable struct {
	Pool *pgxpool.Pool
	// APIURL is Airtable's origin (default https://api.airtable.com).
	APIURL string
	// Token is the default token (AIRTABLE_TOKEN).
	Token string
	HTTP  *http.Client
	// Secrets opens mappings' own tokens.
	Secrets *secretbox.Box
	// PerBase and PerToken space the requests of every worker.
	PerBase, PerToken *pglimit.SlotLimiter
	// Lockout is how long Airtable refuses a caller after a 429.
	Lockout time.Duration
	// Tables are the tables the operator opened for syncing in the
	// configuration; airtable_sync_tables holds the rest.
	Tables []groundwork.SyncTable
	// Bases are the bases Token may be used for; any other needs the
	// mapping's own token.
	Bases []string
	Log   *slog.Logger

	// schemas keeps what a run's plan read of both sides' schemas for its
	// apply passes.
	schemas schemaCache
}

// schemaTTL is how long a run's schemas are kept without being read again;
// a longer run reads them again, at the cost of one request.
const schemaTTL = time.Hour

// schemaCache keeps, per sync run, the Airtable field types and the
// checked Postgres table that openJob read. Each apply pass used to read
// both again: a rate-limited request for the base's schema (a slot that
// a write could have had) and five catalog queries. A run's schemas are
// read afresh by its plan, by a pass after a failed or partly refused one
// (the schema may have changed under it), after the mapping was edited,
// and by a worker that did not plan the run.
type schemaCache struct {
	mu   sync.Mutex
	runs map[string]cachedSchema
}

// cachedSchema is what openJob read for a run.
type cachedSchema struct {
	// mappingUpdated is the mapping's updated_at when read: an edited
	// mapping may name other fields or another table.
	mappingUpdated time.Time
	// types and pg are shared by the run's jobs, which only read them.
	types map[string]string
	pg    db.PostgresTable
	read  time.Time
}

func (c *schemaCache) get(runID string, mappingUpdated time.Time) (cachedSchema, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.runs[runID]
	if !ok || !s.mappingUpdated.Equal(mappingUpdated) || time.Since(s.read) > schemaTTL {
		return cachedSchema{}, false
	}
	return s, true
}

func (c *schemaCache) put(runID string, s cachedSchema) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.runs == nil {
		c.runs = map[string]cachedSchema{}
	}
	// Runs that ended on another worker never drop theirs here.
	for id, old := range c.runs {
		if time.Since(old.read) > schemaTTL {
			delete(c.runs, id)
		}
	}
	c.runs[runID] = s
}

// drop forgets a run's schemas: it ended, or its schema may have changed.
func (c *schemaCache) drop(runID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.runs, runID)
}

// maxLostSlots is how many slots in a row a request gives up for being
// late before it goes late anyway.
const maxLostSlots = 5

// syncJob is a mapping ready to sync: its config, token, client and the
// types of its Airtable fields.
type syncJob struct {
	id string
	// updated is the mapping's updated_at, which tells a cached schema of
	// an older version of the mapping.
	updated time.Time
	// workspace owns the mapping; with a workspace column the sync sees
	// only its rows.
	workspace string
	m         groundwork.AirtableMapping
	client    *airtable.Client
	// types maps Airtable field names to their types (empty when the token
	// may not read the base's schema: values are then compared as JSON).
	types map[string]string
	pg    db.PostgresTable

	// hb is the activity's latest heartbeat detail, which the waits for
	// the rate limit repeat rather than overwrite: a retried attempt
	// resumes from it.
	hbMu sync.Mutex
	hb   any
}

// heartbeat records details as the activity's progress.
func (j *syncJob) heartbeat(ctx context.Context, details any) {
	j.hbMu.Lock()
	j.hb = details
	j.hbMu.Unlock()
	activity.RecordHeartbeat(ctx, details)
}

func (j *syncJob) lastHeartbeat() any {
	j.hbMu.Lock()
	defer j.hbMu.Unlock()
	return j.hb
}

// AirtablePrepare loads a sync run's request and its mapping's cursor.
// Deletes made in Airtable can only be seen by listing every record, so a
// mapping that propagates them reads the whole table each time.
func (a *Airtable) AirtablePrepare(ctx context.Context, in groundwork.AirtableSyncInput) (groundwork.AirtablePrepared, error) {
	req, err := loadRunInput[groundwork.SyncRequest](ctx, a.Pool, in.RunID, "sync")
	if err != nil {
		return groundwork.AirtablePrepared{}, err
	}
	q := sqlc.New(a.Pool)
	// The run's workspace must own the mapping, checked in the query.
	row, err := q.AirtableMappingGetForRun(ctx, sqlc.AirtableMappingGetForRunParams{ID: req.MappingID, RunID: in.RunID})
	if db.IsNotFound(err) {
		return groundwork.AirtablePrepared{}, temporal.NewNonRetryableApplicationError("the mapping was deleted", groundwork.ErrTypeNotFound, err)
	}
	if err != nil {
		return groundwork.AirtablePrepared{}, fmt.Errorf("load mapping: %w", err)
	}
	var m groundwork.AirtableMapping
	if err := json.Unmarshal(row.Config, &m); err != nil {
		return groundwork.AirtablePrepared{}, fmt.Errorf("decode mapping: %w", err)
	}
	out := groundwork.AirtablePrepared{MappingID: row.ID, DryRun: req.DryRun}
	if !req.DryRun {
		// One sync per mapping at a time: two would write the same
		// records from the same stale view. A dry run writes nothing.
		if _, err := q.AirtableSyncLease(ctx, sqlc.AirtableSyncLeaseParams{MappingID: row.ID, RunID: &in.RunID}); db.IsNotFound(err) {
			return out, temporal.NewNonRetryableApplicationError("another sync of this mapping is running; this one did nothing", groundwork.ErrTypeSyncRunning, nil)
		} else if err != nil {
			return out, fmt.Errorf("take the mapping's sync lease: %w", err)
		}
	}
	if m.Deletes == groundwork.DeletesAirtableToPostgres || m.Deletes == groundwork.DeletesBoth {
		return out, nil
	}
	st, err := q.AirtableSyncStateGet(ctx, row.ID)
	if err != nil && !db.IsNotFound(err) {
		return out, fmt.Errorf("load sync state: %w", err)
	}
	if err == nil && st.AirtableCursor != nil {
		// A second of overlap: a record modified in the cursor's own
		// millisecond, or committed late, is read again rather than
		// missed; reading it twice changes nothing.
		since := st.AirtableCursor.Add(-time.Second)
		out.Since = &since
	}
	return out, nil
}

// AirtableLaunch records the run of a scheduled sync, as POST
// /v1/airtable-syncs would have.
func (a *Airtable) AirtableLaunch(ctx context.Context, in groundwork.AirtableLaunchInput) error {
	body, err := json.Marshal(groundwork.SyncRequest{MappingID: in.MappingID})
	if err != nil {
		return fmt.Errorf("marshal sync request: %w", err)
	}
	q := sqlc.New(a.Pool)
	m, err := q.AirtableMappingGet(ctx, in.MappingID)
	if db.IsNotFound(err) {
		return temporal.NewNonRetryableApplicationError("the mapping was deleted", groundwork.ErrTypeNotFound, err)
	}
	if err != nil {
		return fmt.Errorf("load mapping: %w", err)
	}
	// The run belongs to the mapping's workspace, started for the admin
	// who last saved the mapping's schedule.
	_, err = q.RunCreate(ctx, sqlc.RunCreateParams{
		ID: in.RunID, OwnerID: in.OwnerID, WorkspaceID: m.WorkspaceID, Kind: string(groundwork.KindAirtableSync),
		RequestHash: groundwork.RequestHash(groundwork.KindAirtableSync, body), Body: body, MaxOpen: db.NoOpenRunCap,
	})
	if err != nil && !db.IsUniqueViolation(err) {
		return fmt.Errorf("record scheduled run: %w", err)
	}
	return nil
}

// job loads a mapping with its token and client.
func (a *Airtable) job(ctx context.Context, mappingID string) (*syncJob, error) {
	row, err := sqlc.New(a.Pool).AirtableMappingGet(ctx, mappingID)
	if db.IsNotFound(err) {
		return nil, temporal.NewNonRetryableApplicationError("the mapping was deleted", groundwork.ErrTypeNotFound, err)
	}
	if err != nil {
		return nil, fmt.Errorf("load mapping: %w", err)
	}
	j := &syncJob{id: row.ID, updated: row.UpdatedAt, workspace: row.WorkspaceID, types: map[string]string{}}
	if err := json.Unmarshal(row.Config, &j.m); err != nil {
		return nil, fmt.Errorf("decode mapping: %w", err)
	}
	token := a.Token
	if len(row.TokenCiphertext) == 0 && token != "" && !slices.Contains(a.Bases, j.m.Airtable.BaseID) {
		// The worker's token may reach bases of other teams: it is used
		// only for the bases the operator listed.
		return nil, temporal.NewNonRetryableApplicationError(
			"the worker's AIRTABLE_TOKEN is not for this base (GROUNDWORK_AIRTABLE_BASES): give the mapping its own token", groundwork.ErrTypeInvalidInput, nil)
	}
	if len(row.TokenCiphertext) > 0 {
		pt, err := a.Secrets.Open(row.TokenCiphertext, row.ID)
		if err != nil {
			return nil, temporal.NewNonRetryableApplicationError("the mapping's token cannot be decrypted: set the GROUNDWORK_ENCRYPTION_KEY it was stored with", groundwork.ErrTypeInvalidInput, err)
		}
		token = string(pt)
	}
	if token == "" {
		return nil, temporal.NewNonRetryableApplicationError("no Airtable token: set AIRTABLE_TOKEN on the worker or give the mapping a token", groundwork.ErrTypeInvalidInput, nil)
	}
	tokenKey := "airtable-token:" + shortHash(token)
	j.client = &airtable.Client{
		BaseURL: a.APIURL, Token: token, HTTP: a.HTTP,
		Wait: func(ctx context.Context, base string) error {
			beat := func(time.Duration) {
				if activity.IsActivity(ctx) {
					activity.RecordHeartbeat(ctx, j.lastHeartbeat())
				}
			}
			// The base's and the token's slots at one time, in one
			// statement; a request that would go late for either moves or
			// retakes them rather than arrive bunched with the next ones.
			for tries := 1; ; tries++ {
				slots, err := pglimit.ReserveAll(ctx, beat,
					pglimit.Want{Limiter: a.PerBase, Key: "airtable-base:" + base},
					pglimit.Want{Limiter: a.PerToken, Key: tokenKey})
				if err != nil {
					return err
				}
				ok, err := pglimit.Hold(ctx, slots...)
				if ok || err != nil {
					return err
				}
				if tries == maxLostSlots {
					// Slots this slow to use mean Postgres round trips near
					// the tolerance: go late rather than never.
					a.logWarn("Airtable requests keep missing their rate-limit slots; sending late, which Airtable may answer with 429",
						"base", base, "lost_slots", tries)
					return nil
				}
			}
		},
	}
	return j, nil
}

// openJob loads a mapping ready to read and write both sides: its job, the
// Airtable field types and the Postgres table, which must still fit the
// mapping (if not, no retry helps). With reuse, the schemas read earlier
// in the run (see schemaCache) serve when they are still good; otherwise
// they are read and kept for the run.
func (a *Airtable) openJob(ctx context.Context, runID, mappingID string, reuse bool) (*syncJob, error) {
	j, err := a.job(ctx, mappingID)
	if err != nil {
		return nil, err
	}
	if reuse {
		if s, ok := a.schemas.get(runID, j.updated); ok {
			j.types, j.pg = s.types, s.pg
			return j, nil
		}
	}
	if err := a.loadTypes(ctx, j); err != nil {
		return nil, err
	}
	pg, errs, err := db.CheckPostgresTable(ctx, a.Pool, j.m, j.workspace, a.Tables)
	if err != nil {
		return nil, err
	}
	if len(errs) > 0 {
		return nil, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("the mapping's Postgres side no longer fits: %s: %s", errs[0].Field, errs[0].Message), groundwork.ErrTypeInvalidInput, nil)
	}
	j.pg = pg
	a.schemas.put(runID, cachedSchema{mappingUpdated: j.updated, types: j.types, pg: pg, read: time.Now()})
	return j, nil
}

// loadTypes reads the Airtable field types of the mapped table. A token
// without the schema scope still syncs, comparing values as JSON.
func (a *Airtable) loadTypes(ctx context.Context, j *syncJob) error {
	tables, err := j.client.Tables(ctx, j.m.Airtable.BaseID)
	if err != nil {
		var ae *airtable.Error
		if errors.As(err, &ae) && !ae.Retryable() {
			a.logWarn("cannot read the base's schema; comparing values as JSON", "mapping_id", j.id, "error", err)
			return nil
		}
		return a.airtableError("read the base's schema", err)
	}
	for _, t := range tables {
		if t.Name == j.m.Airtable.Table || t.ID == j.m.Airtable.Table {
			for _, f := range t.Fields {
				j.types[f.Name] = f.Type
			}
			return nil
		}
	}
	return temporal.NewNonRetryableApplicationError(fmt.Sprintf("base %s has no table %q", j.m.Airtable.BaseID, j.m.Airtable.Table), groundwork.ErrTypeInvalidInput, nil)
}

// AirtableFetch reads up to MaxPages pages of the records changed since the
// cursor into the run's staging, checkpointing the list offset in its
// heartbeat so a retried attempt goes on from the last page it stored.
func (a *Airtable) AirtableFetch(ctx context.Context, in groundwork.AirtableFetchInput) (groundwork.AirtableFetchOutput, error) {
	j, err := a.job(ctx, in.MappingID)
	if err != nil {
		return groundwork.AirtableFetchOutput{}, err
	}
	offset := in.Offset
	var hb groundwork.AirtableFetchOutput
	if activity.HasHeartbeatDetails(ctx) && activity.GetHeartbeatDetails(ctx, &hb) == nil && hb.Offset != "" {
		offset = hb.Offset
	}
	opts := airtable.ListOptions{Fields: j.airtableFields(), PageSize: airtable.MaxPageSize}
	if in.Since != nil {
		opts.FilterByFormula = airtable.ModifiedAfter(j.m.Airtable.ModifiedField, *in.Since)
	}
	q := sqlc.New(a.Pool)
	// A failed attempt's pages never reached the workflow: count them here.
	out := groundwork.AirtableFetchOutput{Records: hb.Records, Offset: offset}
	j.heartbeat(ctx, out)
	// A page is stored while the next one is requested, so Postgres never
	// holds up the rate-limited requests; the offset is checkpointed only
	// once the pages before it are stored.
	var storing chan error
	stored := func() error {
		if storing == nil {
			return nil
		}
		err := <-storing
		storing = nil
		if err != nil {
			return err
		}
		j.heartbeat(ctx, out)
		return nil
	}
	for page := 0; page < max(in.MaxPages, 1); page++ {
		opts.Offset = offset
		p, err := j.client.ListPage(ctx, j.m.Airtable.BaseID, j.m.Airtable.Table, opts)
		var ae *airtable.Error
		if errors.As(err, &ae) && ae.Type == "LIST_RECORDS_ITERATOR_NOT_AVAILABLE" {
			// Airtable forgot the offset (a long pause): list again from
			// the start; staging rows are keyed by record, so nothing
			// doubles.
			offset = ""
			continue
		}
		// The page before must be stored whatever happens to this one.
		serr := stored()
		if err != nil {
			// Unwrapped: Temporal reads the retry policy (a 429's delay,
			// a non-retryable refusal) from the error itself.
			if serr != nil {
				a.logWarn("staging a page failed as well", "error", serr)
			}
			return out, a.airtableError("list records", err)
		}
		if serr != nil {
			return out, serr
		}
		rows, err := j.stagingRows(in.RunID, p.Records)
		if err != nil {
			return out, err
		}
		out.Records += len(p.Records)
		offset = p.Offset
		out.Offset = offset
		storing = make(chan error, 1)
		go func() {
			if len(rows) == 0 {
				storing <- nil
				return
			}
			if err := closeBatch(q.AirtableStagingPut(ctx, rows)); err != nil {
				storing <- fmt.Errorf("stage records: %w", err)
				return
			}
			storing <- nil
		}()
		if offset == "" {
			out.Done = true
			break
		}
	}
	return out, stored()
}

// stagingRows are a page's records as staging rows; a record without a key
// cannot be matched, so it is not synced.
func (j *syncJob) stagingRows(runID string, recs []airtable.Record) ([]sqlc.AirtableStagingPutParams, error) {
	rows := make([]sqlc.AirtableStagingPutParams, 0, len(recs))
	for _, r := range recs {
		key, ok := keyString(r.Fields[j.m.Key.Airtable])
		if !ok {
			continue
		}
		fields, err := json.Marshal(r.Fields)
		if err != nil {
			return nil, fmt.Errorf("marshal record %s: %w", r.ID, err)
		}
		var mod *time.Time
		if t, ok := parseTime(r.Fields[j.m.Airtable.ModifiedField]); ok {
			mod = &t
		}
		rows = append(rows, sqlc.AirtableStagingPutParams{RunID: runID, AirtableID: r.ID, Key: key, Fields: fields, Modified: mod})
	}
	return rows, nil
}

// airtableFields are the fields a sync reads: key, mapped fields and the
// modified-time field.
func (j *syncJob) airtableFields() []string {
	fs := []string{j.m.Key.Airtable, j.m.Airtable.ModifiedField}
	for _, f := range j.m.Fields {
		fs = append(fs, f.Airtable)
	}
	return fs
}

// airtableError turns a client error into the activity's error: a 429
// waits out Airtable's lockout, other retryable failures back off, the
// rest (bad token, missing table, invalid request) fail the run.
func (a *Airtable) airtableError(what string, err error) error {
	var ae *airtable.Error
	if !errors.As(err, &ae) {
		return fmt.Errorf("%s: %w", what, err)
	}
	if ae.IsRateLimited() {
		a.logError("Airtable answered 429: our shared limiter let too many requests through", "error", ae.Message)
		// Airtable's own word first, then the configured lockout.
		wait := cmp.Or(ae.RetryAfter, a.Lockout, airtable.RateLimitLockout)
		return temporal.NewApplicationErrorWithOptions(what+": rate limited by Airtable", "airtable_rate_limited",
			temporal.ApplicationErrorOptions{NextRetryDelay: wait, Cause: err})
	}
	if ae.Retryable() {
		return fmt.Errorf("%s: %w", what, err)
	}
	return temporal.NewNonRetryableApplicationError(fmt.Sprintf("%s: Airtable refused: %s", what, ae.Error()), groundwork.ErrTypeInvalidInput, err)
}

// keyString is a record's key as text, the form both sides are matched in.
func keyString(v any) (string, bool) {
	switch k := v.(type) {
	case nil:
		return "", false
	case string:
		return k, k != ""
	case float64:
		return strconv.FormatFloat(k, 'f', -1, 64), true
	case json.Number:
		return k.String(), true
	case bool:
		return strconv.FormatBool(k), true
	default:
		b, _ := json.Marshal(k)
		return string(b), true
	}
}

func parseTime(v any) (time.Time, bool) {
	s, ok := v.(string)
	if !ok {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	return t, err == nil
}

func shortHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:8])
}

func (a *Airtable) logWarn(msg string, args ...any) {
	if a.Log != nil {
		a.Log.Warn(msg, args...)
	}
}

func (a *Airtable) logError(msg string, args ...any) {
	if a.Log != nil {
		a.Log.Error(msg, args...)
	}
}

// AirtableDiscard closes a failed or canceled sync, dropping its scratch
// rows. What it already applied stays applied (and audited): both sides
// and the links agree on it, so the next sync does not redo it.
func (a *Airtable) AirtableDiscard(ctx context.Context, in groundwork.RunDiscardInput) error {
	a.schemas.drop(in.RunID)
	return db.InTx(ctx, a.Pool, func(tx pgx.Tx) error {
		q := sqlc.New(tx)
		if err := q.AirtableRunScratchDelete(ctx, in.RunID); err != nil {
			return fmt.Errorf("delete scratch: %w", err)
		}
		if err := q.AirtableSyncRelease(ctx, &in.RunID); err != nil {
			return fmt.Errorf("release the sync lease: %w", err)
		}
		return finishFailedRun(ctx, q, in)
	})
}
