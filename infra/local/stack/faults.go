package stack

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"

	"github.com/stockcast/stockcast/infra/local/lambdaerr"
)

// FaultsPath is the local stack's fault-injection endpoint (on the AWS endpoint's port; no S3
// bucket name starts with an underscore). POST a Fault to make the next invocations of a
// function fail with the given Lambda error, as a crashed or failing function would: tests and
// people use it to watch the pipeline's failure path (job failed, previous model still served).
const FaultsPath = "/_stockcast/faults"

// Fault makes the next Count invocations of Function fail with a Lambda error of type Error.
type Fault struct {
	Function string `json:"function"`
	Error    string `json:"error"`
	Message  string `json:"message"`
	Count    int    `json:"count"`
}

// faultyFunctions injects the registered faults in front of the real functions.
type faultyFunctions struct {
	next Functions
	mu   sync.Mutex
	left map[string]Fault
}

func (f *faultyFunctions) Invoke(ctx context.Context, name string, payload []byte) ([]byte, error) {
	f.mu.Lock()
	fault, ok := f.left[name]
	if ok {
		if fault.Count--; fault.Count <= 0 {
			delete(f.left, name)
		} else {
			f.left[name] = fault
		}
	}
	f.mu.Unlock()
	if ok {
		return nil, &lambdaerr.Error{Function: name, Type: fault.Error, Message: fault.Message}
	}
	return f.next.Invoke(ctx, name, payload)
}

// ServeHTTP registers a fault (POST) or lists the pending ones (GET).
func (f *faultyFunctions) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodPost:
		var fault Fault
		if err := json.NewDecoder(r.Body).Decode(&fault); err != nil || fault.Function == "" || fault.Error == "" {
			http.Error(w, fmt.Sprintf(`a fault is {"function": NAME, "error": TYPE, "message": TEXT, "count": N} (%v)`, err), http.StatusBadRequest)
			return
		}
		fault.Count = max(fault.Count, 1)
		f.mu.Lock()
		f.left[fault.Function] = fault
		f.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	case http.MethodGet:
		f.mu.Lock()
		defer f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(f.left)
	default:
		http.Error(w, "GET or POST", http.StatusMethodNotAllowed)
	}
}
