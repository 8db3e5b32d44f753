package lstm

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// forecastBatch is the number of series one forecasting workspace runs at once.
const forecastBatch = 32

// MinHistory is the fewest days of history (a week: every weekday once) a
// forecast should be asked from; shorter histories are better served by
// simpler models. Forecast itself needs one observed day.
const MinHistory = 7

// Query asks for a forecast of one series.
type Query struct {
	// ID names the series. A series the model was trained on falls back to
	// its trained scale when the context holds no observed non-zero value.
	ID string
	// History holds the series' recent daily values in raw units, oldest
	// first, NaN on the days not observed; at least one must be observed.
	// Only the last Window days are read.
	History []float64
	// Last is the day of History's last value; the forecast starts the day
	// after.
	Last time.Time
	// Covariates are the model's covariates over the days of History (one
	// slice per Config.Covariates name, each as long as History), or nil.
	Covariates [][]float64
	// Horizon is the number of days to forecast.
	Horizon int
}

// Forecast is a forecast of a query's Horizon days.
type Forecast struct {
	// Point is the forecast of each day: the predicted median.
	Point []float64 `json:"point"`
	// Levels are the quantile levels (the model's Config.Quantiles).
	Levels []float64 `json:"levels"`
	// Quantiles[k][d] is the quantile Levels[k] of day d, non-decreasing in k.
	Quantiles [][]float64 `json:"quantiles"`
}

// Forecast predicts the Horizon days after q.Last, in raw units, never
// negative. The network predicts Config.Horizon days at once; a longer
// horizon rolls forward, the predicted medians read as observed days.
func (m *Model) Forecast(q Query) (Forecast, error) {
	out, err := m.ForecastBatch([]Query{q})
	if err != nil {
		return Forecast{}, err
	}
	return out[0], nil
}

// ForecastBatch forecasts many series at once, batching them through the
// network; out[i] answers qs[i]. It is safe for concurrent use.
func (m *Model) ForecastBatch(qs []Query) ([]Forecast, error) {
	cfg := m.cfg
	W, H, Q, O, nf := cfg.Window, cfg.Horizon, len(cfg.Quantiles), cfg.outputs(), cfg.inputs()
	for i, q := range qs {
		switch {
		case q.Horizon < 0:
			return nil, fmt.Errorf("forecast %d (%q): negative horizon %d", i, q.ID, q.Horizon)
		case len(q.Covariates) > len(cfg.Covariates):
			return nil, fmt.Errorf("forecast %d (%q): %d covariates, the model reads %d", i, q.ID, len(q.Covariates), len(cfg.Covariates))
		}
		if err := checkValues(q.History); err != nil {
			return nil, fmt.Errorf("forecast %d (%q): history: %w", i, q.ID, err)
		}
		if observed(q.History[max(0, len(q.History)-W):]) == 0 {
			return nil, fmt.Errorf("forecast %d (%q): no observed value in the last %d days of history", i, q.ID, W)
		}
		for c, cv := range q.Covariates {
			if cv != nil && len(cv) != len(q.History) {
				return nil, fmt.Errorf("forecast %d (%q): covariate %d has %d values for %d days of history", i, q.ID, c, len(cv), len(q.History))
			}
		}
	}
	out := make([]Forecast, len(qs))
	ws := m.pool.Get().(*workspace[float32])
	defer m.pool.Put(ws)
	relu := cfg.Activation == ReLU
	med := cfg.median()
	row := make([]float64, Q)
	for lo := 0; lo < len(qs); lo += forecastBatch {
		chunk := qs[lo:min(lo+forecastBatch, len(qs))]
		n, rounds := len(chunk), 0
		// ext[r] is the context of row r followed by its forecasts so far.
		ext := make([][]float64, n)
		cov := make([][][]float64, n)
		fallback := make([]float64, n)
		for _, q := range chunk {
			rounds = max(rounds, (q.Horizon+H-1)/H)
		}
		for r, q := range chunk {
			ext[r] = lastDays(q.History, W, rounds*H)
			for _, cv := range q.Covariates {
				cov[r] = append(cov[r], lastDays(cv, W, 0))
			}
			fallback[r] = 1
			if s, ok := m.scales[q.ID]; ok {
				fallback[r] = s
			}
			f := Forecast{Point: make([]float64, q.Horizon), Levels: slices.Clone(cfg.Quantiles), Quantiles: make([][]float64, Q)}
			for k := range f.Quantiles {
				f.Quantiles[k] = make([]float64, q.Horizon)
			}
			out[lo+r] = f
		}
		scales := make([]float64, n)
		for k := range rounds {
			origin := W + k*H
			for r, q := range chunk {
				scales[r] = windowScale(ext[r], origin-W, origin, fallback[r])
				first := epochDay(q.Last) - int64(W) + 1
				fillContext(ws.x, r, n, nf, W, ext[r], cov[r], first, origin, scales[r])
			}
			forward(ws, m.w, n, relu, 0, nil)
			for r, q := range chunk {
				for d := range H {
					day := k*H + d
					for j := range row {
						row[j] = max(0, float64(ws.pred[r*O+d*Q+j])*scales[r])
					}
					// Crossing quantiles are put back in order (rearrangement).
					slices.Sort(row)
					ext[r][origin+d] = row[med]
					if day < q.Horizon {
						for j, v := range row {
							out[lo+r].Quantiles[j][day] = v
						}
						out[lo+r].Point[day] = row[med]
					}
				}
			}
		}
	}
	return out, nil
}

// lastDays is the last w values of s, NaN-padded in front to w, followed by
// room for extra more (NaN).
func lastDays(s []float64, w, extra int) []float64 {
	out := make([]float64, w+extra)
	for i := range out {
		out[i] = math.NaN()
	}
	tail := s[max(0, len(s)-w):]
	copy(out[w-len(tail):], tail)
	return out
}
