package lstm

import "math"

// sigmoid is the logistic sigmoid.
func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

// activation is the cell activation: tanh, or max(x, 0) for relu.
func activation(x float64, relu bool) float64 {
	if relu {
		return max(x, 0)
	}
	return math.Tanh(x)
}
