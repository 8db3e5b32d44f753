package trend

import (
	"encoding/json"
	"fmt"
	"time"
)

// Serialisation format of a set of models.
const (
	SetFormat  = "stockcast.trend.set"
	SetVersion = 1
)

// Set is the models of one refit, serialised together: one per series name,
// and for each series that got a fallback model, the reason.
type Set struct {
	Format    string            `json:"format"`
	Version   int               `json:"version"`
	Created   time.Time         `json:"created"`
	Models    map[string]*Model `json:"models"`
	Fallbacks map[string]string `json:"fallbacks,omitempty"`
}

// NewSet returns an empty set stamped with its creation time.
func NewSet(created time.Time) *Set {
	return &Set{Format: SetFormat, Version: SetVersion, Created: created.UTC(),
		Models: map[string]*Model{}, Fallbacks: map[string]string{}}
}

// Add stores the model of a series; a non-empty reason marks it a fallback.
func (s *Set) Add(name string, m *Model, fallbackReason string) {
	s.Models[name] = m
	if fallbackReason != "" {
		s.Fallbacks[name] = fallbackReason
	} else {
		delete(s.Fallbacks, name)
	}
}

// UnmarshalJSON reads a set, refusing another format or an unknown version,
// a nil model, and a fallback reason for a series without a model.
func (s *Set) UnmarshalJSON(data []byte) error {
	type plain Set
	var p plain
	if err := json.Unmarshal(data, &p); err != nil {
		return fmt.Errorf("%w: %w", ErrFormat, err)
	}
	if p.Format != SetFormat {
		return fmt.Errorf("%w: format %q, want %q", ErrFormat, p.Format, SetFormat)
	}
	if p.Version != SetVersion {
		return fmt.Errorf("%w: version %d of %s is not supported (this build reads version %d)",
			ErrFormat, p.Version, SetFormat, SetVersion)
	}
	for name, m := range p.Models {
		if m == nil {
			return fmt.Errorf("%w: series %q has no model", ErrFormat, name)
		}
	}
	for name := range p.Fallbacks {
		if _, ok := p.Models[name]; !ok {
			return fmt.Errorf("%w: fallback reason for series %q, which has no model", ErrFormat, name)
		}
	}
	if p.Models == nil {
		p.Models = map[string]*Model{}
	}
	if p.Fallbacks == nil {
		p.Fallbacks = map[string]string{}
	}
	*s = Set(p)
	return nil
}
