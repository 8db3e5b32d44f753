package finetune_test

import (
	"bytes"
	"context"
	"flag"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stockcast/stockcast/shared/cputime"
	"github.com/stockcast/stockcast/shared/datagen"
	"github.com/stockcast/stockcast/shared/handlers/finetune"
	"github.com/stockcast/stockcast/shared/handlers/handlertest"
	"github.com/stockcast/stockcast/shared/lstm"
	"github.com/stockcast/stockcast/shared/pipeline"
	"github.com/stockcast/stockcast/shared/shards"
	"github.com/stockcast/stockcast/shared/store"
)

var benchData = flag.String("data", "", "BenchmarkFineTuneWithOrigins: a daily dataset CSV (date first) instead of generated data")

// BenchmarkFineTuneWithOrigins is the fine-tune after an upload of a week of new days, with the
// default network and schedule: the whole task, which fine-tunes the served model and the model
// of each backtest origin, on one worker (the baseline: one model after another) and on one per
// core; each reports the task's wall and CPU seconds, the served model's training time (what the
// fine-tune cost without origin models) and the sum of the four. Setup (not timed) trains the
// chain from scratch on the data before that week.
func BenchmarkFineTuneWithOrigins(b *testing.B) {
	data := handlertest.Generated(b, datagen.Config{Products: 30, Days: 730, Seed: 5})
	if *benchData != "" {
		var err error
		if data, err = os.ReadFile(*benchData); err != nil {
			b.Fatal(err)
		}
	}
	header, rows, _ := bytes.Cut(data, []byte("\n"))
	last, err := time.Parse(time.DateOnly, string(rows[bytes.LastIndexByte(bytes.TrimRight(rows, "\n"), '\n')+1:][:10]))
	if err != nil {
		b.Fatal(err)
	}
	from := last.AddDate(0, 0, -6)
	before := append(append([]byte(nil), header...), '\n')
	for line := range bytes.Lines(rows) {
		if string(line[:10]) < from.Format(time.DateOnly) {
			before = append(before, line...)
		}
	}
	ctx := context.Background()
	s := store.NewMemory("bench")
	h := finetune.New(s, slog.New(slog.DiscardHandler))
	run := func(dataset []byte, in pipeline.TaskInput) pipeline.FineTuneOutput {
		obj, err := s.Put(ctx, shards.SingleKey, bytes.NewReader(dataset), store.PutOptions{})
		if err != nil {
			b.Fatal(err)
		}
		in.Bucket, in.DatasetKey, in.DatasetETag, in.JobID = "bench", shards.SingleKey, obj.ETag, "bench"
		out, err := h.Handle(ctx, in)
		if err != nil {
			b.Fatal(err)
		}
		return out
	}
	rebuilt := run(before, pipeline.TaskInput{})
	saved := map[string][]byte{}
	for _, o := range append(rebuilt.Origins, pipeline.Origin{Key: pipeline.CheckpointKey}) {
		body, _, err := store.ReadAll(ctx, s, o.Key)
		if err != nil {
			b.Fatal(err)
		}
		saved[o.Key] = body
	}
	rebuildMS := rebuilt.TrainMS
	for _, o := range rebuilt.Origins {
		rebuildMS += o.TrainMS
	}
	// The baseline: the same fine-tune training its models one after another.
	for _, workers := range []struct {
		name string
		n    int
	}{{"1worker", 1}, {"parallel", 0}} {
		b.Run(workers.name, func(b *testing.B) {
			h.Workers = workers.n
			var served, total, servedWindows, totalWindows float64
			cpu := cputime.Used(b)
			for b.Loop() {
				b.StopTimer()
				for key, body := range saved {
					if _, err := s.Put(ctx, key, bytes.NewReader(body), store.PutOptions{}); err != nil {
						b.Fatal(err)
					}
				}
				b.StartTimer()
				out := run(data, pipeline.TaskInput{NewFrom: from.Format(time.DateOnly), NewTo: last.Format(time.DateOnly)})
				served, servedWindows = float64(out.TrainMS), float64(out.Windows*out.Epochs)
				total, totalWindows = served, servedWindows
				for _, o := range out.Origins {
					total += float64(o.TrainMS)
					totalWindows += float64(o.Windows * o.Epochs)
				}
			}
			b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "wall-s/op")
			b.ReportMetric((cputime.Used(b)-cpu).Seconds()/float64(b.N), "cpu-s/op")
			b.ReportMetric(served/1000, "served-train-s")
			b.ReportMetric(total/1000, "sum-train-s")
			b.ReportMetric(total/served, "sum/served-time")
			b.ReportMetric(totalWindows/servedWindows, "with-origins/served-windows")
			b.ReportMetric(float64(rebuildMS)/1000, "rebuild-chain-train-s")
		})
	}
}

// BenchmarkFineTuneSharded is the fine-tune after an upload of three days of the products of one
// shard of 64 (1,024 products × 730 days: 747,520 rows, 16 products a shard), with the default network and schedule, in three
// layouts of the same data in the same run: the sharded dataset with the task naming the
// touched shard (it reads that shard and a replay sample), the same without naming it (Touched
// nil: it reads every shard), and the dataset of one shard as before sharding (read whole,
// every standard series). Each reports the task's wall and CPU seconds, the dataset bytes read
// from the store, the shards read, the days of series kept (windows) and the windows of the
// served model's epochs. Setup (not timed) trains the models from scratch on the data before
// the upload with a short schedule: what is measured is the fine-tune from them. The one-shard
// layout trains far more windows (its origins' models train on every series, each with new days
// before its origin, which moves with the dataset's last day) and takes most of the time:
// -bench 'FineTuneSharded/(touched|all)' compares the sharded reads alone.
func BenchmarkFineTuneSharded(b *testing.B) {
	const count, touched = 64, 1
	data := handlertest.Generated(b, datagen.Config{Products: 1024, Days: 730, Seed: 7})
	base, merged, from, to := upload(b, data, 3, touched, count)
	ctx := context.Background()
	for _, layout := range []struct {
		name    string
		count   int
		touched []int
	}{{"touched", count, []int{touched}}, {"all-shards", count, nil}, {"one-shard", 1, nil}} {
		b.Run(layout.name, func(b *testing.B) {
			mem := store.NewMemory(handlertest.Bucket)
			counted := &readBytes{Store: mem}
			h := finetune.New(counted, slog.New(slog.DiscardHandler))
			w := newSharded(b, mem)
			h.Policy.FullEpochs, h.Policy.MaxWindows = 1, 2000
			setup, err := h.Handle(ctx, w.write(base, layout.count, "setup", nil))
			if err != nil {
				b.Fatal(err)
			}
			saved := models(b, mem, setup)
			h.Policy = lstm.DefaultPolicy()
			in := w.write(merged, layout.count, "bench", layout.touched)
			in.NewFrom, in.NewTo = from, to
			var out pipeline.FineTuneOutput
			counted.reset()
			cpu := cputime.Used(b)
			for b.Loop() {
				b.StopTimer()
				for key, body := range saved {
					if _, err := mem.Put(ctx, key, bytes.NewReader(body), store.PutOptions{}); err != nil {
						b.Fatal(err)
					}
				}
				b.StartTimer()
				if out, err = h.Handle(ctx, in); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "wall-s/op")
			b.ReportMetric((cputime.Used(b)-cpu).Seconds()/float64(b.N), "cpu-s/op")
			b.ReportMetric(float64(counted.reset())/float64(b.N)/1e6, "MB-read/op")
			b.ReportMetric(float64(len(out.Read.Read)), "shards-read")
			b.ReportMetric(float64(out.Read.Series), "series")
			b.ReportMetric(float64(out.Read.Windows), "kept-windows")
			b.ReportMetric(float64(out.Windows), "epoch-windows")
		})
	}
}

// readBytes counts the bytes read of the dataset's objects (under data/).
type readBytes struct {
	store.Store
	n atomic.Int64
}

func (r *readBytes) Get(ctx context.Context, key string, opts store.GetOptions) (io.ReadCloser, store.Object, error) {
	body, obj, err := r.Store.Get(ctx, key, opts)
	if err != nil || !strings.HasPrefix(key, "data/") {
		return body, obj, err
	}
	return countingBody{body, &r.n}, obj, nil
}

// reset returns the bytes counted so far and starts again from zero.
func (r *readBytes) reset() int64 { return r.n.Swap(0) }

type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (c countingBody) Read(p []byte) (int, error) {
	n, err := c.ReadCloser.Read(p)
	c.n.Add(int64(n))
	return n, err
}
