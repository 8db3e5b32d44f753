package store

import (
	"cmp"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Dir is a Store kept in a directory of this machine, one file a version of an object, for
// datasets larger than memory: the scale benchmarks and `stockcast simulate --dir`. It keeps
// every version, as a versioned S3 bucket does, and honours the same conditions; content
// streams to and from disk, nothing of it is held in memory. One process uses a directory at a
// time.
//
// Layout: <dir>/<bucket>/<key, URL-escaped>/<version id>.data, with <version id>.json beside it
// (ETag, size, time, content type, or a delete marker), the .json written last; the newest
// version is the one with the largest id. Content is written under .tmp and renamed into place.
type Dir struct {
	root   string
	bucket string
	locks  [64]sync.Mutex
	// last is the last version id given: ids grow with time across restarts.
	last atomic.Int64
}

// dirMeta is what Dir keeps of a version beside its content.
type dirMeta struct {
	ETag         string    `json:"etag,omitempty"`
	Size         int64     `json:"size"`
	LastModified time.Time `json:"last_modified"`
	ContentType  string    `json:"content_type,omitempty"`
	DeleteMarker bool      `json:"delete_marker,omitempty"`
}

// NewDir returns the bucket kept under dir (created if needed).
func NewDir(dir, bucket string) (*Dir, error) {
	root := filepath.Join(dir, bucket)
	if err := os.MkdirAll(filepath.Join(root, ".tmp"), 0o755); err != nil {
		return nil, fmt.Errorf("directory store %s: %w", root, err)
	}
	d := &Dir{root: root, bucket: bucket}
	d.last.Store(time.Now().UnixNano())
	return d, nil
}

// Bucket names the bucket.
func (d *Dir) Bucket() string { return d.bucket }

func (d *Dir) path(key string) string { return filepath.Join(d.root, url.QueryEscape(key)) }

func (d *Dir) lock(key string) *sync.Mutex {
	h := fnv.New32a()
	h.Write([]byte(key))
	return &d.locks[h.Sum32()%uint32(len(d.locks))]
}

// versions returns the ids of key's versions (delete markers included), newest first; the
// caller holds key's lock.
func (d *Dir) versions(key string) ([]string, error) {
	entries, err := os.ReadDir(d.path(key))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	var ids []string
	for _, e := range slices.Backward(entries) { // ReadDir sorts by name: ids are fixed-width
		if id, ok := strings.CutSuffix(e.Name(), ".json"); ok {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// meta reads one version of key; the caller holds key's lock.
func (d *Dir) meta(key, id string) (Object, bool, error) {
	data, err := os.ReadFile(filepath.Join(d.path(key), id+".json"))
	if errors.Is(err, fs.ErrNotExist) {
		return Object{}, false, fmt.Errorf("%s version %s: %w", key, id, ErrNotFound)
	}
	if err != nil {
		return Object{}, false, fmt.Errorf("%s: %w", key, err)
	}
	var m dirMeta
	if err := json.Unmarshal(data, &m); err != nil {
		return Object{}, false, fmt.Errorf("%s version %s: metadata: %w", key, id, err)
	}
	return Object{Key: key, ETag: m.ETag, Size: m.Size, VersionID: id, LastModified: m.LastModified, ContentType: m.ContentType}, m.DeleteMarker, nil
}

// current describes the newest version of key, ErrNotFound if there is none or it is a delete
// marker; the caller holds key's lock.
func (d *Dir) current(key string) (Object, error) {
	ids, err := d.versions(key)
	if err != nil {
		return Object{}, err
	}
	if len(ids) == 0 {
		return Object{}, fmt.Errorf("%s: %w", key, ErrNotFound)
	}
	obj, deleted, err := d.meta(key, ids[0])
	if err == nil && deleted {
		err = fmt.Errorf("%s: %w", key, ErrNotFound)
	}
	return obj, err
}

// Get opens the newest version of the object, or the one named.
func (d *Dir) Get(ctx context.Context, key string, opts GetOptions) (io.ReadCloser, Object, error) {
	if err := ctx.Err(); err != nil {
		return nil, Object{}, fmt.Errorf("get %s: %w", key, err)
	}
	l := d.lock(key)
	l.Lock()
	defer l.Unlock()
	var obj Object
	var err error
	if opts.VersionID != "" {
		var deleted bool
		obj, deleted, err = d.meta(key, opts.VersionID)
		if err == nil && deleted {
			err = fmt.Errorf("%s version %s is a delete marker: %w", key, opts.VersionID, ErrNotFound)
		}
	} else {
		obj, err = d.current(key)
	}
	if err != nil {
		return nil, Object{}, fmt.Errorf("get %w", err)
	}
	if opts.IfMatch != "" && !SameETag(opts.IfMatch, obj.ETag) {
		return nil, Object{}, fmt.Errorf("get %s if-match %s (now %s): %w", key, opts.IfMatch, obj.ETag, ErrPreconditionFailed)
	}
	f, err := os.Open(filepath.Join(d.path(key), obj.VersionID+".data"))
	if err != nil {
		return nil, Object{}, fmt.Errorf("get %s: %w", key, err)
	}
	return f, obj, nil
}

// Head describes the newest version of the object.
func (d *Dir) Head(_ context.Context, key string) (Object, error) {
	l := d.lock(key)
	l.Lock()
	defer l.Unlock()
	obj, err := d.current(key)
	if err != nil {
		return Object{}, fmt.Errorf("head %w", err)
	}
	return obj, nil
}

// Put streams body to a temporary file, then makes it the newest version if the conditions hold.
func (d *Dir) Put(ctx context.Context, key string, body io.Reader, opts PutOptions) (Object, error) {
	tmp, err := os.CreateTemp(filepath.Join(d.root, ".tmp"), "put-")
	if err != nil {
		return Object{}, fmt.Errorf("put %s: %w", key, err)
	}
	defer os.Remove(tmp.Name())
	sum := md5.New()
	size, err := io.Copy(io.MultiWriter(tmp, sum), body)
	if closeErr := tmp.Close(); err == nil {
		err = closeErr
	}
	if err == nil {
		err = ctx.Err()
	}
	if err != nil {
		return Object{}, fmt.Errorf("put %s: %w", key, err)
	}
	m := dirMeta{ETag: `"` + hex.EncodeToString(sum.Sum(nil)) + `"`, Size: size, ContentType: cmp.Or(opts.ContentType, "application/octet-stream")}
	l := d.lock(key)
	l.Lock()
	defer l.Unlock()
	current, err := d.current(key)
	exists := err == nil
	if err != nil && !errors.Is(err, ErrNotFound) {
		return Object{}, fmt.Errorf("put %w", err)
	}
	if opts.IfNoneMatch == "*" && exists {
		return Object{}, fmt.Errorf("put %s if-none-match *: %w", key, ErrPreconditionFailed)
	}
	if opts.IfMatch != "" && (!exists || !SameETag(opts.IfMatch, current.ETag)) {
		return Object{}, fmt.Errorf("put %s if-match %s: %w", key, opts.IfMatch, ErrPreconditionFailed)
	}
	return d.add(key, tmp.Name(), m)
}

// add makes a new version of key from the content at tmp ("" for a delete marker); the caller
// holds key's lock.
func (d *Dir) add(key, tmp string, m dirMeta) (Object, error) {
	id := fmt.Sprintf("%020d", d.last.Add(1))
	base := filepath.Join(d.path(key), id)
	if err := os.MkdirAll(d.path(key), 0o755); err != nil {
		return Object{}, fmt.Errorf("write %s: %w", key, err)
	}
	m.LastModified = time.Now().UTC()
	data, err := json.Marshal(m)
	if err != nil {
		return Object{}, fmt.Errorf("write %s: %w", key, err)
	}
	if tmp != "" {
		if err := os.Rename(tmp, base+".data"); err != nil {
			return Object{}, fmt.Errorf("write %s: %w", key, err)
		}
	}
	metaTmp := filepath.Join(d.root, ".tmp", "meta-"+id)
	if err := os.WriteFile(metaTmp, data, 0o644); err != nil {
		return Object{}, fmt.Errorf("write %s: %w", key, err)
	}
	if err := os.Rename(metaTmp, base+".json"); err != nil {
		os.Remove(metaTmp)
		return Object{}, fmt.Errorf("write %s: %w", key, err)
	}
	return Object{Key: key, ETag: m.ETag, Size: m.Size, VersionID: id, LastModified: m.LastModified, ContentType: m.ContentType}, nil
}

// Copy copies the newest version of srcKey to dstKey.
func (d *Dir) Copy(ctx context.Context, srcKey, dstKey string) (Object, error) {
	body, obj, err := d.Get(ctx, srcKey, GetOptions{})
	if err != nil {
		return Object{}, fmt.Errorf("copy %s to %s: %w", srcKey, dstKey, err)
	}
	defer body.Close()
	return d.Put(ctx, dstKey, body, PutOptions{ContentType: obj.ContentType})
}

// Delete adds a delete marker; older versions stay readable by version id.
func (d *Dir) Delete(_ context.Context, key string) error {
	l := d.lock(key)
	l.Lock()
	defer l.Unlock()
	_, err := d.current(key)
	switch {
	case errors.Is(err, ErrNotFound):
		return nil
	case err != nil:
		return fmt.Errorf("delete %w", err)
	}
	if _, err := d.add(key, "", dirMeta{DeleteMarker: true}); err != nil {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	return nil
}

// List returns the newest version of every object under prefix, in key order.
func (d *Dir) List(ctx context.Context, prefix string) ([]Object, error) {
	entries, err := os.ReadDir(d.root)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", prefix, err)
	}
	var out []Object
	for _, e := range entries {
		key, err := url.QueryUnescape(e.Name())
		if err != nil || !e.IsDir() || e.Name() == ".tmp" || !strings.HasPrefix(key, prefix) {
			continue
		}
		obj, err := d.Head(ctx, key)
		if errors.Is(err, ErrNotFound) {
			continue // deleted
		}
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", prefix, err)
		}
		out = append(out, obj)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

// Versions lists the versions of key that hold content, newest first.
func (d *Dir) Versions(_ context.Context, key string) ([]Object, error) {
	l := d.lock(key)
	l.Lock()
	defer l.Unlock()
	ids, err := d.versions(key)
	if err != nil {
		return nil, fmt.Errorf("versions %w", err)
	}
	var out []Object
	for _, id := range ids {
		obj, deleted, err := d.meta(key, id)
		if err != nil {
			return nil, fmt.Errorf("versions %w", err)
		}
		if !deleted {
			out = append(out, obj)
		}
	}
	return out, nil
}
