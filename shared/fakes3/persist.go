package fakes3

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/johannesboyne/gofakes3"
)

// journal keeps the latest version of every object on disk, written through after each change,
// so that an in-memory store comes back as it was after a restart. Each object is two files in
// <dir>/<bucket>/: <sha256(key)>.data and <sha256(key)>.json (its key and metadata), each
// written to a temporary file and renamed into place.
type journal struct {
	dir   string
	clock *restoreClock // the backend's time source
}

type journalEntry struct {
	Key      string            `json:"key"`
	Metadata map[string]string `json:"metadata"`
	// Modified is when the object was written; a restored object keeps it as its LastModified.
	Modified time.Time `json:"modified"`
}

// restoreClock is the backend's time source: the system clock, except while the journal puts an
// object back, when it is the time that object was written.
type restoreClock struct {
	mu sync.Mutex
	at time.Time
}

func (c *restoreClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.at.IsZero() {
		return c.at
	}
	return time.Now()
}

func (c *restoreClock) Since(t time.Time) time.Duration { return c.Now().Sub(t) }

// restoring makes Now return at until the returned function is called.
func (c *restoreClock) restoring(at time.Time) func() {
	c.mu.Lock()
	c.at = at
	c.mu.Unlock()
	return func() {
		c.mu.Lock()
		c.at = time.Time{}
		c.mu.Unlock()
	}
}

func (j *journal) paths(bucket, key string) (data, meta string) {
	sum := sha256.Sum256([]byte(key))
	base := filepath.Join(j.dir, bucket, hex.EncodeToString(sum[:]))
	return base + ".data", base + ".json"
}

// save writes the current content of bucket/key from the backend, or removes it if it is gone.
func (j *journal) save(backend gofakes3.Backend, bucket, key string) error {
	obj, err := backend.GetObject(bucket, key, nil)
	if gofakes3.HasErrorCode(err, gofakes3.ErrNoSuchKey) {
		return j.remove(bucket, key)
	}
	if err != nil {
		return fmt.Errorf("read %s/%s to persist it: %w", bucket, key, err)
	}
	defer obj.Contents.Close()
	dataPath, metaPath := j.paths(bucket, key)
	if err := os.MkdirAll(filepath.Dir(dataPath), 0o755); err != nil {
		return err
	}
	if err := writeAtomically(dataPath, func(w io.Writer) error { _, err := io.Copy(w, obj.Contents); return err }); err != nil {
		return fmt.Errorf("persist %s/%s: %w", bucket, key, err)
	}
	meta := journalEntry{Key: key, Metadata: obj.Metadata, Modified: j.clock.Now().UTC()}
	return writeAtomically(metaPath, func(w io.Writer) error { return json.NewEncoder(w).Encode(meta) })
}

func (j *journal) remove(bucket, key string) error {
	dataPath, metaPath := j.paths(bucket, key)
	for _, path := range []string{metaPath, dataPath} {
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("forget %s/%s: %w", bucket, key, err)
		}
	}
	return nil
}

// reconcile drops the persisted objects of bucket that the backend no longer has (after a
// multi-object delete, whose keys are in the request body).
func (j *journal) reconcile(backend gofakes3.Backend, bucket string) error {
	entries, err := j.entries(bucket)
	if err != nil {
		return err
	}
	for _, entry := range entries {
		if _, err := backend.HeadObject(bucket, entry.Key); gofakes3.HasErrorCode(err, gofakes3.ErrNoSuchKey) {
			if err := j.remove(bucket, entry.Key); err != nil {
				return err
			}
		}
	}
	return nil
}

func (j *journal) entries(bucket string) ([]journalEntry, error) {
	metas, err := filepath.Glob(filepath.Join(j.dir, bucket, "*.json"))
	if err != nil {
		return nil, err
	}
	var entries []journalEntry
	for _, path := range metas {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		var entry journalEntry
		if err := json.Unmarshal(data, &entry); err != nil {
			return nil, fmt.Errorf("persisted object %s: %w", path, err)
		}
		entries = append(entries, entry)
	}
	return entries, nil
}

// load puts every persisted object of bucket back into the backend.
func (j *journal) load(backend gofakes3.Backend, bucket string) error {
	entries, err := j.entries(bucket)
	if err != nil {
		return err
	}
	for _, entry := range entries {
		dataPath, _ := j.paths(bucket, entry.Key)
		file, err := os.Open(dataPath)
		if err != nil {
			return fmt.Errorf("restore %s/%s: %w", bucket, entry.Key, err)
		}
		info, err := file.Stat()
		if err == nil {
			done := j.clock.restoring(cmp.Or(entry.Modified, info.ModTime()))
			_, err = backend.PutObject(bucket, entry.Key, entry.Metadata, file, info.Size(), nil)
			done()
		}
		file.Close()
		if err != nil {
			return fmt.Errorf("restore %s/%s: %w", bucket, entry.Key, err)
		}
	}
	return nil
}

func writeAtomically(path string, write func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op once renamed
	if err := write(tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// persistedBuckets lists the buckets that have a folder in the journal.
func (j *journal) persistedBuckets() ([]string, error) {
	entries, err := os.ReadDir(j.dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var buckets []string
	for _, e := range entries {
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			buckets = append(buckets, e.Name())
		}
	}
	return buckets, nil
}
