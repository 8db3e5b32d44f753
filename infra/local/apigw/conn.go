package apigw

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strconv"
)

// JSONErrors wraps a listener so that the answers net/http's server writes by itself, before
// any handler runs, to requests it cannot parse (a request URI with a malformed escape such as
// /jobs/%zz, a malformed header, headers too large) are JSON errors in the API's shape,
// {"error": "…", "status": N}, as every other error of the API.
func JSONErrors(l net.Listener) net.Listener { return jsonErrorListener{l} }

type jsonErrorListener struct{ net.Listener }

// Accept wraps each connection.
func (l jsonErrorListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return jsonErrorConn{c}, nil
}

type jsonErrorConn struct{ net.Conn }

// plainErrorHeaders follow the status line of the plain-text answers net/http writes to a
// request it cannot parse, in one write straight to the connection. A handler's response
// never has them in this order: the server writes its headers sorted, Connection first.
const plainErrorHeaders = "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"

// Write passes every write through but net/http's plain-text error answers, which it rewrites.
func (c jsonErrorConn) Write(p []byte) (int, error) {
	status, text, ok := plainError(p)
	if !ok {
		return c.Conn.Write(p)
	}
	message := "the request cannot be read: " + text
	if text == http.StatusText(http.StatusBadRequest) {
		message = "the request line or a header is malformed, e.g. a path with an invalid %-escape such as %zz (write a literal % as %25)"
	}
	body, err := json.Marshal(struct {
		Error  string `json:"error"`
		Status int    `json:"status"`
	}{message, status})
	if err != nil {
		return 0, err
	}
	resp := fmt.Sprintf("HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s",
		status, http.StatusText(status), len(body), body)
	if _, err := c.Conn.Write([]byte(resp)); err != nil {
		return 0, err
	}
	return len(p), nil
}

// plainError recognises one of net/http's plain-text error answers: its status and its text
// without the status code ("Bad Request", "Request Header Fields Too Large", …).
func plainError(p []byte) (int, string, bool) {
	rest, ok := bytes.CutPrefix(p, []byte("HTTP/1.1 "))
	if !ok || len(rest) < 3 {
		return 0, "", false
	}
	_, body, ok := bytes.Cut(rest, []byte(plainErrorHeaders))
	if !ok {
		return 0, "", false
	}
	status, err := strconv.Atoi(string(rest[:3]))
	if err != nil || status < 400 || status > 599 {
		return 0, "", false
	}
	return status, string(bytes.TrimPrefix(body, rest[:4])), true // "400 Bad Request" → "Bad Request"
}
