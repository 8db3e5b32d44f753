package lstm_test

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"time"

	"github.com/stockcast/stockcast/shared/lstm"
)

// The fine-tuning job: resume from the stored checkpoint (here none, so the
// model trains in full and says why), train before the deadline, save; then
// the serving side reads the checkpoint and forecasts.
func Example() {
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	var dates []time.Time
	var sales []float64
	for d := range 120 {
		dates = append(dates, start.AddDate(0, 0, d))
		sales = append(sales, 20+10*math.Sin(2*math.Pi*float64(d)/7))
	}
	s, err := lstm.Daily("P0001", dates, sales)
	if err != nil {
		panic(err)
	}

	cfg := lstm.DefaultConfig()
	cfg.Layers = []int{8, 8} // small, so that the example runs fast
	m, fresh, err := lstm.Resume(nil, cfg)
	if err != nil {
		panic(err)
	}
	fmt.Println("from scratch:", fresh)
	rep, err := m.Train(context.Background(), []lstm.Series{s}, lstm.TrainOptions{
		Deadline: time.Now().Add(10 * time.Minute),
		Policy:   lstm.Policy{FullEpochs: 3},
		Progress: func(e lstm.Epoch) { fmt.Printf("epoch %d/%d\n", e.Epoch, e.Epochs) },
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(rep.Mode, rep.Reason, rep.Windows, "windows")
	var ckpt bytes.Buffer
	if _, err := m.WriteTo(&ckpt); err != nil {
		panic(err)
	}

	served, err := lstm.Read(&ckpt)
	if err != nil {
		panic(err)
	}
	next, err := served.Forecast(lstm.Query{ID: "P0001", History: s.Values, Last: s.End(), Horizon: 7})
	if err != nil {
		panic(err)
	}
	fmt.Println(len(next.Point), "days forecast, quantiles", next.Levels)
	// Output:
	// from scratch: no checkpoint
	// epoch 1/3
	// epoch 2/3
	// epoch 3/3
	// full no usable checkpoint: no checkpoint 105 windows
	// 7 days forecast, quantiles [0.1 0.5 0.9]
}
