//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/stockcast/stockcast/shared/datagen"
	"github.com/stockcast/stockcast/shared/dataset"
	"github.com/stockcast/stockcast/shared/pipeline"
	"github.com/stockcast/stockcast/shared/store"
)

// The kill -9 trial's upload: the history of the sample's 24 products and of a new one, P0025,
// over the 8,000 days before the sample's first day (2022-01-01): 200,000 rows, every one new.
const (
	historyKey      = "uploads/history.csv"
	historyProducts = 25
	historyDays     = 8000
	historyProduct  = "P0025"
)

var sampleStart = time.Date(2022, 1, 1, 0, 0, 0, 0, time.UTC)

// TestKillDuringMerge kills the local stack's process group with SIGKILL while the merge of a
// 200,000-row upload is in progress (its job record says so) — every emulator and function under
// it ends too — then starts it again on the same state. The upload is then
// merged exactly once (the dataset valid, sorted, without duplicates, with every row of the
// upload), a model of the new dataset is published and forecasts the upload's new product, and
// no job is left running: the killed attempt's job is closed, superseded by the attempt that did
// the work (or failed, with its reason).
func TestKillDuringMerge(t *testing.T) {
	dir := t.TempDir()
	build(t, dir)
	// Fine-tune epochs of at most 1,000 new windows: the upload's days hold 280,000.
	flags := []string{"--lstm-max-windows", "1000"}
	s := run(t, dir, flags...)
	ctx := context.Background()
	s.eventually(3*time.Minute, "the first model is served", func() bool {
		status, _ := s.forecast("P0001")
		return status == http.StatusOK
	})
	s.settled(1)
	first := s.manifest()
	before := s.checkDataset(0)

	var upload bytes.Buffer
	if err := datagen.Write(ctx, &upload, datagen.Config{Products: historyProducts, Days: historyDays,
		Start: sampleStart.AddDate(0, 0, -historyDays), Seed: 15}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(historyKey),
		Body: bytes.NewReader(upload.Bytes())}); err != nil {
		t.Fatal(err)
	}
	killed := s.mergeInProgress()
	s.kill()
	t.Logf("killed the stack while job %s was merging", killed)

	s = run(t, dir, flags...)
	var latest *pipeline.Manifest
	s.eventually(10*time.Minute, "a model of the dataset with the upload's rows is published after the restart", func() bool {
		m, _, err := pipeline.ReadManifest(ctx, s.objects)
		if err != nil || m.Version == first.Version {
			return false
		}
		current, err := pipeline.CurrentDataset(ctx, s.objects)
		latest = m
		return err == nil && store.SameETag(m.Dataset.ETag, current.Ref.ETag)
	})
	for _, e := range s.settled(2) {
		if e.Status != types.ExecutionStatusSucceeded {
			t.Errorf("execution %s: %s", aws.ToString(e.Name), e.Status)
		}
	}
	if after := s.checkDataset(before + historyProducts*historyDays); after != before+historyProducts*historyDays {
		t.Fatalf("the dataset has %d rows after the restart, want %d before + %d uploaded", after, before, historyProducts*historyDays)
	}
	if status, version := s.forecast(historyProduct); status != http.StatusOK || version != latest.Version {
		t.Errorf("forecast of the upload's new product %s: %d from %q, want 200 from %q", historyProduct, status, version, latest.Version)
	}
	s.jobsEnded(killed)
}

// mergeInProgress waits until a job of the trial's upload is merging, and returns its id.
func (s *system) mergeInProgress() string {
	s.t.Helper()
	jobs := pipeline.NewJobs(s.objects)
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		list, _ := jobs.List(context.Background(), pipeline.ListOptions{Upload: historyKey, Limit: 10})
		for _, job := range list {
			if job.Status == pipeline.StatusRunning && job.Stage == "merge" {
				return job.ID
			}
			if job.Status != pipeline.StatusRunning && job.Status != pipeline.StatusPending { // pending: its merge has not started yet
				s.t.Fatalf("job %s is %s before the test could kill its merge: %+v", job.ID, job.Status, job)
			}
		}
		time.Sleep(5 * time.Millisecond) // the merge of 200,000 rows takes about a second
	}
	s.t.Fatalf("after 2 minutes no job of %s is merging", historyKey)
	return ""
}

// checkDataset reads the dataset through its index and checks that it is valid: every shard
// sorted by (date, product_id) without duplicates, every row in its product's shard, the index's
// counts true (pipeline.ScanDataset); with uploaded > 0, that it holds exactly that many rows of
// the trial's upload (the days before the sample's first). It returns the number of rows.
func (s *system) checkDataset(uploaded int) int {
	s.t.Helper()
	current := s.dataset()
	first := dataset.DayOf(sampleStart)
	history := 0
	rows, err := pipeline.ScanDataset(context.Background(), s.objects, current.Index, func(_ int, row *dataset.Row) error {
		if row.Day < first {
			history++
		}
		return nil
	})
	if err != nil {
		s.t.Fatalf("the dataset is not valid after %d rows: %v", rows, err)
	}
	if uploaded > 0 && history != historyProducts*historyDays {
		s.t.Fatalf("the dataset holds %d rows of the upload, want %d", history, historyProducts*historyDays)
	}
	return rows
}

// dataset reads the current dataset version: its index, and how a training task names it.
func (s *system) dataset() pipeline.Current {
	s.t.Helper()
	current, err := pipeline.CurrentDataset(context.Background(), s.objects)
	if err != nil {
		s.t.Fatal(err)
	}
	return current
}

// jobsEnded checks that no job is merging or training, and that the killed attempt's job was
// closed: superseded by the job of the same upload that merged it and succeeded, or failed with
// its reason. The killed attempt had not written the dataset: the job that finished inserted the
// upload's every row.
func (s *system) jobsEnded(killed string) {
	s.t.Helper()
	ctx := context.Background()
	list, err := pipeline.NewJobs(s.objects).List(ctx, pipeline.ListOptions{Limit: pipeline.MaxListLimit})
	if err != nil {
		s.t.Fatal(err)
	}
	byID := map[string]*pipeline.Job{}
	for _, job := range list {
		byID[job.ID] = job
		if job.Status == pipeline.StatusRunning || job.Status == pipeline.StatusTraining {
			s.t.Errorf("job %s is still %s at stage %s", job.ID, job.Status, job.Stage)
		}
	}
	dead, ok := byID[killed]
	switch {
	case !ok:
		s.t.Fatalf("the killed attempt's job %s is gone", killed)
	case dead.Status == pipeline.StatusFailed:
		if dead.Error == "" {
			s.t.Errorf("the killed attempt's job failed without a reason: %+v", dead)
		}
	case dead.Status != pipeline.StatusSuperseded:
		s.t.Fatalf("the killed attempt's job %s is %s, want superseded or failed: %+v", killed, dead.Status, dead)
	default:
		finisher, ok := byID[dead.SupersededBy]
		if !ok || finisher.ID == killed || finisher.Status != pipeline.StatusSucceeded || finisher.Upload.Key != historyKey {
			s.t.Fatalf("the killed attempt's job is superseded by %q (%+v), want the job of %s that succeeded", dead.SupersededBy, finisher, historyKey)
		}
		if finisher.Merge == nil || finisher.Merge.Inserted != historyProducts*historyDays {
			s.t.Errorf("the job that finished merged %+v, want the %d rows inserted (the killed attempt had not written the dataset)",
				finisher.Merge, historyProducts*historyDays)
		}
	}
}

// killGroup kills the process group of pid — the local stack — with SIGKILL, as `kill -9 --
// -PID` does, and waits until every process that ran under it has ended: the emulators die with
// the stack (the kernel kills them when it dies) and their functions with them.
func killGroup(t *testing.T, pid int) {
	t.Helper()
	tree := processTree(pid)
	if err := syscall.Kill(-pid, syscall.SIGKILL); err != nil {
		t.Fatalf("kill -9 the local stack: %v", err)
	}
	deadline := time.Now().Add(time.Minute)
	for _, p := range tree {
		for alive(p) {
			if time.Now().After(deadline) {
				t.Fatalf("process %d of the killed stack (of %v) still runs a minute after the kill", p, tree)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// processTree lists pid and its descendants, sorted, from /proc.
func processTree(pid int) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return []int{pid}
	}
	children := map[int][]int{}
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if parent, err := parentOf(p); err == nil {
			children[parent] = append(children[parent], p)
		}
	}
	tree := []int{pid}
	for i := 0; i < len(tree); i++ {
		tree = append(tree, children[tree[i]]...)
	}
	slices.Sort(tree)
	return tree
}

// parentOf reads a process's parent from /proc/PID/stat, whose second field (the command) may
// hold spaces and parentheses: the fields after its last ')' are the state and the parent.
func parentOf(pid int) (int, error) {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
	if len(fields) < 2 {
		return 0, errors.New("short /proc stat")
	}
	return strconv.Atoi(fields[1])
}

// alive tells whether a process still runs (a zombie waiting for its parent does not).
func alive(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
	return len(fields) > 0 && fields[0] != "Z" && fields[0] != "X"
}
