package candidates

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/stockcast/stockcast/shared/lstm"
	"github.com/stockcast/stockcast/shared/stats"
	"github.com/stockcast/stockcast/shared/training"
)

// LSTM is the name of the global LSTM candidate.
const LSTM = "lstm"

// LSTMForecaster is the global LSTM as a candidate. A global model learns
// from every series at once, so a backtest is honest only with models
// trained on nothing after its origins: Fit forecasts from the model of
// Models trained through the latest day on or before the history's last
// (Model.LastDate), and fails when there is none.
type LSTMForecaster struct {
	// Models are the trained models, in any order.
	Models []*lstm.Model
	// Series are the LSTM's inputs by series key (lstminput's), whose
	// covariates the forecasts read; nil when the models have none.
	Series map[string]lstm.Series
}

// NewLSTMForecaster is the candidate of the models, reading the covariates of
// series (lstminput's inputs).
func NewLSTMForecaster(models []*lstm.Model, series []lstm.Series) LSTMForecaster {
	f := LSTMForecaster{Models: models, Series: make(map[string]lstm.Series, len(series))}
	for _, s := range series {
		f.Series[s.ID] = s
	}
	return f
}

// Name is "lstm".
func (LSTMForecaster) Name() string { return LSTM }

// Fit picks the model for h, a daily history.
func (f LSTMForecaster) Fit(_ context.Context, h stats.History) (stats.Model, error) {
	if h.Freq != stats.Daily {
		return nil, fmt.Errorf("lstm of %s: forecasts daily series, not %s", h.Key, h.Freq)
	}
	if h.Len() < lstm.MinHistory {
		return nil, fmt.Errorf("lstm of %s: %d days of history, need %d", h.Key, h.Len(), lstm.MinHistory)
	}
	last := h.Date(h.Len() - 1)
	var best *lstm.Model
	for _, m := range f.Models {
		if !m.LastDate().After(last) && (best == nil || m.LastDate().After(best.LastDate())) {
			best = m
		}
	}
	if best == nil {
		return nil, fmt.Errorf("lstm of %s: no model trained only on days up to %s", h.Key, last.Format(time.DateOnly))
	}
	return &lstmModel{net: best, h: h, covariates: f.covariates(h, best.Config().Covariates)}, nil
}

// covariates are the history's covariates from the series' inputs, nil
// when the model reads none or the series is unknown.
func (f LSTMForecaster) covariates(h stats.History, names []string) [][]float64 {
	s, ok := f.Series[h.Key]
	if len(names) == 0 || !ok {
		return nil
	}
	off := int(math.Round(h.Start.Sub(s.Start).Hours() / 24))
	out := make([][]float64, len(names))
	for c := range out {
		out[c] = make([]float64, h.Len())
		for i := range out[c] {
			out[c][i] = math.NaN()
			if k := off + i; c < len(s.Covariates) && k >= 0 && k < len(s.Covariates[c]) {
				out[c][i] = s.Covariates[c][k]
			}
		}
	}
	return out
}

type lstmModel struct {
	net        *lstm.Model
	h          stats.History
	covariates [][]float64
}

func (m *lstmModel) Describe() string {
	c := m.net.Config()
	return fmt.Sprintf("global LSTM %v, %d-day context, %d days at once, trained through %s",
		c.Layers, c.Window, c.Horizon, m.net.LastDate().Format(time.DateOnly))
}

// Forecast is the LSTM's median with a normal read from its 10% and 90%
// quantiles.
func (m *lstmModel) Forecast(horizon int) (stats.Forecast, error) {
	f, err := m.net.Forecast(lstm.Query{ID: m.h.Key, History: m.h.Values, Last: m.h.Date(m.h.Len() - 1),
		Covariates: m.covariates, Horizon: horizon})
	if err != nil {
		return stats.Forecast{}, fmt.Errorf("lstm of %s: %w", m.h.Key, err)
	}
	out := stats.Forecast{Mean: f.Point}
	lo, hi := indexOf(f.Levels, 0.1), indexOf(f.Levels, 0.9)
	if lo >= 0 && hi >= 0 {
		z := 1.2815515655446004 // Φ⁻¹(0.9)
		out.Sigma = make([]float64, horizon)
		for i := range out.Sigma {
			out.Sigma[i] = (f.Quantiles[hi][i] - f.Quantiles[lo][i]) / (2 * z)
		}
	}
	return out, nil
}

func indexOf(levels []float64, p float64) int {
	for i, l := range levels {
		if l == p {
			return i
		}
	}
	return -1
}

// TrainLSTM trains the models of an honest LSTM backtest: one in full on
// the days up to cuts[0], then, continuing from it as the pipeline does
// after each upload, one fine-tuned through each later cut (cuts
// ascending). progress, if set, hears of each model.
func TrainLSTM(ctx context.Context, series []lstm.Series, cfg lstm.Config, pol lstm.Policy, cuts []time.Time, progress func(lstm.Report)) (LSTMForecaster, error) {
	if len(cuts) == 0 {
		return LSTMForecaster{}, errors.New("lstm backtest: no cuts")
	}
	m, err := lstm.New(cfg)
	if err != nil {
		return LSTMForecaster{}, err
	}
	f := NewLSTMForecaster(nil, series)
	for i, cut := range cuts {
		opts := lstm.TrainOptions{Mode: training.FineTune, Policy: pol}
		if i == 0 {
			opts.Mode = training.Full
		}
		rep, err := m.Train(ctx, lstm.Through(series, cut), opts)
		if err != nil {
			return LSTMForecaster{}, fmt.Errorf("lstm backtest through %s: %w", cut.Format(time.DateOnly), err)
		}
		if progress != nil {
			progress(rep)
		}
		f.Models = append(f.Models, m.Clone())
	}
	return f, nil
}
