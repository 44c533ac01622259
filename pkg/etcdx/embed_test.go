package etcdx

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"testing"

	"github.com/opensmh/opensmh/pkg/telemetry"
)

// lockedBuffer collects a log that etcd's goroutines write at once.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) records(t *testing.T) []map[string]any {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(b.buf.Bytes()))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r map[string]any
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("not a JSON line: %q", sc.Text())
		}
		out = append(out, r)
	}
	return out
}

// The embedded member and the client log into our JSON log: at debug all of it, at info only
// their warnings and errors; a clean stop of the member logs nothing above debug.
func TestEmbeddedLogsReachOurLog(t *testing.T) {
	tests := []struct {
		name      string
		level     slog.Level
		wantInfos bool
	}{
		{"debug shows etcd's info", slog.LevelDebug, true},
		{"info keeps etcd's info out", slog.LevelInfo, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out lockedBuffer
			logger := telemetry.NewLogger(&out, tt.level)
			ctx := context.Background()
			e, err := StartEmbedded(ctx, EmbeddedOptions{Dir: t.TempDir(), NoFsync: true, Logger: logger})
			if err != nil {
				t.Fatal(err)
			}
			cli, err := Connect(ctx, []string{e.Endpoint}, 0, logger)
			if err != nil {
				e.Close()
				t.Fatal(err)
			}
			if _, err := cli.Put(ctx, "k", "v"); err != nil {
				t.Fatal(err)
			}
			cli.Close()
			started := len(out.records(t))
			e.Close()

			records := out.records(t)
			infos := 0
			for _, r := range records {
				if r["component"] != "etcd" && r["component"] != "etcd-client" {
					t.Errorf("a record without etcd's component: %v", r)
				}
				if r["level"] == "INFO" {
					infos++
				}
			}
			if got := infos > 0; got != tt.wantInfos {
				t.Errorf("%d info records from etcd at %v", infos, tt.level)
			}
			for _, r := range records[started:] {
				if r["level"] != "DEBUG" {
					t.Errorf("the member's clean stop logged above debug: %v", r)
				}
			}
		})
	}
}
