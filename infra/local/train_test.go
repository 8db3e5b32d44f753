package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// captureStdout runs f and returns what it printed on stdout.
func captureStdout(t *testing.T, f func() error) []byte {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout := os.Stdout
	os.Stdout = w
	done := make(chan []byte)
	go func() { data, _ := io.ReadAll(r); done <- data }()
	err = f()
	os.Stdout = stdout
	w.Close()
	out := <-done
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestTrainCommandTrainsThenFineTunes(t *testing.T) {
	dir := t.TempDir()
	first := filepath.Join(dir, "first.bin")
	var result trainResult
	out := captureStdout(t, func() error {
		return runTrain(context.Background(), []string{"--data", "../../testdata/small_dataset.csv", "--mode", "full", "--full-epochs", "2", "--out", first})
	})
	if err := json.Unmarshal(out, &result); err != nil {
		t.Fatalf("output %s: %v", out, err)
	}
	if result.Mode != "full" || result.Epochs != 2 || result.Windows == 0 || result.Trained != "2024-02-29" {
		t.Errorf("full run: %+v", result)
	}
	merged := filepath.Join(dir, "merged.csv")
	if err := runMerge(context.Background(), []string{"--dataset", "../../testdata/small_dataset.csv", "--out", merged, "../../testdata/uploads/ok_next_days.csv"}); err != nil {
		t.Fatal(err)
	}
	out = captureStdout(t, func() error {
		return runTrain(context.Background(), []string{"--data", merged, "--checkpoint", first, "--finetune-epochs", "2", "--out", filepath.Join(dir, "second.bin")})
	})
	if err := json.Unmarshal(bytes.TrimSpace(out), &result); err != nil {
		t.Fatal(err)
	}
	if result.Mode != "finetune" || result.Since != "2024-03-01" || result.Trained != "2024-03-02" {
		t.Errorf("fine-tune run: %+v", result)
	}
}
