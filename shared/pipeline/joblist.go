package pipeline

import (
	"context"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/stockcast/stockcast/shared/parallel"
	"github.com/stockcast/stockcast/shared/store"
)

// ListOptions select the jobs that List returns.
type ListOptions struct {
	// Upload keeps the jobs of one upload: its name in the drop folder ("new_data.csv") or its
	// key ("uploads/new_data.csv").
	Upload string
	// Limit is the number of jobs returned, newest first (1–MaxListLimit).
	Limit int
}

// MaxListLimit bounds ListOptions.Limit.
const MaxListLimit = 100

// List returns the latest jobs, the most recently created first. It reads the records of at most
// Limit jobs (with Upload, of at most MaxListLimit jobs whose id begins as that upload's do,
// whatever day they were processed: job records are listed by that prefix, not by processed/
// folder). With Upload, a file still waiting in the drop folder that no job has taken up yet is
// listed first as a pending job (its id the one POST /uploads announced, if any).
func (j *Jobs) List(ctx context.Context, opts ListOptions) ([]*Job, error) {
	if opts.Limit < 1 || opts.Limit > MaxListLimit {
		return nil, fmt.Errorf("list jobs: limit %d is not in 1–%d", opts.Limit, MaxListLimit)
	}
	prefix, key := JobsPrefix, ""
	if opts.Upload != "" {
		key = opts.Upload
		if !strings.HasPrefix(key, UploadsPrefix) {
			key = UploadsPrefix + key
		}
		prefix += JobIDStem(key) + "-"
	}
	objects, err := j.store.List(ctx, prefix)
	if err != nil {
		return nil, fmt.Errorf("list jobs: %w", err)
	}
	// Newest first; LastModified is the time of the record's last update.
	slices.SortFunc(objects, func(a, b store.Object) int {
		if c := b.LastModified.Compare(a.LastModified); c != 0 {
			return c
		}
		return strings.Compare(b.Key, a.Key)
	})
	read := opts.Limit
	if key != "" {
		read = MaxListLimit
	}
	ids := make([]string, 0, min(read, len(objects)))
	for _, o := range objects {
		if len(ids) == cap(ids) {
			break
		}
		if id, ok := strings.CutSuffix(strings.TrimPrefix(o.Key, JobsPrefix), ".json"); ok && !strings.Contains(id, "/") {
			ids = append(ids, id)
		}
	}
	jobs := make([]*Job, len(ids))
	errs := make([]error, len(ids))
	parallel.Each(ctx, len(ids), 8, func(i int) {
		jobs[i], errs[i] = j.Get(ctx, ids[i])
		if errors.Is(errs[i], ErrJobNotFound) {
			errs[i] = nil // deleted since the listing
		}
	})
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("list jobs: %w", err)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	out := make([]*Job, 0, opts.Limit)
	for _, job := range jobs {
		if job != nil && (key == "" || path.Clean(job.Upload.Key) == path.Clean(key)) && len(out) < opts.Limit {
			out = append(out, job)
		}
	}
	slices.SortStableFunc(out, func(a, b *Job) int { return b.Created.Compare(a.Created) })
	if key == "" {
		return out, nil
	}
	pending, err := j.pending(ctx, key, jobs)
	if err != nil || pending == nil {
		return out, err
	}
	return append([]*Job{pending}, out[:min(len(out), opts.Limit-1)]...), nil
}

// pending is the job of the upload at key while it waits for the merge: nil when the key is
// empty or a job has taken up its content already.
func (j *Jobs) pending(ctx context.Context, key string, jobs []*Job) (*Job, error) {
	obj, err := j.store.Head(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list jobs: %w", err)
	}
	for _, job := range jobs {
		if job != nil && path.Clean(job.Upload.Key) == path.Clean(key) && store.SameETag(job.Upload.ETag, obj.ETag) {
			return nil, nil
		}
	}
	id := obj.Metadata[JobIDMetadata]
	if !IsJobIDFor(id, key) {
		id = ""
	}
	return &Job{ID: id, Status: StatusPending, Stage: "upload", Upload: Upload{Bucket: j.store.Bucket(), Key: key, ETag: obj.ETag, Size: obj.Size},
		Created: obj.LastModified.UTC(), Updated: obj.LastModified.UTC()}, nil
}
