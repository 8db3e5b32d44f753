package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestMergeCommandAppliesUploadsInOrder(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "merged.csv")
	err := runMerge(context.Background(), []string{
		"--dataset", "../../testdata/small_dataset.csv", "--out", out,
		"../../testdata/uploads/ok_next_days.csv", "../../testdata/uploads/ok_new_optional_column.csv",
	})
	if err != nil {
		t.Fatal(err)
	}
	merged, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	header, _, _ := strings.Cut(string(merged), "\n")
	if !strings.HasSuffix(header, ",rating") {
		t.Errorf("header %q lacks the second upload's new column", header)
	}
	small, _ := os.ReadFile("../../testdata/small_dataset.csv")
	if bytes.Count(merged, []byte("\n")) <= bytes.Count(small, []byte("\n")) {
		t.Errorf("no rows were added")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("work files left beside --out: %v", entries)
	}
}

func TestMergeCommandRefusesBadUploadAndLeavesOutAlone(t *testing.T) {
	out := filepath.Join(t.TempDir(), "merged.csv")
	if err := os.WriteFile(out, []byte("untouched"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := runMerge(context.Background(), []string{
		"--dataset", "../../testdata/small_dataset.csv", "--out", out,
		"../../testdata/uploads/ok_next_days.csv", "../../testdata/uploads/bad_sales.csv",
	})
	var exit exitError
	if !errors.As(err, &exit) || exit.code != 2 {
		t.Fatalf("err = %v, want exit status 2", err)
	}
	if got, _ := os.ReadFile(out); string(got) != "untouched" {
		t.Errorf("--out was changed by a refused run")
	}
}
