package sfn

import (
	"strings"
	"testing"
)

func TestSubstitute(t *testing.T) {
	def := `{"Resource":"${RefitFunctionArn}","Other":"${RefitFunctionArn}:live","MaxAttempts":${Attempts},"Keep":"$.x"}`
	got, err := Substitute([]byte(def), map[string]string{"RefitFunctionArn": "arn:aws:lambda:r:a:function:refit", "Attempts": "3"})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"Resource":"arn:aws:lambda:r:a:function:refit","Other":"arn:aws:lambda:r:a:function:refit:live","MaxAttempts":3,"Keep":"$.x"}`
	if string(got) != want {
		t.Errorf("got %s, want %s", got, want)
	}
	_, err = Substitute([]byte(`"${A}${B}${A}"`), map[string]string{})
	if err == nil || !strings.Contains(err.Error(), "no value for A, B") {
		t.Errorf("missing values: %v", err)
	}
}
