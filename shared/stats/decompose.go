package stats

import (
	"fmt"
	"math"
)

// SeasonalFigure is the seasonal figure of R's decompose(): the centred
// moving average of order m (2×m for even m) is the trend; y minus the
// trend (additive) or y over the trend (multiplicative) is averaged per
// phase and normalised to sum 0 (mean 1). figure[j] belongs to the steps i
// with i mod m = j. y must have no NaN and at least 2m values.
func SeasonalFigure(y []float64, m int, multiplicative bool) ([]float64, error) {
	n := len(y)
	if m < 2 || n < 2*m {
		return nil, fmt.Errorf("seasonal figure: %d values for period %d (need %d)", n, m, 2*m)
	}
	sum := make([]float64, m)
	count := make([]int, m)
	half := m / 2
	for i := half; i+half < n; i++ {
		var trend float64
		if m%2 == 1 {
			for k := i - half; k <= i+half; k++ {
				trend += y[k]
			}
			trend /= float64(m)
		} else {
			trend = 0.5 * (y[i-half] + y[i+half])
			for k := i - half + 1; k < i+half; k++ {
				trend += y[k]
			}
			trend /= float64(m)
		}
		v := y[i] - trend
		if multiplicative {
			if trend == 0 {
				continue
			}
			v = y[i] / trend
		}
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("seasonal figure: value %d is not finite", i)
		}
		sum[i%m] += v
		count[i%m]++
	}
	figure := make([]float64, m)
	var mean float64
	for j := range figure {
		if count[j] == 0 {
			return nil, fmt.Errorf("seasonal figure: phase %d has no detrended value", j)
		}
		figure[j] = sum[j] / float64(count[j])
		mean += figure[j] / float64(m)
	}
	for j := range figure {
		if multiplicative {
			figure[j] /= mean
		} else {
			figure[j] -= mean
		}
	}
	return figure, nil
}
