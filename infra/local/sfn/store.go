package sfn

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// store persists executions as files:
//
//	DIR/executions/STATE_MACHINE/EXECUTION.json          the record (Execution)
//	DIR/executions/STATE_MACHINE/EXECUTION.history.jsonl its events, one JSON object a line
//
// Records are replaced atomically (write then rename); events are appended.
type store struct {
	dir string
}

const recordSuffix = ".json"
const historySuffix = ".history.jsonl"

func openStore(dir string) (*store, error) {
	if err := os.MkdirAll(filepath.Join(dir, "executions"), 0o755); err != nil {
		return nil, fmt.Errorf("open execution store: %w", err)
	}
	return &store{dir: dir}, nil
}

// pathOf returns the path of an execution's files without their suffix. The
// names come from validated ARNs: letters, digits, - and _ only.
func (st *store) pathOf(rec Execution) string {
	machine := rec.StateMachineARN[strings.LastIndex(rec.StateMachineARN, ":")+1:]
	return filepath.Join(st.dir, "executions", machine, rec.Name)
}

func (st *store) saveExecution(rec Execution) error {
	data, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return fmt.Errorf("save execution %s: %w", rec.ARN, err)
	}
	path := st.pathOf(rec) + recordSuffix
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("save execution %s: %w", rec.ARN, err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("save execution %s: %w", rec.ARN, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("save execution %s: %w", rec.ARN, err)
	}
	return nil
}

// loadExecutions reads every persisted execution record.
func (st *store) loadExecutions() ([]Execution, error) {
	paths, err := filepath.Glob(filepath.Join(st.dir, "executions", "*", "*"+recordSuffix))
	if err != nil {
		return nil, fmt.Errorf("load executions: %w", err)
	}
	var out []Execution
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("load execution: %w", err)
		}
		var rec Execution
		if err := json.Unmarshal(data, &rec); err != nil {
			return nil, fmt.Errorf("load execution %s: %w", path, err)
		}
		out = append(out, rec)
	}
	return out, nil
}

func (st *store) eventLog(rec Execution) *eventLog {
	return &eventLog{path: st.pathOf(rec) + historySuffix}
}

// eventLog is an execution's history file.
type eventLog struct {
	mu   sync.Mutex
	path string
}

func (l *eventLog) append(e Event) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.write(e)
}

func (l *eventLog) write(e Event) error {
	line, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("append event: %w", err)
	}
	f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("append event: %w", err)
	}
	if _, err := f.Write(append(line, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("append event: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("append event: %w", err)
	}
	return nil
}

// appendNext appends an event after the last one in the file, numbering and
// linking it.
func (l *eventLog) appendNext(e Event) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	events, err := l.readLocked()
	if err != nil {
		return err
	}
	if n := len(events); n > 0 {
		e.ID, e.PreviousEventID = events[n-1].ID+1, events[n-1].ID
	} else {
		e.ID = 1
	}
	return l.write(e)
}

func (l *eventLog) read() ([]Event, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.readLocked()
}

func (l *eventLog) readLocked() ([]Event, error) {
	data, err := os.ReadFile(l.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read history: %w", err)
	}
	var events []Event
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		var e Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return nil, fmt.Errorf("read history %s: %w", l.path, err)
		}
		events = append(events, e)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read history %s: %w", l.path, err)
	}
	return events, nil
}
