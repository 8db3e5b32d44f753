package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/stockcast/stockcast/shared/dataset"
	"github.com/stockcast/stockcast/shared/pipeline"
	"github.com/stockcast/stockcast/shared/platform"
	"github.com/stockcast/stockcast/shared/series"
	"github.com/stockcast/stockcast/shared/store"
)

// dataFlags are the --data and --endpoint flags of a command that reads a dataset.
type dataFlags struct{ data, endpoint *string }

// addDataFlags adds --data, described by usage, and --endpoint to flags.
func addDataFlags(flags *flag.FlagSet, usage string) dataFlags {
	return dataFlags{
		data: flags.String("data", "", usage+"; or s3://BUCKET: the bucket's current dataset, read whole through its index, shard after shard"),
		endpoint: flags.String("endpoint", "http://127.0.0.1:4566",
			"AWS endpoint of --data s3://BUCKET (empty: AWS itself, from the usual environment)"),
	}
}

// load loads the dataset --data names.
func (f dataFlags) load(ctx context.Context) (*series.Table, error) {
	bucket, ok := strings.CutPrefix(*f.data, "s3://")
	if !ok {
		return loadTableFile(ctx, *f.data)
	}
	bucket, _, _ = strings.Cut(bucket, "/")
	cfg, err := awsConfig(ctx, *f.endpoint)
	if err != nil {
		return nil, err
	}
	return loadBucketDataset(ctx, store.NewS3(platform.NewS3Client(cfg), bucket))
}

// loadBucketDataset loads a bucket's current dataset whole: the shards its index names (or its
// single file, before the first merge indexed it), one after another.
func loadBucketDataset(ctx context.Context, objects store.Store) (*series.Table, error) {
	current, err := pipeline.CurrentDataset(ctx, objects)
	if err != nil {
		return nil, fmt.Errorf("s3://%s: %w", objects.Bucket(), err)
	}
	table, err := pipeline.LoadDataset(ctx, objects, current.Index)
	if err != nil {
		return nil, fmt.Errorf("s3://%s: %w", objects.Bucket(), err)
	}
	return table, nil
}

// loadTableFile loads a dataset file into a table; Prophet's two-column ds,y file (its header
// quoted or not) is read as one series, the total, for train and forecast alike.
func loadTableFile(ctx context.Context, path string) (*series.Table, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if isProphetFile(raw) {
		if raw, err = prophetDataset(ctx, raw); err != nil {
			return nil, fmt.Errorf("read %s as Prophet's ds,y: %w", path, err)
		}
	}
	table, err := series.Load(ctx, bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	return table, nil
}

// isProphetFile reports whether the file's header, read as CSV, is exactly ds,y.
func isProphetFile(raw []byte) bool {
	header, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(raw, []byte("\xef\xbb\xbf")))).Read()
	return err == nil && len(header) == 2 && strings.TrimSpace(header[0]) == "ds" && strings.TrimSpace(header[1]) == "y"
}

// prophetDataset turns a ds,y file into a dataset with one product, "y", validated and merged by
// the data contract's own code (ISO dates and date-times, decimal numbers, every bad line listed).
func prophetDataset(ctx context.Context, raw []byte) ([]byte, error) {
	in := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(raw, []byte("\xef\xbb\xbf"))))
	in.FieldsPerRecord = -1
	var upload bytes.Buffer
	out := csv.NewWriter(&upload)
	if _, err := in.Read(); err != nil {
		return nil, err
	}
	out.Write([]string{dataset.ColDate, dataset.ColProductID, dataset.ColSales})
	for {
		record, err := in.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if len(record) != 2 {
			line, _ := in.FieldPos(0)
			return nil, fmt.Errorf("line %d: expected 2 fields, got %d", line, len(record))
		}
		out.Write([]string{record[0], "y", record[1]})
	}
	out.Flush()
	if err := out.Error(); err != nil {
		return nil, err
	}
	var merged bytes.Buffer
	noDataset := func(context.Context) (io.ReadCloser, error) { return nil, nil }
	openUpload := func(context.Context) (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(upload.Bytes())), nil
	}
	_, err := dataset.Apply(ctx, noDataset, openUpload, dataset.Options{},
		func(produce func(io.Writer) (dataset.Stats, error)) (dataset.Stats, error) { return produce(&merged) })
	if err != nil {
		return nil, err
	}
	return merged.Bytes(), nil
}
