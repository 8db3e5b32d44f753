package lstm

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/stockcast/stockcast/shared/training"
)

// StopReason says why a training run ended.
type StopReason string

// The reasons a run ends.
const (
	StopEpochs    StopReason = "epochs"         // every epoch ran
	StopEarly     StopReason = "early_stopping" // validation loss stopped improving
	StopDeadline  StopReason = "deadline"       // the deadline was near
	StopCanceled  StopReason = "canceled"       // the context was canceled
	StopNoNewData StopReason = "no_new_data"    // fine-tuning found no new day in the data
	StopDiverged  StopReason = "diverged"       // the loss stopped being finite
	// StopNoNewWindow: fine-tuning found new days, but no window has one of them as an observed
	// target before the validation days (a new series of a few days, after a gap): the weights
	// stay as they were; the series' scales and the last day are brought up to date.
	StopNoNewWindow StopReason = "no_new_window"
)

// Policy is the training schedule. Zero fields take DefaultPolicy's values.
type Policy struct {
	// FullEpochs and FineTuneEpochs are the most epochs of each mode.
	FullEpochs     int `json:"full_epochs"`
	FineTuneEpochs int `json:"finetune_epochs"`
	// FullPatience and FineTunePatience are the epochs without a lower
	// validation loss after which a run stops early.
	FullPatience     int `json:"full_patience"`
	FineTunePatience int `json:"finetune_patience"`
	// MaxWindows caps the new windows of one epoch (every window is new in
	// full mode); each epoch draws a new sample when there are more, so that
	// a fine-tune after a large upload costs no more than a full epoch.
	MaxWindows int `json:"max_windows"`
	// ReplayRatio is the number of older windows replayed per new window
	// when fine-tuning, at most MaxReplay; each epoch draws a new sample.
	ReplayRatio float64 `json:"replay_ratio"`
	MaxReplay   int     `json:"max_replay"`
	// ValidationDays is how many of the most recent days of the trained
	// range are held out as targets for validation and early stopping; it
	// is cut to a quarter of the range when the range is short.
	ValidationDays int `json:"validation_days"`
}

// DefaultPolicy is 50 epochs (patience 8) over at most 100,000 windows when
// training in full, 10 epochs (patience 4) over the new windows (at most
// 100,000) and twice as many replayed ones (at most 50,000) when fine-tuning,
// with the last 14 days held out for validation.
func DefaultPolicy() Policy {
	return Policy{FullEpochs: 50, FineTuneEpochs: 10, FullPatience: 8, FineTunePatience: 4,
		MaxWindows: 100_000, ReplayRatio: 2, MaxReplay: 50_000, ValidationDays: 14}
}

// WithDefaults returns p with its zero fields filled from DefaultPolicy: the schedule a run of
// p trains on.
func (p Policy) WithDefaults() Policy {
	d := DefaultPolicy()
	set := func(v *int, def int) {
		if *v == 0 {
			*v = def
		}
	}
	set(&p.FullEpochs, d.FullEpochs)
	set(&p.FineTuneEpochs, d.FineTuneEpochs)
	set(&p.FullPatience, d.FullPatience)
	set(&p.FineTunePatience, d.FineTunePatience)
	set(&p.MaxWindows, d.MaxWindows)
	set(&p.MaxReplay, d.MaxReplay)
	set(&p.ValidationDays, d.ValidationDays)
	if p.ReplayRatio == 0 {
		p.ReplayRatio = d.ReplayRatio
	}
	return p
}

func (p Policy) validate() error {
	for _, v := range []int{p.FullEpochs, p.FineTuneEpochs, p.FullPatience, p.FineTunePatience, p.MaxWindows, p.MaxReplay, p.ValidationDays} {
		if v < 0 {
			return fmt.Errorf("policy %+v: negative count", p)
		}
	}
	if !(p.ReplayRatio >= 0) || math.IsInf(p.ReplayRatio, 0) {
		return fmt.Errorf("policy: replay ratio %v", p.ReplayRatio)
	}
	return nil
}

// TrainOptions configures one training run.
type TrainOptions struct {
	// Mode is training.FineTune or training.Full; empty means fine-tune a trained model
	// and train an untrained one in full. Fine-tuning an untrained model
	// trains it in full, and the report says why.
	Mode training.Mode
	// Since and Until bound the newly merged days (inclusive) when
	// fine-tuning. A zero Since is the day after the model's last trained
	// day; a zero Until is the last day of the data.
	Since, Until time.Time
	// Deadline, if not zero, ends training at a batch boundary early enough
	// to finish before it (as does the context's deadline, if earlier). Set
	// it early enough before a hard limit to leave time to save the
	// checkpoint.
	Deadline time.Time
	// Policy is the schedule; zero fields take DefaultPolicy's values.
	Policy Policy
	// Progress, if set, is called after every epoch.
	Progress func(Epoch)
}

// Epoch is the outcome of one training epoch: mean training loss (with
// dropout) and validation loss, both mean squared errors in scaled units.
// ValLoss is zero when there are no validation windows.
type Epoch struct {
	Epoch   int     `json:"epoch"`
	Epochs  int     `json:"epochs"`
	Loss    float64 `json:"loss"`
	ValLoss float64 `json:"val_loss"`
}

// Report describes a training run.
type Report struct {
	Mode training.Mode `json:"mode"`
	// Reason says why this mode was used.
	Reason string `json:"reason"`
	// Since and Until are the days trained as new (the whole data in full).
	Since time.Time `json:"since"`
	Until time.Time `json:"until"`
	// Epochs is the number of completed epochs and MaxEpochs the schedule's.
	Epochs    int `json:"epochs"`
	MaxEpochs int `json:"max_epochs"`
	// BestEpoch is the epoch whose weights the model keeps: the one with the
	// lowest validation loss (the last one without validation windows), or 0
	// when no epoch beat the weights the run started from.
	BestEpoch int `json:"best_epoch"`
	// Windows is the number of training windows per epoch, NewWindows and
	// ReplayWindows its parts, and ValWindows the held-out windows.
	Windows       int `json:"windows"`
	NewWindows    int `json:"new_windows"`
	ReplayWindows int `json:"replay_windows"`
	ValWindows    int `json:"val_windows"`
	// Loss and ValLoss are those of BestEpoch; InitialValLoss is the
	// validation loss of the weights the run started from.
	Loss           float64    `json:"loss"`
	ValLoss        float64    `json:"val_loss"`
	InitialValLoss float64    `json:"initial_val_loss"`
	Stop           StopReason `json:"stop"`
	History        []Epoch    `json:"history"`
	NewSeries      []string   `json:"new_series,omitempty"`
	// Step is the optimiser's step count after the run.
	Step int64 `json:"step"`
}

// Run is the summary of a training run kept in the model's history.
type Run struct {
	Mode  training.Mode `json:"mode"`
	Since time.Time     `json:"since"` // first day trained as new
	Until time.Time     `json:"until"` // last day trained as new
	// Epochs completed and training windows per epoch.
	Epochs  int `json:"epochs"`
	Windows int `json:"windows"`
	// Loss and ValLoss of the epoch whose weights were kept.
	Loss    float64    `json:"loss"`
	ValLoss float64    `json:"val_loss"`
	Stop    StopReason `json:"stop"`
	Step    int64      `json:"step"` // optimiser steps after the run
	// NewSeries counts the series seen for the first time.
	NewSeries int `json:"new_series"`
}

// maxRuns bounds the history kept in a model.
const maxRuns = 200

// ErrDiverged is returned when the training loss stops being finite; the
// model keeps the best weights it had.
var ErrDiverged = errors.New("training diverged")

// windowRef names one window: the series, the index of its origin (the
// first day predicted; the context is the Window days before it) and the
// range [lo, hi) of indices whose values count as its targets.
type windowRef struct{ series, origin, lo, hi int32 }

// Train trains the model on the series as opt says and returns a report of
// the run. On a deadline it stops at a batch boundary, keeps the best
// weights so far, and returns a nil error so that the caller can save a
// checkpoint; on cancellation it does the same and returns the context's
// error. Series must have distinct non-empty IDs and finite values; a run
// refused for its input leaves the model as it was. Train must not run
// concurrently with any other method of m.
func (m *Model) Train(ctx context.Context, series []Series, opt TrainOptions) (Report, error) {
	if err := checkSeries(series, len(m.cfg.Covariates)); err != nil {
		return Report{}, fmt.Errorf("train: %w", err)
	}
	pol := opt.Policy.WithDefaults()
	if err := pol.validate(); err != nil {
		return Report{}, fmt.Errorf("train: %w", err)
	}
	first, last, ok := dataSpan(series)
	if !ok {
		return Report{}, errors.New("train: the series hold no values")
	}
	rep := Report{Mode: training.FineTune, Reason: "resumed from a trained model"}
	switch {
	case opt.Mode == training.Full:
		rep.Mode, rep.Reason = training.Full, "full retrain requested"
	case opt.Mode.Validate() != nil:
		return Report{}, fmt.Errorf("train: %w", opt.Mode.Validate())
	case len(m.runs) == 0 && m.fresh != nil:
		rep.Mode, rep.Reason = training.Full, "no usable checkpoint: "+m.fresh.Error()
	case len(m.runs) == 0:
		rep.Mode, rep.Reason = training.Full, "untrained model"
	}
	if rep.Mode == training.Full {
		rep.Since, rep.Until = first, last
	} else {
		rep.Since, rep.Until = opt.Since, opt.Until
		if rep.Since.IsZero() {
			rep.Since = m.lastDate.AddDate(0, 0, 1)
		}
		if rep.Until.IsZero() {
			rep.Until = last
		}
		rep.Since, rep.Until = Day(rep.Since), Day(rep.Until)
		if rep.Since.After(rep.Until) || rep.Since.After(last) {
			rep.Stop, rep.Step = StopNoNewData, m.opt.step
			return rep, nil
		}
	}
	t := newTrainer(m.cfg, series, rep.Since, rep.Until, pol)
	if len(t.fresh) == 0 && rep.Mode == training.Full {
		return rep, fmt.Errorf("train: no window has an observed target between %s and %s before the %d validation days", rep.Since.Format(time.DateOnly), rep.Until.Format(time.DateOnly), t.valDays)
	}
	// The model changes only from here on.
	if rep.Mode == training.Full {
		m.initialise()
		clear(m.scales)
	}
	m.updateScales(series, &rep)
	if len(t.fresh) == 0 {
		rep.Stop = StopNoNewWindow
		m.record(&rep, last)
		return rep, nil
	}
	t.bind(m, series)
	epochs, patience := pol.FullEpochs, pol.FullPatience
	if rep.Mode == training.FineTune {
		epochs, patience = pol.FineTuneEpochs, pol.FineTunePatience
	}
	rep.MaxEpochs = epochs
	rep.NewWindows, rep.ReplayWindows = t.epochSize(rep.Mode)
	rep.Windows = rep.NewWindows + rep.ReplayWindows
	rep.ValWindows = len(t.val)
	err := t.run(ctx, &rep, opt, epochs, patience)
	m.record(&rep, last)
	return rep, err
}

// record ends a run that trained through last: the model's last day, its optimiser step in the
// report, and the run in the model's history.
func (m *Model) record(rep *Report, last time.Time) {
	m.lastDate = maxTime(m.lastDate, last)
	rep.Step = m.opt.step
	m.runs = append(m.runs, Run{Mode: rep.Mode, Since: rep.Since, Until: rep.Until, Epochs: rep.Epochs,
		Windows: rep.Windows, Loss: rep.Loss, ValLoss: rep.ValLoss, Stop: rep.Stop, Step: rep.Step,
		NewSeries: len(rep.NewSeries)})
	if len(m.runs) > maxRuns {
		m.runs = m.runs[len(m.runs)-maxRuns:]
	}
	m.fresh = nil
}

// dataSpan is the first and last day with a value over all series.
func dataSpan(series []Series) (first, last time.Time, ok bool) {
	for _, s := range series {
		if len(s.Values) == 0 {
			continue
		}
		if !ok || s.Start.Before(first) {
			first = s.Start
		}
		if !ok || s.End().After(last) {
			last = s.End()
		}
		ok = true
	}
	return first, last, ok
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// updateScales sets every series' fallback scale to its level at its end,
// and lists the series the model had not seen.
func (m *Model) updateScales(series []Series, rep *Report) {
	for _, s := range series {
		if observed(s.Values) == 0 {
			continue
		}
		if _, ok := m.scales[s.ID]; !ok && rep.Mode == training.FineTune {
			rep.NewSeries = append(rep.NewSeries, s.ID)
		}
		m.scales[s.ID] = level(s.Values, m.cfg.Window)
	}
}

// trainer holds one run's data and every buffer its batches need.
type trainer struct {
	m        *Model
	pol      Policy
	series   []Series
	startDay []int64     // each series' first day, in days since 1970-01-01
	fallback []float64   // each series' scale for a context with no observed non-zero value
	valDays  int         // days held out for validation
	fresh    []windowRef // windows with an observed new target (all of them in full)
	old      []windowRef // the replay pool
	val      []windowRef // held-out windows
	epoch    []windowRef // this epoch's windows
	pool     []windowRef // scratch for sampling
	ws       *workspace[float32]
	grad     []float32
	gw       weights[float32]
	rng      *rand.Rand
	best     snapshot
}

// snapshot is a copy of the trainable state.
type snapshot struct {
	params, m, v []float32
	step         int64
}

func newSnapshot(n int) snapshot {
	return snapshot{params: make([]float32, n), m: make([]float32, n), v: make([]float32, n)}
}

func (s *snapshot) save(m *Model) {
	copy(s.params, m.params)
	copy(s.m, m.opt.m)
	copy(s.v, m.opt.v)
	s.step = m.opt.step
}

func (s *snapshot) restore(m *Model) {
	copy(m.params, s.params)
	copy(m.opt.m, s.m)
	copy(m.opt.v, s.v)
	m.opt.step = s.step
}

// newTrainer sorts the windows of the series. The last validation days of
// [since, until] are held out: the validation windows are those with a
// target among them (every horizon predicts each of them), and no training
// window has one as its target. A training window is new when one of its
// observed targets is a day of [since, until] (before the validation days),
// and old (the replay pool) otherwise: a series without a new day has no new
// window, however far its last windows' horizons reach past its end. A
// window needs an observed day in its context and an observed target.
func newTrainer(cfg Config, series []Series, since, until time.Time, pol Policy) *trainer {
	t := &trainer{pol: pol}
	t.valDays = min(pol.ValidationDays, (days(since, until)+1)/4)
	W, H := cfg.Window, cfg.Horizon
	for si, s := range series {
		n := len(s.Values)
		// seen[i] is the number of observed values before index i.
		seen := make([]int32, n+1)
		for i, v := range s.Values {
			seen[i+1] = seen[i]
			if !math.IsNaN(v) {
				seen[i+1]++
			}
		}
		count := func(lo, hi int) int32 { return seen[min(max(hi, 0), n)] - seen[min(max(lo, 0), n)] }
		first, end := days(s.Start, since), days(s.Start, until)+1 // new targets: [first, end)
		valFrom := end - t.valDays
		add := func(dst *[]windowRef, o, lo, hi int) {
			if count(o-W, o) > 0 && count(max(o, lo), min(o+H, hi)) > 0 {
				*dst = append(*dst, windowRef{int32(si), int32(o), int32(max(o, lo)), int32(min(o+H, hi, n))})
			}
		}
		for o := 1; o < n; o++ {
			switch {
			case o >= end:
				add(&t.old, o, o, n)
			case o < valFrom && count(max(o, first), min(o+H, valFrom)) > 0:
				add(&t.fresh, o, o, valFrom)
			case o < valFrom:
				add(&t.old, o, o, valFrom)
			}
			if t.valDays > 0 && o+H > valFrom && o < end {
				add(&t.val, o, valFrom, end)
			}
		}
	}
	return t
}

// bind attaches the trainer to the model: it keeps the series, their days
// and fallback scales, seeds the run's random numbers from the model's step,
// and allocates every buffer the run needs.
func (t *trainer) bind(m *Model, series []Series) {
	n := len(m.params)
	t.m = m
	t.ws = newWorkspace[float32](m.cfg, m.cfg.BatchSize)
	t.grad = make([]float32, n)
	t.gw = bindWeights(m.cfg.Layers, m.cfg.inputs(), m.cfg.outputs(), t.grad)
	t.rng = rand.New(rand.NewPCG(m.cfg.Seed, trainStream+uint64(m.opt.step)))
	t.best = newSnapshot(n)
	t.series = series
	for _, s := range series {
		t.startDay = append(t.startDay, epochDay(s.Start))
		sc, ok := m.scales[s.ID]
		if !ok {
			sc = 1
		}
		t.fallback = append(t.fallback, sc)
	}
	t.epoch = make([]windowRef, 0, min(len(t.fresh), t.pol.MaxWindows)+min(len(t.old), t.pol.MaxReplay))
	t.pool = make([]windowRef, max(len(t.fresh), len(t.old)))
}

// epochSize is the number of new and replayed windows of each epoch.
func (t *trainer) epochSize(mode training.Mode) (fresh, replay int) {
	fresh = min(len(t.fresh), t.pol.MaxWindows)
	if mode == training.Full {
		return fresh, 0
	}
	replay = int(math.Round(t.pol.ReplayRatio * float64(fresh)))
	return fresh, min(replay, t.pol.MaxReplay, len(t.old))
}

// sample appends k windows drawn without replacement from src.
func (t *trainer) sample(dst, src []windowRef, k int) []windowRef {
	if k >= len(src) {
		return append(dst, src...)
	}
	p := t.pool[:len(src)]
	copy(p, src)
	for i := range k {
		j := i + t.rng.IntN(len(p)-i)
		p[i], p[j] = p[j], p[i]
	}
	return append(dst, p[:k]...)
}

// run trains for up to epochs epochs with early stopping, filling rep.
func (t *trainer) run(ctx context.Context, rep *Report, opt TrainOptions, epochs, patience int) error {
	m := t.m
	deadline := opt.Deadline
	if d, ok := ctx.Deadline(); ok && (deadline.IsZero() || d.Before(deadline)) {
		deadline = d
	}
	var slowestBatch, valTime time.Duration
	start := time.Now()
	bestVal := math.Inf(1)
	if len(t.val) > 0 {
		bestVal = t.evaluate(t.val)
		rep.InitialValLoss = bestVal
	}
	valTime = time.Since(start)
	t.best.save(m)
	wait := 0
	rep.Stop = StopEpochs
	nFresh, nReplay := t.epochSize(rep.Mode)
	for e := 1; e <= epochs; e++ {
		t.epoch = t.sample(t.epoch[:0], t.fresh, nFresh)
		t.epoch = t.sample(t.epoch, t.old, nReplay)
		t.rng.Shuffle(len(t.epoch), func(i, j int) { t.epoch[i], t.epoch[j] = t.epoch[j], t.epoch[i] })
		var sum float64
		stopped := false
		for b := 0; b < len(t.epoch); b += m.cfg.BatchSize {
			if err := ctx.Err(); err != nil {
				rep.Stop = StopCanceled
				if errors.Is(err, context.DeadlineExceeded) {
					rep.Stop = StopDeadline
				}
				stopped = true
				break
			}
			if !deadline.IsZero() && time.Until(deadline) < 2*slowestBatch+valTime {
				rep.Stop, stopped = StopDeadline, true
				break
			}
			batch := t.epoch[b:min(b+m.cfg.BatchSize, len(t.epoch))]
			t0 := time.Now()
			sum += t.step(batch) * float64(len(batch))
			slowestBatch = max(slowestBatch, time.Since(t0))
		}
		if stopped {
			break
		}
		loss := sum / float64(len(t.epoch))
		if math.IsNaN(loss) || math.IsInf(loss, 0) {
			rep.Stop = StopDiverged
			t.best.restore(m)
			return fmt.Errorf("train: epoch %d: loss %v: %w", e, loss, ErrDiverged)
		}
		t0 := time.Now()
		ep := Epoch{Epoch: e, Epochs: epochs, Loss: loss}
		if len(t.val) > 0 {
			ep.ValLoss = t.evaluate(t.val)
		}
		valTime = time.Since(t0)
		rep.Epochs = e
		rep.History = append(rep.History, ep)
		if opt.Progress != nil {
			opt.Progress(ep)
		}
		if len(t.val) == 0 || ep.ValLoss < bestVal {
			bestVal, wait = ep.ValLoss, 0
			rep.BestEpoch, rep.Loss, rep.ValLoss = e, ep.Loss, ep.ValLoss
			t.best.save(m)
		} else if wait++; wait >= patience {
			rep.Stop = StopEarly
			break
		}
	}
	t.best.restore(m)
	if rep.BestEpoch == 0 {
		rep.ValLoss = rep.InitialValLoss
	}
	if rep.Stop == StopCanceled {
		return fmt.Errorf("train: %w", ctx.Err())
	}
	return nil
}

// load fills the workspace's inputs and targets with the windows.
func (t *trainer) load(batch []windowRef) {
	ws, cfg, n := t.ws, t.m.cfg, len(batch)
	W, H, nf := cfg.Window, cfg.Horizon, cfg.inputs()
	for r, ref := range batch {
		s := t.series[ref.series]
		o := int(ref.origin)
		scale := windowScale(s.Values, o-W, o, t.fallback[ref.series])
		fillContext(ws.x, r, n, nf, W, s.Values, s.Covariates, t.startDay[ref.series], o, scale)
		y, ob := ws.y[r*H:r*H+H], ws.observed[r*H:r*H+H]
		for d := range H {
			y[d], ob[d] = 0, 0
			if i := o + d; i >= int(ref.lo) && i < int(ref.hi) && !math.IsNaN(s.Values[i]) {
				y[d], ob[d] = float32(s.Values[i]/scale), 1
			}
		}
	}
}

// step takes one gradient step on the batch and returns its loss.
func (t *trainer) step(batch []windowRef) float64 {
	m := t.m
	t.load(batch)
	relu := m.cfg.Activation == ReLU
	forward(t.ws, m.w, len(batch), relu, m.cfg.Dropout, t.rng)
	clear(t.grad)
	loss := backward(t.ws, m.w, t.gw, relu)
	m.opt.update(m.cfg, m.params, t.grad)
	return loss
}

// evaluate is the mean pinball loss of the model over the observed targets
// of the windows, without dropout.
func (t *trainer) evaluate(windows []windowRef) float64 {
	m := t.m
	var sum float64
	count := 0
	for b := 0; b < len(windows); b += m.cfg.BatchSize {
		batch := windows[b:min(b+m.cfg.BatchSize, len(windows))]
		t.load(batch)
		forward(t.ws, m.w, len(batch), m.cfg.Activation == ReLU, 0, nil)
		s, c := pinball(t.ws, false)
		sum, count = sum+s, count+c
	}
	if count == 0 {
		return 0
	}
	return sum / float64(count)
}
