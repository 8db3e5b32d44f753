// Package fakes3 is a real S3 protocol server for integration tests and the embedded local
// stack: gofakes3 behind a thin layer that adds what stockcast relies on and gofakes3 lacks —
// conditional reads and writes (If-Match / If-None-Match) made atomic with every other write to
// the same key, the ETags S3 gives objects written by multipart uploads, object-created
// notifications shaped like S3's, and request counts by operation.
package fakes3

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/johannesboyne/gofakes3"
)

// Notification describes an object that was just created, as S3 event notifications do.
type Notification struct {
	EventName string // ObjectCreated:Put, ObjectCreated:CompleteMultipartUpload or ObjectCreated:Copy
	Bucket    string
	Key       string // as stored, not URL-encoded
	Size      int64
	ETag      string // without quotes, as S3 events carry it
	VersionID string
	Sequencer string // orders the events of one key, as S3's sequencer does
	Time      time.Time
}

// Options configure a Server.
type Options struct {
	// Dir, if set, keeps every version of every object across restarts, with its version id.
	Dir string
	// Buckets are created at start if they do not exist. Every bucket is versioned.
	Buckets []string
	// OnObjectCreated, if set, is called after every successful PutObject, CopyObject and
	// CompleteMultipartUpload, once the response has been written. It must not block.
	OnObjectCreated func(Notification)
	// Logger receives one line per failed request; nil discards.
	Logger *slog.Logger
}

// Server is an http.Handler speaking the S3 REST protocol (path-style addressing).
type Server struct {
	fake     http.Handler
	backend  *backend
	notify   func(Notification)
	log      *slog.Logger
	locks    [64]sync.Mutex
	sequence atomic.Uint64

	mu       sync.Mutex
	requests map[string]int
}

// New starts a server, restoring the objects persisted under opts.Dir.
func New(opts Options) (*Server, error) {
	var j *journal
	buckets := opts.Buckets
	if opts.Dir != "" {
		j = newJournal(opts.Dir)
		persisted, err := j.persistedBuckets()
		if err != nil {
			return nil, fmt.Errorf("read object store %s: %w", opts.Dir, err)
		}
		buckets = append(persisted, buckets...)
	}
	s := &Server{backend: newBackend(j), notify: opts.OnObjectCreated, log: opts.Logger, requests: map[string]int{}}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	for _, bucket := range buckets {
		exists, err := s.backend.BucketExists(bucket)
		if err != nil {
			return nil, fmt.Errorf("check bucket %s: %w", bucket, err)
		}
		if exists {
			continue // both persisted and asked for
		}
		if err := s.backend.CreateBucket(bucket); err != nil {
			return nil, fmt.Errorf("create bucket %s: %w", bucket, err)
		}
		if j != nil {
			s.backend.mu.Lock()
			err = j.load(s.backend, bucket)
			s.backend.mu.Unlock()
			if err != nil {
				return nil, err
			}
		}
	}
	// Any CORS request headers are allowed: a browser sends a presigned PUT with the headers it
	// was signed with (Content-Type, x-amz-meta-*).
	s.fake = gofakes3.New(s.backend, gofakes3.WithTimeSkewLimit(0), gofakes3.WithInsecureCORS()).Server()
	return s, nil
}

// CreateBucket creates a versioned bucket unless it exists.
func (s *Server) CreateBucket(name string) error {
	exists, err := s.backend.BucketExists(name)
	if err != nil {
		return fmt.Errorf("check bucket %s: %w", name, err)
	}
	if exists {
		return nil
	}
	if err := s.backend.CreateBucket(name); err != nil {
		return fmt.Errorf("create bucket %s: %w", name, err)
	}
	return nil
}

// Requests returns how many requests of an operation ("GetObject", "HeadObject", "PutObject",
// "CopyObject", "DeleteObject", "ListObjects", "CreateMultipartUpload", "UploadPart",
// "CompleteMultipartUpload", …) the server has answered.
func (s *Server) Requests(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests[op]
}

// ServeHTTP answers one S3 request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	bucket, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	op := operation(r, key)
	s.mu.Lock()
	s.requests[op]++
	s.mu.Unlock()

	if err := checkPresigned(r, time.Now()); err != nil {
		w.Header().Set("Access-Control-Allow-Origin", "*") // so that a browser can read why
		writeError(w, http.StatusForbidden, "AccessDenied", err.Error())
		return
	}

	if key != "" && writes(op) {
		lock := &s.locks[lockIndex(bucket, key)]
		lock.Lock()
		defer lock.Unlock()
	}
	notModified, err := s.checkConditions(op, bucket, key, r)
	if err != nil {
		s.log.Info("s3 precondition failed", "op", op, "bucket", bucket, "key", key, "reason", err.Error())
		writeError(w, http.StatusPreconditionFailed, "PreconditionFailed", err.Error())
		return
	}
	if notModified != "" {
		w.Header().Set("ETag", `"`+notModified+`"`)
		w.WriteHeader(http.StatusNotModified)
		return
	}
	if op == "CompleteMultipartUpload" {
		if etag, ok := multipartETag(r); ok {
			s.backend.complete(bucket, key, etag)
			defer s.backend.complete(bucket, key, "")
		}
	}
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	if op == "GetObject" || op == "HeadObject" {
		rec.etag = func(h http.Header) {
			if etag, ok := s.backend.versionETag(bucket, key, gofakes3.VersionID(h.Get("X-Amz-Version-Id"))); ok {
				h.Set("ETag", `"`+etag+`"`)
			}
		}
	}
	if op == "HeadObject" && r.URL.Query().Get("versionId") != "" {
		// gofakes3 answers a HEAD with the latest version whatever versionId says; its GET reads
		// the version asked for, and a HEAD is a GET without the body.
		get := r.Clone(r.Context())
		get.Method = http.MethodGet
		rec.discard = true
		s.fake.ServeHTTP(rec, get)
	} else {
		s.fake.ServeHTTP(rec, r)
	}
	if !rec.wrote {
		rec.WriteHeader(http.StatusOK) // a HEAD answered without a body
	}
	if rec.status >= 300 {
		s.log.Debug("s3 request failed", "op", op, "bucket", bucket, "key", key, "status", rec.status)
		return
	}
	if s.notify != nil {
		if event, ok := createdEvent(op); ok {
			s.notifyCreated(event, bucket, key)
		}
	}
}

func (s *Server) notifyCreated(event, bucket, key string) {
	obj, err := s.backend.HeadObject(bucket, key)
	if err != nil {
		s.log.Error("s3 notification: head new object", "bucket", bucket, "key", key, "error", err)
		return
	}
	s.notify(Notification{
		EventName: event,
		Bucket:    bucket,
		Key:       key,
		Size:      obj.Size,
		ETag:      s.backend.etag(bucket, key, obj),
		VersionID: string(obj.VersionID),
		Sequencer: fmt.Sprintf("%016X", s.sequence.Add(1)),
		Time:      time.Now().UTC(),
	})
}

// checkConditions judges a request's If-Match and If-None-Match against the ETag clients see
// (gofakes3 knows only content MD5s, not multipart ETags, and leaves out If-Match on reads and
// both conditions on multipart completion) and removes them from the request, so that gofakes3
// does not judge them again. It runs under the key's write lock for writes, so the check and the
// write are one atomic step with respect to other writers. A failed condition is an error (412);
// a read whose If-None-Match names the object's ETag returns that ETag (304).
func (s *Server) checkConditions(op, bucket, key string, r *http.Request) (notModified string, err error) {
	ifMatch, ifNoneMatch := r.Header.Get("If-Match"), r.Header.Get("If-None-Match")
	read := op == "GetObject" || op == "HeadObject"
	if ifMatch == "" && ifNoneMatch == "" || !read && op != "PutObject" && op != "CompleteMultipartUpload" {
		return "", nil
	}
	r.Header.Del("If-Match")
	r.Header.Del("If-None-Match")
	if ifNoneMatch != "" {
		r.Header.Del("If-Modified-Since") // If-None-Match decides alone, as HTTP and S3 have it
	}
	obj, err := s.head(bucket, key, r.URL.Query().Get("versionId"))
	exists := err == nil
	if gofakes3.HasErrorCode(err, gofakes3.ErrNoSuchVersion) {
		return "", nil // gofakes3 answers 404 for the missing version
	}
	if err != nil && !gofakes3.HasErrorCode(err, gofakes3.ErrNoSuchKey) {
		return "", fmt.Errorf("read current object: %w", err)
	}
	etag := ""
	if exists {
		etag = s.backend.etag(bucket, key, obj)
	}
	if ifMatch != "" {
		if !exists {
			return "", errors.New("the object does not exist")
		}
		if !matches(ifMatch, etag) {
			return "", errors.New("the ETag does not match")
		}
	}
	if ifNoneMatch != "" && exists && matches(ifNoneMatch, etag) {
		if read {
			return etag, nil
		}
		return "", errors.New("the object already exists")
	}
	return "", nil
}

// matches reports whether a condition ("*", or a comma-separated list of ETags, quoted or
// not) names etag.
func matches(condition, etag string) bool {
	for _, c := range strings.Split(condition, ",") {
		if c = strings.TrimSpace(c); c == "*" || strings.Trim(strings.TrimPrefix(c, "W/"), `"`) == etag {
			return true
		}
	}
	return false
}

// multipartETag is the ETag S3 gives the object a CompleteMultipartUpload request makes: the MD5
// of the concatenated binary MD5s of its parts, "-", the number of parts. The request body is
// read and put back; false when it does not parse (gofakes3 then answers the error).
func multipartETag(r *http.Request) (string, bool) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	r.Body.Close()
	r.Body = io.NopCloser(bytes.NewReader(body))
	if err != nil {
		return "", false
	}
	var in gofakes3.CompleteMultipartUploadRequest
	if err := xml.Unmarshal(body, &in); err != nil || len(in.Parts) == 0 {
		return "", false
	}
	sum := md5.New()
	for _, part := range in.Parts {
		b, err := hex.DecodeString(strings.Trim(part.ETag, `"`))
		if err != nil {
			return "", false
		}
		sum.Write(b)
	}
	return fmt.Sprintf("%s-%d", hex.EncodeToString(sum.Sum(nil)), len(in.Parts)), true
}

// head describes the object, or the given version of it.
func (s *Server) head(bucket, key, versionID string) (*gofakes3.Object, error) {
	if versionID != "" {
		return s.backend.HeadObjectVersion(bucket, key, gofakes3.VersionID(versionID))
	}
	return s.backend.HeadObject(bucket, key)
}

// operation names the S3 API operation a request is, the way S3's documentation does.
func operation(r *http.Request, key string) string {
	query := r.URL.Query()
	_, uploads := query["uploads"]
	switch {
	case query.Get("uploadId") != "" && r.Method == http.MethodPut:
		return "UploadPart"
	case query.Get("uploadId") != "" && r.Method == http.MethodPost:
		return "CompleteMultipartUpload"
	case query.Get("uploadId") != "" && r.Method == http.MethodDelete:
		return "AbortMultipartUpload"
	case uploads && r.Method == http.MethodPost:
		return "CreateMultipartUpload"
	case key == "" && r.Method == http.MethodGet:
		return "ListObjects"
	case key == "" && r.Method == http.MethodPost:
		return "DeleteObjects"
	case key == "":
		return "Bucket" + strings.ToUpper(r.Method[:1]) + strings.ToLower(r.Method[1:])
	case r.Method == http.MethodPut && r.Header.Get("x-amz-copy-source") != "":
		return "CopyObject"
	case r.Method == http.MethodPut:
		return "PutObject"
	case r.Method == http.MethodGet:
		return "GetObject"
	case r.Method == http.MethodHead:
		return "HeadObject"
	case r.Method == http.MethodDelete:
		return "DeleteObject"
	}
	return r.Method
}

func writes(op string) bool {
	switch op {
	case "PutObject", "CopyObject", "DeleteObject", "CompleteMultipartUpload":
		return true
	}
	return false
}

func createdEvent(op string) (string, bool) {
	switch op {
	case "PutObject":
		return "ObjectCreated:Put", true
	case "CopyObject":
		return "ObjectCreated:Copy", true
	case "CompleteMultipartUpload":
		return "ObjectCreated:CompleteMultipartUpload", true
	}
	return "", false
}

func lockIndex(bucket, key string) int {
	h := fnv.New32a()
	h.Write([]byte(bucket))
	h.Write([]byte{0})
	h.Write([]byte(key))
	return int(h.Sum32() % 64)
}

func writeError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	_ = xml.NewEncoder(w).Encode(struct {
		XMLName xml.Name `xml:"Error"`
		Code    string   `xml:"Code"`
		Message string   `xml:"Message"`
	}{Code: code, Message: message})
}

type statusRecorder struct {
	http.ResponseWriter
	status  int
	wrote   bool
	etag    func(http.Header) // if set, corrects the ETag header of a read
	discard bool              // the body is not sent (a HEAD answered as a GET)
}

// WriteHeader sends the status once (gofakes3 sometimes sets it again after writing), without
// the request headers gofakes3 keeps as object metadata and would echo back.
func (r *statusRecorder) WriteHeader(status int) {
	if r.wrote {
		return
	}
	r.wrote, r.status = true, status
	dropEchoedHeaders(r.Header())
	if r.etag != nil && status < 300 {
		r.etag(r.Header())
	}
	r.ResponseWriter.WriteHeader(status)
}

// Write sends the header first, as http.ResponseWriter does.
func (r *statusRecorder) Write(p []byte) (int, error) {
	if !r.wrote {
		r.WriteHeader(http.StatusOK)
	}
	if r.discard {
		return len(p), nil
	}
	return r.ResponseWriter.Write(p)
}

// responseHeaders are the x-amz-* headers S3 itself answers with (user metadata, x-amz-meta-*,
// aside). gofakes3 stores every x-amz-* header of a write as metadata and answers with all of
// them, so a GET would carry the writer's x-amz-date, x-amz-content-sha256 and, worst,
// x-amz-checksum-* of a single part or of nothing, which clients that validate checksums (awscli)
// reject. This server stores no checksums, so it answers with none. S3 differs here: asked for
// them (x-amz-checksum-mode: ENABLED), it answers with the checksum it keeps of every object (the
// writer's algorithm, composite "…-N" for a multipart upload that declared one, else the CRC64NVME
// it adds); clients validate only what a response carries, so downloads pass either way.
var responseHeaders = map[string]bool{
	"X-Amz-Request-Id": true, "X-Amz-Id-2": true, "X-Amz-Version-Id": true, "X-Amz-Delete-Marker": true,
	"X-Amz-Storage-Class": true, "X-Amz-Website-Redirect-Location": true, "X-Amz-Tagging-Count": true,
	"X-Amz-Mp-Parts-Count": true, "X-Amz-Expiration": true, "X-Amz-Restore": true,
	"X-Amz-Replication-Status": true, "X-Amz-Missing-Meta": true, "X-Amz-Copy-Source-Version-Id": true,
}

// dropEchoedHeaders removes from h the x-amz-* headers that S3 does not answer with.
func dropEchoedHeaders(h http.Header) {
	for name := range h {
		if !strings.HasPrefix(name, "X-Amz-") || responseHeaders[name] ||
			strings.HasPrefix(name, "X-Amz-Meta-") || strings.HasPrefix(name, "X-Amz-Server-Side-Encryption") ||
			strings.HasPrefix(name, "X-Amz-Object-Lock-") {
			continue
		}
		h.Del(name)
	}
}

// Flush lets streamed responses through.
func (r *statusRecorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}
