// Package rie runs Lambda function binaries (bootstrap files built for provided.al2023) under the
// AWS Lambda Runtime Interface Emulator, the way `sam local` and the Lambda container images run
// them, and invokes them over the emulator's HTTP API.
package rie

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/stockcast/stockcast/infra/local/lambdaerr"
)

// Function is a function binary and its configuration.
type Function struct {
	// Name is the function's name (AWS_LAMBDA_FUNCTION_NAME).
	Name string
	// Bootstrap is the path of the function's executable.
	Bootstrap string
	// Env is the function's environment, on top of this process's.
	Env map[string]string
	// Timeout is the function's timeout; zero means 300 s as in the emulator.
	Timeout time.Duration
	// MemoryMB is the configured memory (AWS_LAMBDA_FUNCTION_MEMORY_SIZE); zero means 3008.
	MemoryMB int
	// Output receives the emulator's and the function's output; nil discards it.
	Output io.Writer
}

// Process is one running emulator with its function: an execution environment that handles one
// invocation at a time, as Lambda's do.
type Process struct {
	name    string
	url     string
	cmd     *exec.Cmd
	exited  chan struct{}
	invoke  sync.Mutex
	client  *http.Client
	timeout time.Duration
}

// Start launches the emulator binary rieBinary with fn on free loopback ports and waits until it
// accepts invocations.
func Start(ctx context.Context, rieBinary string, fn Function) (*Process, error) {
	apiAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	runtimeAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	timeout := fn.Timeout
	if timeout == 0 {
		timeout = 300 * time.Second
	}
	cmd := exec.Command(rieBinary, "--runtime-interface-emulator-address", apiAddr, "--runtime-api-address", runtimeAddr, fn.Bootstrap)
	cmd.Env = append(os.Environ(),
		"AWS_LAMBDA_FUNCTION_NAME="+fn.Name,
		"AWS_LAMBDA_FUNCTION_TIMEOUT="+strconv.Itoa(int(timeout.Seconds())),
	)
	if fn.MemoryMB > 0 {
		cmd.Env = append(cmd.Env, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE="+strconv.Itoa(fn.MemoryMB))
	}
	for k, v := range fn.Env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdout, cmd.Stderr = fn.Output, fn.Output
	cmd.SysProcAttr = emulatorProcess()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start emulator for %s: %w", fn.Name, err)
	}
	p := &Process{
		name:    fn.Name,
		url:     "http://" + apiAddr + "/2015-03-31/functions/function/invocations",
		cmd:     cmd,
		exited:  make(chan struct{}),
		client:  &http.Client{},
		timeout: timeout,
	}
	go func() { _ = cmd.Wait(); close(p.exited) }()
	if err := p.waitReady(ctx, apiAddr); err != nil {
		return nil, errors.Join(err, p.Close())
	}
	return p, nil
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func (p *Process) waitReady(ctx context.Context, addr string) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			return conn.Close()
		}
		select {
		case <-p.exited:
			return fmt.Errorf("emulator for %s exited at start: %v", p.name, p.cmd.ProcessState)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("emulator for %s did not listen on %s within 10s", p.name, addr)
		}
	}
}

// Invoke sends one event and returns the function's response. A function error comes back as a
// *lambdaerr.Error.
func (p *Process) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	p.invoke.Lock()
	defer p.invoke.Unlock()
	ctx, cancel := context.WithTimeout(ctx, p.timeout+10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url, bytes.NewReader(payload))
	if err != nil {
		return nil, fmt.Errorf("invoke %s: %w", p.name, err)
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("invoke %s: %w", p.name, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("invoke %s: read response: %w", p.name, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, &lambdaerr.Error{Type: "Lambda.ServiceException", Message: fmt.Sprintf("emulator answered %s: %s", resp.Status, bytes.TrimSpace(body))}
	}
	if bytes.HasPrefix(body, []byte("Task timed out after")) {
		return nil, &lambdaerr.Error{Type: "States.Timeout", Message: string(body)}
	}
	if fnErr := asFunctionError(body); fnErr != nil {
		return nil, fnErr
	}
	return body, nil
}

// asFunctionError recognises the error document the runtime sends for a failed invocation:
// an object with exactly errorType, errorMessage and optionally stackTrace.
func asFunctionError(body []byte) *lambdaerr.Error {
	var doc map[string]json.RawMessage
	if json.Unmarshal(body, &doc) != nil {
		return nil
	}
	if _, ok := doc["errorMessage"]; !ok {
		return nil
	}
	for k := range doc {
		if k != "errorType" && k != "errorMessage" && k != "stackTrace" {
			return nil
		}
	}
	var fnErr lambdaerr.Error
	if json.Unmarshal(body, &fnErr) != nil {
		return nil
	}
	if fnErr.Type == "" {
		fnErr.Type = "Unhandled"
	}
	fnErr.Type = strings.TrimSpace(fnErr.Type)
	return &fnErr
}

// Close stops the emulator and the function.
func (p *Process) Close() error {
	select {
	case <-p.exited:
		return nil
	default:
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(3 * time.Second):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.exited
	}
	return nil
}
