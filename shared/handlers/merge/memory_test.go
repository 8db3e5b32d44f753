package merge_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stockcast/stockcast/shared/datagen"
	"github.com/stockcast/stockcast/shared/fakes3"
	"github.com/stockcast/stockcast/shared/handlers/handlertest"
	"github.com/stockcast/stockcast/shared/handlers/merge"
	"github.com/stockcast/stockcast/shared/pipeline"
	"github.com/stockcast/stockcast/shared/platform"
	"github.com/stockcast/stockcast/shared/shards"
	"github.com/stockcast/stockcast/shared/store"
)

// functionMemoryMiB is the MergeFunction's MemorySize in template.yaml.
const functionMemoryMiB = 1024

// childEndpoint, set in a child process's environment, makes TestMergeInAChildProcess merge
// uploads/big.csv through the S3 endpoint it names, as the function would.
const childEndpoint = "STOCKCAST_MERGE_CHILD_ENDPOINT"

// BenchmarkMergePeakMemory merges an upload at the 64 MiB size limit into a 1,000-product
// dataset in a child process that runs as the merge function does — the Lambda's memory size in
// its environment, the real S3 adapter over HTTP — and reports the child's peak resident memory
// against the function's MemorySize, with the Go memory limit the function sets from it and
// beside it without one. Two uploads: retail rows of every column (1.48 million rows of 7,400 new
// products), and the shortest rows the contract allows (date, product_id, sales: 3.5 million
// rows), the worst case, since memory grows with the rows.
func BenchmarkMergePeakMemory(b *testing.B) {
	base := datagen.Config{Products: 1000, Days: 200, Seed: 1}
	limit := merge.DefaultConfig().MaxUploadBytes
	shapes := map[string][]byte{
		"retail": handlertest.Generated(b, datagen.NewProducts(base, 7400)),
		"short":  shortRows(limit),
	}
	for _, shape := range []string{"retail", "short"} {
		upload := shapes[shape]
		upload = upload[:bytes.LastIndexByte(upload[:min(int64(len(upload)), limit)], '\n')+1]
		for _, gomemlimit := range []string{"function", "off"} {
			b.Run("rows="+shape+"/gomemlimit="+gomemlimit, func(b *testing.B) {
				benchmarkMergePeakMemory(b, handlertest.Generated(b, base), upload, gomemlimit == "off")
			})
		}
	}
}

// shortRows is an upload of about size bytes of rows with only the required columns, products
// P10000 on, dates in 2024.
func shortRows(size int64) []byte {
	buf := bytes.NewBufferString("date,product_id,sales\n")
	for i := 0; int64(buf.Len()) < size+100; i++ {
		fmt.Fprintf(buf, "2024-%02d-%02d,P%d,%d\n", 7+i%6, 1+i/6%28, 10000+i/168, i%10)
	}
	return buf.Bytes()
}

func benchmarkMergePeakMemory(b *testing.B, dataset, upload []byte, noLimit bool) {
	ctx := context.Background()
	var peak int64
	for b.Loop() {
		b.StopTimer()
		server, err := fakes3.New(fakes3.Options{Buckets: []string{handlertest.Bucket}})
		if err != nil {
			b.Fatal(err)
		}
		http := httptest.NewServer(server)
		s := store.NewS3(platform.NewS3Client(platform.LocalAWSConfig(http.URL)), handlertest.Bucket)
		for key, content := range map[string][]byte{shards.SingleKey: dataset, "uploads/big.csv": upload} {
			if _, err := s.Put(ctx, key, bytes.NewReader(content), store.PutOptions{}); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
		cmd := exec.Command(os.Args[0], "-test.run=^TestMergeInAChildProcess$", "-test.count=1")
		cmd.Env = append(os.Environ(), childEndpoint+"="+http.URL, fmt.Sprintf("AWS_LAMBDA_FUNCTION_MEMORY_SIZE=%d", functionMemoryMiB))
		if noLimit {
			cmd.Env = append(cmd.Env, "GOMEMLIMIT=off")
		}
		out, err := cmd.CombinedOutput()
		b.StopTimer()
		if err != nil {
			b.Fatalf("child merge: %v\n%s", err, out)
		}
		// The child reports its own peak: its rusage would count the parent's memory, which the
		// child shares between fork and exec.
		var childPeak int64
		if i := bytes.Index(out, []byte(peakMarker)); i < 0 {
			b.Fatalf("the child did not report its peak:\n%s", out)
		} else if _, err := fmt.Sscanf(string(out[i+len(peakMarker):]), "%d", &childPeak); err != nil {
			b.Fatal(err)
		}
		peak = max(peak, childPeak)
		http.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(len(upload))/(1<<20), "upload-MiB")
	b.ReportMetric(float64(peak)/(1<<20), "peak-rss-MiB")
	b.ReportMetric(float64(peak)/(functionMemoryMiB<<20), "of-function-memory")
}

// TestMergeInAChildProcess is BenchmarkMergePeakMemory's child: it runs only in the process that
// benchmark starts.
func TestMergeInAChildProcess(t *testing.T) {
	endpoint := os.Getenv(childEndpoint)
	if endpoint == "" {
		t.Skip("runs as the child process of BenchmarkMergePeakMemory")
	}
	limit := platform.LimitMemory(platform.NewEnv())
	s := store.NewS3(platform.NewS3Client(platform.LocalAWSConfig(endpoint)), handlertest.Bucket)
	h := merge.New(s, &handlertest.RecordingStarter{}, handlertest.Logger(t))
	event := fakes3.Notification{EventName: "ObjectCreated:Put", Bucket: handlertest.Bucket, Key: "uploads/big.csv", Time: time.Now()}
	if err := h.Handle(context.Background(), event.S3Event("us-east-1")); err != nil {
		t.Fatal(err)
	}
	processed, err := s.List(context.Background(), pipeline.ProcessedPrefix)
	if err != nil || len(processed) != 1 {
		t.Fatalf("the upload was not merged: %v %v", processed, err)
	}
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	_, hwm, ok := strings.Cut(string(status), "VmHWM:")
	var kib int64
	if _, err := fmt.Sscanf(hwm, "%d", &kib); !ok || err != nil {
		t.Fatalf("no peak resident memory in /proc/self/status: %v", err)
	}
	fmt.Printf("merged with a memory limit of %d bytes; %s%d\n", limit, peakMarker, kib<<10)
}

// peakMarker precedes the child's peak resident memory (VmHWM) in bytes in its output.
const peakMarker = "peak-rss-bytes="
