// Package grouped holds the group series of a sharded dataset — the total, each category, each
// region — added up from the shards' partial sums, with their trend models and backtest
// selections: what the forecast API serves group requests from without loading a shard.
package grouped

import (
	"github.com/stockcast/stockcast/shared/backtest"
	"github.com/stockcast/stockcast/shared/series"
	"github.com/stockcast/stockcast/shared/trend"
)

// Format names the format and version of a Set.
const Format = "stockcast.groups/v1"

// Set is the group results of one model version (pipeline.GroupsKey).
type Set struct {
	Format string `json:"format"`
	// Series are the group series, total first, then categories and regions in name order, each
	// up to its last complete date (series.Table.Standard's rule, over the whole dataset).
	Series []series.Series `json:"series"`
	// Trends are their trend models; Selections their backtest selections (nil when none were
	// made).
	Trends     *trend.Set    `json:"trends"`
	Selections *backtest.Set `json:"selections,omitempty"`
}
