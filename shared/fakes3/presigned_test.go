package fakes3

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestPresignedRequestsExpire(t *testing.T) {
	signed := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	url := "/bucket/uploads/a.csv?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20261201T100000Z&X-Amz-Expires=300&X-Amz-Signature=abc"
	r := httptest.NewRequest(http.MethodPut, url, nil)
	if err := checkPresigned(r, signed.Add(299*time.Second)); err != nil {
		t.Fatalf("within its expiry: %v", err)
	}
	if err := checkPresigned(r, signed.Add(301*time.Second)); err == nil || !strings.Contains(err.Error(), "Request has expired") {
		t.Fatalf("after its expiry: %v", err)
	}
	bad := httptest.NewRequest(http.MethodPut, "/bucket/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=yesterday&X-Amz-Expires=300", nil)
	if err := checkPresigned(bad, signed); err == nil || !strings.Contains(err.Error(), "X-Amz-Date") {
		t.Fatalf("bad date: %v", err)
	}
	if err := checkPresigned(httptest.NewRequest(http.MethodPut, "/bucket/k", nil), signed); err != nil {
		t.Fatalf("not presigned: %v", err)
	}

	// Over HTTP: an expired URL is refused with S3's AccessDenied, readable by a browser.
	s, err := New(Options{Buckets: []string{"bucket"}})
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	s.ServeHTTP(w, httptest.NewRequest(http.MethodPut, url, strings.NewReader("x")))
	if w.Code != http.StatusForbidden || !strings.Contains(w.Body.String(), "<Code>AccessDenied</Code>") || w.Header().Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("expired PUT: %d %v %s", w.Code, w.Header(), w.Body)
	}
	if s.Requests("PutObject") != 1 {
		t.Fatal("the refused request is not counted")
	}
}

func TestBrowserPreflightForPresignedPut(t *testing.T) {
	s, err := New(Options{Buckets: []string{"bucket"}})
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodOptions, "/bucket/uploads/a.csv", nil)
	r.Header.Set("Origin", "http://127.0.0.1:3000")
	r.Header.Set("Access-Control-Request-Method", "PUT")
	r.Header.Set("Access-Control-Request-Headers", "content-type,x-amz-meta-job-id")
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	if w.Code != http.StatusOK || w.Header().Get("Access-Control-Allow-Origin") == "" || w.Header().Get("Access-Control-Allow-Headers") == "" {
		t.Fatalf("preflight: %d %v", w.Code, w.Header())
	}
}
