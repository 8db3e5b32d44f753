package platform

import (
	"io"
	"log/slog"
	"os"
	"strings"
)

// NewLogger returns a JSON logger writing to w at the level named by LOG_LEVEL (debug, info,
// warn, error; info by default), with the given attributes on every line.
func NewLogger(w io.Writer, attrs ...any) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(strings.TrimSpace(os.Getenv("LOG_LEVEL")))); err != nil {
		level = slog.LevelInfo
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level})).With(attrs...)
}

// SetupLambdaLogging makes a JSON logger on stdout, tagged with the function's name, the default
// logger, and returns it.
func SetupLambdaLogging(function string) *slog.Logger {
	logger := NewLogger(os.Stdout, "function", function)
	slog.SetDefault(logger)
	return logger
}
