package main

import (
	"context"
	"testing"
	"time"

	"github.com/stockcast/stockcast/shared/datagen"
	"github.com/stockcast/stockcast/shared/handlers/handlertest"
	"github.com/stockcast/stockcast/shared/handlers/merge"
	"github.com/stockcast/stockcast/shared/pipeline"
)

// dataFile is the data flags of a dataset file.
func dataFile(path string) dataFlags { return dataFlags{data: &path, endpoint: new(string)} }

// TestDataFromABucketReadsItsShards merges a dataset into a bucket, in two shards, and loads
// it back whole with --data s3://BUCKET through the S3 endpoint.
func TestDataFromABucketReadsItsShards(t *testing.T) {
	e := handlertest.NewEnv(t)
	h := merge.New(e.Store, &handlertest.RecordingStarter{}, handlertest.Logger(t))
	h.Now = func() time.Time { return handlertest.Day }
	h.Config.ShardMaxRows = 300
	data := handlertest.Generated(t, datagen.Config{Products: 12, Days: 40, Seed: 2})
	if err := h.Handle(context.Background(), e.Upload("uploads/data.csv", data)); err != nil {
		t.Fatal(err)
	}
	current, err := pipeline.CurrentDataset(context.Background(), e.Store)
	if err != nil || current.Index.Count() != 2 {
		t.Fatalf("the bucket's dataset: %+v, %v; want 2 shards", current.Index, err)
	}
	path, endpoint := "s3://"+handlertest.Bucket, e.Endpoint
	table, err := dataFlags{data: &path, endpoint: &endpoint}.load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if table.Rows() != 480 || len(table.Products()) != 12 {
		t.Errorf("loaded %d rows of %d products, want 480 of 12", table.Rows(), len(table.Products()))
	}
}
