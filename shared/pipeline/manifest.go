package pipeline

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/stockcast/stockcast/shared/store"
	"github.com/stockcast/stockcast/shared/training"
)

// ManifestFormat names the manifest's format and version.
const ManifestFormat = "stockcast.manifest/v1"

// Manifest is models/manifest.json: the one object the forecast API watches. It names everything
// a model version is made of by key, ETag and S3 version id, so a reader loads exactly that
// version at any time, whatever was written since.
type Manifest struct {
	Format  string    `json:"format"`
	Version string    `json:"version"`
	Created time.Time `json:"created"`
	JobID   string    `json:"job_id"`
	Dataset Dataset   `json:"dataset"`
	Trend   Artifact  `json:"trend"`
	LSTM    Artifact  `json:"lstm"`
	// Selection is the backtest selections model=auto serves; absent in manifests written
	// before selections existed (the API then backtests each series on first use).
	Selection *Artifact `json:"selection,omitempty"`
	// Shards are the dataset's shards with their series' artifacts, shard 0 first; Groups the
	// group series (total, categories, regions) with their models and selections. A manifest
	// without shards (written before sharding) names one dataset CSV and Trend holds every series.
	Shards  []ShardModel `json:"shards,omitempty"`
	Groups  *Artifact    `json:"groups,omitempty"`
	Metrics Metrics      `json:"metrics"`
	// Previous is the version this one replaced.
	Previous string `json:"previous,omitempty"`
	// Replaced is the damaged manifest this one was written over, kept as an older version of
	// the object for inspection.
	Replaced *Damaged `json:"replaced_damaged,omitempty"`
}

// Damaged describes a manifest object that could not be read as one.
type Damaged struct {
	VersionID string `json:"version_id,omitempty"`
	ETag      string `json:"etag"`
	Error     string `json:"error"`
}

// Dataset is the dataset version a model was trained on.
type Dataset struct {
	Key       string    `json:"key"`
	ETag      string    `json:"etag"`
	VersionID string    `json:"version_id,omitempty"`
	Rows      int       `json:"rows"`
	FirstDate string    `json:"first_date"`
	LastDate  string    `json:"last_date"`
	Written   time.Time `json:"written"`
}

// Artifact is one stored model file.
type Artifact struct {
	Key       string `json:"key"`
	ETag      string `json:"etag"`
	VersionID string `json:"version_id,omitempty"`
}

// Metrics summarise the training run.
type Metrics struct {
	Series int `json:"series"`
	// Fallbacks counts the series fitted with the fallback model; FailedSeries names at most
	// MaxListed of them (RefitOutput.Failed): the trend models' fallbacks name every one (in a
	// sharded model, each shard's and the groups').
	Fallbacks    int           `json:"fallbacks"`
	FailedSeries []string      `json:"failed_series"`
	FitMS        int64         `json:"fit_ms"`
	Mode         training.Mode `json:"mode"`
	Epochs       int           `json:"epochs"`
	Loss         float64       `json:"loss"`
	ValLoss      float64       `json:"val_loss"`
	Windows      int           `json:"windows"`
	// Backtest summarises the refit's backtests and selections.
	Backtest *Backtest `json:"backtest,omitempty"`
	// FailedShards are the shards whose refit failed (Map items past their retries): published
	// with their data only, their ShardModel's Trend empty, so the API fits their series on demand.
	FailedShards []int `json:"failed_shards,omitempty"`
}

// ErrNoManifest reports that no model has been published yet.
var ErrNoManifest = errors.New("no model has been published yet")

// ErrDamagedManifest marks a manifest object that is not one this build can read: not JSON,
// another format, or no model version.
var ErrDamagedManifest = errors.New("damaged manifest")

// MaxManifestVersions bounds how many versions of the manifest NewestReadableManifest reads.
const MaxManifestVersions = 20

// ReadManifest reads the current manifest. A damaged one is an error wrapping
// ErrDamagedManifest that still returns the object, so that a writer can replace exactly it.
func ReadManifest(ctx context.Context, s store.Store) (*Manifest, store.Object, error) {
	return ReadManifestVersion(ctx, s, "")
}

// ReadManifestVersion reads one version of the manifest ("" for the current one), as
// ReadManifest does.
func ReadManifestVersion(ctx context.Context, s store.Store, versionID string) (*Manifest, store.Object, error) {
	body, obj, err := s.Get(ctx, ManifestKey, store.GetOptions{VersionID: versionID})
	if errors.Is(err, store.ErrNotFound) && versionID == "" {
		return nil, store.Object{}, ErrNoManifest
	}
	if err != nil {
		return nil, store.Object{}, err
	}
	defer body.Close()
	data, err := io.ReadAll(body)
	if err != nil {
		return nil, store.Object{}, fmt.Errorf("read %s: %w", ManifestKey, err)
	}
	m, err := decodeManifest(data)
	if err != nil {
		return nil, obj, fmt.Errorf("%s (ETag %s): %w", ManifestKey, obj.ETag, err)
	}
	return m, obj, nil
}

func decodeManifest(data []byte) (*Manifest, error) {
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%w: not JSON: %v", ErrDamagedManifest, err)
	}
	switch {
	case m.Format != ManifestFormat:
		return nil, fmt.Errorf("%w: format %q; this build reads %q", ErrDamagedManifest, m.Format, ManifestFormat)
	case m.Version == "":
		return nil, fmt.Errorf("%w: it names no model version", ErrDamagedManifest)
	}
	return &m, nil
}

// NewestReadableManifest walks the manifest's versions newest first, the current one first, at
// most MaxManifestVersions of them, and returns the first that decodes and that use accepts
// (returns nil for), with why each newer one was passed over. With none accepted the error
// joins those reasons; with no manifest at all it is ErrNoManifest. A store that cannot list
// versions offers the current manifest only.
func NewestReadableManifest(ctx context.Context, s store.Store, use func(*Manifest, store.Object) error) (*Manifest, store.Object, []error, error) {
	versions, err := s.Versions(ctx, ManifestKey)
	if err != nil {
		head, headErr := s.Head(ctx, ManifestKey)
		if headErr != nil {
			return nil, store.Object{}, nil, errors.Join(err, headErr)
		}
		versions = []store.Object{{Key: ManifestKey, ETag: head.ETag}} // read as the current one
	}
	if len(versions) == 0 {
		return nil, store.Object{}, nil, ErrNoManifest
	}
	var skipped []error
	for _, v := range versions[:min(len(versions), MaxManifestVersions)] {
		m, obj, err := ReadManifestVersion(ctx, s, v.VersionID)
		if err == nil {
			if err = use(m, obj); err == nil {
				return m, obj, skipped, nil
			}
		}
		skipped = append(skipped, fmt.Errorf("version %s: %w", cmp.Or(v.VersionID, "current"), err))
	}
	return nil, store.Object{}, skipped, fmt.Errorf("no readable version of %s among the newest %d: %w", ManifestKey, min(len(versions), MaxManifestVersions), errors.Join(skipped...))
}

// WriteManifest writes m if the current manifest still has ETag previous ("" when there was
// none); otherwise it fails with store.ErrPreconditionFailed.
func WriteManifest(ctx context.Context, s store.Store, m *Manifest, previous string) (store.Object, error) {
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return store.Object{}, fmt.Errorf("encode manifest: %w", err)
	}
	opts := store.ConditionFor(previous)
	opts.ContentType = "application/json"
	return s.Put(ctx, ManifestKey, bytes.NewReader(data), opts)
}
