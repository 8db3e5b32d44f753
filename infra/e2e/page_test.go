//go:build e2e

package e2e

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// The browser test's parts: Debian's Chromium and playwright-core from infra/e2e/browser's lock
// file (`make e2e` installs it with npm ci; .ci/run installs Chromium).
const (
	chromium   = "/usr/bin/chromium"
	browserDir = root + "/infra/e2e/browser"
)

// pageAPIKey is the key the page test's API requires.
const pageAPIKey = "e2e-page-key"

// screenshots is where the browser test leaves its screenshots, as test artifacts: build/ is
// git-ignored and `make clean` removes it.
var screenshots = filepath.Join(root, "build", "e2e-screenshots")

// TestPage drives the store manager's page in headless Chromium against the local stack: pick a
// product, read its forecast and policy, upload new sales through the page and follow the job
// until the new model serves, upload a bad file and read its reasons
// (infra/e2e/browser/page.test.mjs). The API requires a key, as on AWS: the page asks for it
// once, sends it in x-api-key and keeps it in the browser.
func TestPage(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("the browser test needs Node.js (node) on PATH")
	}
	if _, err := os.Stat(chromium); err != nil {
		t.Fatalf("the browser test needs Debian's chromium package (%s): apt-get install chromium", chromium)
	}
	if _, err := os.Stat(filepath.Join(browserDir, "node_modules", "playwright-core")); err != nil {
		t.Fatalf("the browser test needs playwright-core: run `make e2e` (npm ci in %s)", browserDir)
	}
	dir := t.TempDir()
	build(t, dir)
	s := run(t, dir, "--api-key", pageAPIKey)
	s.apiKey = pageAPIKey
	if resp, err := http.Get(s.api + "/health"); err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("GET /health without the key: %d, want 403", resp.StatusCode)
		}
	}
	s.eventually(3*time.Minute, "the first model is served", func() bool {
		status, _ := s.forecast("P0001")
		return status == http.StatusOK
	})
	if err := os.RemoveAll(screenshots); err != nil {
		t.Fatal(err)
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "--test", "--test-reporter=spec", "page.test.mjs")
	cmd.Dir = browserDir
	shots := filepath.Join(abs, "build", "e2e-screenshots") // node runs in browserDir: an absolute path
	cmd.Env = append(os.Environ(), "STOCKCAST_API="+s.api, "STOCKCAST_ROOT="+abs, "STOCKCAST_SCREENSHOTS="+shots, "CHROMIUM="+chromium,
		"STOCKCAST_API_KEY="+pageAPIKey)
	out, err := cmd.CombinedOutput()
	t.Logf("browser test (screenshots in %s):\n%s", shots, out)
	if err != nil {
		t.Fatalf("the browser test failed: %v", err)
	}
}
