package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/stockcast/stockcast/shared/dataset"
	"github.com/stockcast/stockcast/shared/series"
)

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
