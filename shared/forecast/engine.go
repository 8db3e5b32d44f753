package forecast

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/stockcast/stockcast/shared/backtest"
	"github.com/stockcast/stockcast/shared/lru"
	"github.com/stockcast/stockcast/shared/lstm"
	"github.com/stockcast/stockcast/shared/lstminput"
	"github.com/stockcast/stockcast/shared/series"
	"github.com/stockcast/stockcast/shared/stats"
	"github.com/stockcast/stockcast/shared/stats/candidates"
	"github.com/stockcast/stockcast/shared/trend"
)

// Config tunes an engine. Start from DefaultConfig.
type Config struct {
	// TrendWeight and LSTMWeight are the blend's weights: non-negative,
	// summing to 1.
	TrendWeight, LSTMWeight float64
	// TrendOptions are the options of the trend models an engine fits itself
	// (ad-hoc series, standard series missing from the refit's set, and
	// offline evaluation). They should be the refit's options.
	TrendOptions trend.Options
	// MaxCachedSeries bounds how many series' histories and trend models an
	// engine keeps; past it a new series evicts the least recently used one.
	MaxCachedSeries int
	// Backtest configures the backtests of series the refit did not select
	// models for (ad-hoc series, offline evaluation); the zero value is the
	// refit's default.
	Backtest backtest.Config
}

// DefaultConfig is the prototype's 0.6 trend + 0.4 LSTM blend, Prophet's
// default trend options (those of the refit), and room for 4096 series.
func DefaultConfig() Config {
	return Config{TrendWeight: 0.6, LSTMWeight: 0.4, TrendOptions: trend.DefaultOptions(), MaxCachedSeries: 4096}
}

func (c Config) validate() error {
	ok := func(w float64) bool { return w >= 0 && !math.IsInf(w, 0) }
	switch {
	case !ok(c.TrendWeight) || !ok(c.LSTMWeight) || math.Abs(c.TrendWeight+c.LSTMWeight-1) > 1e-9:
		return fmt.Errorf("forecast config: blend weights %v and %v must be non-negative and sum to 1", c.TrendWeight, c.LSTMWeight)
	case c.MaxCachedSeries < 1:
		return fmt.Errorf("forecast config: MaxCachedSeries %d must be at least 1", c.MaxCachedSeries)
	}
	if err := c.TrendOptions.Validate(); err != nil {
		return fmt.Errorf("forecast config: %w", err)
	}
	return nil
}

// Metadata identifies the model version an engine serves.
type Metadata struct {
	// Version is the model version (the manifest's).
	Version string
	// TrainedThrough is the last date of the training data; zero means the
	// table's last date.
	TrainedThrough time.Time
	// Selections are the refit's backtest selections of this version
	// (model=auto); nil backtests every series on first use.
	Selections *backtest.Set
}

// Engine serves forecasts from one model version: the source of its series (the dataset
// table), the refit's trend models, the LSTM and their metadata. It is immutable apart
// from its cache of series, and safe for concurrent use. The engine is the
// per-version cache: a new model version gets a new engine, whose cache
// starts empty.
type Engine struct {
	source Source
	trends *trend.Set
	net    *lstm.Model
	meta   Metadata
	cfg    Config
	cache  *lru.Cache[string, *history]
	// cands are the statistical path's candidates; freq the dataset's frequency.
	cands    []stats.Forecaster
	freqOnce sync.Once
	freq     stats.Frequency
	// catalog lists the standard series for GET /series.
	catalog catalog
}

// NewEngine bundles one model version over a dataset table (see NewSourceEngine).
func NewEngine(table *series.Table, trends *trend.Set, net *lstm.Model, meta Metadata, cfg Config) (*Engine, error) {
	if table == nil {
		return nil, errors.New("forecast engine: no dataset table")
	}
	return NewSourceEngine(TableSource(table), trends, net, meta, cfg)
}

// NewSourceEngine bundles one model version over the source of its series. trends (the
// refit's set) and net (the LSTM) may be nil: without a set every trend model is fitted on
// demand; without an LSTM every forecast is the trend model's, and says so.
func NewSourceEngine(source Source, trends *trend.Set, net *lstm.Model, meta Metadata, cfg Config) (*Engine, error) {
	if source == nil {
		return nil, errors.New("forecast engine: no source of series")
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if meta.TrainedThrough.IsZero() {
		meta.TrainedThrough, _ = source.LastDate()
	}
	meta.TrainedThrough = lstm.Day(meta.TrainedThrough)
	return &Engine{source: source, trends: trends, net: net, meta: meta, cfg: cfg, cache: lru.New[string, *history](cfg.MaxCachedSeries),
		cands: candidates.All(cfg.TrendOptions)}, nil
}

// Info describes the engine's model version.
func (e *Engine) Info() Info {
	info := Info{Version: e.meta.Version, TrainedThrough: Date{e.meta.TrainedThrough},
		DatasetRows: e.source.Rows(), LSTM: e.net != nil}
	if e.trends != nil {
		info.TrendModels = len(e.trends.Models)
	}
	return info
}

// Stats counts the engine's cache activity.
type Stats struct {
	// Series is the number of series cached (or being prepared).
	Series int `json:"series"`
	// Builds is the number of series prepared: aggregated from the source and,
	// unless precomputed, their trend model fitted.
	Builds int64 `json:"builds"`
	// Hits is the number of requests served by a cached (or in-flight) series.
	Hits int64 `json:"hits"`
}

// Stats returns the cache counters.
func (e *Engine) Stats() Stats {
	s := e.cache.Stats()
	return Stats{Series: s.Entries, Builds: s.Builds, Hits: s.Hits}
}

// Note codes (Response.Notes).
const (
	NoteNoLSTM          = "lstm_unavailable"        // no LSTM loaded: the trend model alone
	NoteShortHistory    = "short_history"           // a few days of history: their mean; or fewer than the LSTM's minimum: the trend model alone
	NoteLSTMUnseen      = "lstm_unseen_series"      // the LSTM was not trained on the series
	NoteTrendFallback   = "trend_fallback"          // the trend model is a flat fallback
	NoteNoIntervals     = "no_intervals"            // the trend model has no intervals
	NoteSeriesEndsEarly = "series_ends_early"       // the series' last row is before the dataset's last date
	NoteNegativeDemand  = "negative_demand"         // the lead-time forecast was negative, floored at 0
	NoteLSTMSawHoldout  = "lstm_saw_holdout"        // evaluation: the LSTM was trained on the held-out days
	NoteIncompleteDates = "incomplete_recent_dates" // a group's latest dates, with rows for only part of its products, left out
)

// Forecast answers a request from the engine's model version. A request
// that fails Validate gives its *RequestError; a filter matching no row
// gives an error wrapping series.ErrNoMatch.
func (e *Engine) Forecast(ctx context.Context, r Request) (*Response, error) {
	_, resp, err := e.answer(ctx, r)
	return resp, err
}

// answer is Forecast, also returning the series' history.
func (e *Engine) answer(ctx context.Context, r Request) (*history, *Response, error) {
	h, err := e.history(ctx, r)
	if err != nil {
		return nil, nil, err
	}
	f, err := e.predict(ctx, r, h, max(r.Days, r.LeadTimeDays))
	if err != nil {
		return nil, nil, err
	}
	resp := e.response(r, h, f)
	if in := h.incomplete; len(in) > 0 {
		resp.Notes = append(resp.Notes, Message{NoteIncompleteDates, fmt.Sprintf(
			"The %d dates from %s to %s have rows for only part of this group's products (%d of the %d on a typical date), "+
				"as an upload of some products only leaves them: they are left out of the group's history until the others arrive, "+
				"so that it ends on %s, its last complete date.",
			len(in), day(in[0].Date), day(in[len(in)-1].Date), in[0].Products, in[0].Of, day(h.last))})
	}
	if last := e.meta.TrainedThrough; h.last.Before(last) {
		resp.Notes = append(resp.Notes, Message{NoteSeriesEndsEarly, fmt.Sprintf(
			"The series' last row is on %s, before the dataset's last date %s; its forecast starts on %s.",
			day(h.last), day(last), day(h.end.AddDate(0, 0, 1)))})
	}
	return h, resp, nil
}

// MaxHoldout bounds Evaluate's holdout.
const MaxHoldout = 3650

// Evaluate is offline evaluation: it drops the request's series' last holdout
// dates with rows, fits a trend model to the shortened history (the LSTM
// reads it too), forecasts from the day after the cut, and answers exactly
// as Forecast would, plus the accuracy of the forecast on the held-out dates.
// The forecast covers at least the held-out span internally; Days shows the
// request's days.
func (e *Engine) Evaluate(ctx context.Context, r Request, holdout int) (*Response, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	if holdout < 1 || holdout > MaxHoldout {
		return nil, &RequestError{Problems: []Problem{{"holdout", fmt.Sprintf("must be an integer from 1 to %d, got %d", MaxHoldout, holdout)}}}
	}
	s, cov, err := e.source.Series(ctx, r.Filter(), e.covariates())
	if err != nil {
		return nil, err
	}
	if len(s.Dates) <= holdout+1 {
		return nil, &RequestError{Problems: []Problem{{"holdout", fmt.Sprintf(
			"the series has %d dates; holding out %d leaves too little history", len(s.Dates), holdout)}}}
	}
	// The held-out days are the series' last holdout dates with rows (as Prophet users hold out
	// rows); a date without rows is missing, not a zero.
	shown := r.Days
	held := len(s.Dates) - holdout
	cut, last := s.Dates[held-1], s.Dates[len(s.Dates)-1]
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("evaluate %s: %w", s.Key, err)
	}
	h, err := e.prepare(ctx, s, cov, cut)
	if err != nil {
		return nil, err
	}
	span := daysBetween(cut, last)
	if r.Model == ModelAuto || r.Model.statistical() {
		sh, err := e.stats(ctx, h)
		if err != nil {
			return nil, err
		}
		r.Days = max(r.Days, sh.hist.Freq.Steps(cut, last)) // the held-out steps
	}
	f, err := e.predict(ctx, r, h, max(r.Days, r.LeadTimeDays, span))
	if err != nil {
		return nil, err
	}
	resp := e.response(r, h, f)
	if len(resp.Days) > shown {
		resp.Days = resp.Days[:shown]
	}
	index := make(map[time.Time]int, len(f.dates))
	for i, d := range f.dates {
		index[d] = i
	}
	predicted := make([]float64, holdout)
	for i, d := range s.Dates[held:] {
		j, ok := index[d]
		if !ok {
			return nil, fmt.Errorf("evaluate %s: held-out date %s is not a forecast step", s.Key, day(d))
		}
		predicted[i] = f.forecast[j]
	}
	resp.Accuracy = accuracy(s, held, predicted)
	if f.lstm != nil && e.net.LastDate().After(cut) {
		resp.Notes = append(resp.Notes, Message{NoteLSTMSawHoldout, fmt.Sprintf(
			"The LSTM was trained through %s, after the holdout cut %s: its part of the accuracy is optimistic.",
			day(e.net.LastDate()), day(cut))})
	}
	return resp, nil
}

// history is what an engine keeps of a series: its daily values up to the
// day forecasts start after, and its trend model.
type history struct {
	key         string
	points      int         // dates with a row, up to end
	first, last time.Time   // first and last date with a row, up to end
	end         time.Time   // forecasts start the day after
	daily       []float64   // the daily values from first to end, NaN on dates without a row
	covariates  [][]float64 // the LSTM's covariates over the days of daily
	trend       *trend.Model
	trendSource string // TrendPrecomputed or TrendFittedOnDemand
	fallback    string // why the trend model is a fallback, or ""
	// dates and values are the observed history up to end; cut is set when
	// it stops before the series' last date (offline evaluation).
	dates  []time.Time
	values []float64
	cut    bool
	// stat is the statistical path's regular history, selection and fits.
	stat statHistory
	// incomplete are the group's recent dates left out of its history (series.Series.Incomplete).
	incomplete []series.Incomplete
	// The models' predictions over the days after end depend only on the
	// horizon: they are kept for a few horizons.
	trendMemo memo[*trend.Forecast]
	lstmMemo  memo[[]float64]
}

// memoHorizons bounds the horizons memoised per series.
const memoHorizons = 8

// memo keeps the results of a pure function of the horizon, for at most
// memoHorizons horizons. Concurrent first calls may each compute; the
// results are equal. Results are shared: callers must not modify them.
type memo[T any] struct {
	mu sync.Mutex
	m  map[int]T
}

func (m *memo[T]) get(horizon int, compute func() (T, error)) (T, error) {
	m.mu.Lock()
	v, ok := m.m[horizon]
	m.mu.Unlock()
	if ok {
		return v, nil
	}
	v, err := compute()
	if err != nil {
		return v, err
	}
	m.mu.Lock()
	if m.m == nil {
		m.m = make(map[int]T, memoHorizons)
	}
	if len(m.m) < memoHorizons {
		m.m[horizon] = v
	}
	m.mu.Unlock()
	return v, nil
}

// history returns the cached history of the request's series, preparing it
// on first use.
func (e *Engine) history(ctx context.Context, r Request) (*history, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("forecast: %w", err)
	}
	return e.cache.Get(ctx, r.SeriesKey(), func() (*history, error) {
		s, cov, err := e.source.Series(ctx, r.Filter(), e.covariates())
		if err != nil {
			return nil, err
		}
		return e.prepare(ctx, s, cov, s.Dates[len(s.Dates)-1])
	})
}

// covariates are the covariates the LSTM reads; nil without an LSTM.
func (e *Engine) covariates() []string {
	if e.net == nil {
		return nil
	}
	return e.net.Config().Covariates
}

// prepare builds the history of s (with its covariates cov, as Source.Series gives them) up to
// end.
// Without a cut (end is the series' last date) a standard series takes the
// refit's trend model; otherwise the trend model is fitted on the history up
// to end, stopping with ctx.
func (e *Engine) prepare(ctx context.Context, s series.Series, cov map[string][]float64, end time.Time) (*history, error) {
	n := sort.Search(len(s.Dates), func(i int) bool { return s.Dates[i].After(end) })
	if n == 0 {
		return nil, fmt.Errorf("series %s: no history on or before %s", s.Key, day(end))
	}
	dates, values := s.Dates[:n], s.Values[:n]
	daily, err := e.lstmInput(series.Series{Key: s.Key, Dates: dates, Values: values}, cov)
	if err != nil {
		return nil, fmt.Errorf("series %s: %w", s.Key, err)
	}
	h := &history{key: s.Key, points: n, first: dates[0], last: dates[n-1], end: end, daily: daily.Values, covariates: daily.Covariates,
		dates: dates, values: values, cut: n < len(s.Dates)}
	if n == len(s.Dates) {
		h.incomplete = s.Incomplete
	}
	for range daysBetween(h.last, end) {
		h.daily = append(h.daily, math.NaN())
		for c := range h.covariates {
			h.covariates[c] = append(h.covariates[c], math.NaN())
		}
	}
	cut := n < len(s.Dates)
	if m, ok := e.precomputed(s.Key); ok && !cut {
		h.trend, h.trendSource, h.fallback = m, TrendPrecomputed, e.trends.Fallbacks[s.Key]
		return h, nil
	}
	m, reason, err := trend.FitWithFallback(ctx, dates, values, e.cfg.TrendOptions)
	if err != nil {
		return nil, fmt.Errorf("fit trend model of %s: %w", s.Key, err)
	}
	h.trend, h.trendSource, h.fallback = m, TrendFittedOnDemand, reason
	return h, nil
}

// lstmInput is s as the LSTM reads it: daily, with the covariates the
// LSTM was trained on (cov: means over the series' rows).
func (e *Engine) lstmInput(s series.Series, cov map[string][]float64) (lstm.Series, error) {
	names := e.covariates()
	if len(names) == 0 {
		return lstm.Daily(s.Key, s.Dates, s.Values)
	}
	return lstminput.FromSeries(s, cov, names)
}

func (e *Engine) precomputed(key string) (*trend.Model, bool) {
	if e.trends == nil {
		return nil, false
	}
	m, ok := e.trends.Models[key]
	return m, ok && m != nil
}

// prediction is the unrounded forecast of one request over its horizon.
type prediction struct {
	dates               []time.Time
	trend, lower, upper []float64 // the trend model's yhat and interval (bounds nil without intervals)
	lstm                []float64 // nil when the LSTM is not used
	forecast            []float64 // the served forecast
	weights             Weights
	notes               []Message
	intervalWidth       *float64
	// Set by the statistical path (model=auto and the statistical models):
	direct    bool                 // lower and upper are the served bounds themselves
	stepDays  int                  // days per step (1 for daily series)
	models    map[string][]float64 // each served model's forecast
	served    []ServedModel
	selection *SelectionInfo
	sigma     float64                                // one step's demand error σ
	safety    func(steps int, level float64) float64 // the lead-time error quantile; nil: z·σ·√L
}

// predict answers r from h with the path of its model.
func (e *Engine) predict(ctx context.Context, r Request, h *history, horizon int) (*prediction, error) {
	if r.Model == ModelAuto || r.Model.statistical() {
		return e.forecastStats(ctx, r, h)
	}
	p, err := e.forecast(r, h, horizon)
	if err != nil {
		return nil, err
	}
	p.served = e.servedPath(h, p)
	return p, nil
}

// forecast predicts the horizon days after h.end.
func (e *Engine) forecast(r Request, h *history, horizon int) (*prediction, error) {
	p := &prediction{dates: make([]time.Time, horizon), weights: Weights{Trend: 1}}
	for i := range p.dates {
		p.dates[i] = h.end.AddDate(0, 0, i+1)
	}
	tf, err := h.trendMemo.get(horizon, func() (*trend.Forecast, error) { return h.trend.Predict(p.dates) })
	if err != nil {
		return nil, fmt.Errorf("predict trend of %s: %w", h.key, err)
	}
	p.trend, p.lower, p.upper = tf.Yhat, tf.Lower, tf.Upper
	if u := h.trend.Uncertainty(); tf.Lower != nil {
		w := u.IntervalWidth
		p.intervalWidth = &w
	} else {
		p.notes = append(p.notes, Message{NoteNoIntervals, "The trend model has no uncertainty samples: lower and upper equal the forecast."})
	}
	short := h.trend.FitInfo().Method == trend.MethodMean
	if short {
		p.notes = append(p.notes, Message{NoteShortHistory, fmt.Sprintf(
			"The series has rows on %d dates, fewer than %d: the forecast is their mean, with the interval so few values justify.",
			h.points, trend.ShortHistory)})
	}
	if h.fallback != "" {
		p.notes = append(p.notes, Message{NoteTrendFallback, "The trend model is a flat fallback (the mean of the last 28 days): " + h.fallback})
	}
	if r.Model != ModelTrend && !short {
		if err := e.addLSTM(r, h, p); err != nil {
			return nil, err
		}
	}
	p.forecast = slices.Clone(p.trend)
	if p.lstm != nil {
		for i := range p.forecast {
			p.forecast[i] = p.weights.Trend*p.trend[i] + p.weights.LSTM*p.lstm[i]
		}
	}
	return p, nil
}

// addLSTM adds the LSTM's forecast and the weights of the request's model,
// or notes why the trend model serves alone.
func (e *Engine) addLSTM(r Request, h *history, p *prediction) error {
	switch {
	case e.net == nil:
		p.notes = append(p.notes, Message{NoteNoLSTM, "No LSTM model is loaded: the trend model serves alone."})
		return nil
	case len(h.daily) < lstm.MinHistory:
		p.notes = append(p.notes, Message{NoteShortHistory, fmt.Sprintf(
			"The series has %d days of history, fewer than the LSTM's minimum of %d: the trend model serves alone.",
			len(h.daily), lstm.MinHistory)})
		return nil
	}
	out, err := h.lstmMemo.get(len(p.dates), func() ([]float64, error) {
		f, err := e.net.Forecast(lstm.Query{ID: h.key, History: h.daily, Last: h.end, Covariates: h.covariates, Horizon: len(p.dates)})
		return f.Point, err
	})
	if err != nil {
		return fmt.Errorf("lstm forecast of %s: %w", h.key, err)
	}
	if _, seen := e.net.Scale(h.key); !seen {
		p.notes = append(p.notes, Message{NoteLSTMUnseen,
			"The LSTM was not trained on this series: it reads it scaled by its own recent level, as any series."})
	}
	p.lstm = out
	if r.Model == ModelLSTM {
		p.weights = Weights{Trend: 0, LSTM: 1}
	} else {
		p.weights = Weights{Trend: e.cfg.TrendWeight, LSTM: e.cfg.LSTMWeight}
	}
	return nil
}

// response rounds a prediction into the API's answer.
func (e *Engine) response(r Request, h *history, p *prediction) *Response {
	resp := &Response{
		ModelVersion:   e.meta.Version,
		TrainedThrough: Date{e.meta.TrainedThrough},
		Model:          r.Model,
		Weights:        p.weights,
		Served:         p.served,
		Selection:      p.selection,
		IntervalWidth:  p.intervalWidth,
		Series: SeriesInfo{
			Key: h.key, Standard: r.Standard(), Filter: filterOf(r),
			HistoryPoints: h.points, FirstDate: Date{h.first}, LastDate: Date{h.last},
			TrendModel: h.trendSource, TrendFit: h.trend.FitInfo().Method,
		},
		Days:     make([]Day, r.Days),
		Warnings: []Message{},
		Notes:    append([]Message{}, p.notes...),
	}
	if r.ProductID == "" {
		resp.Series.Aggregation = AggregationDirect
	}
	for i := range resp.Days {
		lower, upper := p.forecast[i], p.forecast[i]
		switch {
		case p.direct:
			lower, upper = p.lower[i], p.upper[i]
		case p.lower != nil:
			lower -= p.trend[i] - p.lower[i]
			upper += p.upper[i] - p.trend[i]
		}
		d := Day{Date: Date{p.dates[i]}, Forecast: roundTo(p.forecast[i], 2),
			Lower: roundTo(lower, 2), Upper: roundTo(upper, 2), Trend: roundTo(p.trend[i], 2)}
		if p.lstm != nil {
			v := roundTo(p.lstm[i], 2)
			d.LSTM = &v
		}
		if len(p.models) > 0 {
			d.Models = make(map[string]float64, len(p.models))
			for name, f := range p.models {
				d.Models[name] = roundTo(f[i], 2)
			}
		}
		resp.Days[i] = d
	}
	policy, negative := e.policy(r, h, p)
	resp.Policy = policy.round()
	resp.Warnings = append(resp.Warnings, policy.warnings()...)
	if negative {
		resp.Notes = append(resp.Notes, Message{NoteNegativeDemand,
			"The forecast's mean over the lead time is negative; the policy takes the demand as 0."})
	}
	return resp
}

// policy is the inventory policy of a prediction. On the trend/LSTM path, σ is the trend
// model's noise and the safety stock z·σ·√L. On the statistical path the demand of each lead
// day is its step's forecast spread over the step's days; with a calibrated selection the
// safety stock is the service-level quantile of the backtest's lead-time error (over the
// lead time's steps, scaled to its days), else z·σ·√L with the model's one-step σ.
func (e *Engine) policy(r Request, h *history, p *prediction) (Policy, bool) {
	if !p.direct {
		return newPolicy(p.forecast[:r.LeadTimeDays], h.trend.NoiseSigma(), nil, r)
	}
	days := p.stepDays
	lead := make([]float64, r.LeadTimeDays)
	for d := range lead {
		lead[d] = p.forecast[d/days] / float64(days)
	}
	sigma := p.sigma / math.Sqrt(float64(days))
	if p.safety == nil {
		return newPolicy(lead, sigma, nil, r)
	}
	steps := (r.LeadTimeDays + days - 1) / days
	ss := p.safety(steps, r.ServiceLevel) * float64(r.LeadTimeDays) / float64(steps*days)
	return newPolicy(lead, sigma, &ss, r)
}
func filterOf(r Request) Filter {
	return Filter{ProductID: r.ProductID, Category: r.Category, Region: r.Region,
		MinRating: r.MinRating, MaxPrice: r.MaxPrice, MinDiscount: r.MinDiscount}
}

// daysBetween is the number of calendar days from a to b (dates at 00:00 UTC).
func daysBetween(a, b time.Time) int { return int(math.Round(b.Sub(a).Hours() / 24)) }

// day formats a date as YYYY-MM-DD.
func day(t time.Time) string { return t.Format(time.DateOnly) }
