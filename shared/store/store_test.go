package store_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stockcast/stockcast/shared/fakes3"
	"github.com/stockcast/stockcast/shared/platform"
	"github.com/stockcast/stockcast/shared/store"
)

// conformance runs the same behaviour checks against every Store implementation.
func conformance(t *testing.T, newStore func(t *testing.T) store.Store) {
	ctx := context.Background()
	read := func(t *testing.T, s store.Store, key string) string {
		t.Helper()
		data, _, err := store.ReadAll(ctx, s, key)
		if err != nil {
			t.Fatalf("read %s: %v", key, err)
		}
		return string(data)
	}

	t.Run("missing keys", func(t *testing.T) {
		s := newStore(t)
		if _, _, err := s.Get(ctx, "nope", store.GetOptions{}); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Get missing: %v, want ErrNotFound", err)
		}
		if _, err := s.Head(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Head missing: %v, want ErrNotFound", err)
		}
		if err := s.Delete(ctx, "nope"); err != nil {
			t.Errorf("Delete missing: %v", err)
		}
	})

	t.Run("conditional writes", func(t *testing.T) {
		s := newStore(t)
		first, err := s.Put(ctx, "k", strings.NewReader("one"), store.ConditionFor(""))
		if err != nil {
			t.Fatalf("create: %v", err)
		}
		if _, err := s.Put(ctx, "k", strings.NewReader("two"), store.ConditionFor("")); !errors.Is(err, store.ErrPreconditionFailed) {
			t.Fatalf("second create: %v, want ErrPreconditionFailed", err)
		}
		head, err := s.Head(ctx, "k")
		if err != nil || !store.SameETag(head.ETag, first.ETag) || head.Size != 3 {
			t.Fatalf("head = %+v, %v; want ETag %s size 3", head, err, first.ETag)
		}
		second, err := s.Put(ctx, "k", strings.NewReader("two"), store.ConditionFor(first.ETag))
		if err != nil {
			t.Fatalf("update with current ETag: %v", err)
		}
		if _, err := s.Put(ctx, "k", strings.NewReader("three"), store.ConditionFor(first.ETag)); !errors.Is(err, store.ErrPreconditionFailed) {
			t.Fatalf("update with stale ETag: %v, want ErrPreconditionFailed", err)
		}
		if _, err := s.Put(ctx, "absent", strings.NewReader("x"), store.PutOptions{IfMatch: second.ETag}); !errors.Is(err, store.ErrPreconditionFailed) {
			t.Fatalf("If-Match on a missing key: %v, want ErrPreconditionFailed", err)
		}
		if got := read(t, s, "k"); got != "two" {
			t.Fatalf("content = %q, want two", got)
		}
		if _, _, err := s.Get(ctx, "k", store.GetOptions{IfMatch: first.ETag}); !errors.Is(err, store.ErrPreconditionFailed) {
			t.Errorf("Get If-Match stale: %v, want ErrPreconditionFailed", err)
		}
		body, obj, err := s.Get(ctx, "k", store.GetOptions{IfMatch: second.ETag})
		if err != nil {
			t.Fatalf("Get If-Match current: %v", err)
		}
		body.Close()
		if !store.SameETag(obj.ETag, second.ETag) {
			t.Errorf("Get ETag = %s, want %s", obj.ETag, second.ETag)
		}
	})

	t.Run("older versions stay readable", func(t *testing.T) {
		s := newStore(t)
		v1, err := s.Put(ctx, "v", strings.NewReader("one"), store.PutOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Put(ctx, "v", strings.NewReader("two"), store.PutOptions{}); err != nil {
			t.Fatal(err)
		}
		if v1.VersionID == "" {
			t.Fatal("a versioned bucket gave no version id")
		}
		body, obj, err := s.Get(ctx, "v", store.GetOptions{VersionID: v1.VersionID, IfMatch: v1.ETag})
		if err != nil {
			t.Fatalf("get version %s if-match %s: %v", v1.VersionID, v1.ETag, err)
		}
		defer body.Close()
		if data, _ := io.ReadAll(body); string(data) != "one" || !store.SameETag(obj.ETag, v1.ETag) {
			t.Errorf("version %s = %q (%s), want one", v1.VersionID, data, obj.ETag)
		}
		if _, _, err := s.Get(ctx, "v", store.GetOptions{VersionID: "no-such-version"}); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("missing version: %v, want ErrNotFound", err)
		}
	})

	t.Run("versions are listed newest first and read by id", func(t *testing.T) {
		s := newStore(t)
		var written []store.Object
		for _, content := range []string{"one", "two", "three"} {
			obj, err := s.Put(ctx, "models/manifest.json", strings.NewReader(content), store.PutOptions{})
			if err != nil {
				t.Fatal(err)
			}
			written = append(written, obj)
		}
		if _, err := s.Put(ctx, "models/manifest.json.bak", strings.NewReader("other key"), store.PutOptions{}); err != nil {
			t.Fatal(err)
		}
		head, err := s.Head(ctx, "models/manifest.json")
		if err != nil || head.VersionID != written[2].VersionID {
			t.Fatalf("head version %q (%v), want the last put's %q", head.VersionID, err, written[2].VersionID)
		}
		copied, err := s.Copy(ctx, "models/manifest.json", "models/copy.json")
		if err != nil || copied.VersionID == "" {
			t.Fatalf("copy gave version %q (%v)", copied.VersionID, err)
		}
		if err := s.Delete(ctx, "models/manifest.json"); err != nil {
			t.Fatal(err)
		}
		versions, err := s.Versions(ctx, "models/manifest.json")
		if err != nil {
			t.Fatal(err)
		}
		var ids, want []string
		for _, v := range versions {
			ids = append(ids, v.VersionID)
		}
		for i := len(written) - 1; i >= 0; i-- {
			want = append(want, written[i].VersionID)
		}
		if strings.Join(ids, ",") != strings.Join(want, ",") {
			t.Fatalf("versions %v, want %v (newest first, the delete marker and the longer key left out)", ids, want)
		}
		for i, v := range versions {
			body, obj, err := s.Get(ctx, v.Key, store.GetOptions{VersionID: v.VersionID})
			if err != nil {
				t.Fatalf("get version %s: %v", v.VersionID, err)
			}
			data, _ := io.ReadAll(body)
			body.Close()
			if wantData := []string{"three", "two", "one"}[i]; string(data) != wantData || !store.SameETag(obj.ETag, v.ETag) || obj.VersionID != v.VersionID {
				t.Errorf("version %s = %q %s, want %q %s", v.VersionID, data, obj.ETag, wantData, v.ETag)
			}
		}
		if none, err := s.Versions(ctx, "models/absent.json"); err != nil || len(none) != 0 {
			t.Errorf("versions of a missing key: %v, %v", none, err)
		}
	})

	t.Run("racing writers: exactly one wins", func(t *testing.T) {
		s := newStore(t)
		base, err := s.Put(ctx, "race", strings.NewReader("base"), store.PutOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		results := make(chan error, 8)
		for i := range 8 {
			wg.Go(func() {
				_, err := s.Put(ctx, "race", strings.NewReader(strings.Repeat("x", i+1)), store.ConditionFor(base.ETag))
				results <- err
			})
		}
		wg.Wait()
		close(results)
		wins := 0
		for err := range results {
			switch {
			case err == nil:
				wins++
			case !errors.Is(err, store.ErrPreconditionFailed):
				t.Errorf("unexpected error: %v", err)
			}
		}
		if wins != 1 {
			t.Errorf("%d writers won, want exactly 1", wins)
		}
	})

	t.Run("copy delete list and odd keys", func(t *testing.T) {
		s := newStore(t)
		for _, key := range []string{"uploads/a b.csv", "uploads/c+d.csv", "uploads/é.csv", "other/x"} {
			if _, err := s.Put(ctx, key, strings.NewReader(key), store.PutOptions{ContentType: "text/csv"}); err != nil {
				t.Fatalf("put %q: %v", key, err)
			}
		}
		if _, err := s.Copy(ctx, "uploads/a b.csv", "processed/2026-01-01/a b.csv"); err != nil {
			t.Fatalf("copy: %v", err)
		}
		if got := read(t, s, "processed/2026-01-01/a b.csv"); got != "uploads/a b.csv" {
			t.Errorf("copied content = %q", got)
		}
		if err := s.Delete(ctx, "uploads/a b.csv"); err != nil {
			t.Fatalf("delete: %v", err)
		}
		list, err := s.List(ctx, "uploads/")
		if err != nil {
			t.Fatal(err)
		}
		var keys []string
		for _, o := range list {
			keys = append(keys, o.Key)
		}
		if want := "uploads/c+d.csv,uploads/é.csv"; strings.Join(keys, ",") != want {
			t.Errorf("list = %v, want %s", keys, want)
		}
	})
}

func TestMemory(t *testing.T) {
	conformance(t, func(*testing.T) store.Store { return store.NewMemory("bucket") })
}

// newS3 serves a fresh bucket from the S3 protocol server over HTTP and returns the real S3
// adapter for it.
func newS3(t *testing.T) (*store.S3, *fakes3.Server) {
	t.Helper()
	server, err := fakes3.New(fakes3.Options{Buckets: []string{"bucket"}})
	if err != nil {
		t.Fatal(err)
	}
	http := httptest.NewServer(server)
	t.Cleanup(http.Close)
	client := platform.NewS3Client(platform.LocalAWSConfig(http.URL))
	return store.NewS3(client, "bucket"), server
}

func TestS3(t *testing.T) {
	conformance(t, func(t *testing.T) store.Store { s, _ := newS3(t); return s })
}

func TestS3MultipartIsStreamedAndConditional(t *testing.T) {
	ctx := context.Background()
	s, server := newS3(t)
	s.PartSize = store.MinPartSize
	payload := bytes.Repeat([]byte("0123456789abcdef"), (store.MinPartSize*5/2)/16) // 2.5 parts

	created, err := s.Put(ctx, "big", bytes.NewReader(payload), store.ConditionFor(""))
	if err != nil {
		t.Fatalf("multipart create: %v", err)
	}
	if got := server.Requests("UploadPart"); got != 3 {
		t.Errorf("UploadPart requests = %d, want 3", got)
	}
	if created.Size != int64(len(payload)) {
		t.Errorf("size = %d, want %d", created.Size, len(payload))
	}
	if _, err := s.Put(ctx, "big", bytes.NewReader(payload), store.ConditionFor("")); !errors.Is(err, store.ErrPreconditionFailed) {
		t.Fatalf("multipart If-None-Match on existing key: %v, want ErrPreconditionFailed", err)
	}
	if got := server.Requests("AbortMultipartUpload"); got != 1 {
		t.Errorf("AbortMultipartUpload requests = %d, want 1 after the refused completion", got)
	}
	if _, err := s.Put(ctx, "big", bytes.NewReader(payload[:len(payload)-1]), store.ConditionFor(created.ETag)); err != nil {
		t.Fatalf("multipart If-Match on the ETag it reported: %v", err)
	}
	if _, err := s.Put(ctx, "big", bytes.NewReader(payload), store.ConditionFor(created.ETag)); !errors.Is(err, store.ErrPreconditionFailed) {
		t.Fatalf("multipart If-Match on a stale ETag: %v, want ErrPreconditionFailed", err)
	}
	body, _, err := s.Get(ctx, "big", store.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer body.Close()
	got, err := io.ReadAll(body)
	if err != nil || !bytes.Equal(got, payload[:len(payload)-1]) {
		t.Fatalf("content after multipart writes differs (len %d, err %v)", len(got), err)
	}
}

func TestS3PutFailsCleanlyOnBrokenBody(t *testing.T) {
	s, server := newS3(t)
	s.PartSize = store.MinPartSize
	body := io.MultiReader(bytes.NewReader(make([]byte, store.MinPartSize+10)), errReader{})
	if _, err := s.Put(context.Background(), "broken", body, store.PutOptions{}); err == nil || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("Put with a failing body: %v, want the body's error", err)
	}
	if _, err := s.Head(context.Background(), "broken"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("object exists after a failed put: %v", err)
	}
	if server.Requests("AbortMultipartUpload") != 1 {
		t.Errorf("the multipart upload was not aborted")
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("boom") }

// denying answers as S3 does to a caller whose ListBucket permission does not cover a read: 403
// instead of 404 for a missing key, and 403 for the keys under denied whether they exist or not.
type denying struct {
	next   http.Handler
	denied string
}

func (d denying) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if key == "" || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
		d.next.ServeHTTP(w, r)
		return
	}
	rec := httptest.NewRecorder()
	d.next.ServeHTTP(rec, r)
	if rec.Code == http.StatusNotFound || strings.HasPrefix(key, d.denied) {
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusForbidden)
		io.WriteString(w, `<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>`)
		return
	}
	maps.Copy(w.Header(), rec.Header())
	w.WriteHeader(rec.Code)
	w.Write(rec.Body.Bytes())
}

func TestS3TellsAMissingKeyFromADeniedOne(t *testing.T) {
	ctx := context.Background()
	server, err := fakes3.New(fakes3.Options{Buckets: []string{"bucket"}})
	if err != nil {
		t.Fatal(err)
	}
	front := httptest.NewServer(denying{next: server, denied: "secret/"})
	defer front.Close()
	s := store.NewS3(platform.NewS3Client(platform.LocalAWSConfig(front.URL)), "bucket")
	if _, err := s.Put(ctx, "secret/x", strings.NewReader("x"), store.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Get(ctx, "data/absent.csv", store.GetOptions{}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("get of a missing key answered 403: %v, want ErrNotFound", err)
	}
	if _, err := s.Head(ctx, "data/absent.csv"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("head of a missing key answered 403: %v, want ErrNotFound", err)
	}
	if _, err := s.Head(ctx, "secret/x"); err == nil || errors.Is(err, store.ErrNotFound) {
		t.Errorf("head of an existing, denied key: %v, want access denied", err)
	}
}

func TestDir(t *testing.T) {
	conformance(t, func(t *testing.T) store.Store {
		d, err := store.NewDir(t.TempDir(), "bucket")
		if err != nil {
			t.Fatal(err)
		}
		return d
	})
}

func TestDirKeepsObjectsAcrossReopening(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	d, err := store.NewDir(dir, "bucket")
	if err != nil {
		t.Fatal(err)
	}
	first, err := d.Put(ctx, "data/index.json", strings.NewReader("[]"), store.PutOptions{})
	if err != nil {
		t.Fatal(err)
	}
	again, err := store.NewDir(dir, "bucket")
	if err != nil {
		t.Fatal(err)
	}
	second, err := again.Put(ctx, "data/index.json", strings.NewReader("[1]"), store.ConditionFor(first.ETag))
	if err != nil {
		t.Fatalf("conditional write after reopening: %v", err)
	}
	versions, err := again.Versions(ctx, "data/index.json")
	if err != nil || len(versions) != 2 || versions[0].VersionID != second.VersionID || versions[1].VersionID != first.VersionID {
		t.Fatalf("versions after reopening: %+v %v", versions, err)
	}
	if other, _ := store.NewDir(dir, "other"); other != nil {
		if list, err := other.List(ctx, ""); err != nil || len(list) != 0 {
			t.Fatalf("another bucket lists %v %v", list, err)
		}
	}
}
