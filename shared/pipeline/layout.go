// Package pipeline holds what the steps of the training pipeline share: the bucket layout, the
// JSON contracts between the state machine's tasks, job records and the manifest. It knows no
// AWS service: starting the state machine is the stepfunctions adapter's job.
package pipeline

import (
	"crypto/sha256"
	"encoding/hex"
	"path"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// The bucket layout: one bucket, these prefixes and keys.
const (
	UploadsPrefix   = "uploads/"
	ProcessedPrefix = "processed/"
	RejectedPrefix  = "rejected/"
	TrendPrefix     = "models/trend/"
	SelectionPrefix = "models/selection/"
	CheckpointKey   = "models/lstm/checkpoint.bin"
	OriginsPrefix   = "models/lstm/origins/"
	ManifestKey     = "models/manifest.json"
	TrainingKey     = "models/training.json"
	JobsPrefix      = "jobs/"
)

// MaxKeyBytes is the longest object key S3 stores, in bytes of UTF-8.
const MaxKeyBytes = 1024

// shortNameBytes is how much of a long upload name ShortName keeps.
const shortNameBytes = 120

// ShortName shortens an upload name too long to be moved (its processed/ key would exceed
// MaxKeyBytes) to its first 120 bytes, cut at a character, then "…-" and 16 hex digits of a
// hash of the whole name, then its extension: names that start alike stay apart.
func ShortName(name string) string {
	ext := path.Ext(name)
	stem := strings.TrimSuffix(name, ext)
	cut := min(len(stem), shortNameBytes)
	for cut > 0 && cut < len(stem) && !utf8.RuneStart(stem[cut]) {
		cut--
	}
	sum := sha256.Sum256([]byte(name))
	return stem[:cut] + "…-" + hex.EncodeToString(sum[:8]) + ext
}

// ProcessedKey is where an accepted upload is kept: processed/YYYY-MM-DD/<name>.
func ProcessedKey(name string, day time.Time) string {
	return ProcessedPrefix + day.UTC().Format(time.DateOnly) + "/" + name
}

// RejectedKey is where a refused upload is kept; RejectedReportKey holds its reasons.
func RejectedKey(name string) string { return RejectedPrefix + name }

// RejectedReportKey is the machine-readable report of why an upload was refused.
func RejectedReportKey(name string) string { return RejectedPrefix + name + ".error.json" }

// OriginKey is the LSTM trained only through the k-th origin (from 0, the oldest) of the refit's
// backtest, whose forecasts the refit scores as the LSTM candidate.
func OriginKey(k int) string { return OriginsPrefix + strconv.Itoa(k) + ".bin" }

// JobKey is the status record of one job.
func JobKey(id string) string { return JobsPrefix + id + ".json" }

// UploadName is the name of an upload relative to the drop folder ("a/b.csv" for
// "uploads/a/b.csv"); ok is false for keys the merge step does not take (outside uploads/ or
// not ending in .csv, case-insensitively).
func UploadName(key string) (name string, ok bool) {
	name, ok = strings.CutPrefix(key, UploadsPrefix)
	if !ok || name == "" || !strings.EqualFold(path.Ext(name), ".csv") {
		return "", false
	}
	return name, true
}

// JobID names the job that one upload starts; the same S3 event always gives the same name, so a
// duplicate delivery finds its job (and its Step Functions execution, which has this name)
// instead of starting another. It is a valid execution name: at most 80 characters of
// [0-9A-Za-z_-].
func JobID(bucket, key, etag, sequencer string) string {
	sum := sha256.Sum256([]byte(bucket + "\x00" + key + "\x00" + strings.Trim(etag, `"`) + "\x00" + sequencer))
	return JobIDStem(key) + "-" + hex.EncodeToString(sum[:])[:16]
}

// JobIDStem is how the ids of an upload's jobs begin: the file name without its extension, in
// at most 48 characters of [0-9A-Za-z_-] ("upload" if none is left).
func JobIDStem(key string) string {
	stem := strings.TrimSuffix(path.Base(key), path.Ext(key))
	var b strings.Builder
	for _, r := range stem {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
		if b.Len() >= 48 {
			break
		}
	}
	if b.Len() == 0 {
		b.WriteString("upload")
	}
	return b.String()
}
