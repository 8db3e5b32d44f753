package lstm

import "math"

// logistic sets x[i] = mul/(1+exp(-scale·x[i])) + add.
func logistic[F float](x []F, scale, mul, add float64) {
	if !logisticFast(x, scale, mul, add) {
		logisticGo(x, scale, mul, add)
	}
}

// logisticGo is the portable logistic.
func logisticGo[F float](x []F, scale, mul, add float64) {
	for i, v := range x {
		x[i] = F(mul/(1+math.Exp(-scale*float64(v))) + add)
	}
}

// sigmoids applies the logistic sigmoid to x in place.
func sigmoids[F float](x []F) { logistic(x, 1, 1, 0) }

// tanhs applies tanh to x in place, as 2σ(2x) − 1.
func tanhs[F float](x []F) { logistic(x, 2, 2, -1) }

// relus applies max(x, 0) to x in place.
func relus[F float](x []F) {
	for i, v := range x {
		x[i] = max(v, 0)
	}
}

// sigmoid is the logistic sigmoid of one value.
func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }
