// Package lstm is stockcast's global LSTM demand model: two stacked LSTM
// layers (50 units each, dropout 0.2 after each, as the prototype) reading
// the last 28 days of a series and a dense layer predicting the 10%, 50% and
// 90% quantiles of each of the next 28 days at once, trained by Adam on the
// pinball loss as one model over every series; its training and
// fine-tuning policy; its checkpoint format; and forecasting.
//
// # Inputs
//
// A series is daily, NaN on a day that was not observed: a date with no row
// is not a zero, and is never read or learned as one. Every time step of a
// window carries the value divided by the window's scale (0 when not
// observed), an observed mask, the day of the week (one-hot), the day of the
// year (sine and cosine), the log of the window's scale, and the model's
// known covariates (Config.Covariates, such as promotion or holiday flags or
// a relative price; 0 where unknown). The scale of a window is the mean
// absolute observed value of its context, as DeepAR scales: a series that
// reaches a new high, or a series never seen, needs no refitting. Targets
// are scaled by the same number, and only observed target days count in the
// loss. Days before a series' start are not observed, so that a series with
// a week of history already has windows. Forecasts are never negative:
// every quantile is floored at 0 and crossing quantiles are sorted.
//
// The network predicts Config.Horizon days directly instead of feeding its
// own one-day forecasts back in, so its errors do not compound over the
// horizon; a longer forecast rolls forward by the horizon, the predicted
// medians read as observed days.
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
// Train takes the daily series. A window is an origin (its first predicted
// day) in a series with an observed day among the Window days before it and
// an observed target among the Horizon days from it. The last
// Policy.ValidationDays (14) days of the trained range are held out (at most
// a quarter of it; later runs train on them): the validation windows are
// those with one of them as a target, so that every horizon is validated,
// and no training window has one as its target. Their loss drives early
// stopping (patience 8 in full, 4 when fine-tuning), and the model keeps
// the weights of the epoch with the lowest validation loss — those it
// started from if no epoch beat them. In training.Full the network is
// reinitialised and every epoch draws up to Policy.MaxWindows windows
// (default 100,000), for up to 50 epochs. In training.FineTune the model
// continues from its weights and optimiser state on the new windows, those
// with an observed target in the new range [Since, Until] (a new sample of
// Policy.MaxWindows of them each epoch when there are more, as after a large
// upload), plus a fresh sample each epoch of twice as many older windows (at
// most 50,000; the replay pool, every other training window), for up to 10
// epochs. A series without a new day, as after an upload of a few products,
// has no new window: its last windows, whose horizons reach past its end into
// the new range, have only old targets and are replayed. A series seen
// for the first time is reported. New days that no window has as an observed
// target (a new series of a few days after a gap, or its days all among the
// validation days) are no error: the run stops with StopNoNewWindow, the
// weights as they were, the scales and the last day brought up to date. Each
// series' scale at its end is kept
// (Model.Scale): a window whose context holds no observed non-zero value
// falls back to it. A deadline, from the options or the context, stops
// training at a batch boundary early enough to leave time for a checkpoint.
//
// # Checkpoint format
//
// A checkpoint (version 2) is, in order:
//
//	magic        8 bytes   "STKLSTM\n"
//	version      uint32    little-endian, 2
//	header size  uint32    little-endian, bytes of the JSON header (at most 64 MiB)
//	header       JSON      {"config": Config, "params": P, "step": Adam's step count,
//	                        "last_date": "YYYY-MM-DD", "scales": {id: scale},
//	                        "runs": [Run, ...]}
//	weights      P float32 little-endian IEEE 754, in the network's parameter order
//	Adam m       P float32 first moments, same order
//	Adam v       P float32 second moments, same order
//	checksum     uint32    little-endian CRC-32C (Castagnoli) of every byte before it
//
// The parameter order is, for each LSTM layer from the input side, the
// kernel W (in×4h, row-major; the first layer's in is the 12 features plus
// the covariates), the recurrent kernel U (h×4h) and the bias (4h), the
// gates ordered input, forget, cell, output as in Keras; then the dense
// kernel (h×out) and bias (out), out = Horizon × len(Quantiles) with output
// d·Q+q the quantile q of day d. Version 1 (the prototype's one-day network
// over min-max scaled, zero-filled windows) is refused with ErrVersion, and
// its reader trains from scratch. Read builds a model only from a checkpoint
// that is sound to its last byte: an empty, truncated, damaged or foreign
// one fails with ErrCorrupt, another format version with ErrVersion, and
// Resume also rejects another architecture with ErrArchitecture, starting a
// fresh model and saying why.
package lstm
