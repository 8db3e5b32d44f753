package platform

import (
	"context"
	"os"

	"github.com/aws/aws-xray-sdk-go/xray"
)

// TracingEnabled reports whether traces are sent: inside AWS Lambda, unless
// AWS_XRAY_SDK_DISABLED=true. Outside Lambda there is no segment to attach to.
func TracingEnabled() bool {
	return os.Getenv("AWS_LAMBDA_FUNCTION_NAME") != "" && os.Getenv("AWS_XRAY_SDK_DISABLED") != "true"
}

// Trace starts a traced stage named name and returns the context to run it in and the function
// that ends it with its outcome. When tracing is off both are free.
func Trace(ctx context.Context, name string) (context.Context, func(error)) {
	if !TracingEnabled() {
		return ctx, func(error) {}
	}
	ctx, segment := xray.BeginSubsegment(ctx, name)
	if segment == nil {
		return ctx, func(error) {}
	}
	return ctx, func(err error) { segment.Close(err) }
}
