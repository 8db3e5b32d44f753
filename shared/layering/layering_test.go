package layering_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stockcast/stockcast/shared/layering"
)

// TestDomainPackagesKnowNoAWS lists every package under shared/ with all it depends on, as the
// Go toolchain resolves them, and fails for each domain package that reaches a forbidden one.
func TestDomainPackagesKnowNoAWS(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Deps " "}}`, layering.Module+"/shared/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	domain := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg, deps := fields[0], fields[1:]
		if layering.IsAdapter(pkg) {
			continue
		}
		domain++
		for _, dep := range deps {
			if why := layering.Forbidden(dep); why != "" {
				t.Errorf("domain package %s depends on %s, %s", pkg, dep, why)
			}
		}
	}
	if domain < 5 {
		t.Fatalf("found %d domain packages; the listing is wrong", domain)
	}
}

func TestForbidden(t *testing.T) {
	for dep, forbidden := range map[string]bool{
		"github.com/aws/aws-sdk-go-v2/service/s3": true,
		layering.Module + "/shared/store":         true,
		layering.Module + "/shared/handlers/api":  true,
		layering.Module + "/infra/local":          true,
		layering.Module + "/shared/storefront":    false, // a prefix of a name is not the package
		layering.Module + "/shared/series":        false,
		"gonum.org/v1/gonum/mat":                  false,
	} {
		if got := layering.Forbidden(dep) != ""; got != forbidden {
			t.Errorf("Forbidden(%s) = %v, want %v", dep, got, forbidden)
		}
	}
}
