package store_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stockcast/stockcast/shared/store"
)

// put sends body to a presigned PUT with the given headers, as a browser would.
func put(t *testing.T, p store.PresignedPut, body string, headers map[string]string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(p.Method, p.URL, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	text, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(text)
}

func TestS3PresignPut(t *testing.T) {
	ctx := context.Background()
	s, _ := newS3(t)
	body := "date,product_id,sales\n2024-01-01,P1,3\n"
	grant := store.PutGrant{Key: "uploads/new data.csv", ContentType: "text/csv", Size: int64(len(body)),
		Metadata: map[string]string{"job-id": "new_data-0123456789abcdef"}, Expiry: 5 * time.Minute}
	p, err := s.PresignPut(ctx, grant)
	if err != nil {
		t.Fatal(err)
	}
	if p.Method != http.MethodPut || !strings.Contains(p.URL, "X-Amz-Signature=") || !strings.Contains(p.URL, "X-Amz-Expires=300") {
		t.Fatalf("presigned: %+v", p)
	}
	if p.Headers["Content-Type"] != "text/csv" || p.Headers["X-Amz-Meta-Job-Id"] != "new_data-0123456789abcdef" {
		t.Fatalf("headers to send: %v", p.Headers)
	}
	if until := time.Until(p.Expires); until < 4*time.Minute || until > 5*time.Minute {
		t.Fatalf("expires in %v", until)
	}
	if status, text := put(t, p, body, p.Headers); status != http.StatusOK {
		t.Fatalf("presigned PUT: %d %s", status, text)
	}
	obj, err := s.Head(ctx, grant.Key)
	if err != nil {
		t.Fatal(err)
	}
	if obj.Size != int64(len(body)) || obj.ContentType != "text/csv" || obj.Metadata["job-id"] != "new_data-0123456789abcdef" {
		t.Fatalf("stored: %+v", obj)
	}
}
