package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/stockcast/stockcast/shared/store"
)

// ManifestFormat names the manifest's format and version.
const ManifestFormat = "stockcast.manifest/v1"

// Manifest is models/manifest.json: the one object the forecast API watches. It names everything
// a model version is made of, by key and ETag, so a reader loads exactly that version.
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
	Metrics   Metrics   `json:"metrics"`
	// Previous is the version this one replaced.
	Previous string `json:"previous,omitempty"`
}

// Dataset is the dataset version a model was trained on.
type Dataset struct {
	Key       string    `json:"key"`
	ETag      string    `json:"etag"`
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
	Series       int      `json:"series"`
	FailedSeries []string `json:"failed_series"`
	FitMS        int64    `json:"fit_ms"`
	Mode         Mode     `json:"mode"`
	Epochs       int      `json:"epochs"`
	Loss         float64  `json:"loss"`
	ValLoss      float64  `json:"val_loss"`
	Windows      int      `json:"windows"`
	// Backtest summarises the refit's backtests and selections.
	Backtest *Backtest `json:"backtest,omitempty"`
}

// ErrNoManifest reports that no model has been published yet.
var ErrNoManifest = errors.New("no model has been published yet")

// ReadManifest reads the current manifest and its ETag.
func ReadManifest(ctx context.Context, s store.Store) (*Manifest, store.Object, error) {
	data, obj, err := store.ReadAll(ctx, s, ManifestKey)
	if errors.Is(err, store.ErrNotFound) {
		return nil, store.Object{}, ErrNoManifest
	}
	if err != nil {
		return nil, store.Object{}, err
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, store.Object{}, fmt.Errorf("decode %s: %w", ManifestKey, err)
	}
	if m.Format != ManifestFormat {
		return nil, store.Object{}, fmt.Errorf("%s has format %q; this build reads %q", ManifestKey, m.Format, ManifestFormat)
	}
	return &m, obj, nil
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
