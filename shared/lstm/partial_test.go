//go:build unix

package lstm

import (
	"bytes"
	"context"
	"testing"

	"github.com/stockcast/stockcast/shared/cputime"
)

// BenchmarkFineTuneAfterAPartialUpload is the fine-tune of the default network and policy after
// an upload of 3 new days for 8 of 300 generated products (400 days each, trained in full
// before the upload, 15 epochs of 20,000 windows, not timed): the other series have no new day. It
// reports the new and replayed windows of each epoch, the fine-tune's CPU seconds, and the
// pinball loss (scaled units, as the validation loss) on held-out windows that neither model
// trained on — for every series the four 28-day windows from the day after its last one, 7 days
// apart — of the model before and after the fine-tune (heldout-ratio, after over before), over
// every series and over the 8 with new days.
func BenchmarkFineTuneAfterAPartialUpload(b *testing.B) {
	const products, touched, days, fresh = 300, 8, 400, 3
	cfg := DefaultConfig()
	H := cfg.Horizon
	truth := synthSeries(products, days+fresh+3*7+H, 17)
	data := make([]Series, products)
	for i, s := range truth {
		n := days
		if i < touched {
			n += fresh
		}
		data[i] = s
		data[i].Values = s.Values[:n:n]
	}
	pol := DefaultPolicy()
	pol.FullEpochs, pol.MaxWindows = 15, 20_000
	ctx := context.Background()
	pre := mustNew(b, cfg)
	if _, err := pre.Train(ctx, upTo(data, days), TrainOptions{Policy: pol}); err != nil {
		b.Fatal(err)
	}
	var ckpt bytes.Buffer
	if _, err := pre.WriteTo(&ckpt); err != nil {
		b.Fatal(err)
	}
	var heldOut, heldOutNew []windowRef
	for i, s := range data {
		for k := range 4 {
			o := int32(len(s.Values) + 7*k)
			w := windowRef{series: int32(i), origin: o, lo: o, hi: o + int32(H)}
			heldOut = append(heldOut, w)
			if i < touched {
				heldOutNew = append(heldOutNew, w)
			}
		}
	}
	// loss is the held-out losses of m over every series and over those with new days.
	loss := func(m *Model) (all, touched float64) {
		t := &trainer{pol: DefaultPolicy()}
		t.bind(m, truth)
		return t.evaluate(heldOut), t.evaluate(heldOutNew)
	}
	before, beforeNew := loss(pre)
	var rep Report
	var cpu float64
	var m *Model
	for b.Loop() {
		var err error
		if m, err = Read(bytes.NewReader(ckpt.Bytes())); err != nil {
			b.Fatal(err)
		}
		c0 := cputime.Used(b)
		if rep, err = m.Train(ctx, data, TrainOptions{Policy: DefaultPolicy()}); err != nil {
			b.Fatal(err)
		}
		cpu += (cputime.Used(b) - c0).Seconds()
	}
	after, afterNew := loss(m)
	b.ReportMetric(cpu/float64(b.N), "cpu-s/op")
	b.ReportMetric(float64(rep.NewWindows), "new-windows")
	b.ReportMetric(float64(rep.ReplayWindows), "replay-windows")
	b.ReportMetric(float64(rep.Epochs), "epochs")
	b.ReportMetric(before, "heldout-before")
	b.ReportMetric(after, "heldout-after")
	b.ReportMetric(after/before, "heldout-ratio")
	b.ReportMetric(afterNew/beforeNew, "heldout-new-ratio")
}
