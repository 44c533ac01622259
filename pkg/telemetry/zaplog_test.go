package telemetry

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"testing"
	"time"

	"go.uber.org/zap"
)

// zapLines logs through ZapLogger over a JSON logger at level and answers the decoded lines.
func zapLines(t *testing.T, level slog.Level, log func(*zap.Logger)) []map[string]any {
	t.Helper()
	var buf bytes.Buffer
	log(ZapLogger(NewLogger(&buf, level).With("component", "etcd")))
	var lines []map[string]any
	sc := bufio.NewScanner(&buf)
	for sc.Scan() {
		var line map[string]any
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("not a JSON line: %q", sc.Text())
		}
		lines = append(lines, line)
	}
	return lines
}

func TestZapLoggerWritesFieldsAsAttributes(t *testing.T) {
	lines := zapLines(t, slog.LevelInfo, func(lg *zap.Logger) {
		lg.With(zap.String("member", "smh")).Named("raft").Warn("slow fdatasync",
			zap.Duration("took", 1500*time.Millisecond), zap.Int64("index", 42), zap.Error(errors.New("disk busy")),
			zap.Strings("peers", []string{"a", "b"}), zap.Bool("leader", true))
	})
	if len(lines) != 1 {
		t.Fatalf("%d lines, want 1: %v", len(lines), lines)
	}
	line := lines[0]
	want := map[string]any{
		"level": "WARN", "msg": "slow fdatasync", "component": "etcd", "logger": "raft", "member": "smh",
		// JSON numbers decode as float64; slog writes a duration as nanoseconds.
		"took": float64(1500 * time.Millisecond), "index": float64(42), "error": "disk busy", "leader": true,
	}
	for k, v := range want {
		if line[k] != v {
			t.Errorf("%s = %#v, want %#v (line %v)", k, line[k], v, line)
		}
	}
	if peers, _ := line["peers"].([]any); len(peers) != 2 || peers[0] != "a" || peers[1] != "b" {
		t.Errorf("peers = %#v, want [a b]", line["peers"])
	}
	if _, err := time.Parse(time.RFC3339Nano, line["time"].(string)); err != nil {
		t.Errorf("time %v: %v", line["time"], err)
	}
}

func TestZapLoggerLevels(t *testing.T) {
	logAll := func(lg *zap.Logger) {
		lg.Debug("d")
		lg.Info("i")
		lg.Warn("w")
		lg.Error("e")
		lg.DPanic("dp") // a plain error outside zap's development mode
	}
	tests := []struct {
		name  string
		level slog.Level
		want  []string // "msg level" of each line written
	}{
		{"info hides etcd's info", slog.LevelInfo, []string{"w WARN", "e ERROR", "dp ERROR"}},
		{"debug shows everything", slog.LevelDebug, []string{"d DEBUG", "i INFO", "w WARN", "e ERROR", "dp ERROR"}},
		{"warn", slog.LevelWarn, []string{"w WARN", "e ERROR", "dp ERROR"}},
		{"error", slog.LevelError, []string{"e ERROR", "dp ERROR"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lines := zapLines(t, tt.level, logAll)
			var got []string
			for _, l := range lines {
				got = append(got, l["msg"].(string)+" "+l["level"].(string))
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("lines %q, want %q", got, tt.want)
			}
		})
	}
}
