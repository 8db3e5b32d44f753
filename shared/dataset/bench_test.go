package dataset

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"runtime"
	"runtime/metrics"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/gocarina/gocsv"
	"github.com/stockcast/stockcast/shared/datagen"
)

// benchData caches generated datasets for the process: they are never committed.
var benchData = struct {
	sync.Mutex
	m map[datagen.Config][]byte
}{m: map[datagen.Config][]byte{}}

func generated(b *testing.B, cfg datagen.Config) []byte {
	benchData.Lock()
	defer benchData.Unlock()
	if data, ok := benchData.m[cfg]; ok {
		return data
	}
	var buf bytes.Buffer
	if err := datagen.Write(context.Background(), &buf, cfg); err != nil {
		b.Fatal(err)
	}
	benchData.m[cfg] = buf.Bytes()
	return buf.Bytes()
}

// benchDatasets are the shapes of issue 2: 1,000 products over 100 and 1,000 days.
var benchDatasets = []datagen.Config{
	{Products: 1000, Days: 100, Seed: 1},
	{Products: 1000, Days: 1000, Seed: 1},
}

// heapPeak samples the heap while a benchmark runs and reports the peak
// above the heap at start, in MB.
type heapPeak struct {
	stop chan struct{}
	done chan struct{}
	base uint64
	peak uint64
}

const heapMetric = "/memory/classes/heap/objects:bytes"

func readHeap(s []metrics.Sample) uint64 {
	metrics.Read(s)
	return s[0].Value.Uint64()
}

func startHeapPeak() *heapPeak {
	runtime.GC()
	s := []metrics.Sample{{Name: heapMetric}}
	h := &heapPeak{stop: make(chan struct{}), done: make(chan struct{}), base: readHeap(s)}
	go func() {
		defer close(h.done)
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-h.stop:
				return
			case <-t.C:
				h.peak = max(h.peak, readHeap(s))
			}
		}
	}()
	return h
}

func (h *heapPeak) report(b *testing.B) {
	close(h.stop)
	<-h.done
	b.ReportMetric(float64(max(h.peak, h.base)-h.base)/(1<<20), "peak-heap-MB")
}

// BenchmarkMerge merges a 10,000-row upload (the 10 days after the dataset)
// into generated datasets, streaming and — the baseline — in memory. The
// throughput is MB of existing dataset per second.
func BenchmarkMerge(b *testing.B) {
	for _, cfg := range benchDatasets {
		for _, impl := range []struct {
			name  string
			merge func(context.Context, *Source, *Upload, io.Writer) (Stats, error)
		}{{"streaming", Merge}, {"in-memory", MergeInMemory}} {
			b.Run(fmt.Sprintf("rows=%d/%s", cfg.Rows(), impl.name), func(b *testing.B) {
				data := generated(b, cfg)
				var up bytes.Buffer
				if err := datagen.Write(context.Background(), &up, datagen.NextDays(cfg, 10_000)); err != nil {
					b.Fatal(err)
				}
				upload, err := ParseUpload(context.Background(), bytes.NewReader(up.Bytes()), []string{
					ColDate, ColProductID, ColSales, ColCategory, ColRegion, ColPrice, ColDiscount, ColRating}, Options{})
				if err != nil {
					b.Fatal(err)
				}
				b.SetBytes(int64(len(data)))
				h := startHeapPeak()
				for b.Loop() {
					src, err := Open(bytes.NewReader(data))
					if err != nil {
						b.Fatal(err)
					}
					st, err := impl.merge(context.Background(), src, upload, io.Discard)
					if err != nil || st.RowsAfter != cfg.Rows()+10_000 {
						b.Fatalf("merge: %+v, %v", st, err)
					}
				}
				h.report(b)
			})
		}
	}
}

// gocsvRow is the dataset row as gocsv decodes it.
type gocsvRow struct {
	Date      string  `csv:"date"`
	ProductID string  `csv:"product_id"`
	Sales     float64 `csv:"sales"`
	Category  string  `csv:"category"`
	Region    string  `csv:"region"`
	Price     float64 `csv:"price"`
	Discount  float64 `csv:"discount"`
	Rating    float64 `csv:"rating"`
}

// BenchmarkTypedScan decodes the 1,000,000-row dataset into typed rows three
// ways: Scanner (hand-written fast path), encoding/csv with strconv, and
// gocsv's reflection-based decoding.
func BenchmarkTypedScan(b *testing.B) {
	cfg := benchDatasets[len(benchDatasets)-1]
	impls := []struct {
		name string
		scan func(io.Reader) (int, error)
	}{
		{"scanner", func(r io.Reader) (int, error) {
			s, err := NewScanner(r)
			if err != nil {
				return 0, err
			}
			for s.Scan() {
			}
			return s.Rows(), s.Err()
		}},
		{"encoding-csv", func(r io.Reader) (int, error) {
			cr := csv.NewReader(r)
			cr.ReuseRecord = true
			if _, err := cr.Read(); err != nil {
				return 0, err
			}
			n := 0
			for {
				rec, err := cr.Read()
				if errors.Is(err, io.EOF) {
					return n, nil
				}
				if err != nil {
					return n, err
				}
				if _, err := ParseDay(rec[0]); err != nil {
					return n, err
				}
				for _, k := range []int{2, 5, 6, 7} {
					if _, err := strconv.ParseFloat(rec[k], 64); err != nil {
						return n, err
					}
				}
				n++
			}
		}},
		{"gocsv", func(r io.Reader) (int, error) {
			n := 0
			err := gocsv.UnmarshalToCallbackWithError(r, func(row gocsvRow) error {
				if _, err := ParseDay(row.Date); err != nil {
					return err
				}
				n++
				return nil
			})
			return n, err
		}},
	}
	for _, impl := range impls {
		b.Run(impl.name, func(b *testing.B) {
			data := generated(b, cfg)
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				n, err := impl.scan(bytes.NewReader(data))
				if err != nil || n != cfg.Rows() {
					b.Fatalf("%d rows, %v", n, err)
				}
			}
			b.ReportMetric(float64(cfg.Rows())*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mrows/s")
		})
	}
}
