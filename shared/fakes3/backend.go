package fakes3

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// backend is gofakes3's in-memory backend with every bucket versioned, version ids that stay the
// same across restarts, and, with a journal, every version written through to disk.
//
// The in-memory backend assigns its own version ids, so the versions a journal restores get new
// ones; backend maps them back to the ids clients were given (restored maps the in-memory id to
// the client's, byClient the other way). Versions created since the start keep their in-memory
// id, which the maps then do not hold.
//
// gofakes3 gives every object the MD5 of its content as ETag. S3 gives an object written by a
// multipart upload "<MD5 of the concatenation of the parts' binary MD5s>-<number of parts>":
// backend keeps those ETags (multipart, journalled with their versions) for the server to answer
// with.
type backend struct {
	mem     *s3mem.Backend
	clock   *clock
	journal *journal // nil: nothing is persisted

	// mu orders every change with its journal entry, so that the journal replays in the order
	// the changes were made.
	mu       sync.Mutex
	restored map[gofakes3.VersionID]gofakes3.VersionID
	byClient map[gofakes3.VersionID]gofakes3.VersionID
	// multipart are the ETags of the versions multipart uploads wrote, by bucket, key and client
	// version id; completing is the ETag of the multipart upload being completed on a key, which
	// the write it makes takes.
	multipart  map[string]map[string]map[gofakes3.VersionID]string
	completing map[string]string
}

var (
	_ gofakes3.Backend          = (*backend)(nil)
	_ gofakes3.VersionedBackend = (*backend)(nil)
)

func newBackend(j *journal) *backend {
	c := &clock{}
	return &backend{
		mem:        s3mem.New(s3mem.WithTimeSource(c)),
		clock:      c,
		journal:    j,
		restored:   map[gofakes3.VersionID]gofakes3.VersionID{},
		byClient:   map[gofakes3.VersionID]gofakes3.VersionID{},
		multipart:  map[string]map[string]map[gofakes3.VersionID]string{},
		completing: map[string]string{},
	}
}

// complete announces that the next write of key is the completion of a multipart upload with the
// given ETag (without quotes); an empty etag withdraws it. The server calls it under the key's
// write lock, around the completion.
func (b *backend) complete(bucket, key, etag string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if etag == "" {
		delete(b.completing, bucket+"/"+key)
		return
	}
	b.completing[bucket+"/"+key] = etag
}

// etag is the ETag (without quotes) clients see for obj, a version of bucket/key: a multipart
// upload's, or the MD5 of its content.
func (b *backend) etag(bucket, key string, obj *gofakes3.Object) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if etag, ok := b.multipart[bucket][key][obj.VersionID]; ok {
		return etag
	}
	return hex.EncodeToString(obj.Hash)
}

// versionETag is the multipart ETag of a version (client id), if a multipart upload wrote it.
func (b *backend) versionETag(bucket, key string, id gofakes3.VersionID) (string, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	etag, ok := b.multipart[bucket][key][id]
	return etag, ok
}

// hasMultipart reports whether a multipart upload wrote some version of bucket/key.
func (b *backend) hasMultipart(bucket, key string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.multipart[bucket][key]) > 0
}

// setMultipart records the multipart ETag of a version; b.mu is held.
func (b *backend) setMultipart(bucket, key string, id gofakes3.VersionID, etag string) {
	if b.multipart[bucket] == nil {
		b.multipart[bucket] = map[string]map[gofakes3.VersionID]string{}
	}
	if b.multipart[bucket][key] == nil {
		b.multipart[bucket][key] = map[gofakes3.VersionID]string{}
	}
	b.multipart[bucket][key][id] = etag
}

// clock is the in-memory backend's time: now, except while a journal replays a change, which then
// keeps the time it was made.
type clock struct {
	mu    sync.Mutex
	fixed time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.fixed.IsZero() {
		return c.fixed
	}
	return time.Now()
}

func (c *clock) Since(t time.Time) time.Duration { return c.Now().Sub(t) }

func (c *clock) set(t time.Time) {
	c.mu.Lock()
	c.fixed = t
	c.mu.Unlock()
}

// toClient returns the version id a client knows for an in-memory one.
func (b *backend) toClient(id gofakes3.VersionID) gofakes3.VersionID {
	b.mu.Lock()
	defer b.mu.Unlock()
	if client, ok := b.restored[id]; ok {
		return client
	}
	return id
}

// toMemory returns the in-memory version id of one a client gave.
func (b *backend) toMemory(id gofakes3.VersionID) gofakes3.VersionID {
	b.mu.Lock()
	defer b.mu.Unlock()
	if mem, ok := b.byClient[id]; ok {
		return mem
	}
	return id
}

// remember maps a restored version's new in-memory id to its client id; b.mu is held.
func (b *backend) remember(mem, client gofakes3.VersionID) {
	if mem != client {
		b.restored[mem], b.byClient[client] = client, mem
	}
}

func (b *backend) ListBuckets() ([]gofakes3.BucketInfo, error) { return b.mem.ListBuckets() }

// ListBucket lists the latest versions with the ETags clients see.
func (b *backend) ListBucket(name string, prefix *gofakes3.Prefix, page gofakes3.ListBucketPage) (*gofakes3.ObjectList, error) {
	list, err := b.mem.ListBucket(name, prefix, page)
	if err != nil {
		return list, err
	}
	for _, c := range list.Contents {
		if !b.hasMultipart(name, c.Key) {
			continue
		}
		obj, err := b.HeadObject(name, c.Key)
		if err != nil {
			return nil, err
		}
		c.ETag = `"` + b.etag(name, c.Key, obj) + `"`
	}
	return list, nil
}

// CreateBucket creates a versioned bucket.
func (b *backend) CreateBucket(name string) error {
	if err := b.mem.CreateBucket(name); err != nil {
		return err
	}
	if err := b.mem.SetVersioningConfiguration(name, gofakes3.VersioningConfiguration{Status: gofakes3.VersioningEnabled}); err != nil {
		return fmt.Errorf("enable versioning on %s: %w", name, err)
	}
	if b.journal != nil {
		return b.journal.createBucket(name)
	}
	return nil
}

func (b *backend) BucketExists(name string) (bool, error) { return b.mem.BucketExists(name) }

func (b *backend) DeleteBucket(name string) error {
	if err := b.mem.DeleteBucket(name); err != nil {
		return err
	}
	return b.forgetBucket(name)
}

func (b *backend) ForceDeleteBucket(name string) error {
	if err := b.mem.ForceDeleteBucket(name); err != nil {
		return err
	}
	return b.forgetBucket(name)
}

func (b *backend) forgetBucket(name string) error {
	if b.journal == nil {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.journal.removeBucket(name)
}

func (b *backend) HeadObject(bucket, key string) (*gofakes3.Object, error) {
	return b.clientObject(b.mem.HeadObject(bucket, key))
}

func (b *backend) GetObject(bucket, key string, rng *gofakes3.ObjectRangeRequest) (*gofakes3.Object, error) {
	return b.clientObject(b.mem.GetObject(bucket, key, rng))
}

func (b *backend) clientObject(obj *gofakes3.Object, err error) (*gofakes3.Object, error) {
	if err != nil {
		return nil, err
	}
	obj.VersionID = b.toClient(obj.VersionID)
	return obj, nil
}

// PutObject stores a new version and journals it before answering.
func (b *backend) PutObject(bucket, key string, meta map[string]string, input io.Reader, size int64, conditions *gofakes3.PutConditions) (gofakes3.PutObjectResult, error) {
	data, err := gofakes3.ReadAll(input, size)
	if err != nil {
		return gofakes3.PutObjectResult{}, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.put(bucket, key, meta, data, conditions, version{ETag: b.completing[bucket+"/"+key]})
}

// put stores data as the newest version of key; b.mu is held. A replayed version (restored.ID
// set) keeps its id and time and is not journalled again; one with only a time keeps that time.
// A version with an ETag (a multipart upload's) keeps it.
func (b *backend) put(bucket, key string, meta map[string]string, data []byte, conditions *gofakes3.PutConditions, restored version) (gofakes3.PutObjectResult, error) {
	at := restored.LastModified
	if at.IsZero() {
		at = time.Now().UTC()
	}
	b.clock.set(at)
	defer b.clock.set(time.Time{})
	result, err := b.mem.PutObject(bucket, key, meta, bytes.NewReader(data), int64(len(data)), conditions)
	if err != nil {
		return result, err
	}
	if restored.ID != "" {
		b.remember(result.VersionID, gofakes3.VersionID(restored.ID))
		result.VersionID = gofakes3.VersionID(restored.ID)
	}
	if restored.ETag != "" {
		b.setMultipart(bucket, key, result.VersionID, restored.ETag)
	}
	if restored.ID != "" {
		return result, nil
	}
	if b.journal != nil {
		stored, err := b.mem.HeadObject(bucket, key) // the metadata as stored, with what was carried over
		if err == nil {
			err = b.journal.add(bucket, version{Key: key, ID: string(result.VersionID), Metadata: stored.Metadata, LastModified: at, ETag: restored.ETag}, data)
		}
		if err != nil {
			// Not persisted, so not made: a client must not see a version a restart would lose.
			_, undoErr := b.mem.DeleteObjectVersion(bucket, key, result.VersionID)
			return gofakes3.PutObjectResult{}, errors.Join(fmt.Errorf("persist %s/%s: %w", bucket, key, err), undoErr)
		}
	}
	return result, nil
}

func (b *backend) CopyObject(srcBucket, srcKey, dstBucket, dstKey string, meta map[string]string) (gofakes3.CopyObjectResult, error) {
	return gofakes3.CopyObject(b, srcBucket, srcKey, dstBucket, dstKey, meta)
}

// DeleteObject puts a delete marker on the key, as S3 does in a versioned bucket.
func (b *backend) DeleteObject(bucket, key string) (gofakes3.ObjectDeleteResult, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.deleteObject(bucket, key, version{})
}

func (b *backend) deleteObject(bucket, key string, restored version) (gofakes3.ObjectDeleteResult, error) {
	at := restored.LastModified
	if at.IsZero() {
		at = time.Now().UTC()
	}
	b.clock.set(at)
	defer b.clock.set(time.Time{})
	result, err := b.mem.DeleteObject(bucket, key)
	if err != nil || !result.IsDeleteMarker {
		return result, err
	}
	if restored.ID != "" {
		b.remember(result.VersionID, gofakes3.VersionID(restored.ID))
		result.VersionID = gofakes3.VersionID(restored.ID)
		return result, nil
	}
	if b.journal != nil {
		if err := b.journal.add(bucket, version{Key: key, ID: string(result.VersionID), DeleteMarker: true, LastModified: at}, nil); err != nil {
			_, undoErr := b.mem.DeleteObjectVersion(bucket, key, result.VersionID)
			return gofakes3.ObjectDeleteResult{}, errors.Join(fmt.Errorf("persist the deletion of %s/%s: %w", bucket, key, err), undoErr)
		}
	}
	return result, nil
}

func (b *backend) DeleteMulti(bucket string, keys ...string) (gofakes3.MultiDeleteResult, error) {
	var result gofakes3.MultiDeleteResult
	for _, key := range keys {
		if _, err := b.DeleteObject(bucket, key); err != nil {
			result.Error = append(result.Error, gofakes3.ErrorResultFromError(err))
			continue
		}
		result.Deleted = append(result.Deleted, gofakes3.ObjectID{Key: key})
	}
	return result, nil
}

func (b *backend) VersioningConfiguration(bucket string) (gofakes3.VersioningConfiguration, error) {
	return b.mem.VersioningConfiguration(bucket)
}

func (b *backend) SetVersioningConfiguration(bucket string, v gofakes3.VersioningConfiguration) error {
	return b.mem.SetVersioningConfiguration(bucket, v)
}

func (b *backend) GetObjectVersion(bucket, key string, id gofakes3.VersionID, rng *gofakes3.ObjectRangeRequest) (*gofakes3.Object, error) {
	return b.clientObject(b.mem.GetObjectVersion(bucket, key, b.toMemory(id), rng))
}

func (b *backend) HeadObjectVersion(bucket, key string, id gofakes3.VersionID) (*gofakes3.Object, error) {
	return b.clientObject(b.mem.HeadObjectVersion(bucket, key, b.toMemory(id)))
}

// DeleteObjectVersion removes one version for good, from memory and from the journal.
func (b *backend) DeleteObjectVersion(bucket, key string, id gofakes3.VersionID) (gofakes3.ObjectDeleteResult, error) {
	mem := b.toMemory(id)
	b.mu.Lock()
	defer b.mu.Unlock()
	result, err := b.mem.DeleteObjectVersion(bucket, key, mem)
	if err != nil || result.VersionID == "" {
		return result, err
	}
	result.VersionID = id
	delete(b.byClient, id)
	delete(b.restored, mem)
	delete(b.multipart[bucket][key], id)
	if b.journal != nil {
		if err := b.journal.remove(bucket, string(id)); err != nil {
			return result, fmt.Errorf("persist the deletion of %s/%s version %s: %w", bucket, key, id, err)
		}
	}
	return result, nil
}

func (b *backend) DeleteMultiVersions(bucket string, objects ...gofakes3.ObjectID) (gofakes3.MultiDeleteResult, error) {
	var result gofakes3.MultiDeleteResult
	for _, object := range objects {
		var err error
		if object.VersionID == "" {
			_, err = b.DeleteObject(bucket, object.Key)
		} else {
			_, err = b.DeleteObjectVersion(bucket, object.Key, gofakes3.VersionID(object.VersionID))
		}
		if err != nil {
			result.Error = append(result.Error, gofakes3.ErrorResultFromError(err))
			continue
		}
		result.Deleted = append(result.Deleted, object)
	}
	return result, nil
}

// ListBucketVersions lists versions with the ids clients know, each key's newest first as S3
// lists them (the in-memory backend lists them oldest first). A key whose versions span two pages
// is ordered within each page only.
func (b *backend) ListBucketVersions(bucket string, prefix *gofakes3.Prefix, page *gofakes3.ListBucketVersionsPage) (*gofakes3.ListBucketVersionsResult, error) {
	if page != nil && page.VersionIDMarker != "" {
		clientPage := *page
		clientPage.VersionIDMarker = b.toMemory(page.VersionIDMarker)
		page = &clientPage
	}
	result, err := b.mem.ListBucketVersions(bucket, prefix, page)
	if err != nil {
		return result, err
	}
	for _, item := range result.Versions {
		switch v := item.(type) {
		case *gofakes3.Version:
			v.VersionID = b.toClient(v.VersionID)
			if etag, ok := b.versionETag(bucket, v.Key, v.VersionID); ok {
				v.ETag = `"` + etag + `"`
			}
		case *gofakes3.DeleteMarker:
			v.VersionID = b.toClient(v.VersionID)
		}
	}
	for start := 0; start < len(result.Versions); {
		end := start + 1
		for end < len(result.Versions) && itemKey(result.Versions[end]) == itemKey(result.Versions[start]) {
			end++
		}
		slices.Reverse(result.Versions[start:end])
		start = end
	}
	if result.NextVersionIDMarker != "" {
		result.NextVersionIDMarker = b.toClient(result.NextVersionIDMarker)
	}
	return result, nil
}

func itemKey(item gofakes3.VersionItem) string {
	switch v := item.(type) {
	case *gofakes3.Version:
		return v.Key
	case *gofakes3.DeleteMarker:
		return v.Key
	}
	return ""
}
