package stack

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/stockcast/stockcast/infra/local/lambdaerr"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/stockcast/stockcast/infra/local/rie"
)

// Functions invokes the stack's Lambda functions by name.
type Functions interface {
	Invoke(ctx context.Context, name string, payload []byte) ([]byte, error)
}

// inProcess runs handlers in this process, decoding events and encoding results with
// aws-lambda-go exactly as the Lambda runtime does.
type inProcess struct {
	handlers map[string]lambda.Handler
}

func (f *inProcess) Invoke(ctx context.Context, name string, payload []byte) ([]byte, error) {
	handler, ok := f.handlers[name]
	if !ok {
		return nil, &lambdaerr.Error{Function: name, Type: "ResourceNotFoundException", Message: "no function named " + name}
	}
	out, err := handler.Invoke(ctx, payload)
	if err != nil {
		return nil, &lambdaerr.Error{Function: name, Type: lambdaerr.TypeOf(err), Message: err.Error()}
	}
	return out, nil
}

// emulated runs each function's bootstrap binary under the Lambda Runtime Interface Emulator,
// as `sam local` does; one emulator (one execution environment) per function.
type emulated struct {
	processes map[string]*rie.Process
}

func (f *emulated) Invoke(ctx context.Context, name string, payload []byte) ([]byte, error) {
	process, ok := f.processes[name]
	if !ok {
		return nil, &lambdaerr.Error{Function: name, Type: "ResourceNotFoundException", Message: "no function named " + name}
	}
	out, err := process.Invoke(ctx, payload)
	var fnErr *lambdaerr.Error
	if errors.As(err, &fnErr) {
		fnErr.Function = name
	}
	return out, err
}

func (f *emulated) Close() error {
	var wg sync.WaitGroup
	for _, p := range f.processes {
		wg.Go(func() { p.Close() })
	}
	wg.Wait()
	return nil
}

// startEmulated starts an emulator for each function.
func startEmulated(ctx context.Context, emulator string, functions map[string]rie.Function) (*emulated, error) {
	f := &emulated{processes: map[string]*rie.Process{}}
	for name, fn := range functions {
		p, err := rie.Start(ctx, emulator, fn)
		if err != nil {
			return nil, errors.Join(fmt.Errorf("start %s under the emulator: %w", name, err), f.Close())
		}
		f.processes[name] = p
	}
	return f, nil
}
