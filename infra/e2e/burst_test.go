//go:build e2e

package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/stockcast/stockcast/shared/pipeline"
)

// burstSize is the number of files uploaded at once.
const burstSize = 16

// TestBurstOfUploads sends sixteen files at once through the real path — S3 puts, their S3
// events, the merge function under the emulator, the training queue and the state machine — and
// checks what a user would: every row merged, every job succeeded or superseded by a model
// version that holds its rows, and a handful of trainings for the whole burst, not one per file.
// It also checks that the API's errors are JSON down to a request net/http cannot parse.
func TestBurstOfUploads(t *testing.T) {
	s := start(t)
	ctx := context.Background()
	s.eventually(3*time.Minute, "the first model is served", func() bool {
		status, _ := s.forecast("P0001")
		return status == http.StatusOK
	})
	s.apiErrorsAreJSON()
	seeded := len(s.settled(1))
	rowsBefore := s.manifest().Dataset.Rows

	// Sixteen files at once, three days of one new product each.
	var wg sync.WaitGroup
	errs := make([]error, burstSize)
	for i := range burstSize {
		wg.Go(func() {
			var body strings.Builder
			body.WriteString("date,product_id,sales,category,region\n")
			for d := range 3 {
				fmt.Fprintf(&body, "2024-04-%02d,PB%02d,%d,Toys,East\n", 7+d, i, 10+i+d)
			}
			_, errs[i] = s.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(burstName(i)),
				Body: strings.NewReader(body.String())})
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("upload %s: %v", burstName(i), err)
		}
	}

	// Each file's job, found by its name, ends.
	jobs := make([]*pipeline.Job, burstSize)
	s.eventually(6*time.Minute, "every job of the burst has ended", func() bool {
		for i := range burstSize {
			list := s.jobsOf(strings.TrimPrefix(burstName(i), pipeline.UploadsPrefix))
			if len(list) != 1 {
				return false
			}
			switch list[0].Status {
			case pipeline.StatusSucceeded, pipeline.StatusSuperseded, pipeline.StatusFailed, pipeline.StatusRejected, pipeline.StatusUnchanged:
				jobs[i] = list[0]
			default:
				return false
			}
		}
		return true
	})
	executions := s.settled(seeded + 1)
	m := s.manifest()
	byID := map[string]*pipeline.Job{}
	for _, job := range jobs {
		byID[job.ID] = job
	}
	versions := map[string]bool{}
	for i, job := range jobs {
		if job.Status != pipeline.StatusSucceeded && job.Status != pipeline.StatusSuperseded {
			t.Errorf("%s: job %s ended %s (%s)", burstName(i), job.ID, job.Status, job.Error)
			continue
		}
		if job.Publish == nil || job.Publish.Version == "" || (job.Status == pipeline.StatusSuperseded && job.SupersededBy == "") {
			t.Errorf("%s: job %s %s names no model version: %+v, superseded by %q", burstName(i), job.ID, job.Status, job.Publish, job.SupersededBy)
			continue
		}
		versions[job.Publish.Version] = true
		// The version it names holds its rows: the published one holds every row (counted below);
		// an earlier one was trained for a job merged after this one (the merges run one at a time).
		trained, ok := byID[job.Publish.Version]
		if job.Publish.Version != m.Version && (!ok || trained.Merge == nil || job.Merge == nil || trained.Merge.Written.Before(job.Merge.Written)) {
			t.Errorf("%s: job %s names model %s, which is no burst job's trained after its merge", burstName(i), job.ID, job.Publish.Version)
		}
	}
	trainings := len(versions)
	t.Logf("%d uploads at once: %d trainings (model versions %v) in %d executions after the seed's", burstSize, trainings, versions, len(executions)-seeded)
	if trainings < 1 || trainings > 3 {
		t.Errorf("%d uploads at once trained %d times, want at most a few (the queue trains a burst in at most two runs)", burstSize, trainings)
	}

	// Every row is in the served model's dataset, and every new product is served by it.
	if m.Dataset.Rows != rowsBefore+3*burstSize {
		t.Errorf("the dataset has %d rows, want %d before the burst + %d", m.Dataset.Rows, rowsBefore, 3*burstSize)
	}
	if !versions[m.Version] {
		t.Errorf("the published model %s is none of the burst's jobs' %v", m.Version, versions)
	}
	s.eventually(30*time.Second, "the published model serves", func() bool {
		_, version := s.forecast("PB00")
		return version == m.Version
	})
	for i := range burstSize {
		if status, version := s.forecast(fmt.Sprintf("PB%02d", i)); status != http.StatusOK || version != m.Version {
			t.Errorf("PB%02d: %d from %q, want 200 from %q", i, status, version, m.Version)
		}
	}
}

func burstName(i int) string { return fmt.Sprintf("%sburst-%02d.csv", pipeline.UploadsPrefix, i) }

// jobsOf lists an upload's jobs through the API (GET /jobs?upload=NAME).
func (s *system) jobsOf(name string) []*pipeline.Job {
	s.t.Helper()
	resp, err := s.get("/jobs?upload=" + name)
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	var list struct {
		Jobs []*pipeline.Job `json:"jobs"`
	}
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&list) != nil {
		return nil
	}
	return list.Jobs
}

// apiErrorsAreJSON checks that the API answers errors as JSON {"error", "status"}: an unknown
// route (the function's 404) and a request URI net/http refuses before any handler runs, sent
// as raw bytes.
func (s *system) apiErrorsAreJSON() {
	s.t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(s.api, "http://"))
	if err != nil {
		s.t.Fatal(err)
	}
	defer conn.Close()
	r := bufio.NewReader(conn)
	for _, tc := range []struct {
		path   string
		status int
	}{{"/no/such/route", http.StatusNotFound}, {"/jobs/%zz", http.StatusBadRequest}} {
		if _, err := fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: api\r\n\r\n", tc.path); err != nil {
			s.t.Fatal(err)
		}
		resp, err := http.ReadResponse(r, nil)
		if err != nil {
			s.t.Fatalf("GET %s: %v", tc.path, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var e struct {
			Error  string `json:"error"`
			Status int    `json:"status"`
		}
		if resp.StatusCode != tc.status || resp.Header.Get("Content-Type") != "application/json" || json.Unmarshal(body, &e) != nil || e.Status != tc.status || e.Error == "" {
			s.t.Errorf("GET %s: %d %s %q, want a JSON %d", tc.path, resp.StatusCode, resp.Header.Get("Content-Type"), body, tc.status)
		}
	}
}
