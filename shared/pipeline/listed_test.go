package pipeline_test

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/stockcast/stockcast/shared/pipeline"
)

// TestListedKeepsAFewShortNames: at most MaxListed names, in order, none over MaxListedBytes.
func TestListedKeepsAFewShortNames(t *testing.T) {
	long := strings.Repeat("x", pipeline.MaxListedBytes+1)
	got := pipeline.Listed([]string{"a", long, "b", "c", "d"})
	if !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Errorf("Listed = %q", got)
	}
	if got := pipeline.Listed(nil); got != nil {
		t.Errorf("Listed(nil) = %q", got)
	}
}

// TestBoundedKeepsTheMostFrequentChoices: the MaxListed most frequent choices (ties by name),
// the others' selections counted in OtherChoices, the rest of the summary unchanged.
func TestBoundedKeepsTheMostFrequentChoices(t *testing.T) {
	long := strings.Repeat("x", pipeline.MaxListedBytes+1)
	b := &pipeline.Backtest{Selected: 40, MASE: 0.7, OtherChoices: 2,
		Choices: map[string]int{"ets": 10, "theta": 8, "naive": 8, "mean": 5, long: 9}}
	got := b.Bounded()
	want := map[string]int{"ets": 10, "naive": 8, "theta": 8}
	if !maps.Equal(got.Choices, want) || got.OtherChoices != 2+5+9 || got.Selected != 40 || got.MASE != 0.7 {
		t.Errorf("Bounded = %+v, want choices %v and 16 others", got, want)
	}
	if len(b.Choices) != 5 {
		t.Errorf("Bounded changed its receiver: %v", b.Choices)
	}
	if (*pipeline.Backtest)(nil).Bounded() != nil {
		t.Error("a nil summary bounded is not nil")
	}
}
