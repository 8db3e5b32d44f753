package main

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stockcast/stockcast/shared/fakes3"
	"github.com/stockcast/stockcast/shared/pipeline"
	"github.com/stockcast/stockcast/shared/platform"
	"github.com/stockcast/stockcast/shared/store"
)

// TestSimulateWritesAShardedDataset writes the same small dataset through S3 (a local S3
// server) and into a directory-backed store: the same valid index of 4 shards both ways.
func TestSimulateWritesAShardedDataset(t *testing.T) {
	ctx := context.Background()
	server, err := fakes3.New(fakes3.Options{Buckets: []string{"sim"}})
	if err != nil {
		t.Fatal(err)
	}
	http := httptest.NewServer(server)
	defer http.Close()
	dir := t.TempDir()
	size := []string{"--products", "120", "--years", "1", "--shard-max-rows", "11000"}
	if err := runSimulate(ctx, append(size, "--endpoint", http.URL, "--bucket", "sim")); err != nil {
		t.Fatal(err)
	}
	if err := runSimulate(ctx, append(size, "--dir", dir, "--bucket", "sim")); err != nil {
		t.Fatal(err)
	}
	onDisk, err := store.NewDir(dir, "sim")
	if err != nil {
		t.Fatal(err)
	}
	for name, s := range map[string]store.Store{"s3": store.NewS3(platform.NewS3Client(platform.LocalAWSConfig(http.URL)), "sim"), "dir": onDisk} {
		x, _, err := pipeline.ReadIndex(ctx, s, "", "")
		if err != nil || len(x) != 4 || x.Rows() != 120*365 || x.Products() != 120 {
			t.Fatalf("%s: index of %d shards, %d rows: %v", name, len(x), x.Rows(), err)
		}
		if x[0].Parts[0].VersionID == "" {
			t.Errorf("%s: parts written without version ids", name)
		}
	}
	// An upload continuing it: the next 2 days of its first 5 products, merged as they come.
	upload := filepath.Join(t.TempDir(), "up.csv")
	if err := runSimulate(ctx, append(size, "--upload", upload, "--upload-products", "5", "--upload-days", "2")); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(upload)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) != 11 || !strings.HasPrefix(lines[1], "2023-01-01,P0001,") || !strings.HasPrefix(lines[10], "2023-01-02,P0005,") {
		t.Fatalf("upload:\n%s", data)
	}
	if err := runSimulate(ctx, []string{"--products", "0", "--dir", dir}); err == nil {
		t.Error("no products accepted")
	}
}
