package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/stockcast/stockcast/shared/pipeline"
	"github.com/stockcast/stockcast/shared/store"
)

func TestStatusListsJobsWithProgress(t *testing.T) {
	ctx := context.Background()
	objects := store.NewMemory("b")
	jobs := pipeline.NewJobs(objects)
	for id, change := range map[string]func(*pipeline.Job) error{
		"training": func(j *pipeline.Job) error {
			j.Status, j.Stage = pipeline.StatusTraining, "train"
			j.FineTune = &pipeline.FineTune{Status: pipeline.StatusRunning, Epoch: 5, Epochs: 10, Loss: 0.0123}
			return nil
		},
		"refused": func(j *pipeline.Job) error {
			j.Status, j.Error = pipeline.StatusRejected, "upload refused: line 2: sales is not a number"
			return nil
		},
		"merged": func(j *pipeline.Job) error {
			j.Status, j.Stage = pipeline.StatusUnchanged, "merge"
			j.Merge = &pipeline.MergeReport{Inserted: 3, Shards: 4, Touched: []int{1, 3}, PartsWritten: 2, BytesWritten: 1234}
			return nil
		},
	} {
		if _, err := jobs.Update(ctx, id, change); err != nil {
			t.Fatal(err)
		}
	}
	var out bytes.Buffer
	if err := showJobs(ctx, &out, objects, 10); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"model: none published yet", "dataset: none yet", "[##########..........] LSTM epoch 5/10 loss=0.01230",
		"sales is not a number", "merged: +3 rows, 0 replaced; 2 of 4 shards, 2 parts, 1234 bytes written"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("status output lacks %q:\n%s", want, out.String())
		}
	}
}
