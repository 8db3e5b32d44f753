package fakes3

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// journal keeps every version of every object on disk, written through as it is made, so that
// the in-memory store comes back after a restart as it was: the same versions, version ids,
// ETags and times. Each version is <dir>/<bucket>/<seq>.json (its key, id, metadata, time, and
// whether it is a delete marker) and, unless it is a delete marker, <seq>.data (its content).
// seq numbers the changes in the order they were made, which is the order they are replayed in.
// Every file is written to a temporary file and renamed into place, the .json last: a version
// whose .json exists is complete. The caller serialises calls.
type journal struct {
	dir  string
	seq  uint64
	path map[string]map[string]string // bucket → version id → path without extension
}

// version is one journalled version.
type version struct {
	Key          string            `json:"key"`
	ID           string            `json:"version_id"`
	Metadata     map[string]string `json:"metadata,omitempty"`
	LastModified time.Time         `json:"last_modified"`
	DeleteMarker bool              `json:"delete_marker,omitempty"`
	// ETag is the ETag of a version a multipart upload wrote (without quotes); empty for the
	// others, whose ETag is their content's MD5.
	ETag string `json:"etag,omitempty"`
}

func newJournal(dir string) *journal {
	return &journal{dir: dir, path: map[string]map[string]string{}}
}

func (j *journal) createBucket(bucket string) error {
	if err := os.MkdirAll(filepath.Join(j.dir, bucket), 0o755); err != nil {
		return fmt.Errorf("create bucket %s: %w", bucket, err)
	}
	return nil
}

func (j *journal) removeBucket(bucket string) error {
	delete(j.path, bucket)
	if err := os.RemoveAll(filepath.Join(j.dir, bucket)); err != nil {
		return fmt.Errorf("remove bucket %s: %w", bucket, err)
	}
	return nil
}

// add persists a new version (data is nil for a delete marker).
func (j *journal) add(bucket string, v version, data []byte) error {
	j.seq++
	base := filepath.Join(j.dir, bucket, fmt.Sprintf("%020d", j.seq))
	if !v.DeleteMarker {
		if err := writeAtomically(base+".data", func(w io.Writer) error { _, err := w.Write(data); return err }); err != nil {
			return err
		}
	}
	if err := writeAtomically(base+".json", func(w io.Writer) error { return json.NewEncoder(w).Encode(v) }); err != nil {
		os.Remove(base + ".data")
		return err
	}
	if j.path[bucket] == nil {
		j.path[bucket] = map[string]string{}
	}
	j.path[bucket][v.ID] = base
	return nil
}

// remove forgets one version.
func (j *journal) remove(bucket, id string) error {
	base, ok := j.path[bucket][id]
	if !ok {
		return nil
	}
	delete(j.path[bucket], id)
	for _, path := range []string{base + ".json", base + ".data"} {
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return nil
}

// journalled is a version found on disk.
type journalled struct {
	version
	base   string
	seq    uint64
	legacy bool // written by an earlier format that kept only the latest version, without its id
}

// load replays every persisted version of bucket into b, in the order they were made.
func (j *journal) load(b *backend, bucket string) error {
	found, err := j.read(bucket)
	if err != nil {
		return err
	}
	for _, v := range found {
		j.seq = max(j.seq, v.seq)
	}
	for _, v := range found {
		var data []byte
		if !v.DeleteMarker {
			if data, err = os.ReadFile(v.base + ".data"); err != nil {
				return fmt.Errorf("restore %s/%s: %w", bucket, v.Key, err)
			}
		}
		switch {
		case v.legacy:
			// Journalled again as a version of its own, at its time; then the old files go.
			if _, err = b.put(bucket, v.Key, v.Metadata, data, nil, version{LastModified: v.LastModified}); err == nil {
				err = errors.Join(os.Remove(v.base+".json"), os.Remove(v.base+".data"))
			}
		case v.DeleteMarker:
			_, err = b.deleteObject(bucket, v.Key, v.version)
		default:
			_, err = b.put(bucket, v.Key, v.Metadata, data, nil, v.version)
		}
		if err != nil {
			return fmt.Errorf("restore %s/%s: %w", bucket, v.Key, err)
		}
		if !v.legacy {
			if j.path[bucket] == nil {
				j.path[bucket] = map[string]string{}
			}
			j.path[bucket][v.ID] = v.base
		}
	}
	return nil
}

// read lists the complete versions of bucket on disk, oldest first, and removes what an
// interrupted write left behind.
func (j *journal) read(bucket string) ([]journalled, error) {
	dir := filepath.Join(j.dir, bucket)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read object store %s: %w", dir, err)
	}
	var found []journalled
	complete := map[string]bool{}
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".tmp-") {
			os.Remove(filepath.Join(dir, name))
			continue
		}
		stem, ok := strings.CutSuffix(name, ".json")
		if !ok {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, err
		}
		v := journalled{base: filepath.Join(dir, stem)}
		if err := json.Unmarshal(data, &v.version); err != nil {
			return nil, fmt.Errorf("persisted object %s: %w", filepath.Join(dir, name), err)
		}
		if v.seq, err = strconv.ParseUint(stem, 10, 64); err != nil || v.ID == "" {
			var legacy struct {
				Modified time.Time `json:"modified"`
			}
			_ = json.Unmarshal(data, &legacy) // decoded above
			v.seq, v.legacy, v.LastModified = 0, true, legacy.Modified
		}
		complete[stem] = true
		found = append(found, v)
	}
	for _, e := range entries {
		if stem, ok := strings.CutSuffix(e.Name(), ".data"); ok && !complete[stem] {
			os.Remove(filepath.Join(dir, e.Name())) // its .json was never written
		}
	}
	slices.SortFunc(found, func(a, b journalled) int { return cmp.Compare(a.seq, b.seq) })
	return found, nil
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
