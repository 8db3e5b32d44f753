package merge_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/stockcast/stockcast/shared/datagen"
	"github.com/stockcast/stockcast/shared/dataset"
	"github.com/stockcast/stockcast/shared/handlers/handlertest"
	"github.com/stockcast/stockcast/shared/handlers/merge"
	"github.com/stockcast/stockcast/shared/pipeline"
	"github.com/stockcast/stockcast/shared/shards"
	"github.com/stockcast/stockcast/shared/store"
)

// onBothStores runs test on the in-memory store and on the real S3 protocol (fakes3 over HTTP
// through the SDK-backed store).
func onBothStores(t *testing.T, test func(t *testing.T, s store.Store)) {
	t.Run("memory", func(t *testing.T) { test(t, store.NewMemory(handlertest.Bucket)) })
	t.Run("s3", func(t *testing.T) { test(t, handlertest.NewEnv(t).Store) })
}

// uploaded puts content at key and returns the S3 event of it.
func uploaded(t testing.TB, s store.Store, key string, content []byte) events.S3Event {
	t.Helper()
	obj, err := s.Put(context.Background(), key, bytes.NewReader(content), store.PutOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var record events.S3EventRecord
	record.S3.Bucket.Name = s.Bucket()
	record.S3.Object.Key = url.QueryEscape(key)
	record.S3.Object.ETag = strings.Trim(obj.ETag, `"`)
	record.S3.Object.Sequencer = fmt.Sprintf("%016X", time.Now().UnixNano())
	return events.S3Event{Records: []events.S3EventRecord{record}}
}

// shardHandler is a merge handler whose shards hold maxRows rows.
func shardHandler(t *testing.T, s store.Store, maxRows int) *merge.Handler {
	h := newMergeHandler(t, s, &handlertest.RecordingStarter{})
	h.Config.ShardMaxRows = maxRows
	return h
}

// mergeUpload merges content uploaded as key and returns the job's merge report.
func mergeUpload(t *testing.T, h *merge.Handler, s store.Store, key string, content []byte) *pipeline.MergeReport {
	t.Helper()
	event := uploaded(t, s, key, content)
	if err := h.Handle(context.Background(), event); err != nil {
		t.Fatalf("merge %s: %v", key, err)
	}
	o := event.Records[0].S3.Object
	job, err := pipeline.NewJobs(s).Get(context.Background(), pipeline.JobID(s.Bucket(), key, o.ETag, o.Sequencer))
	if err != nil {
		t.Fatal(err)
	}
	return job.Merge
}

type rowKey struct{ date, product string }

// datasetRows reads the current dataset through its index, checking that the index is valid,
// every shard sorted by (date, product_id) without duplicates, every row in its product's shard,
// every part's header the dataset's, and the index's counts true; it returns the rows' sales.
func datasetRows(t *testing.T, s store.Store) (pipeline.Current, map[rowKey]float64) {
	t.Helper()
	ctx := context.Background()
	cur, err := pipeline.CurrentDataset(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	if err := cur.Index.Validate(); err != nil {
		t.Fatal(err)
	}
	rows := map[rowKey]float64{}
	n, err := pipeline.ScanDataset(ctx, s, cur.Index, func(_ int, r *dataset.Row) error {
		k := rowKey{r.Day.String(), string(r.ProductID)}
		if _, ok := rows[k]; ok {
			return fmt.Errorf("row %v twice", k)
		}
		rows[k] = r.Sales
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != cur.Index.Rows() {
		t.Fatalf("the dataset has %d rows, its index says %d", n, cur.Index.Rows())
	}
	for _, sh := range cur.Index {
		for _, p := range sh.Parts {
			body, _, err := s.Get(ctx, p.Key, store.GetOptions{VersionID: p.VersionID, IfMatch: p.ETag})
			if err != nil {
				t.Fatal(err)
			}
			src, err := dataset.Open(body)
			body.Close()
			if err != nil || !slices.Equal(src.Columns(), cur.Index.Columns()) {
				t.Fatalf("part %s has columns %v (%v), the dataset %v", p.Key, src.Columns(), err, cur.Index.Columns())
			}
		}
	}
	return cur, rows
}

// rowsOf parses a dataset CSV's rows.
func rowsOf(t *testing.T, data []byte) map[rowKey]float64 {
	t.Helper()
	scanner, err := dataset.NewScanner(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	rows := map[rowKey]float64{}
	for scanner.Scan() {
		r := scanner.Row()
		rows[rowKey{r.Day.String(), string(r.ProductID)}] = r.Sales
	}
	if err := scanner.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}

// union is the rows of several datasets, later ones winning.
func union(sets ...map[rowKey]float64) map[rowKey]float64 {
	out := map[rowKey]float64{}
	for _, set := range sets {
		for k, v := range set {
			out[k] = v
		}
	}
	return out
}

func sameRows(t *testing.T, got, want map[rowKey]float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("the dataset has %d rows, want %d", len(got), len(want))
	}
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			t.Fatalf("row %v: %v (present %v), want %v", k, g, ok, v)
		}
	}
}

// generated is a datagen dataset: products × days from 2022-01-01, products from first.
func generated(t *testing.T, products, days, first int) []byte {
	t.Helper()
	return handlertest.Generated(t, datagen.Config{Products: products, Days: days, Seed: 3, FirstProduct: first})
}

// later is a datagen dataset of products P0001 on over days days from 2022-01-01 + from days.
func later(t *testing.T, products, days, from int) []byte {
	t.Helper()
	return handlertest.Generated(t, datagen.Config{Products: products, Days: days, Seed: 3, Start: datagen.DefaultStart.AddDate(0, 0, from)})
}

// fourShards merges a dataset of 40 products × 200 days (8,000 rows, 2022-Q1 to 2022-Q3) into an
// empty bucket with 2,500 rows a shard: four shards.
func fourShards(t *testing.T, s store.Store) (*merge.Handler, map[rowKey]float64) {
	t.Helper()
	h := shardHandler(t, s, 2500)
	data := generated(t, 40, 200, 1)
	report := mergeUpload(t, h, s, "uploads/history.csv", data)
	cur, rows := datasetRows(t, s)
	sameRows(t, rows, rowsOf(t, data))
	if cur.Index.Count() != 4 || report.Shards != 4 || report.ReshardedFrom != 1 || report.Touched != nil {
		t.Fatalf("the first upload of 8,000 rows: %d shards, report %+v; want 4, resharded from 1, touched nil", cur.Index.Count(), report)
	}
	return h, rows
}

func TestShardedMergeRewritesOnlyTheTouchedParts(t *testing.T) {
	onBothStores(t, func(t *testing.T, s store.Store) {
		h, before := fourShards(t, s)
		ctx := context.Background()
		old, _ := datasetRows(t, s)
		heads := map[string]string{}
		for _, sh := range old.Index {
			for _, p := range sh.Parts {
				head, err := s.Head(ctx, p.Key)
				if err != nil {
					t.Fatal(err)
				}
				heads[p.Key] = head.ETag
			}
		}
		// One product's next day and a changed value of its last day: one shard, one part.
		upload := []byte("date,product_id,sales,category,region,price,discount,rating\n" +
			"2022-07-19,P0007,999,Toys,North,5,0,4\n2022-07-20,P0007,5,Toys,North,5,0,4\n")
		report := mergeUpload(t, h, s, "uploads/day.csv", upload)
		cur, rows := datasetRows(t, s)
		sameRows(t, rows, union(before, rowsOf(t, upload)))
		k := shards.Of("P0007", 4)
		if report.Shards != 4 || !slices.Equal(report.Touched, []int{k}) || report.PartsWritten != 1 || report.Inserted != 1 || report.Replaced != 1 {
			t.Errorf("report %+v: want 4 shards, touched [%d], 1 part written, 1 inserted, 1 replaced", report, k)
		}
		if report.BytesWritten <= 0 || report.BytesWritten >= int64(old.Index.Rows())*100 {
			t.Errorf("bytes written %d", report.BytesWritten)
		}
		touched := shards.PartKey(k, 4, "2022-Q3")
		for i, sh := range cur.Index {
			for j, p := range sh.Parts {
				was := old.Index[i].Parts[j]
				head, err := s.Head(ctx, p.Key)
				if err != nil {
					t.Fatal(err)
				}
				switch {
				case p.Key == touched && (p.ETag == was.ETag || p.VersionID == was.VersionID):
					t.Errorf("the touched part %s was not rewritten", p.Key)
				case p.Key != touched && (p != was || head.ETag != heads[p.Key]):
					t.Errorf("part %s changed: %+v -> %+v (object %s -> %s)", p.Key, was, p, heads[p.Key], head.ETag)
				}
			}
		}
		if cur.Ref.Key != shards.IndexKey || !store.SameETag(cur.Ref.ETag, report.DatasetETag) {
			t.Errorf("the merge reported dataset %s; the current is %+v", report.DatasetETag, cur.Ref)
		}
	})
}

func TestShardedMergeTrainsTheIndex(t *testing.T) {
	ctx := context.Background()
	s := store.NewMemory(handlertest.Bucket)
	fourShards(t, s)
	// The first upload's run ended without a model (the recording starter runs nothing).
	queue := pipeline.NewQueue(s)
	claim, err := queue.Read(ctx)
	if err != nil || claim == nil {
		t.Fatalf("no training claim: %v", err)
	}
	if err := queue.Abandon(ctx, claim.Execution); err != nil {
		t.Fatal(err)
	}
	starter := &handlertest.RecordingStarter{}
	h := newMergeHandler(t, s, starter)
	h.Config.ShardMaxRows = 2500
	event := uploaded(t, s, "uploads/day.csv", []byte("date,product_id,sales\n2022-07-20,P0001,5\n2022-07-20,P0002,6\n"))
	if err := h.Handle(ctx, event); err != nil {
		t.Fatal(err)
	}
	runs := starter.Executions()
	cur, _ := datasetRows(t, s)
	if len(runs) != 1 {
		t.Fatalf("%d executions, want 1", len(runs))
	}
	in := runs[0]
	want := []int{shards.Of("P0001", 4), shards.Of("P0002", 4)}
	slices.Sort(want)
	want = slices.Compact(want)
	if in.DatasetKey != shards.IndexKey || !store.SameETag(in.DatasetETag, cur.Object.ETag) || in.DatasetVersionID != cur.Object.VersionID ||
		!slices.Equal(in.Touched, want) {
		t.Errorf("training input %+v: want the index %s (version %s), touched %v", in, cur.Object.ETag, cur.Object.VersionID, want)
	}
	if x, err := pipeline.DatasetIndex(ctx, s, in); err != nil || x.Rows() != cur.Index.Rows() {
		t.Errorf("the task's index: %v rows, %v", x.Rows(), err)
	}
}

func TestShardedMergeOfANewColumnRewritesEveryPart(t *testing.T) {
	onBothStores(t, func(t *testing.T, s store.Store) {
		h, before := fourShards(t, s)
		old, _ := datasetRows(t, s)
		upload := []byte("date,product_id,sales,promo\n2022-07-20,P0003,5,1\n")
		report := mergeUpload(t, h, s, "uploads/promo.csv", upload)
		cur, rows := datasetRows(t, s) // every part's header is the dataset's, checked there
		sameRows(t, rows, union(before, rowsOf(t, upload)))
		parts := 0
		for k, sh := range cur.Index {
			parts += len(sh.Parts)
			for j, p := range sh.Parts {
				if p.ETag == old.Index[k].Parts[j].ETag {
					t.Errorf("part %s was not rewritten with the new column", p.Key)
				}
			}
		}
		if !slices.Equal(cur.Index.Columns(), append(old.Index.Columns(), "promo")) || report.PartsWritten != parts || len(report.Touched) != 4 {
			t.Errorf("columns %v, report %+v: want promo appended, all %d parts written", cur.Index.Columns(), report, parts)
		}
	})
}

func TestShardedMergeMigratesTheSingleFile(t *testing.T) {
	onBothStores(t, func(t *testing.T, s store.Store) {
		ctx := context.Background()
		legacy := generated(t, 10, 50, 1)
		if _, err := s.Put(ctx, shards.SingleKey, bytes.NewReader(legacy), store.PutOptions{}); err != nil {
			t.Fatal(err)
		}
		h := shardHandler(t, s, 10_000)
		upload := generated(t, 2, 50, 11)
		report := mergeUpload(t, h, s, "uploads/more.csv", upload)
		cur, rows := datasetRows(t, s)
		sameRows(t, rows, union(rowsOf(t, legacy), rowsOf(t, upload)))
		if !cur.Indexed() || cur.Index.Count() != 1 || cur.Index[0].Parts[0].Key != shards.SingleKey || cur.Index.Rows() != 600 ||
			cur.Index.Products() != 12 || cur.Index.FirstDate() != "2022-01-01" || cur.Index.LastDate() != "2022-02-19" {
			t.Errorf("the index after migrating: %+v", cur.Index)
		}
		if report.RowsBefore != 500 || report.RowsAfter != 600 || report.Inserted != 100 || report.Shards != 1 || !slices.Equal(report.Touched, []int{0}) {
			t.Errorf("report %+v", report)
		}
		// A dataset of one shard is named by its index, which the training's Map reads.
		if cur.Ref.Key != shards.IndexKey || !store.SameETag(cur.Ref.ETag, report.DatasetETag) {
			t.Errorf("dataset reference %+v, report %s", cur.Ref, report.DatasetETag)
		}
	})
}

func TestShardedMergeReshardsOneTwoFour(t *testing.T) {
	onBothStores(t, func(t *testing.T, s store.Store) {
		ctx := context.Background()
		h := shardHandler(t, s, 1000)
		want := map[rowKey]float64{}
		for i, step := range []struct {
			days, from, shards, reshardedFrom int
		}{{20, 0, 1, 0}, {20, 20, 2, 1}, {10, 40, 2, 0}, {30, 50, 4, 2}} {
			// 40 products × step.days more days: 800, 1,600, 2,000, 3,200 rows in all.
			data := later(t, 40, step.days, step.from)
			report := mergeUpload(t, h, s, fmt.Sprintf("uploads/step%d.csv", i), data)
			want = union(want, rowsOf(t, data))
			cur, rows := datasetRows(t, s)
			sameRows(t, rows, want)
			if cur.Index.Count() != step.shards || report.Shards != step.shards || report.ReshardedFrom != step.reshardedFrom {
				t.Fatalf("step %d: %d shards, report %+v; want %d, resharded from %d", i, cur.Index.Count(), report, step.shards, step.reshardedFrom)
			}
		}
		// The objects of the old counts are gone; every key under data/ is the index's.
		cur, _ := datasetRows(t, s)
		named := map[string]bool{shards.IndexKey: true}
		for k, sh := range cur.Index {
			for _, p := range sh.Parts {
				named[p.Key] = true
			}
			if sh.ProductList == nil || sh.ProductList.Key != shards.ProductsKey(k, 4) {
				t.Errorf("shard %d has no product list: %+v", k, sh.ProductList)
				continue
			}
			named[sh.ProductList.Key] = true
		}
		objects, err := s.List(ctx, "data/")
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range objects {
			if !named[o.Key] {
				t.Errorf("%s is left over", o.Key)
			}
		}
	})
}

func TestShardedMergeConcurrentMergesOfOneShardLoseNoRow(t *testing.T) {
	onBothStores(t, func(t *testing.T, s store.Store) {
		_, before := fourShards(t, s)
		k := shards.Of("P0005", 4)
		var other string // a product of the same shard
		for i := 6; other == ""; i++ {
			if p := fmt.Sprintf("P%04d", i); shards.Of(p, 4) == k {
				other = p
			}
		}
		first := []byte("date,product_id,sales\n2022-07-20,P0005,11\n")
		second := []byte("date,product_id,sales\n2022-07-20," + other + ",12\n")
		secondEvent := uploaded(t, s, "uploads/second.csv", second)
		// The first merge writes the shard's part; just before, the second merge runs to the end.
		racing := &handlertest.CountingStore{Store: s, BeforeWrite: map[string]func(){shards.PartKey(k, 4, "2022-Q3"): func() {
			if err := shardHandler(t, s, 2500).Handle(context.Background(), secondEvent); err != nil {
				t.Errorf("second merge: %v", err)
			}
		}}}
		report := mergeUpload(t, shardHandler(t, racing, 2500), s, "uploads/first.csv", first)
		_, rows := datasetRows(t, s)
		sameRows(t, rows, union(before, rowsOf(t, first), rowsOf(t, second)))
		if report.Attempts != 2 {
			t.Errorf("the first merge took %d attempts, want 2 (one lost race)", report.Attempts)
		}

		// Truly at once: four merges into the same shard.
		var wg sync.WaitGroup
		var all []map[rowKey]float64
		for i := range 4 {
			content := []byte(fmt.Sprintf("date,product_id,sales\n2022-07-%02d,P0005,%d\n", 21+i, 100+i))
			all = append(all, rowsOf(t, content))
			event := uploaded(t, s, fmt.Sprintf("uploads/at-once-%d.csv", i), content)
			wg.Go(func() {
				if err := shardHandler(t, s, 2500).Handle(context.Background(), event); err != nil {
					t.Errorf("merge %d: %v", i, err)
				}
			})
		}
		wg.Wait()
		_, after := datasetRows(t, s)
		sameRows(t, after, union(append([]map[rowKey]float64{rows}, all...)...))
	})
}

// crashOnceAt makes a handler's merge stop at point, as a crash there would, the first time it
// passes it.
func crashOnceAt(point merge.FaultPoint) func(merge.FaultPoint) error {
	crashed := false
	return func(p merge.FaultPoint) error {
		if p == point && !crashed {
			crashed = true
			return errors.New("crashed")
		}
		return nil
	}
}

func TestShardedMergeCrashBeforeTheIndexLeavesTheDatasetIntact(t *testing.T) {
	onBothStores(t, func(t *testing.T, s store.Store) {
		ctx := context.Background()
		_, before := fourShards(t, s)
		old, _ := datasetRows(t, s)
		upload := []byte("date,product_id,sales\n2022-07-20,P0001,7\n2022-07-20,P0002,8\n2022-10-01,P0003,9\n")
		event := uploaded(t, s, "uploads/crash.csv", upload)
		h := shardHandler(t, s, 2500)
		h.Fault = crashOnceAt(merge.AfterPartWrites)
		if err := h.Handle(ctx, event); err == nil {
			t.Fatal("the merge did not stop at the fault point")
		}
		cur, rows := datasetRows(t, s)
		if !store.SameETag(cur.Object.ETag, old.Object.ETag) {
			t.Errorf("the index changed: %s -> %s", old.Object.ETag, cur.Object.ETag)
		}
		sameRows(t, rows, before)
		// The parts were written, uncommitted: the next attempt overwrites them.
		if _, err := s.Head(ctx, shards.PartKey(shards.Of("P0003", 4), 4, "2022-Q4")); err != nil {
			t.Errorf("the crashed merge's new part: %v, want it written", err)
		}
		if err := h.Handle(ctx, event); err != nil {
			t.Fatal(err)
		}
		_, rows = datasetRows(t, s)
		sameRows(t, rows, union(before, rowsOf(t, upload)))
	})
}

func TestShardedMergeCrashDuringAReshard(t *testing.T) {
	onBothStores(t, func(t *testing.T, s store.Store) {
		ctx := context.Background()
		h := shardHandler(t, s, 1000)
		first := later(t, 40, 20, 0) // 800 rows: one shard
		mergeUpload(t, h, s, "uploads/first.csv", first)
		second := later(t, 40, 20, 20) // 1,600 rows: two shards
		event := uploaded(t, s, "uploads/second.csv", second)
		// The merge commits at one shard, then crashes before the resharding's index.
		faults := 0
		h.Fault = func(p merge.FaultPoint) error {
			if p == merge.AfterPartWrites {
				if faults++; faults == 2 {
					return errors.New("crashed")
				}
			}
			return nil
		}
		if err := h.Handle(ctx, event); err == nil {
			t.Fatal("the merge did not stop in the resharding")
		}
		cur, rows := datasetRows(t, s)
		want := union(rowsOf(t, first), rowsOf(t, second))
		sameRows(t, rows, want)
		if cur.Index.Count() != 1 {
			t.Fatalf("%d shards after the crash, want 1 (the resharding was not committed)", cur.Index.Count())
		}
		// The event again: the upload was merged, its rows are replaced by themselves, and the
		// dataset is resharded.
		if err := h.Handle(ctx, event); err != nil {
			t.Fatal(err)
		}
		cur, rows = datasetRows(t, s)
		sameRows(t, rows, want)
		if cur.Index.Count() != 2 {
			t.Errorf("%d shards, want 2", cur.Index.Count())
		}
	})
}

func TestShardedMergeRefusedUploadWritesNothing(t *testing.T) {
	onBothStores(t, func(t *testing.T, s store.Store) {
		ctx := context.Background()
		h, _ := fourShards(t, s)
		versions := func() map[string]int {
			objects, err := s.List(ctx, "data/")
			if err != nil {
				t.Fatal(err)
			}
			out := map[string]int{}
			for _, o := range objects {
				v, err := s.Versions(ctx, o.Key)
				if err != nil {
					t.Fatal(err)
				}
				out[o.Key] = len(v)
			}
			return out
		}
		before := versions()
		for name, content := range map[string]string{
			// A bad row after good rows of several shards.
			"bad.csv": "date,product_id,sales\n2022-07-20,P0001,1\n2022-07-20,P0002,2\n2022-07-20,P0003,x\n",
			// A date too far ahead of the dataset and today, beside good rows.
			"future.csv": "date,product_id,sales\n2022-07-20,P0001,1\n2204-01-01,P0002,2\n",
		} {
			event := uploaded(t, s, "uploads/"+name, []byte(content))
			if err := h.Handle(ctx, event); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Head(ctx, pipeline.RejectedReportKey(name)); err != nil {
				t.Errorf("%s: no rejection report: %v", name, err)
			}
		}
		if after := versions(); !maps.Equal(after, before) {
			t.Errorf("the dataset's objects changed: %v -> %v", before, after)
		}
	})
}

func TestShardedMergeOfRowsAlreadyThereCommitsNothing(t *testing.T) {
	onBothStores(t, func(t *testing.T, s store.Store) {
		h, before := fourShards(t, s)
		old, _ := datasetRows(t, s)
		again := []byte("date,product_id,sales,category,region,price,discount,rating\n")
		for _, product := range []string{"P0001", "P0002", "P0003"} {
			again = append(again, lineOf(t, generated(t, 40, 200, 1), "2022-07-19,"+product+",")...)
		}
		report := mergeUpload(t, h, s, "uploads/again.csv", again)
		cur, rows := datasetRows(t, s)
		sameRows(t, rows, before)
		if !store.SameETag(cur.Object.ETag, old.Object.ETag) || report.Replaced != 3 || report.Inserted != 0 || len(report.Touched) != 0 {
			t.Errorf("index %s -> %s, report %+v: want the index as it was, 3 rows replaced by themselves, nothing touched", old.Object.ETag, cur.Object.ETag, report)
		}
	})
}

// lineOf is the line of data that starts with prefix, with its line feed.
func lineOf(t *testing.T, data []byte, prefix string) []byte {
	t.Helper()
	for line := range bytes.Lines(data) {
		if bytes.HasPrefix(line, []byte(prefix)) {
			return line
		}
	}
	t.Fatalf("no line starts with %q", prefix)
	return nil
}

// TestShardedMergeLeavesAReshardItHasNoTimeFor: a merge whose invocation has no time left for a
// resharding (its deadline, less ReshardMargin, has passed) commits its rows, records its job and
// starts training; the dataset stays at its shard count until a merge with time reshards it.
func TestShardedMergeLeavesAReshardItHasNoTimeFor(t *testing.T) {
	onBothStores(t, func(t *testing.T, s store.Store) {
		h := shardHandler(t, s, 1000)
		h.Config.ReshardMargin = time.Hour
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		data := later(t, 40, 40, 0) // 1,600 rows: two shards
		event := uploaded(t, s, "uploads/big.csv", data)
		if err := h.Handle(ctx, event); err != nil {
			t.Fatal(err)
		}
		cur, rows := datasetRows(t, s)
		sameRows(t, rows, rowsOf(t, data))
		o := event.Records[0].S3.Object
		job, err := pipeline.NewJobs(s).Get(ctx, pipeline.JobID(s.Bucket(), "uploads/big.csv", o.ETag, o.Sequencer))
		if err != nil || job.Status != pipeline.StatusTraining || job.Merge.Shards != 1 || cur.Index.Count() != 1 {
			t.Fatalf("job %+v (%v), %d shards: want the merge done at one shard, training", job, err, cur.Index.Count())
		}
		h.Config.ReshardMargin = merge.DefaultConfig().ReshardMargin
		next := later(t, 40, 1, 40)
		report := mergeUpload(t, h, s, "uploads/next.csv", next)
		cur, rows = datasetRows(t, s)
		sameRows(t, rows, union(rowsOf(t, data), rowsOf(t, next)))
		if cur.Index.Count() != 2 || report.ReshardedFrom != 1 {
			t.Errorf("%d shards, report %+v: want the next merge to reshard", cur.Index.Count(), report)
		}
	})
}

// TestShardedMergeCountsProductsExactly: a merge keeps each shard's product count exact — a
// product new to its shard counted once, whatever part its rows fall in — also over an index
// written without product lists (the merge then lists the shard's products once).
func TestShardedMergeCountsProductsExactly(t *testing.T) {
	onBothStores(t, func(t *testing.T, s store.Store) {
		ctx := context.Background()
		h, before := fourShards(t, s)
		cur, _ := datasetRows(t, s)
		for k := range cur.Index {
			cur.Index[k].ProductList = nil
		}
		if _, err := pipeline.WriteIndex(ctx, s, cur.Index, cur.Object.ETag); err != nil {
			t.Fatal(err)
		}
		// A new product in an old quarter and in the current one, an old product in a new quarter.
		upload := []byte("date,product_id,sales\n2022-01-05,NEW1,1\n2022-07-20,NEW1,2\n2022-07-20,NEW2,3\n2022-10-01,P0001,4\n")
		report := mergeUpload(t, h, s, "uploads/new.csv", upload)
		after, rows := datasetRows(t, s) // checks every shard's Products against its rows
		sameRows(t, rows, union(before, rowsOf(t, upload)))
		if after.Index.Products() != 42 || report.Inserted != 4 {
			t.Errorf("%d products, report %+v: want 42, 4 rows inserted", after.Index.Products(), report)
		}
		for _, k := range report.Touched {
			if after.Index[k].ProductList == nil {
				t.Errorf("touched shard %d has no product list", k)
			}
		}
	})
}
