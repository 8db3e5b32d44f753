package simulate_test

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"
)

// templateMemoryMB reads a function's MemorySize from template.yaml (resources at two spaces of
// indentation, their properties at six), so that the cost figures follow the template.
func templateMemoryMB(tb testing.TB, function string) int {
	tb.Helper()
	file, err := os.Open("../../template.yaml")
	if err != nil {
		tb.Fatal(err)
	}
	defer file.Close()
	resource := ""
	scanner := bufio.NewScanner(file)
	for scanner.Scan() {
		line := scanner.Text()
		if name, ok := strings.CutSuffix(line, ":"); ok && strings.HasPrefix(name, "  ") && !strings.HasPrefix(name, "   ") {
			resource = strings.TrimSpace(name)
			continue
		}
		if value, ok := strings.CutPrefix(line, "      MemorySize: "); ok && resource == function {
			mb, err := strconv.Atoi(strings.TrimSpace(value))
			if err != nil {
				tb.Fatalf("%s's MemorySize %q", function, value)
			}
			return mb
		}
	}
	if err := scanner.Err(); err != nil {
		tb.Fatal(err)
	}
	tb.Fatalf("template.yaml gives %s no MemorySize", function)
	return 0
}

func TestTemplateMemory(t *testing.T) {
	if refit, forecast := templateMemoryMB(t, "RefitFunction"), templateMemoryMB(t, "ForecastFunction"); refit < 128 || forecast < 128 {
		t.Fatalf("RefitFunction %d MB, ForecastFunction %d MB", refit, forecast)
	}
}
