package backtest

import (
	"encoding/json"
	"math"
)

// Scores are the accuracy of one forecast source on the backtest windows.
type Scores struct {
	MASE float64 `json:"mase"`
	WAPE float64 `json:"wape"`
	RMSE float64 `json:"rmse"`
	// Coverage is the share of observed steps inside the interval; nil
	// when the source has no interval.
	Coverage *float64 `json:"coverage,omitempty"`
	// Points is the number of observed steps scored.
	Points int `json:"points"`
}

// MarshalJSON writes a score that is not a number (MASE without points,
// WAPE when every actual is 0) as null.
func (s Scores) MarshalJSON() ([]byte, error) {
	num := func(v float64) *float64 {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil
		}
		return &v
	}
	return json.Marshal(struct {
		MASE     *float64 `json:"mase"`
		WAPE     *float64 `json:"wape"`
		RMSE     *float64 `json:"rmse"`
		Coverage *float64 `json:"coverage,omitempty"`
		Points   int      `json:"points"`
	}{num(s.MASE), num(s.WAPE), num(s.RMSE), s.Coverage, s.Points})
}

// UnmarshalJSON reads what MarshalJSON writes (null as NaN).
func (s *Scores) UnmarshalJSON(data []byte) error {
	var w struct {
		MASE, WAPE, RMSE *float64
		Coverage         *float64
		Points           int
	}
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	val := func(p *float64) float64 {
		if p == nil {
			return math.NaN()
		}
		return *p
	}
	*s = Scores{MASE: val(w.MASE), WAPE: val(w.WAPE), RMSE: val(w.RMSE), Coverage: w.Coverage, Points: w.Points}
	return nil
}

// Tally accumulates the errors of one source over windows.
type Tally struct {
	AbsErr, SqErr, AbsActual float64
	Points                   int
	Covered, Intervals       int
}

// Add scores a forecast (and its interval, when lower and upper are not
// nil) against actual values; NaN actual steps are skipped.
func (t *Tally) Add(actual, forecast, lower, upper []float64) {
	for i, a := range actual {
		if math.IsNaN(a) {
			continue
		}
		e := a - forecast[i]
		t.AbsErr += math.Abs(e)
		t.SqErr += e * e
		t.AbsActual += math.Abs(a)
		t.Points++
		if lower != nil {
			t.Intervals++
			if a >= lower[i] && a <= upper[i] {
				t.Covered++
			}
		}
	}
}

// Scores are the tally's scores with MASE scale s.
func (t Tally) Scores(s float64) Scores {
	out := Scores{Points: t.Points, MASE: math.NaN(), WAPE: math.NaN(), RMSE: math.NaN()}
	if t.Points == 0 {
		return out
	}
	n := float64(t.Points)
	out.MASE = t.AbsErr / n / s
	out.RMSE = math.Sqrt(t.SqErr / n)
	if t.AbsActual > 0 {
		out.WAPE = t.AbsErr / t.AbsActual
	}
	if t.Intervals > 0 {
		c := float64(t.Covered) / float64(t.Intervals)
		out.Coverage = &c
	}
	return out
}

// Totals pools the scores of one source over series.
type Totals struct {
	Tally
	MASESum float64
	Series  int
}

// Add pools one series' tally with its MASE scale.
func (t *Totals) Add(s Tally, scale float64) {
	if s.Points == 0 {
		return
	}
	t.AbsErr += s.AbsErr
	t.SqErr += s.SqErr
	t.AbsActual += s.AbsActual
	t.Points += s.Points
	t.Covered += s.Covered
	t.Intervals += s.Intervals
	t.MASESum += s.AbsErr / float64(s.Points) / scale
	t.Series++
}

// Scores are the pooled scores: MASE the mean over series.
func (t Totals) Scores() Scores {
	out := t.Tally.Scores(1)
	if t.Series > 0 {
		out.MASE = t.MASESum / float64(t.Series)
	}
	return out
}
