package pipeline

import (
	"crypto/rand"
	"encoding/hex"
	"strings"
)

// JobIDMetadata names the user metadata (x-amz-meta-job-id) of an upload sent through a presigned
// URL of the API (POST /uploads): the job id the API announced, which the merge step then gives
// the upload's job instead of one derived from the event.
const JobIDMetadata = "job-id"

// NewJobID is a fresh, random job id for an upload to key, in JobID's form: the file's stem, a
// hyphen and 16 hex digits.
func NewJobID(key string) string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	return JobIDStem(key) + "-" + hex.EncodeToString(b[:])
}

// IsJobIDFor reports whether id has the form of the ids of uploads to key (JobID, NewJobID).
func IsJobIDFor(id, key string) bool {
	suffix, ok := strings.CutPrefix(id, JobIDStem(key)+"-")
	if !ok || len(suffix) != 16 {
		return false
	}
	_, err := hex.DecodeString(suffix)
	return err == nil && strings.ToLower(suffix) == suffix
}
