// Package testmedia makes real media files for the suites that upload them.
package testmedia

import (
	"os/exec"
	"path/filepath"
	"testing"
)

// MP4 makes a one-second 64×48 video with ffmpeg in a temporary folder and answers its path, or
// "" when ffmpeg is not on PATH (it is an optional dependency of the object service).
func MP4(t testing.TB) string {
	t.Helper()
	ffmpeg, err := exec.LookPath("ffmpeg")
	if err != nil {
		return ""
	}
	out := filepath.Join(t.TempDir(), "clip.mp4")
	cmd := exec.Command(ffmpeg, "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc=size=64x48:rate=5",
		"-t", "1", "-pix_fmt", "yuv420p", "-y", out)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v: %s", err, msg)
	}
	return out
}
