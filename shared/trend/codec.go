package trend

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"
)

// Serialisation format of one model.
const (
	ModelFormat  = "stockcast.trend.model"
	ModelVersion = 1
)

// ErrFormat is wrapped by every error decoding a model or a set: wrong
// format name, unknown version, or inconsistent content.
var ErrFormat = errors.New("trend: bad serialised model")

// wireModel is version 1 of the JSON form of a Model. Floats are written
// in Go's shortest round-trip form, so decoding restores every bit and
// predictions are identical.
type wireModel struct {
	Format           string        `json:"format"`
	Version          int           `json:"version"`
	Growth           Growth        `json:"growth"`
	SeasonalityMode  Mode          `json:"seasonality_mode"`
	Scaling          Scaling       `json:"scaling"`
	HistoryStart     time.Time     `json:"history_start"`
	HistoryEnd       time.Time     `json:"history_end"`
	HistoryLen       int           `json:"history_len"`
	TScaleNanos      int64         `json:"t_scale_ns"`
	YMin             float64       `json:"y_min"`
	YScale           float64       `json:"y_scale"`
	ChangepointsT    []float64     `json:"changepoints_t"`
	ChangepointPrior float64       `json:"changepoint_prior_scale"`
	Seasonalities    []seasonality `json:"seasonalities"`
	Params           Params        `json:"params"`
	Uncertainty      wireUnc       `json:"uncertainty"`
	Fit              FitInfo       `json:"fit"`
}

type wireUnc struct {
	Samples       int     `json:"samples"`
	IntervalWidth float64 `json:"interval_width"`
	Seed          uint64  `json:"seed"`
}

// MarshalJSON writes the model in format ModelFormat, version ModelVersion.
func (m *Model) MarshalJSON() ([]byte, error) {
	return json.Marshal(wireModel{
		Format: ModelFormat, Version: ModelVersion,
		Growth: m.growth, SeasonalityMode: m.mode, Scaling: m.scaling,
		HistoryStart: m.first, HistoryEnd: m.last, HistoryLen: m.n,
		TScaleNanos: int64(m.tScale), YMin: m.yMin, YScale: m.yScale,
		ChangepointsT: m.cps, ChangepointPrior: m.tau, Seasonalities: m.seasons,
		Params: m.params, Fit: m.info,
		Uncertainty: wireUnc{Samples: m.unc.Samples, IntervalWidth: m.unc.IntervalWidth, Seed: m.unc.Seed},
	})
}

// UnmarshalJSON reads a model written by MarshalJSON. It refuses another
// format or an unknown version, and checks the content is consistent
// before any prediction can use it.
func (m *Model) UnmarshalJSON(data []byte) error {
	var w wireModel
	if err := json.Unmarshal(data, &w); err != nil {
		return fmt.Errorf("%w: %w", ErrFormat, err)
	}
	if w.Format != ModelFormat {
		return fmt.Errorf("%w: format %q, want %q", ErrFormat, w.Format, ModelFormat)
	}
	if w.Version != ModelVersion {
		return fmt.Errorf("%w: version %d of %s is not supported (this build reads version %d)",
			ErrFormat, w.Version, ModelFormat, ModelVersion)
	}
	if err := w.check(); err != nil {
		return fmt.Errorf("%w: %w", ErrFormat, err)
	}
	dec := Model{
		growth: w.Growth, mode: w.SeasonalityMode, scaling: w.Scaling,
		first: w.HistoryStart.UTC(), last: w.HistoryEnd.UTC(), n: w.HistoryLen,
		tScale: time.Duration(w.TScaleNanos), yMin: w.YMin, yScale: w.YScale,
		cps: w.ChangepointsT, tau: w.ChangepointPrior, seasons: w.Seasonalities,
		params: w.Params, info: w.Fit,
		unc: Uncertainty{Samples: w.Uncertainty.Samples, IntervalWidth: w.Uncertainty.IntervalWidth, Seed: w.Uncertainty.Seed},
	}
	if err := dec.init(); err != nil {
		return fmt.Errorf("%w: %w", ErrFormat, err)
	}
	*m = dec
	return nil
}

func finite(vs ...float64) bool {
	for _, v := range vs {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return false
		}
	}
	return true
}

// check validates everything prediction relies on.
func (w *wireModel) check() error {
	o := DefaultOptions()
	o.Growth, o.SeasonalityMode, o.Scaling = w.Growth, w.SeasonalityMode, w.Scaling
	if err := o.Validate(); err != nil {
		return err
	}
	switch {
	case w.HistoryLen < 1:
		return fmt.Errorf("history length %d", w.HistoryLen)
	case w.HistoryStart.IsZero() || w.HistoryEnd.Before(w.HistoryStart):
		return fmt.Errorf("history dates %v to %v", w.HistoryStart, w.HistoryEnd)
	case w.TScaleNanos <= 0:
		return fmt.Errorf("time scale %d ns", w.TScaleNanos)
	case !finite(w.YMin, w.YScale) || w.YScale <= 0:
		return fmt.Errorf("y scaling (%v, %v)", w.YMin, w.YScale)
	case len(w.ChangepointsT) == 0:
		return fmt.Errorf("no changepoints (a model has at least the dummy one)")
	case !finite(w.ChangepointsT...) || !finite(w.Params.Delta...) || !finite(w.Params.Beta...) ||
		!finite(w.Params.K, w.Params.M, w.Params.SigmaObs):
		return fmt.Errorf("non-finite parameters")
	case w.Params.SigmaObs < 0:
		return fmt.Errorf("negative sigma_obs %v", w.Params.SigmaObs)
	case w.Uncertainty.Samples < 0 || w.Uncertainty.Samples > maxSamples:
		return fmt.Errorf("%d uncertainty samples (at most %d)", w.Uncertainty.Samples, maxSamples)
	case !(w.Uncertainty.IntervalWidth > 0 && w.Uncertainty.IntervalWidth < 1):
		return fmt.Errorf("interval width %v", w.Uncertainty.IntervalWidth)
	}
	for _, s := range w.Seasonalities {
		if s.Name == "" || !(s.Period > 0) || !finite(s.Period) || s.Order < 1 || s.Order > maxOrder ||
			!positiveFinite(s.PriorScale) {
			return fmt.Errorf("seasonality %+v", s)
		}
	}
	return nil
}

// Limits on decoded content, so a corrupt file cannot demand absurd work.
const (
	maxSamples = 1_000_000
	maxOrder   = 1000
)
