package candidates

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDomainImportsNoAWS keeps the models and the backtest free of AWS and of the
// handlers, functions and infra packages.
func TestDomainImportsNoAWS(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/stockcast/stockcast/shared/stats/...", "github.com/stockcast/stockcast/shared/backtest").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if strings.Contains(pkg, "aws") || strings.Contains(pkg, "/shared/handlers") ||
			strings.Contains(pkg, "stockcast/functions") || strings.Contains(pkg, "stockcast/infra") {
			t.Errorf("a domain package depends on %s", pkg)
		}
	}
}
