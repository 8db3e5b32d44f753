package store

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Memory is an in-memory Store for unit tests of logic. It keeps every version of every object
// and honours the same conditions as S3. Integration tests use S3 against a real S3 protocol
// server instead.
type Memory struct {
	bucket string
	now    func() time.Time

	mu       sync.Mutex
	objects  map[string][]memoryVersion // newest last; a nil data slice marks a delete
	requests map[string]int
	version  int
}

type memoryVersion struct {
	data []byte
	obj  Object
}

// NewMemory returns an empty in-memory bucket.
func NewMemory(bucket string) *Memory {
	return &Memory{bucket: bucket, now: time.Now, objects: map[string][]memoryVersion{}, requests: map[string]int{}}
}

// Bucket names the bucket.
func (m *Memory) Bucket() string { return m.bucket }

// Requests returns how many times op ("get", "head", "put", "copy", "delete", "list", "versions") was
// called, so tests can prove that a cache read nothing.
func (m *Memory) Requests(op string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.requests[op]
}

func (m *Memory) latest(key string) (memoryVersion, bool) {
	versions := m.objects[key]
	if len(versions) == 0 || versions[len(versions)-1].data == nil {
		return memoryVersion{}, false
	}
	return versions[len(versions)-1], true
}

// Get returns a reader over a copy of the object.
func (m *Memory) Get(_ context.Context, key string, opts GetOptions) (io.ReadCloser, Object, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.requests["get"]++
	v, ok := m.latest(key)
	if opts.VersionID != "" {
		ok = false
		for _, old := range m.objects[key] {
			if old.obj.VersionID == opts.VersionID && old.data != nil {
				v, ok = old, true
			}
		}
	}
	if !ok {
		return nil, Object{}, fmt.Errorf("get %s: %w", key, ErrNotFound)
	}
	if opts.IfMatch != "" && !SameETag(opts.IfMatch, v.obj.ETag) {
		return nil, Object{}, fmt.Errorf("get %s if-match %s (now %s): %w", key, opts.IfMatch, v.obj.ETag, ErrPreconditionFailed)
	}
	return io.NopCloser(bytes.NewReader(v.data)), v.obj, nil
}

// Head describes the latest version of the object.
func (m *Memory) Head(_ context.Context, key string) (Object, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.requests["head"]++
	v, ok := m.latest(key)
	if !ok {
		return Object{}, fmt.Errorf("head %s: %w", key, ErrNotFound)
	}
	return v.obj, nil
}

// Put stores the body as a new version if the conditions hold.
func (m *Memory) Put(ctx context.Context, key string, body io.Reader, opts PutOptions) (Object, error) {
	data, err := io.ReadAll(body)
	if err != nil {
		return Object{}, fmt.Errorf("put %s: read body: %w", key, err)
	}
	if err := ctx.Err(); err != nil {
		return Object{}, fmt.Errorf("put %s: %w", key, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.requests["put"]++
	current, exists := m.latest(key)
	if opts.IfNoneMatch == "*" && exists {
		return Object{}, fmt.Errorf("put %s if-none-match *: %w", key, ErrPreconditionFailed)
	}
	if opts.IfMatch != "" && (!exists || !SameETag(opts.IfMatch, current.obj.ETag)) {
		return Object{}, fmt.Errorf("put %s if-match %s: %w", key, opts.IfMatch, ErrPreconditionFailed)
	}
	return m.store(key, data, opts.ContentType), nil
}

func (m *Memory) store(key string, data []byte, contentType string) Object {
	sum := md5.Sum(data)
	m.version++
	if contentType == "" {
		contentType = "application/octet-stream"
	}
	obj := Object{
		Key:          key,
		ETag:         `"` + hex.EncodeToString(sum[:]) + `"`,
		Size:         int64(len(data)),
		VersionID:    strconv.Itoa(m.version),
		LastModified: m.now().UTC(),
		ContentType:  contentType,
	}
	m.objects[key] = append(m.objects[key], memoryVersion{data: bytes.Clone(data), obj: obj})
	return obj
}

// Copy copies the latest version of srcKey to dstKey.
func (m *Memory) Copy(_ context.Context, srcKey, dstKey string) (Object, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.requests["copy"]++
	v, ok := m.latest(srcKey)
	if !ok {
		return Object{}, fmt.Errorf("copy %s to %s: %w", srcKey, dstKey, ErrNotFound)
	}
	return m.store(dstKey, v.data, v.obj.ContentType), nil
}

// Delete marks the object deleted; older versions stay readable by version id.
func (m *Memory) Delete(_ context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.requests["delete"]++
	if _, ok := m.latest(key); ok {
		m.objects[key] = append(m.objects[key], memoryVersion{})
	}
	return nil
}

// List returns the latest version of every object under prefix, in key order.
func (m *Memory) List(_ context.Context, prefix string) ([]Object, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.requests["list"]++
	var out []Object
	for key := range m.objects {
		if v, ok := m.latest(key); ok && strings.HasPrefix(key, prefix) {
			out = append(out, v.obj)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

// Versions lists the versions of key that hold content, newest first.
func (m *Memory) Versions(_ context.Context, key string) ([]Object, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.requests["versions"]++
	var out []Object
	for _, v := range slices.Backward(m.objects[key]) {
		if v.data != nil {
			out = append(out, v.obj)
		}
	}
	return out, nil
}
