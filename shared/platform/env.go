package platform

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"
)

// Env reads a function's configuration from environment variables, collecting every problem so
// that a misconfigured function names all of them at once.
type Env struct {
	lookup func(string) (string, bool)
	errs   []error
}

// NewEnv reads the process environment.
func NewEnv() *Env { return &Env{lookup: os.LookupEnv} }

// Required returns the variable's value, or records that it is missing.
func (e *Env) Required(name string) string {
	value, ok := e.lookup(name)
	if !ok || value == "" {
		e.errs = append(e.errs, fmt.Errorf("environment variable %s is required", name))
	}
	return value
}

// String returns the variable's value, or def when it is unset or empty.
func (e *Env) String(name, def string) string {
	if value, ok := e.lookup(name); ok && value != "" {
		return value
	}
	return def
}

// Int64 returns the variable as an integer, or def when it is unset.
func (e *Env) Int64(name string, def int64) int64 {
	return parseEnv(e, name, def, func(s string) (int64, error) { return strconv.ParseInt(s, 10, 64) })
}

// Float returns the variable as a number, or def when it is unset.
func (e *Env) Float(name string, def float64) float64 {
	return parseEnv(e, name, def, func(s string) (float64, error) { return strconv.ParseFloat(s, 64) })
}

// Bool returns the variable as a boolean (true, false, 1, 0, …, as strconv.ParseBool reads
// them), or def when it is unset.
func (e *Env) Bool(name string, def bool) bool {
	return parseEnv(e, name, def, strconv.ParseBool)
}

// Duration returns the variable as a Go duration ("90s", "5m"), or def when it is unset.
func (e *Env) Duration(name string, def time.Duration) time.Duration {
	return parseEnv(e, name, def, time.ParseDuration)
}

func parseEnv[T any](e *Env, name string, def T, parse func(string) (T, error)) T {
	value, ok := e.lookup(name)
	if !ok || value == "" {
		return def
	}
	parsed, err := parse(value)
	if err != nil {
		e.errs = append(e.errs, fmt.Errorf("environment variable %s=%q: %w", name, value, err))
		return def
	}
	return parsed
}

// Date reads a YYYY-MM-DD date, def if unset.
func (e *Env) Date(name string, def time.Time) time.Time {
	return parseEnv(e, name, def, func(s string) (time.Time, error) { return time.Parse(time.DateOnly, s) })
}

// Err reports every problem met so far.
func (e *Env) Err() error { return errors.Join(e.errs...) }
