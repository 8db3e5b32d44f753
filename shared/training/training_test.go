package training

import "testing"

func TestValidate(t *testing.T) {
	for mode, ok := range map[Mode]bool{"": true, FineTune: true, Full: true, "fast": false, "Full": false} {
		if err := mode.Validate(); (err == nil) != ok {
			t.Errorf("mode %q: %v", mode, err)
		}
	}
}
