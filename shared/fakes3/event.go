package fakes3

import (
	"net/url"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// S3Event returns the notification as the event S3 delivers to a Lambda function: one record,
// the key URL-encoded the way S3 encodes it (a space as '+', '/' kept).
func (n Notification) S3Event(region string) events.S3Event {
	return events.S3Event{Records: []events.S3EventRecord{{
		EventVersion: "2.1",
		EventSource:  "aws:s3",
		AWSRegion:    region,
		EventTime:    n.Time,
		EventName:    n.EventName,
		PrincipalID:  events.S3UserIdentity{PrincipalID: "local"},
		S3: events.S3Entity{
			SchemaVersion:   "1.0",
			ConfigurationID: "uploads",
			Bucket: events.S3Bucket{
				Name:          n.Bucket,
				OwnerIdentity: events.S3UserIdentity{PrincipalID: "local"},
				Arn:           "arn:aws:s3:::" + n.Bucket,
			},
			Object: events.S3Object{
				Key:       EncodeEventKey(n.Key),
				Size:      n.Size,
				ETag:      n.ETag,
				VersionID: n.VersionID,
				Sequencer: n.Sequencer,
			},
		},
	}}}
}

// EncodeEventKey encodes an object key as S3 event notifications carry it.
func EncodeEventKey(key string) string {
	segments := strings.Split(key, "/")
	for i, segment := range segments {
		segments[i] = url.QueryEscape(segment)
	}
	return strings.Join(segments, "/")
}
