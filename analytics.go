package groundwork

import "time"

// Rollup granularities, and the week buckets the overview adds.
const (
	GranularityHour = "hour"
	GranularityDay  = "day"
	GranularityWeek = "week"
)

// BucketStart truncates t to the start of its UTC hour, day or week
// (Monday, as Postgres's date_trunc), the buckets of rollups and reads.
func BucketStart(t time.Time, granularity string) time.Time {
	t = t.UTC()
	switch granularity {
	case GranularityHour:
		return t.Truncate(time.Hour)
	case GranularityWeek:
		d := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
		return d.AddDate(0, 0, -((int(d.Weekday()) + 6) % 7))
	default:
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	}
}

// RollupInput says which rollup an AnalyticsRollup run computes.
type RollupInput struct {
	Granularity string `json:"granularity"`
}

// RollupResult is what an AnalyticsRollup run wrote.
type RollupResult struct {
	From    string `json:"from"`
	Through string `json:"through"`
	Rows    int64  `json:"rows"`
}

// PartitionsResult is what an EventPartitions run changed.
type PartitionsResult struct {
	Created int `json:"created"`
	Dropped int `json:"dropped"`
}
