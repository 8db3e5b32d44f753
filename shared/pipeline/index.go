package pipeline

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/stockcast/stockcast/shared/series"
	"github.com/stockcast/stockcast/shared/shards"
	"github.com/stockcast/stockcast/shared/store"
)

// ReadIndex reads the dataset index at shards.IndexKey: the given version (by id when not
// empty, else the current object, if it has ETag etag when etag is not empty). No index is an
// error wrapping store.ErrNotFound.
func ReadIndex(ctx context.Context, s store.Store, versionID, etag string) (shards.Index, store.Object, error) {
	var x shards.Index
	obj, err := ReadJSON(ctx, s, "dataset index", shards.IndexKey, store.GetOptions{VersionID: versionID, IfMatch: etag}, &x)
	if err != nil {
		return nil, store.Object{}, err
	}
	if err := x.Validate(); err != nil {
		return nil, store.Object{}, fmt.Errorf("dataset index %s: %w", shards.IndexKey, err)
	}
	return x, obj, nil
}

// ReadJSON decodes the JSON object key, read with opts, into v and returns the object read;
// what names the object in the errors.
func ReadJSON(ctx context.Context, s store.Store, what, key string, opts store.GetOptions, v any) (store.Object, error) {
	body, obj, err := s.Get(ctx, key, opts)
	if err != nil {
		return store.Object{}, fmt.Errorf("%s %s: %w", what, key, err)
	}
	defer body.Close()
	if err := json.NewDecoder(body).Decode(v); err != nil {
		return store.Object{}, fmt.Errorf("%s %s: decode: %w", what, key, err)
	}
	return obj, nil
}

// WriteIndex writes x as the dataset index if the current index still has ETag previous (""
// when there was none); otherwise it fails with store.ErrPreconditionFailed.
func WriteIndex(ctx context.Context, s store.Store, x shards.Index, previous string) (store.Object, error) {
	if err := x.Validate(); err != nil {
		return store.Object{}, err
	}
	return WriteJSON(ctx, s, "dataset index", shards.IndexKey, store.ConditionFor(previous), x)
}

// WriteJSON writes v as the JSON object key with opts (its ContentType application/json) and
// returns the object written; what names the object in the errors.
func WriteJSON(ctx context.Context, s store.Store, what, key string, opts store.PutOptions, v any) (store.Object, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return store.Object{}, fmt.Errorf("encode %s: %w", what, err)
	}
	opts.ContentType = "application/json"
	obj, err := s.Put(ctx, key, bytes.NewReader(data), opts)
	if err != nil {
		return store.Object{}, fmt.Errorf("write %s: %w", what, err)
	}
	return obj, nil
}

// DatasetIndex returns the index of the dataset version a task was given: the index it names, or,
// for a task of the single-file layout (DatasetKey shards.SingleKey, from before sharding), that
// one object as the one shard. An index that changed since is a *DatasetChanged.
func DatasetIndex(ctx context.Context, s store.Store, in TaskInput) (shards.Index, error) {
	if in.DatasetKey == shards.SingleKey {
		return shards.Index{{Shard: 0, Of: 1, Parts: []shards.Part{{Key: shards.SingleKey, ETag: in.DatasetETag, VersionID: in.DatasetVersionID}}}}, nil
	}
	if in.DatasetKey != shards.IndexKey {
		return nil, fmt.Errorf("task input: dataset_key %s is neither %s nor %s", in.DatasetKey, shards.IndexKey, shards.SingleKey)
	}
	x, _, err := ReadIndex(ctx, s, in.DatasetVersionID, in.DatasetETag)
	if in.DatasetVersionID == "" && (errors.Is(err, store.ErrPreconditionFailed) || errors.Is(err, store.ErrNotFound)) {
		return nil, changed(ctx, s, in.DatasetKey, in.DatasetETag)
	}
	return x, err
}

// changed is the *DatasetChanged of key when it no longer has ETag want.
func changed(ctx context.Context, s store.Store, key, want string) error {
	current := "nothing"
	if obj, err := s.Head(ctx, key); err == nil {
		current = obj.ETag
	}
	return &DatasetChanged{Key: key, Want: want, Got: current}
}

// OpenShard streams the rows of one shard as one dataset CSV: its parts in period order, the
// header once. Each part is read exactly as the index names it (by version id, else by ETag: a
// part that changed since is a *DatasetChanged); parts are opened one at a time, as the reader
// reaches them. A part whose header is not the first part's is an error.
func OpenShard(ctx context.Context, s store.Store, sh shards.Shard) io.ReadCloser {
	return &shardReader{ctx: ctx, store: s, parts: sh.Parts}
}

// LoadShard reads one shard into a table.
func LoadShard(ctx context.Context, s store.Store, sh shards.Shard) (*series.Table, error) {
	return loadTable(ctx, OpenShard(ctx, s, sh), fmt.Sprintf("shard %d of %d", sh.Shard, sh.Of))
}

// loadTable loads the dataset CSV r streams into a table and closes r; what names the rows in
// the error.
func loadTable(ctx context.Context, r io.ReadCloser, what string) (*series.Table, error) {
	defer r.Close()
	table, err := series.Load(ctx, r)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", what, err)
	}
	return table, nil
}

type shardReader struct {
	ctx    context.Context
	store  store.Store
	parts  []shards.Part
	next   int
	header []byte
	body   io.ReadCloser
	cur    *bufio.Reader
}

func (r *shardReader) Read(p []byte) (int, error) {
	for {
		if r.cur == nil {
			if r.next == len(r.parts) {
				return 0, io.EOF
			}
			if err := r.open(r.parts[r.next]); err != nil {
				return 0, err
			}
			r.next++
		}
		n, err := r.cur.Read(p)
		if err == io.EOF {
			r.body.Close()
			r.body, r.cur = nil, nil
			if n > 0 {
				return n, nil
			}
			continue
		}
		return n, err
	}
}

// open opens part and reads its header: the first part's is kept and passed on, a later part's
// is checked against it and dropped.
func (r *shardReader) open(part shards.Part) error {
	body, _, err := r.store.Get(r.ctx, part.Key, store.GetOptions{VersionID: part.VersionID, IfMatch: part.ETag})
	if err != nil {
		if part.VersionID == "" && (errors.Is(err, store.ErrPreconditionFailed) || errors.Is(err, store.ErrNotFound)) {
			return changed(r.ctx, r.store, part.Key, part.ETag)
		}
		return fmt.Errorf("dataset part %s: %w", part.Key, err)
	}
	br := bufio.NewReaderSize(body, 64<<10)
	line, err := br.ReadBytes('\n')
	if err != nil && err != io.EOF {
		body.Close()
		return fmt.Errorf("dataset part %s: read header: %w", part.Key, err)
	}
	if !bytes.HasSuffix(line, []byte("\n")) {
		line = append(line, '\n') // a part ending after its header line
	}
	switch {
	case r.header == nil:
		r.header = line
		br = bufio.NewReaderSize(io.MultiReader(bytes.NewReader(line), br), 64<<10)
	case !bytes.Equal(bytes.TrimRight(line, "\r\n"), bytes.TrimRight(r.header, "\r\n")):
		body.Close()
		return fmt.Errorf("dataset part %s has header %q, the shard's first part %q", part.Key, bytes.TrimSpace(line), bytes.TrimSpace(r.header))
	}
	r.body, r.cur = body, br
	return nil
}

func (r *shardReader) Close() error {
	if r.body != nil {
		err := r.body.Close()
		r.body, r.cur = nil, nil
		return err
	}
	return nil
}
