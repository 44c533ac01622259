package cli

import (
	"io"
	"testing"
	"time"

	"github.com/spf13/cobra"
)

// Every trash, versions, quota, find and share command shows an example in its help and can
// answer in JSON for scripts.
func TestLifecycleCommandsHaveExamplesAndJSON(t *testing.T) {
	root := newRoot(io.Discard)
	var leaves []*cobra.Command
	for _, name := range []string{"trash", "versions", "quota", "find", "share"} {
		cmd, _, err := root.Find([]string{name})
		if err != nil || cmd.Name() != name {
			t.Fatalf("smh %s is not registered: %v", name, err)
		}
		leaves = append(leaves, cmd)
		leaves = append(leaves, cmd.Commands()...)
	}
	for _, c := range leaves {
		if !c.Runnable() || c.HasSubCommands() {
			continue
		}
		if c.Example == "" {
			t.Errorf("%s has no example", c.CommandPath())
		}
		if c.Flags().Lookup("json") == nil {
			t.Errorf("%s has no --json", c.CommandPath())
		}
	}
}

func TestInstantAndByteSize(t *testing.T) {
	now := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		in    string
		ahead bool
		want  time.Time
		bad   bool
	}{
		{in: "2026-12-31T18:00:00Z", want: time.Date(2026, 12, 31, 18, 0, 0, 0, time.UTC)},
		{in: "2026-12-31", want: time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC)},
		{in: "7d", ahead: true, want: now.Add(7 * 24 * time.Hour)},
		{in: "7d", want: now.Add(-7 * 24 * time.Hour)},
		{in: "90m", want: now.Add(-90 * time.Minute)},
		{in: "0d", bad: true},
		{in: "-3h", bad: true},
		{in: "soon", bad: true},
		{in: "d", bad: true},
	} {
		got, err := instant("expire", tt.in, now, tt.ahead)
		if tt.bad != (err != nil) || !tt.bad && !got.Equal(tt.want) {
			t.Errorf("instant(%q, ahead %v) = %v, %v", tt.in, tt.ahead, got, err)
		}
	}
	for in, want := range map[string]int64{"0": 0, "512": 512, "2k": 2048, "1M": 1 << 20, "3G": 3 << 30, "1T": 1 << 40,
		"x": -1, "-1": -1, "1.5M": -1, "k": -1, "99999999T": -1} {
		got, err := byteSize("min-size", in)
		if want < 0 && err == nil || want >= 0 && (err != nil || got != want) {
			t.Errorf("byteSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
}
