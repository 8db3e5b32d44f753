package trend

import (
	"math"
)

// placeChangepoints is Prophet's set_changepoints without user-given dates:
// n potential changepoints at observed times, uniformly (by row) over the
// first rangeShare of the sorted history. A history too short for n gets
// floor(len·rangeShare)-1 of them. The row indexes are numpy's
// linspace(0, hist_size-1, n+1).round() (round half to even), minus the first.
// An empty result means "no changepoints": Prophet then uses one dummy
// changepoint at t=0 (see changepointsOrDummy).
func placeChangepoints(t []float64, n int, rangeShare float64) []float64 {
	histSize := int(math.Floor(float64(len(t)) * rangeShare))
	if n+1 > histSize {
		n = histSize - 1
	}
	if n <= 0 {
		return nil
	}
	stop := float64(histSize - 1)
	step := stop / float64(n)
	cps := make([]float64, n)
	for i := 1; i <= n; i++ {
		v := float64(i) * step
		if i == n {
			v = stop // linspace sets the endpoint exactly
		}
		cps[i-1] = t[int(math.RoundToEven(v))]
	}
	return cps
}

// changepointsOrDummy returns cps, or Prophet's dummy changepoint [0] when
// there are none.
func changepointsOrDummy(cps []float64) []float64 {
	if len(cps) == 0 {
		return []float64{0}
	}
	return cps
}

// piecewiseLinear is Prophet's piecewise_linear for one time:
// (k + Σ_{s_j ≤ t} δ_j)·t + (m − Σ_{s_j ≤ t} δ_j·s_j).
func piecewiseLinear(t float64, delta []float64, k, m float64, cps []float64) float64 {
	kt, mt := k, m
	for j, s := range cps {
		if s <= t {
			kt += delta[j]
			mt -= delta[j] * s
		}
	}
	return kt*t + mt
}

// linearGrowthInit is Prophet's linear_growth_init: the line through the
// first and last points of the scaled history (first occurrence of the
// earliest and of the latest date).
func linearGrowthInit(t, yScaled []float64) (k, m float64) {
	i0, i1 := 0, len(t)-1
	for i1 > 0 && t[i1-1] == t[i1] {
		i1--
	}
	k = (yScaled[i1] - yScaled[i0]) / (t[i1] - t[i0])
	m = yScaled[i0] - k*t[i0]
	return k, m
}

// flatGrowthInit is Prophet's flat_growth_init: rate 0, offset the mean of
// the scaled history.
func flatGrowthInit(yScaled []float64) (k, m float64) {
	var sum float64
	for _, v := range yScaled {
		sum += v
	}
	return 0, sum / float64(len(yScaled))
}
