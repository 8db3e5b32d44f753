package lstm

import (
	"errors"
	"fmt"
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
// Window, Layers and Activation are the architecture: they fix the meaning
// of the weights, and a checkpoint only resumes into the same architecture.
// The other fields may change from one training run to the next.
type Config struct {
	// Window is the number of past days the network reads to predict the next.
	Window int `json:"window"`
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

// DefaultConfig is the prototype's network: windows of 10 days, LSTM(50) →
// dropout 0.2 → LSTM(50) → dropout 0.2 → dense(1), trained by Adam with
// Keras's defaults at batch 32. The prototype used ReLU cells; the default
// here is Keras's tanh.
func DefaultConfig() Config {
	return Config{
		Window:       10,
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
	case c.Window < 1:
		return fmt.Errorf("window %d: must be at least 1", c.Window)
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
	}
	n, in := 0, 1
	for i, h := range c.Layers {
		if h < 1 || h > 1<<12 {
			return fmt.Errorf("layer %d: %d hidden units, want 1 to 4096", i, h)
		}
		n += (in + h + 1) * 4 * h
		in = h
	}
	if n+in+1 > maxParams || c.Window > 1<<12 {
		return fmt.Errorf("network of %d parameters over %d days is too large", n+in+1, c.Window)
	}
	return nil
}

// sameArchitecture reports whether weights trained under c fit o.
func (c Config) sameArchitecture(o Config) bool {
	return c.Window == o.Window && c.Activation == o.Activation && slices.Equal(c.Layers, o.Layers)
}

// architecture describes c's architecture for error messages.
func (c Config) architecture() string {
	return fmt.Sprintf("window %d, layers %v, %s", c.Window, c.Layers, c.Activation)
}
