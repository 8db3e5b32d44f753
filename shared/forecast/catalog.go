package forecast

import (
	"context"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/stockcast/stockcast/shared/backtest"
	"github.com/stockcast/stockcast/shared/series"
)

// The kinds of standard series (SeriesEntry.Kind).
const (
	KindTotal    = "total"
	KindProduct  = "product"
	KindCategory = "category"
	KindRegion   = "region"
)

// SeriesEntry describes one standard series the served model knows.
type SeriesEntry struct {
	// Key is the series key, as in responses: "total", "product/ID", "category/C", "region/R".
	Key string `json:"key"`
	// Kind is "total", "product", "category" or "region"; Name is the product id, category or
	// region ("" for the total).
	Kind string `json:"kind"`
	Name string `json:"name"`
	// FirstDate and LastDate are the first and last dates with a row; DaysWithData counts the
	// dates with at least one row (a date without a row is not observed, not a zero).
	FirstDate    Date `json:"first_date"`
	LastDate     Date `json:"last_date"`
	DaysWithData int  `json:"days_with_data"`
	// Model is the model that serves the series' default forecast (model=auto), as
	// Selection.Choice names it: the refit's selection ("ets", "weighted(trend,naive,ets)"),
	// "median" of the candidates for a series too short to backtest, or "auto" for a series the
	// model version has no selection for, which is backtested on its first forecast.
	Model string `json:"model"`
	// Selection is where Model comes from and its backtest accuracy.
	Selection SeriesSelection `json:"selection"`
	// Aggregation is how a group's forecast is made (AggregationDirect); empty for a product.
	Aggregation string `json:"aggregation,omitempty"`
	// TrendFit is how the refit obtained the series' trend model ("lbfgs", "newton",
	// "constant", "fallback"), or "fitted_on_demand" when the refit has none for it.
	TrendFit string `json:"trend_fit"`
}

// SeriesSelection is a catalog entry's model=auto choice and how accurate it was in the refit's
// backtest.
type SeriesSelection struct {
	// Source is "precomputed" (the refit's backtest chose Model), "not_backtested" (too short
	// to backtest: the median of the candidates that fit serves) or "backtested_on_demand" (no
	// selection in this model version: the series' first forecast backtests it).
	Source string `json:"source"`
	// Method is "single", "median" or "weighted"; empty until backtested on demand.
	Method string `json:"method,omitempty"`
	// Horizon and Origins are the backtest's window (in steps of the series) and origins.
	Horizon int `json:"horizon,omitempty"`
	Origins int `json:"origins,omitempty"`
	// Backtest is the served forecast's rolling-origin backtest: MASE, WAPE, RMSE, the coverage
	// of its 80% interval and the points scored; null without a precomputed selection.
	Backtest *backtest.Scores `json:"backtest"`
	// Why says why there is no precomputed selection.
	Why string `json:"why,omitempty"`
}

// AutoUnselected is the Model of a series without a precomputed selection (SeriesSelection).
const AutoUnselected = "auto"

// SeriesQuery selects and pages the catalog of GET /series.
type SeriesQuery struct {
	// Kind keeps one kind of series; empty keeps every kind.
	Kind string
	// Search keeps the series whose name contains it, ignoring case.
	Search string
	// Limit (1–MaxSeriesLimit) and Offset page the result.
	Limit, Offset int
}

// Paging bounds of GET /series.
const (
	DefaultSeriesLimit = 50
	MaxSeriesLimit     = 1000
)

// ParseSeriesQuery reads GET /series' parameters: kind, q, limit, offset. It returns a
// *RequestError naming every bad or unknown parameter.
func ParseSeriesQuery(q url.Values) (SeriesQuery, error) {
	out := SeriesQuery{Limit: DefaultSeriesLimit}
	var problems []Problem
	for name, values := range q {
		if len(values) != 1 {
			problems = append(problems, Problem{name, fmt.Sprintf("given %d times, give it once", len(values))})
			continue
		}
		v := values[0]
		switch name {
		case "kind":
			switch v {
			case "", KindTotal, KindProduct, KindCategory, KindRegion:
				out.Kind = v
			default:
				problems = append(problems, Problem{name, fmt.Sprintf("must be total, product, category or region, got %q", v)})
			}
		case "q":
			out.Search = v
		case "limit":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > MaxSeriesLimit {
				problems = append(problems, Problem{name, fmt.Sprintf("must be an integer from 1 to %d, got %q", MaxSeriesLimit, v)})
			}
			out.Limit = n
		case "offset":
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				problems = append(problems, Problem{name, fmt.Sprintf("must be a non-negative integer, got %q", v)})
			}
			out.Offset = n
		default:
			problems = append(problems, Problem{name, "unknown parameter; GET /series takes kind, q, limit and offset"})
		}
	}
	if len(problems) > 0 {
		sort.Slice(problems, func(i, j int) bool { return problems[i].Param < problems[j].Param })
		return SeriesQuery{}, &RequestError{Problems: problems}
	}
	return out, nil
}

// SeriesPage is the answer of GET /series.
type SeriesPage struct {
	// ModelVersion is the model version whose data the catalog describes.
	ModelVersion string `json:"model_version"`
	// Total counts the series that match; Series holds those of this page.
	Total  int           `json:"total"`
	Offset int           `json:"offset"`
	Limit  int           `json:"limit"`
	Series []SeriesEntry `json:"series"`
	// NextOffset is the offset of the next page; null on the last page.
	NextOffset *int `json:"next_offset"`
}

// catalog is the engine's list of standard series, built on first use.
type catalog struct {
	once    sync.Once
	entries []SeriesEntry
}

// Series lists the standard series of the engine's model version that match q.
func (e *Engine) Series(q SeriesQuery) SeriesPage {
	e.catalog.once.Do(func() { e.catalog.entries = e.buildCatalog() })
	page := SeriesPage{ModelVersion: e.meta.Version, Offset: q.Offset, Limit: q.Limit, Series: []SeriesEntry{}}
	for _, s := range e.catalog.entries {
		if !q.Matches(s.Kind, s.Name) {
			continue
		}
		if page.Total >= q.Offset && len(page.Series) < q.Limit {
			page.Series = append(page.Series, s)
		}
		page.Total++
	}
	return page.Paged()
}

// Matches reports whether q keeps the series of the given kind and name.
func (q SeriesQuery) Matches(kind, name string) bool {
	return (q.Kind == "" || kind == q.Kind) && (q.Search == "" || strings.Contains(strings.ToLower(name), strings.ToLower(q.Search)))
}

// Paged returns the page with NextOffset set from its Offset, Limit and Total.
func (p SeriesPage) Paged() SeriesPage {
	p.NextOffset = nil
	if next := p.Offset + p.Limit; next < p.Total {
		p.NextOffset = &next
	}
	return p
}

func (e *Engine) buildCatalog() []SeriesEntry {
	standard := e.source.Standard()
	entries := make([]SeriesEntry, 0, len(standard))
	for _, s := range standard {
		kind, name, _ := strings.Cut(s.Key, "/")
		entry := SeriesEntry{
			Key: s.Key, Kind: kind, Name: name,
			FirstDate: Date{s.Dates[0]}, LastDate: Date{s.Dates[len(s.Dates)-1]}, DaysWithData: len(s.Dates),
			TrendFit: TrendFittedOnDemand,
		}
		if m, ok := e.precomputed(s.Key); ok {
			entry.TrendFit = m.FitInfo().Method
		}
		entry.Model, entry.Selection = e.selectionOf(s.Key)
		if kind != KindProduct {
			entry.Aggregation = AggregationDirect
		}
		entries = append(entries, entry)
	}
	return entries
}

// selectionOf is the model=auto choice of a standard series as the refit's selections have it.
func (e *Engine) selectionOf(key string) (string, SeriesSelection) {
	set := e.meta.Selections
	if set != nil {
		if sel, ok := set.Selections[key]; ok {
			return sel.Choice(), SeriesSelection{Source: SelectionPrecomputed, Method: sel.Method, Horizon: sel.Horizon, Origins: sel.Origins,
				Backtest: roundScores(sel.Scores)}
		}
		if why, ok := set.Unselected[key]; ok {
			return backtest.Median, SeriesSelection{Source: SelectionNone, Method: backtest.Median, Why: why}
		}
	}
	why := "the model version has no backtest selections"
	if set != nil {
		why = "the refit's selections do not cover this series"
	}
	return AutoUnselected, SeriesSelection{Source: SelectionOnDemand, Why: why + ": its first forecast backtests it"}
}

// History is the answer of GET /series/history: a series' observed daily sales.
type History struct {
	// Key is the series key, as in responses.
	Key string `json:"key"`
	// Dates are the dates with at least one matching row, in order, over the last Days calendar
	// days up to the series' last date; Sales[i] is the sum of sales on Dates[i].
	Dates []Date    `json:"dates"`
	Sales []float64 `json:"sales"`
	// Days is the number of calendar days asked for.
	Days int `json:"days"`
}

// History returns the observed sales of the request's series over its last r.Days calendar days
// (r's other fields than the filter are ignored). A filter matching no row gives an error
// wrapping series.ErrNoMatch.
func (e *Engine) History(ctx context.Context, r Request) (*History, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("history: %w", err)
	}
	if h, ok := e.cache.Peek(r.SeriesKey()); ok { // forecast already: its history, without reading the source again
		return historyOf(series.Series{Key: h.key, Dates: h.dates, Values: h.values}, r.Days), nil
	}
	s, _, err := e.source.Series(ctx, r.Filter(), nil)
	if err != nil {
		return nil, err
	}
	return historyOf(s, r.Days), nil
}

func historyOf(s series.Series, days int) *History {
	from := s.Dates[len(s.Dates)-1].AddDate(0, 0, 1-days)
	start := sort.Search(len(s.Dates), func(i int) bool { return !s.Dates[i].Before(from) })
	h := &History{Key: s.Key, Days: days, Dates: make([]Date, 0, len(s.Dates)-start), Sales: make([]float64, 0, len(s.Dates)-start)}
	for i := start; i < len(s.Dates); i++ {
		h.Dates = append(h.Dates, Date{s.Dates[i].UTC().Truncate(24 * time.Hour)})
		h.Sales = append(h.Sales, roundTo(s.Values[i], 2))
	}
	return h
}
