package lstm

import (
	"bytes"
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

func TestOverfitsTinyDataset(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Dropout = 0
	cfg.BatchSize = 16
	cfg.LearningRate = 3e-3
	m := mustNew(t, cfg)
	rng := rand.New(rand.NewPCG(2, 3))
	s := make([]float32, 50)
	for i := range s {
		s[i] = rng.Float32()
	}
	tr := &trainer{m: m, scaled: [][]float32{s}, ws: newWorkspace[float32](cfg, cfg.BatchSize), grad: make([]float32, len(m.params)), rng: rng}
	tr.gw = bindWeights(cfg.Layers, tr.grad)
	var batch []windowRef
	for i := range cfg.BatchSize {
		batch = append(batch, windowRef{0, int32(cfg.Window + 2*i)})
	}
	first := tr.evaluate(batch)
	for range 600 {
		tr.step(batch)
	}
	last := tr.evaluate(batch)
	if !(last < first/100 && last < 1e-3) {
		t.Fatalf("loss on 16 random targets went from %v to %v; want a network that memorises them", first, last)
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
	rep, err := m.Train(ctx, data, TrainOptions{Mode: ModeFineTune, Policy: quickPolicy()})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Mode != ModeFull || rep.Reason != "untrained model" {
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
	if _, err := m.Train(ctx, []Series{{ID: "x", Start: day0, Values: []float64{1, math.NaN()}}}, TrainOptions{}); err == nil {
		t.Error("NaN accepted")
	}
	var before, after bytes.Buffer
	if _, err := m.WriteTo(&before); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Train(ctx, upTo(data, 5), TrainOptions{Mode: ModeFull}); err == nil || !strings.Contains(err.Error(), "no window") {
		t.Errorf("series shorter than a window: %v", err)
	}
	if _, err := m.WriteTo(&after); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before.Bytes(), after.Bytes()) {
		t.Error("a refused training run changed the model")
	}
	if len(m.Runs()) != 1 || m.Runs()[0].Mode != ModeFull {
		t.Errorf("runs %+v, want the one full run", m.Runs())
	}
}

// TestFineTuneLearnsNewDaysWithoutForgetting trains on 360 days, then
// fine-tunes on 30 new days whose demand is 25% higher (beyond the scalers'
// ranges). The one-day-ahead error on the new days must fall by at least
// 10%, and on the old days must not rise by more than 10%.
func TestFineTuneLearnsNewDaysWithoutForgetting(t *testing.T) {
	const oldDays, newDays = 360, 30
	data := synthSeries(6, oldDays+newDays, 3)
	for _, s := range data {
		for i := oldDays; i < len(s.Values); i++ {
			s.Values[i] *= 1.25
		}
	}
	ctx := context.Background()
	m := mustNew(t, smallConfig())
	pol := Policy{FullEpochs: 15, FineTuneEpochs: 10, ValidationDays: 7}
	if _, err := m.Train(ctx, upTo(data, oldDays), TrainOptions{Policy: pol}); err != nil {
		t.Fatal(err)
	}
	oldFrom, oldTo := day0.AddDate(0, 0, 10), day0.AddDate(0, 0, oldDays-1)
	newFrom, newTo := day0.AddDate(0, 0, oldDays), day0.AddDate(0, 0, oldDays+newDays-1)
	oldBefore, newBefore := oneStepMSE(t, m, data, oldFrom, oldTo), oneStepMSE(t, m, data, newFrom, newTo)

	var progress []Epoch
	rep, err := m.Train(ctx, data, TrainOptions{Policy: pol, Progress: func(e Epoch) { progress = append(progress, e) }})
	if err != nil {
		t.Fatal(err)
	}
	oldAfter, newAfter := oneStepMSE(t, m, data, oldFrom, oldTo), oneStepMSE(t, m, data, newFrom, newTo)
	t.Logf("old days MSE %.1f → %.1f, new days %.1f → %.1f; initial val %v, %+v", oldBefore, oldAfter, newBefore, newAfter, rep.InitialValLoss, rep.History)
	if rep.Mode != ModeFineTune || !rep.Since.Equal(newFrom) || !rep.Until.Equal(newTo) {
		t.Errorf("report %+v: want fine-tuning of %v..%v", rep, newFrom, newTo)
	}
	if rep.NewWindows != 6*(newDays-7) || rep.ReplayWindows != rep.NewWindows || rep.ValWindows != 6*7 {
		t.Errorf("windows: %d new, %d replayed, %d validation", rep.NewWindows, rep.ReplayWindows, rep.ValWindows)
	}
	if len(rep.Widened) == 0 {
		t.Error("no scaler widened by values 25% above the old range")
	}
	if len(progress) != rep.Epochs || len(rep.History) != rep.Epochs {
		t.Errorf("%d progress calls and %d history entries for %d epochs", len(progress), len(rep.History), rep.Epochs)
	}
	if !(newAfter < 0.9*newBefore) {
		t.Errorf("fine-tuning did not lower the error on the new days: %.1f → %.1f", newBefore, newAfter)
	}
	if !(oldAfter < 1.1*oldBefore) {
		t.Errorf("fine-tuning raised the error on the old days beyond 10%%: %.1f → %.1f", oldBefore, oldAfter)
	}
}

func TestNewSeriesAndWidening(t *testing.T) {
	data := synthSeries(2, 120, 4)
	ctx := context.Background()
	m := mustNew(t, smallConfig())
	if _, err := m.Train(ctx, upTo(data, 100), TrainOptions{Policy: quickPolicy()}); err != nil {
		t.Fatal(err)
	}
	before, _ := m.Scaler(data[0].ID)
	data[0].Values[110] = before.Max + 50
	data = append(data, Series{ID: "new", Start: day0.AddDate(0, 0, 60), Values: synthSeries(1, 60, 9)[0].Values})
	rep, err := m.Train(ctx, data, TrainOptions{Policy: quickPolicy()})
	if err != nil {
		t.Fatal(err)
	}
	want := Widening{ID: data[0].ID, From: before, To: Scaler{Min: before.Min, Max: before.Max + 50}}
	if len(rep.Widened) != 1 || rep.Widened[0] != want {
		t.Errorf("widened %+v, want %+v", rep.Widened, want)
	}
	if len(rep.NewSeries) != 1 || rep.NewSeries[0] != "new" {
		t.Errorf("new series %v", rep.NewSeries)
	}
	if sc, ok := m.Scaler("new"); !ok || sc != fitScaler(data[2].Values) {
		t.Errorf("scaler of the new series %+v, %v", sc, ok)
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
	want := []float64{2, 0, 0, 5, 0, 8}
	if s.ID != "p" || !s.Start.Equal(day0) || len(s.Values) != len(want) {
		t.Fatalf("series %+v", s)
	}
	for i := range want {
		if s.Values[i] != want[i] {
			t.Fatalf("values %v, want %v", s.Values, want)
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
	good, _ := m.Forecast(Query{ID: data[0].ID, History: data[0].Values[:20], Horizon: 3})
	step := m.Step()
	m.cfg.LearningRate = 1e300
	rep, err := m.Train(context.Background(), data, TrainOptions{Mode: ModeFineTune, Since: day0.AddDate(0, 0, 40), Policy: quickPolicy()})
	if !errors.Is(err, ErrDiverged) || rep.Stop != StopDiverged {
		t.Fatalf("training at a learning rate of 1e300: stop %q, %v", rep.Stop, err)
	}
	got, _ := m.Forecast(Query{ID: data[0].ID, History: data[0].Values[:20], Horizon: 3})
	for d := range good {
		if got[d] != good[d] || m.Step() != step {
			t.Fatalf("after divergence: forecast %v, step %d; before %v, step %d", got, m.Step(), good, step)
		}
	}
}
