package telemetry

import (
	"context"
	"log/slog"
	"slices"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// ZapLogger answers a zap logger whose entries become records of logger's handler: etcd, the
// embedded member and its client alike, logs through zap only, and without this its warnings
// would be dropped or printed as text beside our JSON lines. Entries below warn pass only when
// logger is at debug: etcd is chatty at info (every compaction, every snapshot), and an operator
// who asks for info means ours.
func ZapLogger(logger *slog.Logger) *zap.Logger {
	return zap.New(&zapCore{handler: logger.Handler()})
}

// zapCore is the zapcore.Core behind ZapLogger. With's fields go to the handler's WithAttrs,
// so they are converted once, not on every entry.
type zapCore struct {
	handler slog.Handler
}

var _ zapcore.Core = (*zapCore)(nil)

func (c *zapCore) Enabled(level zapcore.Level) bool {
	ctx := context.Background()
	if level < zapcore.WarnLevel && !c.handler.Enabled(ctx, slog.LevelDebug) {
		return false
	}
	return c.handler.Enabled(ctx, slogLevel(level))
}

func (c *zapCore) With(fields []zapcore.Field) zapcore.Core {
	if len(fields) == 0 {
		return c
	}
	return &zapCore{handler: c.handler.WithAttrs(attrsOf(fields))}
}

func (c *zapCore) Check(entry zapcore.Entry, checked *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if c.Enabled(entry.Level) {
		return checked.AddCore(entry, c)
	}
	return checked
}

func (c *zapCore) Write(entry zapcore.Entry, fields []zapcore.Field) error {
	r := slog.NewRecord(entry.Time, slogLevel(entry.Level), entry.Message, 0)
	if entry.LoggerName != "" {
		r.AddAttrs(slog.String("logger", entry.LoggerName))
	}
	r.AddAttrs(attrsOf(fields)...)
	return c.handler.Handle(context.Background(), r)
}

// Sync has nothing to flush: the handler writes each record as it comes.
func (c *zapCore) Sync() error { return nil }

// slogLevel maps zap's levels onto slog's four; DPanic, Panic and Fatal are errors (zap itself
// panics or exits after writing them).
func slogLevel(level zapcore.Level) slog.Level {
	switch {
	case level < zapcore.InfoLevel:
		return slog.LevelDebug
	case level == zapcore.InfoLevel:
		return slog.LevelInfo
	case level == zapcore.WarnLevel:
		return slog.LevelWarn
	}
	return slog.LevelError
}

// attrsOf converts zap fields through zap's own map encoder, which knows every field type
// (errors become their text, arrays slices, objects maps); keys are sorted so that a line reads
// the same every time.
func attrsOf(fields []zapcore.Field) []slog.Attr {
	enc := zapcore.NewMapObjectEncoder()
	for _, f := range fields {
		f.AddTo(enc)
	}
	keys := make([]string, 0, len(enc.Fields))
	for k := range enc.Fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	attrs := make([]slog.Attr, 0, len(keys))
	for _, k := range keys {
		attrs = append(attrs, slog.Any(k, enc.Fields[k]))
	}
	return attrs
}
