// Package training names how the LSTM is trained: the one type the training state machine's
// contracts (shared/pipeline) and the LSTM itself (shared/lstm) share, in a package of its own so
// that a function that only passes a mode along (the merge) links nothing of the LSTM.
package training

import "fmt"

// Mode is how a training run treats the model it starts from.
type Mode string

// The training modes.
const (
	// FineTune continues from the model's weights and optimiser state on the windows whose
	// target is new, plus a replay sample of older ones. It is the default.
	FineTune Mode = "finetune"
	// Full reinitialises the network and the scalers and trains on all windows.
	Full Mode = "full"
)

// Validate reports a mode that is neither FineTune, Full nor empty (the default).
func (m Mode) Validate() error {
	switch m {
	case "", FineTune, Full:
		return nil
	}
	return fmt.Errorf("mode %q is not %q or %q", m, FineTune, Full)
}
