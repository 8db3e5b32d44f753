package web

import (
	"regexp"
	"strings"
	"testing"
)

func TestIndexIsSelfContained(t *testing.T) {
	page := string(Index())
	for _, want := range []string{"<!doctype html>", `id="chart"`, `id="upload-form"`, "u-legend", "Leon Sorokin", "<script>", "<style>"} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	for _, marker := range []string{"<!-- license -->", "<!-- style -->", "<!-- script -->"} {
		if strings.Contains(page, marker) {
			t.Errorf("the build left the marker %s: the page is not built", marker)
		}
	}
	// Nothing may be loaded from elsewhere at run time: no external script, style sheet, image or font.
	external := regexp.MustCompile(`(?i)(src|href)\s*=\s*["']?(https?:)?//|@import|url\(\s*["']?(https?:)?//`)
	if m := external.FindString(page); m != "" {
		t.Errorf("the page loads something from elsewhere: %q", m)
	}
}

func TestContentSecurityPolicy(t *testing.T) {
	for _, want := range []string{"default-src 'none'", "script-src 'sha256-", "style-src 'sha256-", "connect-src 'self'"} {
		if !strings.Contains(ContentSecurityPolicy, want) {
			t.Errorf("%q lacks %q", ContentSecurityPolicy, want)
		}
	}
	if strings.Count(string(Index()), "<script") != 1 || strings.Count(string(Index()), "<style") != 1 {
		t.Error("the page must have exactly one inline script and one style sheet: the policy names one hash each")
	}
}
