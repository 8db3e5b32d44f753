// Package lstm is stockcast's global LSTM demand model: the prototype's
// network (LSTM(50, returning sequences) → dropout 0.2 → LSTM(50) → dropout
// 0.2 → dense(1) over windows of 10 days, trained by Adam on the mean
// squared error) as one model over every series, each series min-max scaled
// by its own range; its training and fine-tuning policy; its checkpoint
// format; and recursive multi-step forecasting.
//
// # Network
//
// The forward pass and backpropagation through time run a whole batch at
// once. Each layer computes the input contribution of all four gates for
// every time step with one matrix product, then adds the recurrent
// contribution with one product per step; the backward pass mirrors this
// and accumulates the weight gradients with one product over all steps. The
// products run through an AVX2/FMA register-blocked kernel, and the cell's
// forward step (gate activations by a vectorised exponential), its backward
// step and Adam through vector kernels too (portable Go where the CPU lacks
// AVX2/FMA). Every buffer is allocated once per run, so a training step
// allocates nothing. The network trains and serves in float32, as Keras
// does: a vector register holds twice as many float32 as float64 and the
// tensors take half the memory traffic. The code is generic over the element
// type: the gradient check runs its float64 instantiation against finite
// differences, and the float32 instantiation is checked against the float64
// one. BenchmarkTrainStep (against the per-window BenchmarkTrainStepNaive)
// and BenchmarkGemm measure it.
// Initialisation follows Keras (Glorot-uniform kernels, orthogonal recurrent
// kernels, zero biases with a unit forget-gate bias) from Config.Seed.
//
// # Training
//
// Train takes the daily series (see Daily for zero-filling gaps). In ModeFull
// the network and the scalers are reinitialised and every epoch draws up to
// Policy.MaxWindows windows (default 100,000) from all windows, for up to 50
// epochs. In ModeFineTune the model continues from its weights and optimiser
// state on the windows whose target day falls in the new range [Since,
// Until], plus a fresh sample each epoch of as many older windows (at most
// 50,000), for up to 10 epochs; a known series whose values leave its
// scaler's range has the range widened, a new series gets its own scaler, and
// both are reported. The last Policy.ValidationDays (7) days of the trained
// range are held out (at most a quarter of it; later runs replay them as
// older windows): their loss drives early stopping (patience 5 in full, 3
// when fine-tuning), and the model keeps the weights of the epoch with the
// lowest validation loss — those it started from if no epoch beat them. A
// deadline, from the options or the context, stops training at a batch
// boundary early enough to leave time for a checkpoint.
//
// # Checkpoint format
//
// A checkpoint (version 1) is, in order:
//
//	magic        8 bytes   "STKLSTM\n"
//	version      uint32    little-endian, 1
//	header size  uint32    little-endian, bytes of the JSON header (at most 64 MiB)
//	header       JSON      {"config": Config, "params": P, "step": Adam's step count,
//	                        "last_date": "YYYY-MM-DD", "scalers": {id: {"min", "max"}},
//	                        "runs": [Run, ...]}
//	weights      P float32 little-endian IEEE 754, in the network's parameter order
//	Adam m       P float32 first moments, same order
//	Adam v       P float32 second moments, same order
//	checksum     uint32    little-endian CRC-32C (Castagnoli) of every byte before it
//
// The parameter order is, for each LSTM layer from the input side, the
// kernel W (in×4h, row-major), the recurrent kernel U (h×4h) and the bias
// (4h), the gates ordered input, forget, cell, output as in Keras; then the
// dense kernel (h) and bias (1). Read builds a model only from a checkpoint
// that is sound to its last byte: an empty, truncated, damaged or foreign
// one fails with ErrCorrupt, another format version with ErrVersion, and
// Resume also rejects another architecture with ErrArchitecture, starting a
// fresh model and saying why.
package lstm
