package lstm

import (
	"errors"
	"fmt"
	"math"
	"slices"
)

// Activation is the cell activation of the LSTM layers (Keras's activation
// argument); the gates always use the logistic sigmoid.
type Activation string

// The cell activations a model can use.
const (
	Tanh Activation = "tanh"
	ReLU Activation = "relu"
)

// Config is a model's architecture and training hyper-parameters.
//
// Window, Horizon, Quantiles, Covariates, Layers and Activation are the
// architecture: they fix the meaning of the weights, and a checkpoint only
// resumes into the same architecture. The other fields may change from one
// training run to the next.
type Config struct {
	// Window is the number of past days (the context) the network reads.
	Window int `json:"window"`
	// Horizon is the number of days the network predicts at once, from the
	// day after the context.
	Horizon int `json:"horizon"`
	// Quantiles are the probability levels predicted for every day of the
	// horizon, increasing, in (0, 1); the point forecast is the median (0.5
	// must be one of them). Training minimises their pinball loss.
	Quantiles []float64 `json:"quantiles"`
	// Covariates names the known covariates read at every step of the
	// context, beside the value, its observed mask and the calendar; a
	// series gives them in Series.Covariates.
	Covariates []string `json:"covariates,omitempty"`
	// Layers holds the hidden units of each stacked LSTM layer, input side
	// first. Every layer but the last returns its whole sequence.
	Layers []int `json:"layers"`
	// Activation is the cell activation.
	Activation Activation `json:"activation"`

	// Dropout is the rate of the dropout after every LSTM layer.
	Dropout float64 `json:"dropout"`
	// BatchSize is the number of windows per gradient step.
	BatchSize int `json:"batch_size"`
	// LearningRate, Beta1, Beta2 and Epsilon parameterise Adam, with the
	// epsilon added to the square root of the second moment as Keras does.
	LearningRate float64 `json:"learning_rate"`
	Beta1        float64 `json:"beta1"`
	Beta2        float64 `json:"beta2"`
	Epsilon      float64 `json:"epsilon"`
	// Seed drives initialisation, shuffling, sampling and dropout.
	Seed uint64 `json:"seed"`
}

// DefaultConfig is the prototype's two LSTM layers of 50 units with dropout
// 0.2 after each, trained by Adam with Keras's defaults at batch 32, now
// reading 28 days of context (value, observed mask, calendar) and predicting
// the 10%, 50% and 90% quantiles of each of the next 28 days at once. The
// context length was chosen by validation on generated data, where 28 days
// forecast better than 56 (see the README); the prototype used ReLU cells,
// the default here is Keras's tanh.
func DefaultConfig() Config {
	return Config{
		Window:       28,
		Horizon:      28,
		Quantiles:    []float64{0.1, 0.5, 0.9},
		Layers:       []int{50, 50},
		Activation:   Tanh,
		Dropout:      0.2,
		BatchSize:    32,
		LearningRate: 1e-3,
		Beta1:        0.9,
		Beta2:        0.999,
		Epsilon:      1e-7,
		Seed:         1,
	}
}

// maxParams bounds the size of a network, so a damaged checkpoint header
// cannot ask for an absurd allocation.
const maxParams = 1 << 26

// Validate reports the first field that makes c unusable.
func (c Config) Validate() error {
	switch {
	case c.Window < 1 || c.Window > 1<<12:
		return fmt.Errorf("window %d: must be from 1 to 4096 days", c.Window)
	case c.Horizon < 1 || c.Horizon > 1<<10:
		return fmt.Errorf("horizon %d: must be from 1 to 1024 days", c.Horizon)
	case len(c.Layers) == 0:
		return errors.New("layers: need at least one LSTM layer")
	case c.Activation != Tanh && c.Activation != ReLU:
		return fmt.Errorf("activation %q: want %q or %q", c.Activation, Tanh, ReLU)
	case !(c.Dropout >= 0 && c.Dropout < 1):
		return fmt.Errorf("dropout %v: must be in [0, 1)", c.Dropout)
	case c.BatchSize < 1:
		return fmt.Errorf("batch size %d: must be at least 1", c.BatchSize)
	case !(c.LearningRate > 0):
		return fmt.Errorf("learning rate %v: must be positive", c.LearningRate)
	case !(c.Beta1 >= 0 && c.Beta1 < 1) || !(c.Beta2 >= 0 && c.Beta2 < 1):
		return fmt.Errorf("betas %v, %v: must be in [0, 1)", c.Beta1, c.Beta2)
	case !(c.Epsilon > 0):
		return fmt.Errorf("epsilon %v: must be positive", c.Epsilon)
	case len(c.Quantiles) == 0 || len(c.Quantiles) > 99:
		return fmt.Errorf("quantiles %v: want 1 to 99 levels", c.Quantiles)
	case !slices.Contains(c.Quantiles, 0.5):
		return fmt.Errorf("quantiles %v: the median (0.5) must be one of them", c.Quantiles)
	case len(c.Covariates) > 64:
		return fmt.Errorf("%d covariates: at most 64", len(c.Covariates))
	}
	for i, q := range c.Quantiles {
		if !(q > 0 && q < 1) || (i > 0 && !(q > c.Quantiles[i-1])) {
			return fmt.Errorf("quantiles %v: must increase within (0, 1)", c.Quantiles)
		}
	}
	for i, name := range c.Covariates {
		if name == "" || slices.Contains(c.Covariates[:i], name) {
			return fmt.Errorf("covariates %q: names must be non-empty and distinct", c.Covariates)
		}
	}
	for i, h := range c.Layers {
		if h < 1 || h > 1<<12 {
			return fmt.Errorf("layer %d: %d hidden units, want 1 to 4096", i, h)
		}
	}
	if n := c.paramCount(); n > maxParams {
		return fmt.Errorf("network of %d parameters is too large", n)
	}
	return nil
}

// inputs is the number of features of one time step: the scaled value, its
// observed mask, the day of the week (one-hot), the day of the year (sine,
// cosine), the window's log scale, and the covariates.
func (c Config) inputs() int { return baseFeatures + len(c.Covariates) }

// outputs is the width of the network's output: every quantile of every day
// of the horizon.
func (c Config) outputs() int { return c.Horizon * len(c.Quantiles) }

// median is the index of the 0.5 quantile.
func (c Config) median() int { return slices.Index(c.Quantiles, 0.5) }

// paramCount is the number of parameters of c's network.
func (c Config) paramCount() int { return paramCount(c.Layers, c.inputs(), c.outputs()) }

// sameArchitecture reports whether weights trained under c fit o.
func (c Config) sameArchitecture(o Config) bool {
	return c.Window == o.Window && c.Horizon == o.Horizon && c.Activation == o.Activation &&
		slices.Equal(c.Layers, o.Layers) && slices.Equal(c.Quantiles, o.Quantiles) && slices.Equal(c.Covariates, o.Covariates)
}

// architecture describes c's architecture for error messages.
func (c Config) architecture() string {
	return fmt.Sprintf("window %d, horizon %d, quantiles %v, covariates %q, layers %v, %s",
		c.Window, c.Horizon, c.Quantiles, c.Covariates, c.Layers, c.Activation)
}

// clone is c with its slices copied.
func (c Config) clone() Config {
	c.Layers, c.Quantiles, c.Covariates = slices.Clone(c.Layers), slices.Clone(c.Quantiles), slices.Clone(c.Covariates)
	return c
}

// isFinite reports whether v is neither NaN nor infinite.
func isFinite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
