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
// canonical order it opens both again and uses MergeInMemory. A refused upload returns a
// *ValidationError, and nothing is written (a limit checked during the merge fails the write).
func Apply(ctx context.Context, open Opener, openUpload Opener, opts Options, write Writer) (Applied, error) {
	applied, err := apply(ctx, open, openUpload, opts, write, Merge)
	if errors.Is(err, ErrNotCanonical) {
		applied, err = apply(ctx, open, openUpload, opts, write, MergeInMemory)
		applied.Reordered = true
	}
	return applied, err
}

func apply(ctx context.Context, open, openUpload Opener, opts Options, write Writer,
	merge func(context.Context, *Source, *Upload, io.Writer) (Stats, error)) (Applied, error) {
	body, err := open(ctx)
	if err != nil {
		return Applied{}, fmt.Errorf("open dataset: %w", err)
	}
	var src *Source
	if body == nil {
		src, err = Open(nil)
	} else {
		defer body.Close()
		src, err = Open(body)
	}
	if err != nil {
		return Applied{}, err
	}
	raw, err := openUpload(ctx)
	if err != nil {
		return Applied{}, fmt.Errorf("open upload: %w", err)
	}
	up, err := ParseUpload(ctx, raw, src.Columns(), opts)
	raw.Close()
	if err != nil {
		return Applied{}, err
	}
	stats, err := write(func(w io.Writer) (Stats, error) { return merge(ctx, src, up, w) })
	return Applied{Upload: up, Stats: stats}, err
}
