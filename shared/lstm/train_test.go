package lstm

import (
	"bytes"
	"context"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stockcast/stockcast/shared/training"
)

func TestOverfitsTinyDataset(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Dropout = 0
	cfg.BatchSize = 16
	cfg.LearningRate = 3e-3
	cfg.Window, cfg.Horizon, cfg.Quantiles = 10, 3, []float64{0.5}
	_, tr, _ := setupWith(t, cfg)
	var batch []windowRef
	for i := range cfg.BatchSize {
		o := cfg.Window + 5*i
		batch = append(batch, windowRef{0, int32(o), int32(o), int32(o + cfg.Horizon)})
	}
	first := tr.evaluate(batch)
	for range 800 {
		tr.step(batch)
	}
	last := tr.evaluate(batch)
	if !(last < first/20) {
		t.Fatalf("loss on 16 random windows went from %v to %v; want a network that memorises them", first, last)
	}
}

func TestTrainingStepDoesNotAllocate(t *testing.T) {
	_, tr, batch := benchSetup(t, Tanh)
	if n := testing.AllocsPerRun(5, func() { tr.step(batch) }); n != 0 {
		t.Fatalf("a training step allocates %v times", n)
	}
}

func TestTrainIsDeterministic(t *testing.T) {
	data := synthSeries(3, 120, 1)
	run := func(seed uint64) []byte {
		cfg := smallConfig()
		cfg.Seed = seed
		m := mustNew(t, cfg)
		if _, err := m.Train(context.Background(), data, TrainOptions{Policy: quickPolicy()}); err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if _, err := m.WriteTo(&buf); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	a, b, c := run(5), run(5), run(6)
	if !bytes.Equal(a, b) {
		t.Error("two runs with the same seed differ")
	}
	if bytes.Equal(a, c) {
		t.Error("runs with different seeds are identical")
	}
}

func TestModeSelection(t *testing.T) {
	data := synthSeries(2, 100, 2)
	ctx := context.Background()
	m := mustNew(t, smallConfig())
	rep, err := m.Train(ctx, data, TrainOptions{Mode: training.FineTune, Policy: quickPolicy()})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Mode != training.Full || rep.Reason != "untrained model" {
		t.Errorf("fine-tuning an untrained model: mode %q, reason %q", rep.Mode, rep.Reason)
	}
	if !m.LastDate().Equal(data[0].End()) {
		t.Errorf("last date %v, want %v", m.LastDate(), data[0].End())
	}
	rep, err = m.Train(ctx, data, TrainOptions{Policy: quickPolicy()})
	if err != nil || rep.Stop != StopNoNewData || rep.Epochs != 0 {
		t.Errorf("fine-tune without new days: %+v, %v", rep, err)
	}
	if _, err := m.Train(ctx, data, TrainOptions{Mode: "partial"}); err == nil {
		t.Error("unknown mode accepted")
	}
	if _, err := m.Train(ctx, []Series{{ID: "x", Start: day0, Values: []float64{1, math.Inf(1)}}}, TrainOptions{}); err == nil {
		t.Error("an infinite value accepted")
	}
	var before, after bytes.Buffer
	if _, err := m.WriteTo(&before); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Train(ctx, upTo(data, 1), TrainOptions{Mode: training.Full}); err == nil || !strings.Contains(err.Error(), "no window") {
		t.Errorf("series of one day: %v", err)
	}
	if _, err := m.WriteTo(&after); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before.Bytes(), after.Bytes()) {
		t.Error("a refused training run changed the model")
	}
	if len(m.Runs()) != 1 || m.Runs()[0].Mode != training.Full {
		t.Errorf("runs %+v, want the one full run", m.Runs())
	}
}

// TestFineTuneLearnsNewDaysWithoutForgetting trains on 360 days, then
// fine-tunes on 30 new days whose weekends sell twice as much as before. The
// error of 7-day forecasts over the new days must fall by at least 10%, and
// over old days must not rise by more than 10%.
func TestFineTuneLearnsNewDaysWithoutForgetting(t *testing.T) {
	const oldDays, newDays = 360, 30
	data := synthSeries(6, oldDays+newDays, 3)
	for _, s := range data {
		for i := oldDays; i < len(s.Values); i++ {
			if wd := s.Start.AddDate(0, 0, i).Weekday(); wd == time.Saturday || wd == time.Sunday {
				s.Values[i] *= 2
			}
		}
	}
	ctx := context.Background()
	m := mustNew(t, smallConfig())
	pol := Policy{FullEpochs: 15, FineTuneEpochs: 40, FineTunePatience: 5, ValidationDays: 7}
	if _, err := m.Train(ctx, upTo(data, oldDays), TrainOptions{Policy: pol}); err != nil {
		t.Fatal(err)
	}
	newFrom, newTo := day0.AddDate(0, 0, oldDays), day0.AddDate(0, 0, oldDays+newDays-1)
	oldBefore, newBefore := horizonMAE(t, m, data, 200, 300), horizonMAE(t, m, data, 362, 369, 376)

	var progress []Epoch
	rep, err := m.Train(ctx, data, TrainOptions{Policy: pol, Progress: func(e Epoch) { progress = append(progress, e) }})
	if err != nil {
		t.Fatal(err)
	}
	oldAfter, newAfter := horizonMAE(t, m, data, 200, 300), horizonMAE(t, m, data, 362, 369, 376)
	t.Logf("old days MAE %.2f → %.2f, new days %.2f → %.2f; val loss %.4f → %.4f", oldBefore, oldAfter, newBefore, newAfter, rep.InitialValLoss, rep.ValLoss)
	if rep.Mode != training.FineTune || !rep.Since.Equal(newFrom) || !rep.Until.Equal(newTo) {
		t.Errorf("report %+v: want fine-tuning of %v..%v", rep, newFrom, newTo)
	}
	// New windows: origins 354..382, whose 7 days reach a new day before
	// the 7 validation days 383..389; validation windows: origins 377..389.
	if rep.NewWindows != 6*29 || rep.ReplayWindows != 2*rep.NewWindows || rep.ValWindows != 6*13 {
		t.Errorf("windows: %d new, %d replayed, %d validation", rep.NewWindows, rep.ReplayWindows, rep.ValWindows)
	}
	if len(progress) != rep.Epochs || len(rep.History) != rep.Epochs {
		t.Errorf("%d progress calls and %d history entries for %d epochs", len(progress), len(rep.History), rep.Epochs)
	}
	if !(newAfter < 0.9*newBefore) {
		t.Errorf("fine-tuning did not lower the error on the new days: %.2f → %.2f", newBefore, newAfter)
	}
	if !(oldAfter < 1.1*oldBefore) {
		t.Errorf("fine-tuning raised the error on the old days beyond 10%%: %.2f → %.2f", oldBefore, oldAfter)
	}
}

func TestNewSeriesAndScales(t *testing.T) {
	data := synthSeries(2, 120, 4)
	ctx := context.Background()
	m := mustNew(t, smallConfig())
	if _, err := m.Train(ctx, upTo(data, 100), TrainOptions{Policy: quickPolicy()}); err != nil {
		t.Fatal(err)
	}
	before, _ := m.Scale(data[0].ID)
	for i := 100; i < 120; i++ {
		data[0].Values[i] *= 3
	}
	data = append(data, Series{ID: "new", Start: day0.AddDate(0, 0, 60), Values: synthSeries(1, 60, 9)[0].Values})
	rep, err := m.Train(ctx, data, TrainOptions{Policy: quickPolicy()})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.NewSeries) != 1 || rep.NewSeries[0] != "new" {
		t.Errorf("new series %v", rep.NewSeries)
	}
	W := m.Config().Window
	if sc, ok := m.Scale("new"); !ok || sc != level(data[2].Values, W) {
		t.Errorf("scale of the new series %v, %v", sc, ok)
	}
	if after, _ := m.Scale(data[0].ID); after != level(data[0].Values, W) || !(after > 2*before) {
		t.Errorf("scale of a series that tripled: %v → %v", before, after)
	}
}

// TestFineTuneEpochsAreCapped: a fine-tune after a large upload draws at most MaxWindows new
// windows each epoch (and twice as many replayed ones), as a full epoch does.
func TestFineTuneEpochsAreCapped(t *testing.T) {
	data := synthSeries(6, 390, 7)
	ctx := context.Background()
	m := mustNew(t, smallConfig())
	if _, err := m.Train(ctx, upTo(data, 300), TrainOptions{Policy: quickPolicy()}); err != nil {
		t.Fatal(err)
	}
	pol := quickPolicy()
	pol.MaxWindows, pol.FineTuneEpochs = 50, 2
	rep, err := m.Train(ctx, data, TrainOptions{Policy: pol})
	if err != nil {
		t.Fatal(err)
	}
	// 90 new days of 6 series hold far more than 50 new windows.
	if rep.NewWindows != 50 || rep.ReplayWindows != 100 || rep.Windows != 150 || rep.Epochs != 2 {
		t.Errorf("report %+v: want epochs of 50 new and 100 replayed windows", rep)
	}
}

// TestFineTuneWithoutANewWindow fine-tunes on the days of a new series sold on one day, a month
// after the data's last day: no window has one of them as an observed target (the series' context
// is empty, the other series' horizons end before it).
// That is no error: the weights stay, the new series gets its scale, the model its last day, and
// the run is recorded.
func TestFineTuneWithoutANewWindow(t *testing.T) {
	data := synthSeries(2, 100, 5)
	ctx := context.Background()
	m := mustNew(t, smallConfig())
	if _, err := m.Train(ctx, data, TrainOptions{Policy: quickPolicy()}); err != nil {
		t.Fatal(err)
	}
	before := horizonMAE(t, m, data, 80, 90)
	step := m.Step()
	late := Series{ID: "late", Start: day0.AddDate(0, 0, 130), Values: []float64{6}}
	rep, err := m.Train(ctx, append(data, late), TrainOptions{Since: late.Start, Policy: quickPolicy()})
	if err != nil {
		t.Fatalf("fine-tune without a new window: %v", err)
	}
	if rep.Stop != StopNoNewWindow || rep.Epochs != 0 || rep.Windows != 0 || len(rep.NewSeries) != 1 || rep.NewSeries[0] != "late" {
		t.Errorf("report %+v, want no_new_window, no epoch, the new series listed", rep)
	}
	if after := horizonMAE(t, m, data, 80, 90); after != before || m.Step() != step {
		t.Errorf("the weights changed: MAE %v → %v, step %d → %d", before, after, step, m.Step())
	}
	if sc, ok := m.Scale("late"); !ok || sc != level(late.Values, m.Config().Window) {
		t.Errorf("scale of the new series %v, %v", sc, ok)
	}
	if !m.LastDate().Equal(late.End()) {
		t.Errorf("last date %v, want %v", m.LastDate(), late.End())
	}
	if runs := m.Runs(); len(runs) != 2 || runs[1].Stop != StopNoNewWindow || runs[1].NewSeries != 1 {
		t.Errorf("runs %+v, want the full run and the one without a window", runs)
	}
	// Fine-tuning in full needs a window all the same.
	if _, err := mustNew(t, smallConfig()).Train(ctx, []Series{late}, TrainOptions{}); err == nil || !strings.Contains(err.Error(), "no window") {
		t.Errorf("a full training of one day: %v", err)
	}
}

// TestAbsentDatesAreNotZeros trains on products observed only every 10th
// day, around 75 units a day: a model that read the absent dates as zero
// sales would forecast a fraction of that.
func TestAbsentDatesAreNotZeros(t *testing.T) {
	data := synthSeries(4, 400, 12)
	for p, s := range data {
		for i := range s.Values {
			if (i+p)%10 != 0 {
				s.Values[i] = math.NaN()
			} else {
				s.Values[i] = 75 * (1 + 0.1*math.Sin(float64(i)))
			}
		}
	}
	m := mustNew(t, smallConfig())
	if _, err := m.Train(context.Background(), data, TrainOptions{Policy: quickPolicy()}); err != nil {
		t.Fatal(err)
	}
	for _, s := range data {
		f, err := m.Forecast(Query{ID: s.ID, History: s.Values, Last: s.End(), Horizon: 7})
		if err != nil {
			t.Fatal(err)
		}
		for d, v := range f.Point {
			if !(v > 60 && v < 90) {
				t.Fatalf("%s day %d: forecast %.1f where every observed day sold about 75", s.ID, d, v)
			}
		}
	}
}

func TestDeadlineStopsCleanly(t *testing.T) {
	data := synthSeries(4, 400, 5)
	m := mustNew(t, smallConfig())
	pol := Policy{FullEpochs: 1000, FullPatience: 1000}
	rep, err := m.Train(context.Background(), data, TrainOptions{Policy: pol, Deadline: time.Now().Add(200 * time.Millisecond)})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Stop != StopDeadline || rep.Epochs >= rep.MaxEpochs {
		t.Fatalf("stop %q after %d of %d epochs, want the deadline", rep.Stop, rep.Epochs, rep.MaxEpochs)
	}
	var buf bytes.Buffer
	if _, err := m.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	if _, err := Read(&buf); err != nil {
		t.Fatalf("checkpoint after a deadline stop: %v", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	m = mustNew(t, smallConfig())
	rep, err = m.Train(ctx, data, TrainOptions{Policy: pol, Progress: func(e Epoch) {
		if e.Epoch == 2 {
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) || rep.Stop != StopCanceled || rep.Epochs != 2 {
		t.Fatalf("cancel after epoch 2: stop %q after %d epochs, %v", rep.Stop, rep.Epochs, err)
	}
}

func TestDaily(t *testing.T) {
	d := func(i int) time.Time { return day0.AddDate(0, 0, i).Add(time.Duration(i) * time.Hour) }
	s, err := Daily("p", []time.Time{d(3), d(0), d(3), d(5)}, []float64{1, 2, 4, 8})
	if err != nil {
		t.Fatal(err)
	}
	nan := math.NaN()
	want := []float64{2, nan, nan, 5, nan, 8}
	if s.ID != "p" || !s.Start.Equal(day0) || len(s.Values) != len(want) {
		t.Fatalf("series %+v", s)
	}
	for i := range want {
		if math.Float64bits(s.Values[i]) != math.Float64bits(want[i]) && !(math.IsNaN(want[i]) && math.IsNaN(s.Values[i])) {
			t.Fatalf("values %v, want %v (absent dates are not observed)", s.Values, want)
		}
	}
	if !s.End().Equal(day0.AddDate(0, 0, 5)) {
		t.Errorf("end %v", s.End())
	}
	if _, err := Daily("p", []time.Time{d(0)}, nil); err == nil || !strings.Contains(err.Error(), "1 dates for 0 values") {
		t.Errorf("mismatched lengths: %v", err)
	}
}

func TestDivergenceKeepsTheLastGoodWeights(t *testing.T) {
	data := synthSeries(2, 80, 6)
	m := mustNew(t, smallConfig())
	if _, err := m.Train(context.Background(), data, TrainOptions{Policy: quickPolicy()}); err != nil {
		t.Fatal(err)
	}
	q := Query{ID: data[0].ID, History: data[0].Values[:20], Last: day0.AddDate(0, 0, 19), Horizon: 3}
	good, _ := m.Forecast(q)
	step := m.Step()
	m.cfg.LearningRate = 1e300
	rep, err := m.Train(context.Background(), data, TrainOptions{Mode: training.FineTune, Since: day0.AddDate(0, 0, 40), Policy: quickPolicy()})
	if !errors.Is(err, ErrDiverged) || rep.Stop != StopDiverged {
		t.Fatalf("training at a learning rate of 1e300: stop %q, %v", rep.Stop, err)
	}
	got, _ := m.Forecast(q)
	for d := range good.Point {
		if got.Point[d] != good.Point[d] || m.Step() != step {
			t.Fatalf("after divergence: forecast %v, step %d; before %v, step %d", got, m.Step(), good, step)
		}
	}
}

// TestNewWindowsHaveANewTarget: after an upload of 10 new days for one series only, a window is
// new exactly when one of its observed targets is a new day before the validation days; a series
// without a new day contributes none, its last windows (whose horizons reach past the start of
// the new days, on days it has no value) are replayed, and a window whose only new target is
// not observed is replayed too.
func TestNewWindowsHaveANewTarget(t *testing.T) {
	cfg := smallConfig() // 14 days of context, 7 ahead
	data := synthSeries(2, 110, 13)
	old, fresh := upTo(data, 100)[0], data[1] // no new day; 10 new days (indices 100..109)
	fresh.Values[100] = math.NaN()            // the window at 94 has no other new target
	since, until := day0.AddDate(0, 0, 100), day0.AddDate(0, 0, 109)
	tr := newTrainer(cfg, []Series{old, fresh}, since, until, quickPolicy())
	// 10 new days hold out a quarter (2): the new targets are 101..107, and the new windows
	// the origins 95..107 of the second series.
	if tr.valDays != 2 {
		t.Fatalf("%d validation days, want 2", tr.valDays)
	}
	var got []int32
	for _, w := range tr.fresh {
		if w.series != 1 {
			t.Errorf("new window %+v of the series without a new day", w)
			continue
		}
		got = append(got, w.origin)
	}
	var want []int32
	for o := int32(95); o <= 107; o++ {
		want = append(want, o)
	}
	if !slices.Equal(got, want) {
		t.Errorf("new windows at origins %v, want %v", got, want)
	}
	replayed := map[[2]int32]bool{}
	for _, w := range tr.old {
		replayed[[2]int32{w.series, w.origin}] = true
	}
	for _, w := range []windowRef{{series: 0, origin: 99}, {series: 0, origin: 94}, {series: 1, origin: 94}} {
		if !replayed[[2]int32{w.series, w.origin}] {
			t.Errorf("window of series %d at %d not replayed", w.series, w.origin)
		}
	}
	// Train reports the same counts.
	ctx := context.Background()
	m := mustNew(t, cfg)
	if _, err := m.Train(ctx, []Series{old, upTo([]Series{fresh}, 100)[0]}, TrainOptions{Policy: quickPolicy()}); err != nil {
		t.Fatal(err)
	}
	pol := quickPolicy()
	pol.FineTuneEpochs = 1
	rep, err := m.Train(ctx, []Series{old, fresh}, TrainOptions{Policy: pol})
	if err != nil {
		t.Fatal(err)
	}
	if rep.NewWindows != len(want) || rep.ReplayWindows != 2*len(want) {
		t.Errorf("report: %d new and %d replayed windows, want %d and %d", rep.NewWindows, rep.ReplayWindows, len(want), 2*len(want))
	}
}
