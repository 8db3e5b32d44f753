package stack

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stockcast/stockcast/shared/handlers/merge"
)

// templateTimeouts reads each function's Timeout from template.yaml: the resources are at two
// spaces of indentation, their properties at six.
func templateTimeouts(t *testing.T) map[string]time.Duration {
	t.Helper()
	file, err := os.Open("../../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	timeouts := map[string]time.Duration{}
	resource := ""
	scanner := bufio.NewScanner(file)
	for scanner.Scan() {
		line := scanner.Text()
		if name, ok := strings.CutSuffix(line, "Function:"); ok && strings.HasPrefix(name, "  ") && !strings.HasPrefix(name, "   ") {
			resource = strings.ToLower(strings.TrimSpace(name))
			continue
		}
		if value, ok := strings.CutPrefix(line, "      Timeout: "); ok && resource != "" {
			seconds, err := strconv.Atoi(strings.TrimSpace(value))
			if err != nil {
				t.Fatalf("%s's Timeout %q", resource, value)
			}
			timeouts[resource] = time.Duration(seconds) * time.Second
		}
	}
	if err := scanner.Err(); err != nil {
		t.Fatal(err)
	}
	return timeouts
}

// TestTimeoutsAreTheTemplates: the emulated functions time out as the deployed ones do, and the
// merge takes a job as a dead attempt's only after the merge function's timeout.
func TestTimeoutsAreTheTemplates(t *testing.T) {
	deployed := templateTimeouts(t)
	for name, timeout := range functionTimeouts {
		if deployed[name] != timeout {
			t.Errorf("%s: the local stack's timeout is %s, template.yaml's %s", name, timeout, deployed[name])
		}
	}
	if len(deployed) != len(functionTimeouts) {
		t.Errorf("template.yaml's functions %v, the local stack's %v", deployed, functionTimeouts)
	}
	if dead := merge.DefaultConfig().DeadAfter; dead <= deployed["merge"] {
		t.Errorf("the merge takes a job running for %s as dead, but the function runs for up to %s", dead, deployed["merge"])
	}
}

// TestSweepIsTheTemplates: the local stack sweeps at the rate of template.yaml's schedule, with
// the event the schedule sends the merge function.
func TestSweepIsTheTemplates(t *testing.T) {
	template, err := os.ReadFile("../../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		fmt.Sprintf("Schedule: rate(%d minutes)", int(DefaultSweepInterval.Minutes())),
		"Input: '" + merge.SweepEvent + "'",
	} {
		if !strings.Contains(string(template), want) {
			t.Errorf("template.yaml has no %q", want)
		}
	}
}
