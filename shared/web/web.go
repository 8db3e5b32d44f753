// Package web is the store manager's page, served by the forecast API at GET /: one HTML file
// with its script (src/*.js and the uPlot charting library) and style sheet inlined, built by
// `make web` (esbuild, from the packages pinned in package-lock.json) into dist/index.html and
// embedded here, so that the function serves it without loading anything from elsewhere.
package web

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"encoding/hex"
	"strings"
)

//go:embed dist/index.html
var index []byte

// Index returns the page. The caller must not modify it.
func Index() []byte { return index }

// ETag is a strong validator of the page, for conditional requests.
var ETag = func() string {
	sum := sha256.Sum256(index)
	return `"` + hex.EncodeToString(sum[:16]) + `"`
}()

// ContentSecurityPolicy lets the page run only its own inline script and style sheet (named by
// their hashes), call the API it came from, and send uploads to the object store's presigned
// URLs (any origin: the bucket's endpoint depends on the deployment); nothing else.
var ContentSecurityPolicy = strings.Join([]string{
	"default-src 'none'",
	"script-src " + inlineHash("<script>", "</script>"),
	"style-src " + inlineHash("<style>", "</style>"),
	"img-src 'self' data:",
	"connect-src 'self' http: https:",
	"base-uri 'none'",
	"form-action 'none'",
	"frame-ancestors 'none'",
}, "; ")

// inlineHash is the CSP source ('sha256-…') of the page's element between open and close.
func inlineHash(open, close string) string {
	start := bytes.Index(index, []byte(open))
	end := bytes.Index(index, []byte(close))
	if start < 0 || end < start {
		return "'none'"
	}
	sum := sha256.Sum256(index[start+len(open) : end])
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}
