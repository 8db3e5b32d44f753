// Package web is the store manager's page, served by the forecast API at GET /: one HTML file
// with its script (src/*.js and the uPlot charting library) and style sheet inlined, built by
// `make web` (esbuild, from the packages pinned in package-lock.json) into dist/index.html and
// embedded here, so that the function serves it without loading anything from elsewhere.
package web

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
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
