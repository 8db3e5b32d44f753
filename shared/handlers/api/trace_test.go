package api

import (
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

func TestTraceRecordsServerErrorsOnly(t *testing.T) {
	for status, isError := range map[int]bool{200: false, 304: false, 400: false, 404: false, 500: true, 503: true} {
		if got := serverError(events.APIGatewayProxyResponse{StatusCode: status}) != nil; got != isError {
			t.Errorf("status %d recorded as an error: %v, want %v", status, got, isError)
		}
	}
}
