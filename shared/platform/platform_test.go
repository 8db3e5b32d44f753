package platform

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

func TestEnvCollectsEveryProblem(t *testing.T) {
	values := map[string]string{"N": "12", "BAD_N": "twelve", "D": "90s", "F": "0.5"}
	env := &Env{lookup: func(k string) (string, bool) { v, ok := values[k]; return v, ok }}
	if env.Int64("N", 1) != 12 || env.Int64("UNSET", 7) != 7 || env.Duration("D", 0) != 90*time.Second || env.Float("F", 0) != 0.5 {
		t.Error("values not read")
	}
	if env.String("UNSET", "def") != "def" {
		t.Error("default not used")
	}
	env.Int64("BAD_N", 1)
	env.Required("DATA_BUCKET")
	err := env.Err()
	if err == nil || !strings.Contains(err.Error(), "BAD_N") || !strings.Contains(err.Error(), "DATA_BUCKET is required") {
		t.Errorf("Err() = %v, want both problems", err)
	}
}

func TestLoggerLevelAndAttributes(t *testing.T) {
	t.Setenv("LOG_LEVEL", "warn")
	var buf bytes.Buffer
	logger := NewLogger(&buf, "function", "merge")
	logger.Info("hidden")
	logger.Warn("shown", "k", 1)
	if out := buf.String(); strings.Contains(out, "hidden") || !strings.Contains(out, `"function":"merge"`) || !strings.Contains(out, `"msg":"shown"`) {
		t.Errorf("log output %q", out)
	}
}

func TestTracingIsOffOutsideLambda(t *testing.T) {
	t.Setenv("AWS_LAMBDA_FUNCTION_NAME", "")
	ctx := context.Background()
	traced, end := Trace(ctx, "stage")
	end(nil)
	if TracingEnabled() || traced != ctx {
		t.Error("tracing on outside Lambda")
	}
	t.Setenv("AWS_LAMBDA_FUNCTION_NAME", "merge")
	t.Setenv("AWS_XRAY_SDK_DISABLED", "true")
	if TracingEnabled() {
		t.Error("AWS_XRAY_SDK_DISABLED=true did not turn tracing off")
	}
}

func TestPathStyleForLocalEndpoints(t *testing.T) {
	t.Setenv("AWS_ENDPOINT_URL", "")
	t.Setenv("AWS_ENDPOINT_URL_S3", "")
	t.Setenv("AWS_S3_FORCE_PATH_STYLE", "")
	if !pathStyle(LocalAWSConfig("http://127.0.0.1:4566")) {
		t.Error("a local endpoint needs path-style addressing")
	}
	if pathStyle(aws.Config{}) {
		t.Error("virtual-hosted addressing is AWS's default")
	}
	t.Setenv("AWS_ENDPOINT_URL_S3", "http://localhost:4566")
	if !pathStyle(aws.Config{}) {
		t.Error("AWS_ENDPOINT_URL_S3 needs path-style addressing")
	}
	t.Setenv("AWS_S3_FORCE_PATH_STYLE", "false")
	if pathStyle(aws.Config{}) {
		t.Error("AWS_S3_FORCE_PATH_STYLE=false is not honoured")
	}
}

func TestMemoryLimitFollowsTheFunctionsMemory(t *testing.T) {
	for _, c := range []struct {
		env  map[string]string
		want int64
	}{
		{map[string]string{"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512"}, 512 << 20 * 8 / 10},
		{map[string]string{"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512", "GOMEMLIMIT": "300MiB"}, 0},
		{map[string]string{}, 0},
	} {
		env := &Env{lookup: func(k string) (string, bool) { v, ok := c.env[k]; return v, ok }}
		if got := MemoryLimit(env); got != c.want {
			t.Errorf("MemoryLimit(%v) = %d, want %d", c.env, got, c.want)
		}
	}
}
