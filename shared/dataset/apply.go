package dataset

import (
	"context"
	"errors"
	"fmt"
	"io"
)

// Applied describes one upload applied to a dataset.
type Applied struct {
	// Upload is the validated upload.
	Upload *Upload
	// Stats describe the merge.
	Stats Stats
	// Reordered reports that the dataset was not in canonical order, so it was merged in memory
	// (which restores the order) instead of streamed.
	Reordered bool
}

// Writer takes the function that produces the merged dataset and runs it against the
// destination (a file, a conditional object write), returning what it returned. A failed
// produce must leave the destination as it was.
type Writer func(produce func(io.Writer) (Stats, error)) (Stats, error)

// Opener opens a stream; it may be called again for a second pass.
type Opener func(context.Context) (io.ReadCloser, error)

// Apply merges the raw upload that openUpload returns into the dataset that open returns (a nil
// reader for a dataset that does not exist yet) and writes the result with write. The upload is
// streamed, never held whole. It merges with Merge; if the dataset turns out not to be in
// canonical order it opens the dataset again and uses MergeInMemory. A refused upload returns a
// *ValidationError, and nothing is written (a limit checked during the merge fails the write).
func Apply(ctx context.Context, open Opener, openUpload Opener, opts Options, write Writer) (Applied, error) {
	body, src, err := openSource(ctx, open)
	if err != nil {
		return Applied{}, err
	}
	raw, err := openUpload(ctx)
	if err != nil {
		closeBody(body)
		return Applied{}, fmt.Errorf("open upload: %w", err)
	}
	up, err := ParseUpload(ctx, raw, src.Columns(), opts)
	raw.Close()
	if err != nil {
		closeBody(body)
		return Applied{}, err
	}
	stats, reordered, err := mergeSource(ctx, body, src, open, up, write)
	return Applied{Upload: up, Stats: stats, Reordered: reordered}, err
}

// MergeInto merges up into the dataset that open returns (a nil reader for none) and writes the
// result with write, as Apply does once the upload is parsed: streamed with Merge or, when the
// dataset turns out not to be in canonical order, opened again and merged with MergeInMemory
// (reordered is then true). up must have been parsed against the dataset's columns (ParseUpload;
// the parts of Split share the upload's).
func MergeInto(ctx context.Context, open Opener, up *Upload, write Writer) (stats Stats, reordered bool, err error) {
	body, src, err := openSource(ctx, open)
	if err != nil {
		return Stats{}, false, err
	}
	return mergeSource(ctx, body, src, open, up, write)
}

// Rewrite writes the dataset that open returns again with write, as a merge of an upload without
// rows writes it (sorted again if it was not: reordered), counting its rows, products and dates
// in the stats. Applied.Upload is that empty upload, with the dataset's columns.
func Rewrite(ctx context.Context, open Opener, write Writer) (Applied, error) {
	body, src, err := openSource(ctx, open)
	if err != nil {
		return Applied{}, err
	}
	up := &Upload{Columns: src.Columns()}
	stats, reordered, err := mergeSource(ctx, body, src, open, up, write)
	return Applied{Upload: up, Stats: stats, Reordered: reordered}, err
}

// mergeSource merges up into src, read from body, which it closes.
func mergeSource(ctx context.Context, body io.ReadCloser, src *Source, open Opener, up *Upload, write Writer) (Stats, bool, error) {
	stats, err := write(func(w io.Writer) (Stats, error) { return Merge(ctx, src, up, w) })
	closeBody(body)
	if !errors.Is(err, ErrNotCanonical) {
		return stats, false, err
	}
	body, src, err = openSource(ctx, open)
	if err != nil {
		return Stats{}, true, err
	}
	defer closeBody(body)
	stats, err = write(func(w io.Writer) (Stats, error) { return MergeInMemory(ctx, src, up, w) })
	return stats, true, err
}

// openSource opens the dataset and reads its header; body is nil for a dataset that does not
// exist.
func openSource(ctx context.Context, open Opener) (io.ReadCloser, *Source, error) {
	body, err := open(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("open dataset: %w", err)
	}
	if body == nil {
		src, err := Open(nil)
		return nil, src, err
	}
	src, err := Open(body)
	if err != nil {
		body.Close()
		return nil, nil, err
	}
	return body, src, nil
}

func closeBody(body io.ReadCloser) {
	if body != nil {
		body.Close()
	}
}
