package forecast

import (
	"context"
	"time"

	"github.com/stockcast/stockcast/shared/series"
)

// Source is where an engine reads its series: a dataset table (TableSource), or a store of
// series that is not one table, such as a sharded dataset's group results and shards.
type Source interface {
	// Series returns the series of the rows f selects, keyed by f.Key(), as
	// series.Table.Filtered gives it, and the daily means of the named covariates over those
	// rows aligned with its dates, as series.Table.FilteredCovariates gives them (nil for no
	// names; a name left out is read as unknown on every day). A filter matching no row gives
	// an error wrapping series.ErrNoMatch.
	Series(ctx context.Context, f series.Filter, covariates []string) (series.Series, map[string][]float64, error)
	// Standard returns the standard series the source lists (GET /series), in order.
	Standard() []series.Series
	// Rows is the number of dataset rows the source stands for; LastDate the dataset's last
	// date (false for an empty one).
	Rows() int
	LastDate() (time.Time, bool)
}

// TableSource is the source of a dataset table, the whole dataset or one shard of it.
func TableSource(t *series.Table) Source { return tableSource{t} }

type tableSource struct{ *series.Table }

func (t tableSource) Series(ctx context.Context, f series.Filter, covariates []string) (series.Series, map[string][]float64, error) {
	if err := ctx.Err(); err != nil {
		return series.Series{}, nil, err
	}
	s, err := t.Filtered(f)
	if err != nil || len(covariates) == 0 {
		return s, nil, err
	}
	cov, err := t.FilteredCovariates(f, covariates)
	return s, cov, err
}
