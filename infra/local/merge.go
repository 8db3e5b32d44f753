package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/stockcast/stockcast/shared/dataset"
	"github.com/stockcast/stockcast/shared/handlers/merge"
)

// runMerge applies uploads to a dataset file in order, with the merge function's code.
func runMerge(ctx context.Context, args []string) error {
	flags := flag.NewFlagSet("merge", flag.ContinueOnError)
	datasetPath := flags.String("dataset", "", "the dataset CSV to merge into (required)")
	fresh := flags.Bool("new", false, "start a new dataset if --dataset does not exist")
	out := flags.String("out", "-", "where to write the merged dataset (- for stdout); untouched if an upload is refused")
	maxProblems := flags.Int("max-problems", dataset.DefaultMaxProblems, "bad lines listed per refused upload")
	flags.Usage = func() {
		fmt.Fprint(flags.Output(), "usage: stockcast merge --dataset FILE [--out FILE] UPLOAD...\n\n"+
			"Merges the uploads into the dataset in order, by the data contract. A refused upload stops\n"+
			"the run with exit status 2 and its error report as JSON on stderr; --out is then untouched.\n\n")
		flags.PrintDefaults()
	}
	if err := flags.Parse(args); err != nil {
		return exitError{2}
	}
	if *datasetPath == "" || flags.NArg() == 0 {
		flags.Usage()
		return exitError{2}
	}
	current := *datasetPath
	if _, err := os.Stat(current); errors.Is(err, os.ErrNotExist) && *fresh {
		current = ""
	} else if err != nil {
		return fmt.Errorf("dataset: %w", err)
	}
	// Intermediate results live beside --out, so that the last one is renamed into place.
	dir := filepath.Dir(*out)
	if *out == "-" {
		dir = ""
	}
	work, err := os.MkdirTemp(dir, ".stockcast-merge-")
	if err != nil {
		return fmt.Errorf("create work directory: %w", err)
	}
	defer os.RemoveAll(work)

	for i, upload := range flags.Args() {
		next := filepath.Join(work, fmt.Sprintf("step-%d.csv", i))
		if err := mergeFile(ctx, current, upload, next, *maxProblems); err != nil {
			return err
		}
		current = next
	}
	if *out != "-" {
		return os.Rename(current, *out)
	}
	result, err := os.Open(current)
	if err != nil {
		return err
	}
	defer result.Close()
	_, err = io.Copy(os.Stdout, result)
	return err
}

// mergeFile merges one upload into the dataset at current ("" for none) and writes the result to
// next. A refused upload is reported on stderr as JSON, with exit status 2.
func mergeFile(ctx context.Context, current, uploadPath, next string, maxProblems int) error {
	info, err := os.Stat(uploadPath)
	if err != nil {
		return fmt.Errorf("read upload: %w", err)
	}
	openUpload := func(context.Context) (io.ReadCloser, error) { return os.Open(uploadPath) }
	open := func(context.Context) (io.ReadCloser, error) {
		if current == "" {
			return nil, nil
		}
		return os.Open(current)
	}
	applied, err := dataset.Apply(ctx, open, openUpload, dataset.Options{MaxProblems: maxProblems, Limits: dataset.Limits{Today: time.Now()}},
		func(produce func(io.Writer) (dataset.Stats, error)) (dataset.Stats, error) {
			file, err := os.Create(next)
			if err != nil {
				return dataset.Stats{}, err
			}
			stats, err := produce(file)
			return stats, errors.Join(err, file.Close())
		})
	var invalid *dataset.ValidationError
	if errors.As(err, &invalid) {
		report, _ := json.MarshalIndent(merge.RejectionReport{
			Upload: uploadPath, Size: info.Size(), RejectedAt: time.Now().UTC(),
			Error: invalid.Error(), Total: invalid.Total, Problems: invalid.Problems,
		}, "", "  ")
		fmt.Fprintf(os.Stderr, "%s\n", report)
		return exitError{2}
	}
	if err != nil {
		return fmt.Errorf("merge %s: %w", uploadPath, err)
	}
	stats := applied.Stats
	fmt.Fprintf(os.Stderr, "%s: %d rows before, %d after (%d inserted, %d replaced, new columns %v)\n",
		uploadPath, stats.RowsBefore, stats.RowsAfter, stats.Inserted, stats.Replaced, stats.NewColumns)
	return nil
}
