package lstm

import "fmt"

// forecastBatch is the number of series one forecasting workspace runs at once.
const forecastBatch = 32

// Query asks for a forecast of one series.
type Query struct {
	// ID names a series the model was trained on, whose scaler is used. An
	// empty or unknown ID is an ad-hoc series, scaled by the range of History.
	ID string
	// History holds the series' recent daily values in raw units, oldest
	// first, the day before the forecast last; at least the model's window.
	History []float64
	// Horizon is the number of days to forecast.
	Horizon int
}

// Forecast predicts the Horizon days after q.History, in raw units. Each
// prediction is fed back into the window to predict the next day.
func (m *Model) Forecast(q Query) ([]float64, error) {
	out, err := m.ForecastBatch([]Query{q})
	if err != nil {
		return nil, err
	}
	return out[0], nil
}

// ForecastBatch forecasts many series at once, batching them through the
// network; out[i] answers qs[i]. It is safe for concurrent use.
func (m *Model) ForecastBatch(qs []Query) ([][]float64, error) {
	W := m.cfg.Window
	out := make([][]float64, len(qs))
	scalers := make([]Scaler, len(qs))
	for i, q := range qs {
		switch {
		case len(q.History) < W:
			return nil, fmt.Errorf("forecast %d (%q): %d days of history, need %d", i, q.ID, len(q.History), W)
		case q.Horizon < 0:
			return nil, fmt.Errorf("forecast %d (%q): negative horizon %d", i, q.ID, q.Horizon)
		}
		if err := checkFinite(q.History); err != nil {
			return nil, fmt.Errorf("forecast %d (%q): history: %w", i, q.ID, err)
		}
		sc, ok := m.scalers[q.ID]
		if !ok {
			sc = fitScaler(q.History)
		}
		scalers[i] = sc
		out[i] = make([]float64, q.Horizon)
	}
	ws := m.pool.Get().(*workspace[float32])
	defer m.pool.Put(ws)
	// windows[r] is the sliding scaled window of row r of the batch.
	windows := make([][]float32, forecastBatch)
	for r := range windows {
		windows[r] = make([]float32, W)
	}
	relu := m.cfg.Activation == ReLU
	for lo := 0; lo < len(qs); lo += forecastBatch {
		chunk := qs[lo:min(lo+forecastBatch, len(qs))]
		n, horizon := len(chunk), 0
		for r, q := range chunk {
			sc := scalers[lo+r]
			for i, v := range q.History[len(q.History)-W:] {
				windows[r][i] = float32(sc.Scale(v))
			}
			horizon = max(horizon, q.Horizon)
		}
		for d := range horizon {
			for r := range n {
				for i, v := range windows[r] {
					ws.x[i*n+r] = v
				}
			}
			forward(ws, m.w, n, relu, 0, nil)
			for r, q := range chunk {
				p := ws.pred[r]
				if d < q.Horizon {
					out[lo+r][d] = scalers[lo+r].Unscale(float64(p))
				}
				copy(windows[r], windows[r][1:])
				windows[r][W-1] = p
			}
		}
	}
	return out, nil
}
