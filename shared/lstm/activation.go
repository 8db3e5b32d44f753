package lstm

import "math"

// logisticGo is the portable logistic: x[i] = mul/(1+exp(-scale·x[i])) + add.
func logisticGo(x []float64, scale, mul, add float64) {
	for i, v := range x {
		x[i] = mul/(1+math.Exp(-scale*v)) + add
	}
}

// sigmoids applies the logistic sigmoid to x in place.
func sigmoids(x []float64) { logistic(x, 1, 1, 0) }

// tanhs applies tanh to x in place, as 2σ(2x) − 1.
func tanhs(x []float64) { logistic(x, 2, 2, -1) }

// relus applies max(x, 0) to x in place.
func relus(x []float64) {
	for i, v := range x {
		x[i] = max(v, 0)
	}
}
