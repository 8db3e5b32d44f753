package backtest

import (
	"math"
	"slices"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/stockcast/stockcast/shared/stats"
)

// Calibration is the served forecast's backtest errors (actual −
// forecast) on the observed steps of its windows: Window[i] is the
// window, Step[i] the step in it (0-based), Error[i] the error.
type Calibration struct {
	Horizon int       `json:"horizon"`
	Window  []int     `json:"window"`
	Step    []int     `json:"step"`
	Error   []float64 `json:"error"`
}

func (c *Calibration) add(actual, forecast []float64) {
	w := 0
	if n := len(c.Window); n > 0 {
		w = c.Window[n-1] + 1
	}
	for i, a := range actual {
		if math.IsNaN(a) {
			continue
		}
		c.Window = append(c.Window, w)
		c.Step = append(c.Step, i)
		c.Error = append(c.Error, a-forecast[i])
	}
}

// Points is the number of errors.
func (c Calibration) Points() int { return len(c.Error) }

// conformal is the type-7 quantile of sorted at the finite-sample conformal
// rank (n+1)·p, clamped to the sample.
func conformal(sorted []float64, p float64) float64 {
	n := float64(len(sorted))
	if n < 2 {
		return stats.Quantile(sorted, p)
	}
	q := ((n+1)*p - 1) / (n - 1)
	return stats.Quantile(sorted, math.Min(1, math.Max(0, q)))
}

// Interval returns the offsets to add to the forecast of step h (0-based)
// for the central interval at level: the conformal quantiles of the errors,
// widened by √((h+1)/H) past the backtest's horizon. Without errors both
// are 0.
func (c Calibration) Interval(h int, level float64) (lower, upper float64) {
	if len(c.Error) == 0 {
		return 0, 0
	}
	sorted := slices.Sorted(slices.Values(c.Error))
	lower, upper = conformal(sorted, (1-level)/2), conformal(sorted, (1+level)/2)
	if c.Horizon > 0 && h+1 > c.Horizon {
		w := math.Sqrt(float64(h+1) / float64(c.Horizon))
		lower, upper = lower*w, upper*w
	}
	return lower, upper
}

// minLeadSums is the fewest lead-time sums LeadTime reads empirically.
const minLeadSums = 10

// LeadTime returns the p-quantile of the demand error summed over the
// first steps steps (a lead time): the conformal quantile of the sums of
// errors over every run of that many consecutive steps in a window (runs
// with unobserved steps scaled up from their observed ones, runs with
// fewer than half observed skipped); past the backtest's horizon, the
// horizon-long sums widened by √(steps/H). With fewer than 10 sums it is
// the normal approximation z_p·σ·√steps of the errors' σ.
func (c Calibration) LeadTime(steps int, p float64) float64 {
	if len(c.Error) == 0 {
		return 0
	}
	span := min(steps, max(c.Horizon, 1))
	widen := math.Sqrt(float64(steps) / float64(span))
	var sums []float64
	for start := 0; start < len(c.Error); {
		end := start
		for end < len(c.Error) && c.Window[end] == c.Window[start] {
			end++
		}
		sums = append(sums, windowSums(c.Step[start:end], c.Error[start:end], span, c.Horizon)...)
		start = end
	}
	if len(sums) < minLeadSums {
		var sq float64
		for _, e := range c.Error {
			sq += e * e
		}
		sigma := math.Sqrt(sq / float64(len(c.Error)))
		return distuv.UnitNormal.Quantile(p) * sigma * math.Sqrt(float64(steps))
	}
	slices.Sort(sums)
	return conformal(sums, p) * widen
}

// windowSums returns the sums of every run of span consecutive steps of
// one window (steps ascending within 0..horizon-1).
func windowSums(step []int, err []float64, span, horizon int) []float64 {
	byStep := make([]float64, horizon)
	seen := make([]bool, horizon)
	for i, s := range step {
		if s < horizon {
			byStep[s], seen[s] = err[i], true
		}
	}
	var out []float64
	for start := 0; start+span <= horizon; start++ {
		var sum float64
		n := 0
		for s := start; s < start+span; s++ {
			if seen[s] {
				sum += byStep[s]
				n++
			}
		}
		if 2*n >= span && n > 0 {
			out = append(out, sum*float64(span)/float64(n))
		}
	}
	return out
}
