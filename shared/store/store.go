// Package store is stockcast's view of an object store: one bucket, streamed reads with their
// ETag, and conditional writes (If-Match / If-None-Match) so that every write that can race is
// safe. S3 implements it for AWS, LocalStack and the local stack; Memory implements it for unit
// tests of logic.
package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// ErrNotFound reports that the key (or the requested version of it) does not exist.
var ErrNotFound = errors.New("object not found")

// ErrPreconditionFailed reports that an If-Match or If-None-Match condition did not hold:
// somebody else wrote the object since it was read.
var ErrPreconditionFailed = errors.New("precondition failed")

// Object describes one stored object.
type Object struct {
	Key          string    `json:"key"`
	ETag         string    `json:"etag"`
	Size         int64     `json:"size"`
	VersionID    string    `json:"version_id,omitempty"`
	LastModified time.Time `json:"last_modified"`
	ContentType  string    `json:"content_type,omitempty"`
	// Metadata is the object's user metadata (x-amz-meta-*), keys in lower case; read by Head.
	Metadata map[string]string `json:"metadata,omitempty"`
}

// GetOptions narrows a read.
type GetOptions struct {
	// IfMatch makes the read fail with ErrPreconditionFailed unless the object's ETag is this one.
	IfMatch string
	// VersionID reads an older version of the object (versioned buckets only).
	VersionID string
}

// PutOptions makes a write conditional and describes its content.
type PutOptions struct {
	// IfMatch makes the write fail with ErrPreconditionFailed unless the current ETag is this one.
	IfMatch string
	// IfNoneMatch set to "*" makes the write fail with ErrPreconditionFailed if the key exists.
	IfNoneMatch string
	// ContentType of the object; empty means application/octet-stream.
	ContentType string
}

// ConditionFor returns the PutOptions that make a write succeed only if the object is still the
// one that was read: If-Match on its ETag, or If-None-Match "*" when it did not exist (etag "").
func ConditionFor(etag string) PutOptions {
	if etag == "" {
		return PutOptions{IfNoneMatch: "*"}
	}
	return PutOptions{IfMatch: etag}
}

// Store is one bucket of an object store.
type Store interface {
	// Bucket names the bucket this store reads and writes.
	Bucket() string
	// Get opens the object for streaming; the caller closes the reader.
	Get(ctx context.Context, key string, opts GetOptions) (io.ReadCloser, Object, error)
	// Head describes the object without reading it.
	Head(ctx context.Context, key string) (Object, error)
	// Put writes the object from a stream of any length.
	Put(ctx context.Context, key string, body io.Reader, opts PutOptions) (Object, error)
	// Copy copies an object within the bucket.
	Copy(ctx context.Context, srcKey, dstKey string) (Object, error)
	// Delete removes the object; deleting a missing key is not an error.
	Delete(ctx context.Context, key string) error
	// List returns every object whose key starts with prefix, in key order.
	List(ctx context.Context, prefix string) ([]Object, error)
	// Versions lists the versions of exactly key that hold content, newest first (delete
	// markers are left out), each readable with GetOptions.VersionID; in a bucket without
	// versioning, the current object only.
	Versions(ctx context.Context, key string) ([]Object, error)
}

// SameETag reports whether two ETags name the same content, ignoring the quotes that some
// servers add and others do not.
func SameETag(a, b string) bool {
	return a != "" && NormalizeETag(a) == NormalizeETag(b)
}

// NormalizeETag returns the ETag in its canonical quoted form.
func NormalizeETag(etag string) string {
	etag = strings.TrimPrefix(etag, "W/")
	return `"` + strings.Trim(etag, `"`) + `"`
}

// ReadAll reads a whole (small) object: manifests, job records, trend models.
func ReadAll(ctx context.Context, s Store, key string) ([]byte, Object, error) {
	body, obj, err := s.Get(ctx, key, GetOptions{})
	if err != nil {
		return nil, Object{}, err
	}
	defer body.Close()
	data, err := io.ReadAll(body)
	if err != nil {
		return nil, Object{}, fmt.Errorf("read s3://%s/%s: %w", s.Bucket(), key, err)
	}
	return data, obj, nil
}

// errWriteAbandoned ends a producer whose Put gave up before reading all it wrote.
var errWriteAbandoned = errors.New("the write was abandoned")

// PutFrom streams what produce writes into key: the object is written as produce writes it,
// never held whole in memory. A failure of produce aborts the write (nothing is stored) and is
// the error returned; otherwise Put's error is.
func PutFrom(ctx context.Context, s Store, key string, opts PutOptions, produce func(io.Writer) error) (Object, error) {
	w := NewWriter(ctx, s, key, opts)
	if err := produce(w); err != nil && !errors.Is(err, errWriteAbandoned) {
		w.Abort(err)
		return Object{}, err // the cause; Put failed because of it
	}
	return w.Commit()
}

// Writer streams the content written to it into one Put of key, which runs as it is written:
// Commit ends the content and returns the object stored, Abort discards the write (nothing is
// stored). One of them must be called.
type Writer struct {
	store  Store
	key    string
	pipe   *io.PipeWriter
	result chan putResult
}

type putResult struct {
	obj Object
	err error
}

// NewWriter starts the Put of key with opts; what is written to the Writer is its content.
func NewWriter(ctx context.Context, s Store, key string, opts PutOptions) *Writer {
	reader, pipe := io.Pipe()
	w := &Writer{store: s, key: key, pipe: pipe, result: make(chan putResult, 1)}
	go func() {
		obj, err := s.Put(ctx, key, reader, opts)
		reader.CloseWithError(errWriteAbandoned) // unblocks the writer if Put gave up early
		w.result <- putResult{obj, err}
	}()
	return w
}

// Write passes p on to the Put; it fails once the Put has given up.
func (w *Writer) Write(p []byte) (int, error) { return w.pipe.Write(p) }

// Commit ends the content and waits for the Put: the object stored, or Put's error.
func (w *Writer) Commit() (Object, error) {
	w.pipe.Close()
	r := <-w.result
	if r.err != nil {
		return Object{}, fmt.Errorf("write s3://%s/%s: %w", w.store.Bucket(), w.key, r.err)
	}
	return r.obj, nil
}

// Abort fails the Put with cause, so that nothing is stored, and waits for it to end.
func (w *Writer) Abort(cause error) {
	w.pipe.CloseWithError(cause)
	<-w.result
}
