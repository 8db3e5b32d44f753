package merge_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stockcast/stockcast/shared/handlers/handlertest"

	"github.com/aws/aws-lambda-go/events"

	"github.com/stockcast/stockcast/shared/handlers/merge"
	"github.com/stockcast/stockcast/shared/pipeline"
	"github.com/stockcast/stockcast/shared/shards"
	"github.com/stockcast/stockcast/shared/store"
	"github.com/stockcast/stockcast/shared/training"
)

func newMergeHandler(t *testing.T, s store.Store, starter merge.Starter) *merge.Handler {
	h := merge.New(s, starter, handlertest.Logger(t))
	h.Now = func() time.Time { return handlertest.Day }
	return h
}

// table parses a CSV dataset into its header and rows keyed by (date, product_id), checking the
// invariants every dataset must keep: sorted by (date, product_id), keys unique, rows as wide as
// the header.
func table(t *testing.T, data []byte) ([]string, map[[2]string]map[string]string) {
	t.Helper()
	records, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		t.Fatalf("dataset is not valid CSV: %v", err)
	}
	header := records[0]
	rows := map[[2]string]map[string]string{}
	var previous [2]string
	for i, record := range records[1:] {
		row := map[string]string{}
		for j, column := range header {
			row[column] = record[j]
		}
		key := [2]string{row["date"], row["product_id"]}
		if i > 0 && (key[0] < previous[0] || key[0] == previous[0] && key[1] <= previous[1]) {
			t.Fatalf("row %d %v is not after %v: dataset not sorted by (date, product_id) with unique keys", i+2, key, previous)
		}
		previous, rows[key] = key, row
	}
	return header, rows
}

func TestMergeAcceptsUploadAndStartsTraining(t *testing.T) {
	e := handlertest.NewEnv(t)
	starter := &handlertest.RecordingStarter{}
	h := newMergeHandler(t, e.Store, starter)
	e.Put(shards.SingleKey, handlertest.Testdata(t, "small_dataset.csv"))
	_, before := table(t, handlertest.Testdata(t, "small_dataset.csv"))
	upload := handlertest.Testdata(t, "uploads/ok_next_days.csv")
	_, added := table(t, upload)

	event := e.Upload("uploads/ok_next_days.csv", upload)
	if err := h.Handle(context.Background(), event); err != nil {
		t.Fatalf("Handle: %v", err)
	}

	_, after := table(t, e.Read(shards.SingleKey))
	if len(after) != len(before)+len(added) {
		t.Errorf("dataset has %d rows, want %d + %d", len(after), len(before), len(added))
	}
	for key, row := range added {
		if after[key]["sales"] != row["sales"] {
			t.Errorf("row %v: sales %q, want %q", key, after[key]["sales"], row["sales"])
		}
	}
	if got := e.Keys(pipeline.UploadsPrefix); len(got) != 0 {
		t.Errorf("uploads/ still holds %v", got)
	}
	if !e.Exists("processed/2026-11-27/ok_next_days.csv") {
		t.Errorf("the upload was not moved to processed/2026-11-27/; processed/ has %v", e.Keys(pipeline.ProcessedPrefix))
	}
	starts := starter.Executions()
	if len(starts) != 1 {
		t.Fatalf("%d executions started, want 1", len(starts))
	}
	dataset, _ := e.Store.Head(context.Background(), shards.IndexKey)
	in := starts[0]
	if !store.SameETag(in.DatasetETag, dataset.ETag) || in.DatasetKey != shards.IndexKey || in.Bucket != handlertest.Bucket || in.Mode != training.FineTune {
		t.Errorf("execution input %+v does not name the merged dataset %s", in, dataset.ETag)
	}
	if in.NewFrom != "2024-03-01" || in.NewTo == "" {
		t.Errorf("new dates %s..%s, want from 2024-03-01", in.NewFrom, in.NewTo)
	}
	if err := in.Validate(); err != nil {
		t.Errorf("execution input invalid: %v", err)
	}
	job := e.Job(in.JobID)
	if job.Status != pipeline.StatusTraining || job.Merge == nil || job.Merge.Inserted != len(added) || job.Merge.RowsAfter != len(after) || job.Execution == "" {
		t.Errorf("job record = %+v, merge %+v", job, job.Merge)
	}
}

func TestMergeCreatesTheDatasetFromTheFirstUpload(t *testing.T) {
	e := handlertest.NewEnv(t)
	h := newMergeHandler(t, e.Store, &handlertest.RecordingStarter{})
	upload := handlertest.Testdata(t, "uploads/ok_capitalised_headers.csv")
	if err := h.Handle(context.Background(), e.Upload("uploads/first.csv", upload)); err != nil {
		t.Fatal(err)
	}
	header, rows := table(t, e.Read(shards.SingleKey))
	if !slices.Equal(header[:3], []string{"date", "product_id", "sales"}) {
		t.Errorf("header %v does not start with the canonical required columns", header)
	}
	_, in := table(t, bytes.Replace(upload, []byte("Date,ProductID,SALES"), []byte("date,product_id,sales"), 1))
	if len(rows) != len(in) {
		t.Errorf("dataset has %d rows, upload had %d", len(rows), len(in))
	}
}

func TestMergeSchemaDrift(t *testing.T) {
	for _, tc := range []struct {
		file       string
		wantColumn string
	}{
		{"uploads/ok_new_optional_column.csv", "rating"},
		{"uploads/ok_capitalised_headers.csv", ""},
		{"uploads/ok_reordered_columns.csv", ""},
		{"uploads/ok_extra_column.csv", ""},
	} {
		t.Run(tc.file, func(t *testing.T) {
			e := handlertest.NewEnv(t)
			h := newMergeHandler(t, e.Store, &handlertest.RecordingStarter{})
			e.Put(shards.SingleKey, handlertest.Testdata(t, "small_dataset.csv"))
			oldHeader, before := table(t, handlertest.Testdata(t, "small_dataset.csv"))
			if err := h.Handle(context.Background(), e.Upload(tc.file, handlertest.Testdata(t, tc.file))); err != nil {
				t.Fatal(err)
			}
			header, after := table(t, e.Read(shards.SingleKey))
			if !slices.Equal(header[:len(oldHeader)], oldHeader) {
				t.Errorf("existing columns moved: %v -> %v", oldHeader, header)
			}
			if tc.wantColumn != "" && !slices.Contains(header, tc.wantColumn) {
				t.Errorf("header %v lacks the new column %q", header, tc.wantColumn)
			}
			if len(after) <= len(before) {
				t.Errorf("no rows added: %d -> %d", len(before), len(after))
			}
			for key, row := range before {
				if _, ok := after[key]; !ok {
					t.Fatalf("row %v lost", key)
				}
				if row["category"] != "" && after[key]["category"] != row["category"] && key[0] < "2024-03-01" {
					t.Errorf("row %v changed category", key)
				}
			}
		})
	}
}

func TestMergeRefusesBadFilesAndKeepsThem(t *testing.T) {
	for _, file := range []string{
		"uploads/bad_sales.csv", "uploads/bad_date.csv", "uploads/bad_field_count.csv",
		"uploads/bad_missing_column.csv", "uploads/bad_product_id.csv", "uploads/empty.csv",
	} {
		t.Run(file, func(t *testing.T) {
			e := handlertest.NewEnv(t)
			starter := &handlertest.RecordingStarter{}
			h := newMergeHandler(t, e.Store, starter)
			original := handlertest.Testdata(t, "small_dataset.csv")
			e.Put(shards.SingleKey, original)
			content := handlertest.Testdata(t, file)
			name := strings.TrimPrefix(file, "uploads/")

			event := e.Upload(file, content)
			if err := h.Handle(context.Background(), event); err != nil {
				t.Fatalf("a refused file is handled, not an error to retry: %v", err)
			}
			if got := e.Read(shards.SingleKey); !bytes.Equal(got, original) {
				t.Errorf("the dataset changed")
			}
			if got := e.Read("rejected/" + name); !bytes.Equal(got, content) {
				t.Errorf("rejected/%s does not hold the upload", name)
			}
			if e.Exists(file) {
				t.Errorf("%s is still in uploads/", file)
			}
			var report merge.RejectionReport
			if err := json.Unmarshal(e.Read("rejected/"+name+".error.json"), &report); err != nil {
				t.Fatalf("report: %v", err)
			}
			if report.Total == 0 || len(report.Problems) == 0 || report.Problems[0].Reason == "" || report.Upload != file {
				t.Errorf("report does not say why: %+v", report)
			}
			if len(starter.Executions()) != 0 {
				t.Errorf("training started for a refused file")
			}
			job := e.Job(pipeline.JobID(handlertest.Bucket, file, event.Records[0].S3.Object.ETag, event.Records[0].S3.Object.Sequencer))
			if job.Status != pipeline.StatusRejected || job.Error == "" || job.Upload.Report == "" {
				t.Errorf("job = %+v", job)
			}
		})
	}
}

func TestMergeRefusesOversizedUpload(t *testing.T) {
	e := handlertest.NewEnv(t)
	h := newMergeHandler(t, e.Store, &handlertest.RecordingStarter{})
	h.Config.MaxUploadBytes = 100
	if err := h.Handle(context.Background(), e.Upload("uploads/big.csv", handlertest.Testdata(t, "uploads/ok_next_days.csv"))); err != nil {
		t.Fatal(err)
	}
	var report merge.RejectionReport
	if err := json.Unmarshal(e.Read("rejected/big.csv.error.json"), &report); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(report.Error, "limit is 100 bytes") {
		t.Errorf("report error %q does not name the limit", report.Error)
	}
	if e.Exists(shards.SingleKey) {
		t.Errorf("an oversized upload created the dataset")
	}
}

func TestMergeDuplicateEventMergesOnceStartsOnce(t *testing.T) {
	e := handlertest.NewEnv(t)
	counting := &handlertest.CountingStore{Store: e.Store}
	starter := &handlertest.RecordingStarter{}
	h := newMergeHandler(t, counting, starter)
	e.Put(shards.SingleKey, handlertest.Testdata(t, "small_dataset.csv"))
	event := e.Upload("uploads/ok_next_days.csv", handlertest.Testdata(t, "uploads/ok_next_days.csv"))

	for range 2 {
		if err := h.Handle(context.Background(), event); err != nil {
			t.Fatal(err)
		}
	}
	if got := counting.Count(shards.SingleKey); got != 1 {
		t.Errorf("dataset written %d times, want 1", got)
	}
	if got := len(starter.Executions()); got != 1 {
		t.Errorf("%d executions, want 1", got)
	}
}

func TestMergeSameFileUploadedTwiceTrainsOnce(t *testing.T) {
	e := handlertest.NewEnv(t)
	starter := &handlertest.RecordingStarter{}
	h := newMergeHandler(t, e.Store, starter)
	e.Put(shards.SingleKey, handlertest.Testdata(t, "small_dataset.csv"))
	content := handlertest.Testdata(t, "uploads/ok_next_days.csv")
	first := e.Upload("uploads/ok_next_days.csv", content)
	if err := h.Handle(context.Background(), first); err != nil {
		t.Fatal(err)
	}
	merged := e.Read(shards.SingleKey)
	second := e.Upload("uploads/ok_next_days.csv", content)
	if err := h.Handle(context.Background(), second); err != nil {
		t.Fatal(err)
	}
	if got := len(starter.Executions()); got != 1 {
		t.Errorf("%d executions, want 1: the second upload changed nothing", got)
	}
	if !bytes.Equal(e.Read(shards.SingleKey), merged) {
		t.Errorf("the identical upload changed the dataset")
	}
	job := e.Job(pipeline.JobID(handlertest.Bucket, "uploads/ok_next_days.csv", second.Records[0].S3.Object.ETag, second.Records[0].S3.Object.Sequencer))
	if job.Status != pipeline.StatusUnchanged {
		t.Errorf("second job status %s, want %s", job.Status, pipeline.StatusUnchanged)
	}
}

func TestMergeConcurrentUploadsLoseNoRow(t *testing.T) {
	e := handlertest.NewEnv(t)
	e.Put(shards.SingleKey, handlertest.Testdata(t, "small_dataset.csv"))
	first := e.Upload("uploads/ok_next_days.csv", handlertest.Testdata(t, "uploads/ok_next_days.csv"))
	second := e.Upload("uploads/ok_new_product.csv", handlertest.Testdata(t, "uploads/ok_new_product.csv"))
	starter := &handlertest.RecordingStarter{}

	// The first merge reads the dataset, and just before it writes its result the second merge
	// runs to completion: the first write must then fail its If-Match and be redone.
	other := newMergeHandler(t, e.Store, starter)
	racing := &handlertest.CountingStore{Store: e.Store, BeforeWrite: map[string]func(){shards.SingleKey: func() {
		if err := other.Handle(context.Background(), second); err != nil {
			t.Errorf("second merge: %v", err)
		}
	}}}
	if err := newMergeHandler(t, racing, starter).Handle(context.Background(), first); err != nil {
		t.Fatal(err)
	}

	_, rows := table(t, e.Read(shards.SingleKey))
	for _, file := range []string{"small_dataset.csv", "uploads/ok_next_days.csv", "uploads/ok_new_product.csv"} {
		_, want := table(t, handlertest.Testdata(t, file))
		for key := range want {
			if _, ok := rows[key]; !ok {
				t.Fatalf("row %v of %s was lost", key, file)
			}
		}
	}
	firstJob := e.Job(pipeline.JobID(handlertest.Bucket, "uploads/ok_next_days.csv", first.Records[0].S3.Object.ETag, first.Records[0].S3.Object.Sequencer))
	if firstJob.Merge.Attempts != 2 {
		t.Errorf("first merge took %d attempts, want 2 (one lost race)", firstJob.Merge.Attempts)
	}
	// The second upload's merge came first and started the run; the first waits for its next
	// iteration, which trains both.
	if got := len(starter.Executions()); got != 1 || firstJob.Status != pipeline.StatusTraining || firstJob.Stage != "queued" {
		t.Errorf("%d executions, first job %s/%s; want 1, and the first job queued", got, firstJob.Status, firstJob.Stage)
	}
}

func TestMergeTrulyConcurrentUploads(t *testing.T) {
	e := handlertest.NewEnv(t)
	e.Put(shards.SingleKey, handlertest.Testdata(t, "small_dataset.csv"))
	starter := &handlertest.RecordingStarter{}
	var wg sync.WaitGroup
	var uploaded []events.S3Event
	for i := range 4 {
		content := fmt.Sprintf("date,product_id,sales\n2025-01-0%d,NEW%d,%d\n", i+1, i, i+10)
		uploaded = append(uploaded, e.Upload(fmt.Sprintf("uploads/u%d.csv", i), []byte(content)))
	}
	for _, event := range uploaded {
		wg.Go(func() {
			if err := newMergeHandler(t, e.Store, starter).Handle(context.Background(), event); err != nil {
				t.Errorf("merge: %v", err)
			}
		})
	}
	wg.Wait()
	_, rows := table(t, e.Read(shards.SingleKey))
	for i := range 4 {
		if _, ok := rows[[2]string{fmt.Sprintf("2025-01-0%d", i+1), fmt.Sprintf("NEW%d", i)}]; !ok {
			t.Errorf("row of upload %d lost", i)
		}
	}
}

func TestMergeKeyWithSpaces(t *testing.T) {
	e := handlertest.NewEnv(t)
	starter := &handlertest.RecordingStarter{}
	h := newMergeHandler(t, e.Store, starter)
	key := "uploads/store 12 sales+returns.csv"
	event := e.Upload(key, handlertest.Testdata(t, "uploads/ok_next_days.csv"))
	if got := event.Records[0].S3.Object.Key; got != "uploads/store+12+sales%2Breturns.csv" {
		t.Fatalf("event key %q is not URL-encoded as S3 sends it", got)
	}
	if err := h.Handle(context.Background(), event); err != nil {
		t.Fatal(err)
	}
	if !e.Exists("processed/2026-11-27/store 12 sales+returns.csv") {
		t.Errorf("processed/ has %v", e.Keys(pipeline.ProcessedPrefix))
	}
	if len(starter.Executions()) != 1 {
		t.Errorf("training not started")
	}
}

func TestMergeSkipsKeysItDoesNotOwn(t *testing.T) {
	e := handlertest.NewEnv(t)
	starter := &handlertest.RecordingStarter{}
	h := newMergeHandler(t, e.Store, starter)
	for _, key := range []string{"uploads/notes.txt", "data/other.csv", "uploads/"} {
		event := e.Upload(key, []byte("date,product_id,sales\n2024-01-01,P1,1\n"))
		if err := h.Handle(context.Background(), event); err != nil {
			t.Errorf("%s: %v", key, err)
		}
		if !e.Exists(key) {
			t.Errorf("%s was touched", key)
		}
	}
	if e.Exists(shards.SingleKey) || len(starter.Executions()) != 0 {
		t.Errorf("a skipped key was merged")
	}
}

func TestMergeFallsBackForUnsortedDataset(t *testing.T) {
	e := handlertest.NewEnv(t)
	h := newMergeHandler(t, e.Store, &handlertest.RecordingStarter{})
	e.Put(shards.SingleKey, []byte("date,product_id,sales\n2024-01-02,B,2\n2024-01-01,A,1\n"))
	if err := h.Handle(context.Background(), e.Upload("uploads/x.csv", []byte("date,product_id,sales\n2024-01-03,C,3\n"))); err != nil {
		t.Fatal(err)
	}
	got := string(e.Read(shards.SingleKey))
	if want := "date,product_id,sales\n2024-01-01,A,1\n2024-01-02,B,2\n2024-01-03,C,3\n"; got != want {
		t.Errorf("dataset =\n%s\nwant\n%s", got, want)
	}
}

// failingStarter fails like an unreachable Step Functions endpoint.
type failingStarter struct{ calls int }

func (f *failingStarter) Start(context.Context, pipeline.TaskInput) (string, error) {
	f.calls++
	return "", errors.New("states.us-east-1.amazonaws.com: connection refused")
}

func TestMergeRetryAfterStartFailureStartsWithoutMergingAgain(t *testing.T) {
	e := handlertest.NewEnv(t)
	counting := &handlertest.CountingStore{Store: e.Store}
	e.Put(shards.SingleKey, handlertest.Testdata(t, "small_dataset.csv"))
	event := e.Upload("uploads/ok_next_days.csv", handlertest.Testdata(t, "uploads/ok_next_days.csv"))
	failing := &failingStarter{}
	if err := newMergeHandler(t, counting, failing).Handle(context.Background(), event); err == nil {
		t.Fatal("a failed start must fail the invocation so that Lambda retries it")
	}
	starter := &handlertest.RecordingStarter{}
	if err := newMergeHandler(t, counting, starter).Handle(context.Background(), event); err != nil {
		t.Fatal(err)
	}
	if counting.Count(shards.SingleKey) != 1 || len(starter.Executions()) != 1 {
		t.Errorf("dataset writes %d, executions %d; want 1 and 1", counting.Count(shards.SingleKey), len(starter.Executions()))
	}
}

func TestMergePinsTheDatasetVersionForTraining(t *testing.T) {
	e := handlertest.NewEnv(t)
	starter := &handlertest.RecordingStarter{}
	e.Put(shards.SingleKey, handlertest.Testdata(t, "small_dataset.csv"))
	if err := newMergeHandler(t, e.Store, starter).Handle(context.Background(), e.Upload("uploads/next.csv", handlertest.Testdata(t, "uploads/ok_next_days.csv"))); err != nil {
		t.Fatal(err)
	}
	head, err := e.Store.Head(context.Background(), shards.IndexKey)
	if err != nil {
		t.Fatal(err)
	}
	runs := starter.Executions()
	if len(runs) != 1 || runs[0].DatasetVersionID == "" || runs[0].DatasetVersionID != head.VersionID {
		t.Errorf("training input %+v: want the merged dataset's version %s", runs, head.VersionID)
	}
}

func TestMergeTakesCSVInAnyCase(t *testing.T) {
	e := handlertest.NewEnv(t)
	starter := &handlertest.RecordingStarter{}
	h := newMergeHandler(t, e.Store, starter)
	e.Put(shards.SingleKey, handlertest.Testdata(t, "small_dataset.csv"))
	for _, key := range []string{"uploads/NEXT.CSV", "uploads/more.Csv"} {
		upload := handlertest.Testdata(t, "uploads/ok_next_days.csv")
		if err := h.Handle(context.Background(), e.Upload(key, upload)); err != nil {
			t.Fatal(err)
		}
	}
	if processed := e.Keys(pipeline.ProcessedPrefix); len(processed) != 2 || len(starter.Executions()) != 1 {
		t.Errorf("processed %v, %d executions: want both uploads merged (the second changes nothing)", processed, len(starter.Executions()))
	}
	if err := h.Handle(context.Background(), e.Upload("uploads/notes.txt", []byte("hello"))); err != nil || !e.Exists("uploads/notes.txt") {
		t.Errorf("a .txt upload: %v; it must be left alone", err)
	}
}

// refused merges the upload and returns its rejection report, checking that the dataset did not
// change and the upload moved to rejected/ under name.
func refused(t *testing.T, e *handlertest.Env, key, name string, content []byte) merge.RejectionReport {
	t.Helper()
	before := e.Read(shards.SingleKey)
	if err := newMergeHandler(t, e.Store, &handlertest.RecordingStarter{}).Handle(context.Background(), e.Upload(key, content)); err != nil {
		t.Fatalf("Handle: %v", err)
	}
	if !bytes.Equal(e.Read(shards.SingleKey), before) {
		t.Error("the dataset changed")
	}
	var report merge.RejectionReport
	if err := json.Unmarshal(e.Read(pipeline.RejectedReportKey(name)), &report); err != nil {
		t.Fatal(err)
	}
	if !e.Exists(pipeline.RejectedKey(name)) || e.Exists(key) {
		t.Errorf("the upload was not moved to %s", pipeline.RejectedKey(name))
	}
	return report
}

func TestMergeRefusesUploadsBeyondTheLimits(t *testing.T) {
	e := handlertest.NewEnv(t)
	e.Put(shards.SingleKey, handlertest.Testdata(t, "small_dataset.csv"))
	var header, row strings.Builder
	header.WriteString("date,product_id,sales")
	row.WriteString("2024-03-01,P0001,5")
	for i := range 1000 {
		fmt.Fprintf(&header, ",c%d", i)
		row.WriteString(",1")
	}
	wide := refused(t, e, "uploads/wide.csv", "wide.csv", []byte(header.String()+"\n"+row.String()+"\n"))
	if !strings.Contains(wide.Error, "adds 1000 new columns; at most 32") {
		t.Errorf("1,000 new columns: %s", wide.Error)
	}
	future := refused(t, e, "uploads/future.csv", "future.csv", []byte("date,product_id,sales\n2024-03-01,P0001,5\n2204-04-10,P0001,7\n"))
	if future.Total != 1 || future.Problems[0].Line != 3 || future.Problems[0].Value != "2204-04-10" {
		t.Errorf("a date in 2204: %+v", future)
	}
}

func TestMergeRefusesKeysTooLongToMoveUnderAShortName(t *testing.T) {
	e := handlertest.NewEnv(t)
	e.Put(shards.SingleKey, handlertest.Testdata(t, "small_dataset.csv"))
	name := strings.Repeat("sales-é-", 112) + ".csv" // 1,012 bytes: S3 stores uploads/ with it, processed/ cannot
	key := pipeline.UploadsPrefix + name
	short := pipeline.ShortName(name)
	report := refused(t, e, key, short, handlertest.Testdata(t, "uploads/ok_next_days.csv"))
	if report.Upload != key || !strings.Contains(report.Error, "S3 keys are at most 1024 bytes") {
		t.Errorf("report %+v", report)
	}
	if len(short) > 200 || !strings.HasSuffix(short, ".csv") || !strings.HasPrefix(short, "sales-é-") {
		t.Errorf("short name %q (%d bytes)", short, len(short))
	}
	if other := pipeline.ShortName(strings.Repeat("sales-é-", 112) + "x.csv"); other == short {
		t.Error("two long names that start alike got the same short name")
	}
}

// TestMergeClosesTheJobsOfDeadAttempts: two merges die — one after writing the dataset, its
// upload still in uploads/, one after moving its upload to processed/ — and their events are not
// delivered again (Lambda's retries spent). The next merge leaves their jobs alone while they
// could still be running; once their records are older than the function's timeout, a merge
// closes them: the first fails with the reason (a later delivery of its event merges it after
// all), the second's rows, in the dataset, are trained for it.
func TestMergeClosesTheJobsOfDeadAttempts(t *testing.T) {
	e := handlertest.NewEnv(t)
	ctx := context.Background()
	e.Put(shards.SingleKey, handlertest.Testdata(t, "small_dataset.csv"))
	starter := &handlertest.RecordingStarter{}
	jobID := func(event events.S3Event) string {
		o := event.Records[0].S3.Object
		return pipeline.JobID(handlertest.Bucket, o.Key, o.ETag, o.Sequencer)
	}
	upload := func(name, row string) events.S3Event {
		return e.Upload("uploads/"+name, []byte("date,product_id,sales\n"+row+"\n"))
	}
	// The job records' times are the real clock's: so are the handlers' here.
	handler := func(now func() time.Time) *merge.Handler {
		h := newMergeHandler(t, e.Store, starter)
		h.Now = now
		return h
	}
	dies := func(point merge.FaultPoint, event events.S3Event) {
		h := handler(time.Now)
		h.Fault = func(p merge.FaultPoint) error {
			if p == point {
				return errors.New("killed")
			}
			return nil
		}
		if err := h.Handle(ctx, event); err == nil {
			t.Fatalf("the merge did not stop at %s", point)
		}
	}
	written := upload("written.csv", "2024-03-01,WRIT,5")
	dies(merge.AfterDatasetWrite, written)
	moved := upload("moved.csv", "2024-03-02,MOVE,6")
	dies(merge.AfterMove, moved)

	if err := handler(time.Now).Handle(ctx, upload("next.csv", "2024-03-03,NEXT,7")); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{jobID(written), jobID(moved)} {
		if job := e.Job(id); job.Status != pipeline.StatusRunning {
			t.Errorf("job %s is %s right after its attempt stopped, want running (it may still run)", id, job.Status)
		}
	}

	later := handler(func() time.Time { return time.Now().Add(merge.DefaultConfig().DeadAfter) })
	if err := later.Handle(ctx, upload("later.csv", "2024-03-04,LATE,8")); err != nil {
		t.Fatal(err)
	}
	if job := e.Job(jobID(written)); job.Status != pipeline.StatusFailed || !strings.Contains(job.Error, "uploads/written.csv") {
		t.Errorf("the job whose upload waits in uploads/: %s (%q), want failed saying where the upload is", job.Status, job.Error)
	}
	if job := e.Job(jobID(moved)); job.Status != pipeline.StatusTraining {
		t.Errorf("the job whose upload was moved: %s/%s, want training", job.Status, job.Stage)
	}

	if err := handler(time.Now).Handle(ctx, written); err != nil {
		t.Fatal(err)
	}
	if job := e.Job(jobID(written)); job.Merge == nil || job.Upload.MovedTo == "" ||
		job.Status != pipeline.StatusUnchanged && job.Status != pipeline.StatusTraining {
		t.Errorf("the failed job after its event came again: %s, merge %+v, moved to %q; want it merged", job.Status, job.Merge, job.Upload.MovedTo)
	}
	if e.Exists("uploads/written.csv") {
		t.Error("the upload is still in uploads/")
	}
	_, rows := table(t, e.Read(shards.SingleKey))
	for _, key := range [][2]string{{"2024-03-01", "WRIT"}, {"2024-03-02", "MOVE"}, {"2024-03-03", "NEXT"}, {"2024-03-04", "LATE"}} {
		if _, ok := rows[key]; !ok {
			t.Errorf("row %v is not in the dataset", key)
		}
	}
}
