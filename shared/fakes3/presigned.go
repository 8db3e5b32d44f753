package fakes3

import (
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// checkPresigned refuses a request authenticated by a presigned URL (SigV4 query parameters)
// after the URL has expired, as S3 does. The signature itself is not verified: the server takes
// any credentials.
func checkPresigned(r *http.Request, now time.Time) error {
	q := r.URL.Query()
	if q.Get("X-Amz-Algorithm") == "" {
		return nil // signed in the Authorization header, or anonymous
	}
	signed, err := time.Parse("20060102T150405Z", q.Get("X-Amz-Date"))
	if err != nil {
		return fmt.Errorf("X-Amz-Date %q is not a date-time like 20060102T150405Z", q.Get("X-Amz-Date"))
	}
	expires, err := strconv.Atoi(q.Get("X-Amz-Expires"))
	if err != nil || expires < 1 || expires > 604800 {
		return fmt.Errorf("X-Amz-Expires %q must be a number of seconds from 1 to 604800", q.Get("X-Amz-Expires"))
	}
	if now.After(signed.Add(time.Duration(expires) * time.Second)) {
		//lint:ignore ST1005 S3's own message, word for word
		return fmt.Errorf("Request has expired (signed at %s, valid for %d seconds)", signed.Format(time.RFC3339), expires)
	}
	return nil
}
