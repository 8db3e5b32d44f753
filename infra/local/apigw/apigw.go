// Package apigw is a local API Gateway (REST API, Lambda proxy integration), as `sam local
// start-api` provides: it turns HTTP requests into API Gateway proxy events for a function and
// the function's proxy responses back into HTTP responses.
package apigw

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// Route is one method (or ANY) on one resource path; a path segment {name} is a path
// parameter, and a last segment {name+} a greedy one that takes the rest of the path, as API
// Gateway's proxy resources do. Routes are tried in order: list a greedy route last.
type Route struct {
	Method   string
	Resource string
	// NoAPIKey exempts the route from the gateway's API key (as the template's page route).
	NoAPIKey bool
}

// Invoke runs the integrated function with an event and returns its result.
type Invoke func(ctx context.Context, payload []byte) ([]byte, error)

// Gateway serves a set of routes, each integrated with the same function.
type Gateway struct {
	Routes []Route
	Invoke Invoke
	// Stage is the deployment stage's name, as API Gateway reports it in the request context.
	Stage string
	// BinaryMediaTypes are the content types whose request bodies reach the function base64
	// encoded, as the API's binaryMediaTypes say.
	BinaryMediaTypes []string
	// APIKey, when set, is the key every route but those with NoAPIKey requires in x-api-key;
	// a request without it, or with another, gets API Gateway's 403 {"message": "Forbidden"}.
	APIKey string
	Logger *slog.Logger
}

// ServeHTTP answers one request.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	route, params, ok := g.match(r.Method, r.URL.Path)
	if !ok {
		// What API Gateway answers for a path or method it does not have.
		writeJSON(w, http.StatusForbidden, map[string]string{"message": "Missing Authentication Token"})
		return
	}
	if g.APIKey != "" && !route.NoAPIKey && subtle.ConstantTimeCompare([]byte(r.Header.Get("X-Api-Key")), []byte(g.APIKey)) != 1 {
		writeJSON(w, http.StatusForbidden, map[string]string{"message": "Forbidden"})
		return
	}
	event, err := g.event(r, route, params)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"message": err.Error()})
		return
	}
	payload, err := json.Marshal(event)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"message": err.Error()})
		return
	}
	started := time.Now()
	out, err := g.Invoke(r.Context(), payload)
	if err != nil {
		g.Logger.Error("api: the function failed", "method", r.Method, "path", r.URL.Path, "error", err)
		writeJSON(w, http.StatusBadGateway, map[string]string{"message": "Internal server error"})
		return
	}
	var resp events.APIGatewayProxyResponse
	if err := json.Unmarshal(out, &resp); err != nil || resp.StatusCode == 0 {
		g.Logger.Error("api: the function's response is not a proxy response", "path", r.URL.Path, "response", string(out))
		writeJSON(w, http.StatusBadGateway, map[string]string{"message": "Internal server error"})
		return
	}
	g.write(w, resp)
	g.Logger.Info("api", "method", r.Method, "path", r.URL.Path, "status", resp.StatusCode, "ms", time.Since(started).Milliseconds())
}

// match finds the route of a request and its path parameters.
func (g *Gateway) match(method, path string) (Route, map[string]string, bool) {
	segments := strings.Split(strings.Trim(path, "/"), "/")
	for _, route := range g.Routes {
		if route.Method != method && route.Method != AnyMethod {
			continue
		}
		pattern := strings.Split(strings.Trim(route.Resource, "/"), "/")
		last := pattern[len(pattern)-1]
		if greedy := strings.HasPrefix(last, "{") && strings.HasSuffix(last, "+}"); greedy {
			head := len(pattern) - 1
			rest := strings.Join(segments[min(head, len(segments)):], "/")
			if len(segments) < len(pattern) || rest == "" {
				continue
			}
			pattern, segments := pattern[:head], segments[:head]
			if params, ok := matchSegments(pattern, segments); ok {
				params[last[1:len(last)-2]] = rest
				return route, params, true
			}
			continue
		}
		if len(pattern) != len(segments) {
			continue
		}
		if params, ok := matchSegments(pattern, segments); ok {
			return route, params, true
		}
	}
	return Route{}, nil, false
}

// AnyMethod is the method of a route that takes every method (API Gateway's ANY).
const AnyMethod = "ANY"

// matchSegments matches path segments to a resource's, {name} taking any one segment.
func matchSegments(pattern, segments []string) (map[string]string, bool) {
	params := map[string]string{}
	for i, p := range pattern {
		switch {
		case strings.HasPrefix(p, "{") && strings.HasSuffix(p, "}") && segments[i] != "":
			params[p[1:len(p)-1]] = segments[i]
		case p != segments[i]:
			return nil, false
		}
	}
	return params, true
}

// event builds the proxy event API Gateway sends for r.
func (g *Gateway) event(r *http.Request, route Route, params map[string]string) (events.APIGatewayProxyRequest, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 10<<20+1))
	if err != nil {
		return events.APIGatewayProxyRequest{}, fmt.Errorf("read body: %w", err)
	}
	if len(body) > 10<<20 {
		return events.APIGatewayProxyRequest{}, fmt.Errorf("body larger than API Gateway's 10 MB")
	}
	headers, multiHeaders := map[string]string{}, map[string][]string{}
	for name, values := range r.Header {
		headers[name], multiHeaders[name] = values[len(values)-1], values
	}
	multiQuery, err := queryParameters(r.URL.RawQuery)
	if err != nil {
		return events.APIGatewayProxyRequest{}, err
	}
	query := map[string]string{}
	for name, values := range multiQuery {
		query[name] = values[len(values)-1]
	}
	sourceIP, _, _ := net.SplitHostPort(r.RemoteAddr)
	event := events.APIGatewayProxyRequest{
		Resource: route.Resource, Path: r.URL.Path, HTTPMethod: r.Method,
		Headers: headers, MultiValueHeaders: multiHeaders,
		QueryStringParameters: query, MultiValueQueryStringParameters: multiQuery,
		RequestContext: events.APIGatewayProxyRequestContext{
			AccountID: "000000000000", Stage: g.Stage, RequestID: requestID(), ResourcePath: route.Resource,
			HTTPMethod: r.Method, Path: "/" + g.Stage + r.URL.Path, APIID: "local", Protocol: r.Proto,
			Identity:         events.APIGatewayRequestIdentity{SourceIP: sourceIP, UserAgent: r.UserAgent()},
			RequestTimeEpoch: time.Now().UnixMilli(),
		},
	}
	if len(params) > 0 {
		event.PathParameters = params
	}
	if len(body) > 0 {
		if g.binary(r.Header.Get("Content-Type")) {
			event.Body, event.IsBase64Encoded = base64.StdEncoding.EncodeToString(body), true
		} else {
			event.Body = string(body)
		}
	}
	return event, nil
}

// queryParameters splits a query string as API Gateway does: at '&' only, so that a ';' is part
// of a value (days=7;DROP TABLE reaches the function as it was sent, where net/url would drop
// the pair), each name and value unescaped.
func queryParameters(raw string) (map[string][]string, error) {
	params := map[string][]string{}
	for pair := range strings.SplitSeq(raw, "&") {
		if pair == "" {
			continue
		}
		name, value, _ := strings.Cut(pair, "=")
		name, err := url.QueryUnescape(name)
		if err != nil {
			return nil, fmt.Errorf("query string: %w", err)
		}
		if value, err = url.QueryUnescape(value); err != nil {
			return nil, fmt.Errorf("query string: parameter %s: %w", name, err)
		}
		params[name] = append(params[name], value)
	}
	return params, nil
}

func (g *Gateway) binary(contentType string) bool {
	mediaType, _, err := mime.ParseMediaType(contentType)
	return err == nil && slices.Contains(g.BinaryMediaTypes, mediaType)
}

// write sends the function's proxy response, decoding a base64 body.
func (g *Gateway) write(w http.ResponseWriter, resp events.APIGatewayProxyResponse) {
	for name, value := range resp.Headers {
		w.Header().Set(name, value)
	}
	for name, values := range resp.MultiValueHeaders {
		w.Header()[http.CanonicalHeaderKey(name)] = values
	}
	body := []byte(resp.Body)
	if resp.IsBase64Encoded {
		decoded, err := base64.StdEncoding.DecodeString(resp.Body)
		if err != nil {
			writeJSON(w, http.StatusBadGateway, map[string]string{"message": "Internal server error"})
			return
		}
		body = decoded
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(body)
}

func writeJSON(w http.ResponseWriter, status int, value any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(value)
}

func requestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
