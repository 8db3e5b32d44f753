//go:build e2e

// Package e2e runs the whole system end to end, as a user would: the local stack with every
// function as its real bootstrap binary under the Lambda Runtime Interface Emulator, files
// uploaded with awscli and the SDK, the state machine followed through the Step Functions API,
// and forecasts read over HTTP. Run it with `make e2e` (part of `make test`).
package e2e

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/stockcast/stockcast/infra/local/rie"
	"github.com/stockcast/stockcast/infra/local/stack"
	"github.com/stockcast/stockcast/shared/pipeline"
	"github.com/stockcast/stockcast/shared/platform"
	"github.com/stockcast/stockcast/shared/store"
)

const (
	bucket = "stockcast-local"
	root   = "../.."
)

// system is a running local stack and the clients that talk to it.
type system struct {
	t        *testing.T
	dir      string // the build and the state
	stop     func()
	kill     func() // kill -9 of the stack's process group
	endpoint string
	api      string
	s3       *s3.Client
	objects  store.Store
	states   *sfn.Client
	machine  string
	// apiKey is the key the API requires in x-api-key ("": none).
	apiKey string
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// build makes what `make build` makes, into dir.
func build(t *testing.T, dir string) string {
	t.Helper()
	ctx := context.Background()
	if _, err := rie.BuildEmulator(ctx, root, dir); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"merge", "refit", "finetune", "publish", "forecast"} {
		if _, err := rie.BuildFunction(ctx, root, dir, name); err != nil {
			t.Fatal(err)
		}
	}
	cli := filepath.Join(dir, "stockcast")
	cmd := exec.Command("go", "build", "-o", cli, "./infra/local")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build bin/stockcast: %v\n%s", err, out)
	}
	return cli
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// start builds the system and runs it, until the end of the test.
func start(t *testing.T) *system {
	t.Helper()
	dir := t.TempDir()
	build(t, dir)
	return run(t, dir)
}

// run starts `stockcast run --rie` built in dir on its state in dir, with flags after the
// test's defaults, and stops it (and every emulator it started) at the end of the test or at stop
// or kill, whichever comes first.
func run(t *testing.T, dir string, flags ...string) *system {
	t.Helper()
	cli := filepath.Join(dir, "stockcast")
	endpoint, api := freeAddr(t), freeAddr(t)
	cmd := exec.Command(cli, append([]string{"run", "--rie", "--build", dir, "--state", filepath.Join(dir, "state"),
		"--addr", endpoint, "--api", api, "--seed", filepath.Join(root, "testdata/sample_dataset.csv"),
		"--lstm-full-epochs", "2", "--lstm-max-windows", "4000"}, flags...)...)
	logs := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
			select {
			case <-done:
			case <-time.After(15 * time.Second):
				_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
				<-done
			}
		})
	}
	kill := func() {
		once.Do(func() {
			killGroup(t, cmd.Process.Pid)
			<-done
		})
	}
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			t.Logf("local stack output (%s):\n%s", endpoint, logs.String())
		}
	})
	cfg := platform.LocalAWSConfig("http://" + endpoint)
	s := &system{t: t, dir: dir, stop: stop, kill: kill, endpoint: "http://" + endpoint, api: "http://" + api, s3: platform.NewS3Client(cfg),
		states: platform.NewStepFunctionsClient(cfg), machine: "arn:aws:states:us-east-1:000000000000:stateMachine:TrainingStateMachine"}
	s.objects = store.NewS3(s.s3, bucket)
	return s
}

// eventually polls check until it returns true, failing the test after limit.
func (s *system) eventually(limit time.Duration, what string, check func() bool) {
	s.t.Helper()
	deadline := time.Now().Add(limit)
	for !check() {
		if time.Now().After(deadline) {
			s.t.Fatalf("after %s: %s", limit, what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func (s *system) aws(args ...string) string {
	s.t.Helper()
	cmd := exec.Command("aws", append([]string{"--endpoint-url", s.endpoint}, args...)...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_DEFAULT_REGION=us-east-1", "AWS_PAGER=")
	out, err := cmd.CombinedOutput()
	if err != nil {
		s.t.Fatalf("aws %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// executions lists the training executions, newest first.
func (s *system) executions() []types.ExecutionListItem {
	out, err := s.states.ListExecutions(context.Background(), &sfn.ListExecutionsInput{StateMachineArn: aws.String(s.machine)})
	if err != nil {
		return nil
	}
	return out.Executions
}

// settled waits until n executions exist and none is running.
func (s *system) settled(n int) []types.ExecutionListItem {
	s.t.Helper()
	var list []types.ExecutionListItem
	s.eventually(3*time.Minute, fmt.Sprintf("%d finished executions", n), func() bool {
		list = s.executions()
		for _, e := range list {
			if e.Status == types.ExecutionStatusRunning {
				return false
			}
		}
		return len(list) >= n
	})
	return list
}

// forecast asks the API for a product's forecast; it returns the status and the model version.
func (s *system) forecast(product string) (int, string) {
	s.t.Helper()
	status, version, _ := s.forecastWithReload(product)
	return status, version
}

// forecastWithReload is forecast with the reload error the response carries.
func (s *system) forecastWithReload(product string) (int, string, string) {
	s.t.Helper()
	resp, err := s.get("/forecast?product_id=" + product + "&days=7&on_hand=50")
	if err != nil {
		return 0, "", "" // not listening yet
	}
	defer resp.Body.Close()
	var body struct {
		Version string `json:"model_version"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body.Version, resp.Header.Get("X-Stockcast-Reload-Error")
}

// get requests a path of the API, with its key.
func (s *system) get(path string) (*http.Response, error) {
	req, err := http.NewRequest(http.MethodGet, s.api+path, nil)
	if err != nil {
		return nil, err
	}
	if s.apiKey != "" {
		req.Header.Set("x-api-key", s.apiKey)
	}
	return http.DefaultClient.Do(req)
}

// refused waits for the refusal report of an upload under name and returns it.
func (s *system) refused(name string) string {
	s.t.Helper()
	s.eventually(time.Minute, name+" is refused", func() bool {
		_, err := s.objects.Head(context.Background(), pipeline.RejectedReportKey(name))
		return err == nil
	})
	report, _, err := store.ReadAll(context.Background(), s.objects, pipeline.RejectedReportKey(name))
	if err != nil {
		s.t.Fatal(err)
	}
	return string(report)
}

func (s *system) manifest() *pipeline.Manifest {
	s.t.Helper()
	m, _, err := pipeline.ReadManifest(context.Background(), s.objects)
	if err != nil {
		s.t.Fatal(err)
	}
	return m
}

// downloadsMatch downloads every object the manifest serves — the dataset index and its parts,
// the checkpoint, each shard's trend models and selections, the group results, and the manifest
// itself — and two objects written by
// multipart uploads, one by awscli and one by the store as the pipeline writes large objects,
// with awscli, which validates the checksums S3 answers with, and with the SDK asking for
// checksums: both get the same bytes, of the size S3 lists. Every object has the ETag S3 gives
// it — its MD5, or a multipart upload's "<MD5 of the parts' MD5s>-<parts>" — the same by awscli's
// HEAD and listing, the SDK's GET and the manifest.
func (s *system) downloadsMatch(m *pipeline.Manifest) {
	s.t.Helper()
	ctx := context.Background()
	recorded := map[string]string{pipeline.ManifestKey: "", m.Dataset.Key: m.Dataset.ETag, m.LSTM.Key: m.LSTM.ETag, m.Groups.Key: m.Groups.ETag}
	for _, sh := range m.Shards {
		for _, p := range sh.Data.Parts {
			recorded[p.Key] = p.ETag
		}
		if sh.Trend.Key != "" {
			recorded[sh.Trend.Key] = sh.Trend.ETag
		}
		if sh.Selection != nil {
			recorded[sh.Selection.Key] = sh.Selection.ETag
		}
	}
	dir := s.t.TempDir()
	// 2.5 parts (of awscli's 8 MiB and the store's), no two parts alike.
	big := make([]byte, store.DefaultPartSize*5/2)
	for i := range big {
		big[i] = byte(i * 7 / 4096)
	}
	bigFile := filepath.Join(dir, "big.bin")
	if err := os.WriteFile(bigFile, big, 0o644); err != nil {
		s.t.Fatal(err)
	}
	const byCLIKey, byStoreKey = "e2e/multipart-by-awscli.bin", "e2e/multipart-by-store.bin"
	s.aws("s3", "cp", bigFile, "s3://"+bucket+"/"+byCLIKey)
	written, err := s.objects.Put(ctx, byStoreKey, bytes.NewReader(big), store.PutOptions{})
	if err != nil {
		s.t.Fatal(err)
	}
	recorded[byCLIKey], recorded[byStoreKey] = "", written.ETag
	defer func() {
		for _, key := range []string{byCLIKey, byStoreKey} {
			if err := s.objects.Delete(ctx, key); err != nil {
				s.t.Error(err)
			}
		}
	}()
	multipart := 0
	for i, key := range slices.Sorted(maps.Keys(recorded)) {
		file := filepath.Join(dir, fmt.Sprintf("artifact-%d", i))
		s.aws("s3", "cp", "s3://"+bucket+"/"+key, file)
		byCLI, err := os.ReadFile(file)
		if err != nil {
			s.t.Fatal(err)
		}
		out, err := s.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key),
			ChecksumMode: s3types.ChecksumModeEnabled})
		if err != nil {
			s.t.Fatalf("SDK download of %s: %v", key, err)
		}
		bySDK, err := io.ReadAll(out.Body)
		out.Body.Close()
		if err != nil {
			s.t.Fatalf("SDK download of %s: %v", key, err)
		}
		if !bytes.Equal(byCLI, bySDK) || int64(len(bySDK)) != aws.ToInt64(out.ContentLength) || len(bySDK) == 0 {
			s.t.Errorf("%s: awscli got %d bytes, the SDK %d of %d", key, len(byCLI), len(bySDK), aws.ToInt64(out.ContentLength))
		}
		want := s3ETag(bySDK, store.DefaultPartSize)
		headETag := strings.TrimSpace(s.aws("s3api", "head-object", "--bucket", bucket, "--key", key, "--query", "ETag", "--output", "text"))
		listETag := strings.TrimSpace(s.aws("s3api", "list-objects-v2", "--bucket", bucket, "--prefix", key, "--query", "Contents[0].ETag", "--output", "text"))
		if aws.ToString(out.ETag) != want || headETag != want || listETag != want {
			s.t.Errorf("%s: ETag %s by GET, %s by HEAD, %s listed; S3 gives it %s", key, aws.ToString(out.ETag), headETag, listETag, want)
		}
		if etag := recorded[key]; etag != "" && etag != want {
			s.t.Errorf("%s: written or recorded with ETag %s, S3 gives it %s", key, etag, want)
		}
		if strings.HasSuffix(want, `-3"`) {
			multipart++
		}
	}
	if multipart < 2 {
		s.t.Errorf("%d objects of three parts, want the two multipart uploads", multipart)
	}
}

// s3ETag is the ETag S3 gives content written as the store writes it: its MD5 (quoted) when it
// fits in one part, else the MD5 of the concatenated binary MD5s of its parts, "-", their number.
func s3ETag(content []byte, partSize int) string {
	if len(content) < partSize {
		sum := md5.Sum(content)
		return `"` + hex.EncodeToString(sum[:]) + `"`
	}
	var sums []byte
	parts := 0
	for start := 0; start < len(content); start += partSize {
		sum := md5.Sum(content[start:min(start+partSize, len(content))])
		sums, parts = append(sums, sum[:]...), parts+1
	}
	all := md5.Sum(sums)
	return fmt.Sprintf(`"%s-%d"`, hex.EncodeToString(all[:]), parts)
}

func TestEndToEnd(t *testing.T) {
	s := start(t)
	ctx := context.Background()

	// make run's first start: the sample is merged, trained and published, then served.
	s.eventually(3*time.Minute, "the first model is served", func() bool {
		status, _ := s.forecast("P0001")
		return status == http.StatusOK
	})
	first := s.manifest()

	// A new product through awscli, another file through the SDK.
	s.aws("s3", "cp", "testdata/new_data.csv", "s3://"+bucket+"/uploads/new_data.csv")
	sdkUpload := "date,product_id,sales,category,region\n2024-04-10,P0100,5,Toys,North\n2024-04-11,P0100,7,Toys,North\n2024-04-12,P0100,6,Toys,North\n"
	if _, err := s.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("uploads/from the sdk.csv"),
		Body: strings.NewReader(sdkUpload)}); err != nil {
		t.Fatal(err)
	}
	// The second upload arrives while the first trains: it waits, and the same execution trains
	// both (one or two executions after the seed's, depending on timing).
	s.eventually(3*time.Minute, "both new products are served", func() bool {
		a, _ := s.forecast("P0025")
		b, _ := s.forecast("P0100")
		return a == http.StatusOK && b == http.StatusOK
	})
	executions := s.settled(2)
	n := len(executions)
	for _, e := range executions {
		if e.Status != types.ExecutionStatusSucceeded {
			t.Fatalf("execution %s: %s", aws.ToString(e.Name), e.Status)
		}
	}
	described := s.aws("stepfunctions", "describe-execution", "--execution-arn", aws.ToString(executions[0].ExecutionArn), "--query", "status", "--output", "text")
	if strings.TrimSpace(described) != "SUCCEEDED" {
		t.Errorf("aws stepfunctions describe-execution: %q", described)
	}
	latest := s.manifest()
	if latest.Version == first.Version {
		t.Fatal("no new model was published")
	}
	s.downloadsMatch(latest)
	for _, product := range []string{"P0025", "P0100"} {
		if status, version := s.forecast(product); status != http.StatusOK || version != latest.Version {
			t.Errorf("forecast of new product %s: %d from %q, want 200 from %q", product, status, version, latest.Version)
		}
	}

	// A bad file is refused with its reasons; the dataset does not change; forecasts go on.
	dataset := s.dataset()
	s.aws("s3", "cp", "testdata/uploads/bad_sales.csv", "s3://"+bucket+"/uploads/bad_sales.csv")
	s.eventually(time.Minute, "the bad file is refused", func() bool {
		_, err := s.objects.Head(ctx, "rejected/bad_sales.csv.error.json")
		return err == nil
	})
	report := s.aws("s3", "cp", "s3://"+bucket+"/rejected/bad_sales.csv.error.json", "-")
	if !strings.Contains(report, `"line": 2`) || !strings.Contains(report, "sales") {
		t.Errorf("refusal report lacks the bad lines:\n%s", report)
	}
	if now := s.dataset(); !store.SameETag(now.Object.ETag, dataset.Object.ETag) {
		t.Errorf("the dataset changed after a refused upload")
	}
	if status, _ := s.forecast("P0001"); status != http.StatusOK {
		t.Errorf("forecast after a refused upload: %d", status)
	}

	// The same file again changes nothing and starts nothing.
	s.aws("s3", "cp", "testdata/new_data.csv", "s3://"+bucket+"/uploads/new_data.csv")
	s.eventually(time.Minute, "the repeated upload is processed", func() bool {
		out, _ := s.objects.List(ctx, pipeline.UploadsPrefix)
		return len(out) == 0
	})
	if got := len(s.settled(n)); got != n {
		t.Errorf("%d executions after the same upload twice, want %d", got, n)
	}

	// A failing fine-tune: the job fails, the previous model keeps serving.
	fault, _ := json.Marshal(stack.Fault{Function: "finetune", Error: "InjectedFault", Message: "fine-tune failure injected by the test"})
	resp, err := http.Post(s.endpoint+stack.FaultsPath, "application/json", bytes.NewReader(fault))
	if err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("inject fault: %v %v", resp, err)
	}
	resp.Body.Close()
	s.aws("s3", "cp", "testdata/uploads/ok_sales_formats.csv", "s3://"+bucket+"/uploads/more.csv")
	executions = s.settled(n + 1)
	if executions[0].Status != types.ExecutionStatusFailed {
		t.Errorf("execution with an injected fine-tune failure: %s", executions[0].Status)
	}
	job, err := pipeline.NewJobs(s.objects).Get(ctx, aws.ToString(executions[0].Name))
	if err != nil || job.Status != pipeline.StatusFailed || !strings.Contains(job.Error, "injected") {
		t.Errorf("job after the failure: %+v (%v)", job, err)
	}
	if status, version := s.forecast("P0001"); status != http.StatusOK || version != latest.Version {
		t.Errorf("after the failure: %d from %q, want 200 from %q", status, version, latest.Version)
	}

	// A fresh start of everything — a cold API over a dataset that moved past the published
	// model, S3 restored from disk — serves the published model.
	s.stop()
	s = run(t, s.dir)
	s.eventually(time.Minute, "the API answers after a restart", func() bool {
		status, _ := s.forecast("P0001")
		return status != 0
	})
	// (The start-up check trains the dataset whose training failed: its model may be served already.)
	if status, version := s.forecast("P0001"); status != http.StatusOK || version == "" {
		t.Fatalf("a fresh API after a failed training: %d from %q, want 200 from %q or its retrained successor", status, version, latest.Version)
	}

	// Uploads beyond the limits are refused with their reasons; the dataset does not change.
	dataset = s.dataset()
	var wide strings.Builder
	wide.WriteString("date,product_id,sales")
	for i := range 1000 {
		fmt.Fprintf(&wide, ",extra_%d", i)
	}
	wide.WriteString("\n2024-04-13,P0001,5" + strings.Repeat(",1", 1000) + "\n")
	longName := strings.Repeat("long-name-", 100) + ".csv" // uploads/ + 1,004 bytes: S3 keeps it, processed/ cannot
	for name, content := range map[string]string{
		"wide.csv":   wide.String(),
		"future.csv": "date,product_id,sales\n2024-04-13,P0001,5\n2204-04-10,P0001,7\n",
		longName:     "date,product_id,sales\n2024-04-13,P0001,5\n",
	} {
		if _, err := s.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("uploads/" + name), Body: strings.NewReader(content)}); err != nil {
			t.Fatalf("upload %.40s…: %v", name, err)
		}
	}
	if report := s.refused("wide.csv"); !strings.Contains(report, "adds 1000 new columns") {
		t.Errorf("1,000 new columns: %s", report)
	}
	if report := s.refused("future.csv"); !strings.Contains(report, `"line": 3`) || !strings.Contains(report, "2204-04-10") {
		t.Errorf("a date in 2204: %s", report)
	}
	if report := s.refused(pipeline.ShortName(longName)); !strings.Contains(report, "S3 keys are at most 1024 bytes") {
		t.Errorf("a key too long to move: %s", report)
	}
	// A key longer than S3 takes at all (1,100 bytes) is refused by S3 itself.
	_, err = s.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("uploads/" + strings.Repeat("x", 1088) + ".csv"), Body: strings.NewReader("date\n")})
	if err == nil || !strings.Contains(err.Error(), "KeyTooLong") {
		t.Errorf("a 1,100-byte key: %v, want KeyTooLongError", err)
	}
	if now := s.dataset(); !store.SameETag(now.Object.ETag, dataset.Object.ETag) {
		t.Errorf("the dataset changed after refused uploads")
	}

	// Garbage over the manifest: the API keeps serving and says why.
	s.aws("s3", "cp", "testdata/uploads/bad_sales.csv", "s3://"+bucket+"/"+pipeline.ManifestKey)
	status, version, reloadErr := s.forecastWithReload("P0001")
	if status != http.StatusOK || version != latest.Version || !strings.Contains(reloadErr, "damaged manifest") {
		t.Errorf("over a damaged manifest: %d from %q (reload error %q), want 200 from %q", status, version, reloadErr, latest.Version)
	}

	// The next upload — a .CSV — is merged and publishes over the damaged manifest.
	upper := "date,product_id,sales,category,region\n2024-04-13,P0001,40,Electronics,North\n2024-04-13,P0100,8,Toys,North\n"
	if _, err := s.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("uploads/NEXT_DAY.CSV"), Body: strings.NewReader(upper)}); err != nil {
		t.Fatal(err)
	}
	// The start-up check retrained the dataset whose training failed; the .CSV upload trains in
	// that run's next iteration, or in its own execution.
	var repaired *pipeline.Manifest
	s.eventually(3*time.Minute, "the .CSV upload's model is published", func() bool {
		m, _, err := pipeline.ReadManifest(ctx, s.objects)
		repaired = m
		return err == nil && strings.HasPrefix(m.JobID, "NEXT_DAY-")
	})
	executions = s.settled(n + 2)
	if executions[0].Status != types.ExecutionStatusSucceeded {
		t.Fatalf("the .CSV upload's execution: %s", executions[0].Status)
	}
	// The damaged manifest is recorded by the publish that replaced it: this one, or the
	// start-up check's model just before it.
	if repaired.Version == latest.Version || (repaired.Replaced == nil || !strings.Contains(repaired.Replaced.Error, "damaged")) && repaired.Previous == latest.Version {
		t.Fatalf("manifest after the .CSV upload: %+v, want a new version after the one that replaced the damaged manifest", repaired)
	}
	s.eventually(30*time.Second, "the repaired manifest's model is served", func() bool {
		status, version, reloadErr := s.forecastWithReload("P0001")
		return status == http.StatusOK && version == repaired.Version && reloadErr == ""
	})
}
