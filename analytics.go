package groundwork

// Rollup granularities.
const (
	GranularityHour = "hour"
	GranularityDay  = "day"
)

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
