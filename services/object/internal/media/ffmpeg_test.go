package media

import (
	"bytes"
	"context"
	"errors"
	"image/jpeg"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/opensmh/opensmh/pkg/filetype"
)

func TestFFmpegUnavailable(t *testing.T) {
	var f FFmpeg
	if f.Available() {
		t.Fatal("zero FFmpeg claims to be available")
	}
	var out bytes.Buffer
	if err := f.CoverFrame(context.Background(), strings.NewReader("x"), &out); !errors.Is(err, ErrFFmpegUnavailable) {
		t.Errorf("CoverFrame err = %v, want ErrFFmpegUnavailable", err)
	}
	if err := f.CoverFrameFile(context.Background(), "x.mp4", &out); !errors.Is(err, ErrFFmpegUnavailable) {
		t.Errorf("CoverFrameFile err = %v, want ErrFFmpegUnavailable", err)
	}
}

func TestFindFFmpeg(t *testing.T) {
	_, lookErr := exec.LookPath("ffmpeg")
	if got := FindFFmpeg().Available(); got != (lookErr == nil) {
		t.Errorf("FindFFmpeg().Available() = %v, but LookPath says %v", got, lookErr)
	}
}

// requireFFmpeg skips tests that need a real ffmpeg; CI machines get it from Debian's ffmpeg
// package, and a developer machine without it still runs everything else.
func requireFFmpeg(t *testing.T) FFmpeg {
	t.Helper()
	f := FindFFmpeg()
	if !f.Available() {
		t.Skip("ffmpeg is not installed (Debian package ffmpeg); video cover tests need it")
	}
	return f
}

// makeMedia renders half a second of ffmpeg's test pattern (320x240) into dir/name with the
// given output options, and returns the path.
func makeMedia(t *testing.T, f FFmpeg, name string, outArgs ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	args := []string{"-hide_banner", "-loglevel", "error", "-nostdin",
		"-f", "lavfi", "-i", "testsrc=size=320x240:rate=10:duration=0.5"}
	args = append(args, outArgs...)
	args = append(args, path)
	if out, err := exec.Command(f.Path, args...).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return path
}

func assertCoverJPEG(t *testing.T, data []byte) {
	t.Helper()
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("cover is not a JPEG: %v", err)
	}
	if cfg.Width != 320 || cfg.Height != 240 {
		t.Errorf("cover is %dx%d, want 320x240", cfg.Width, cfg.Height)
	}
}

func TestCoverFrame(t *testing.T) {
	f := requireFFmpeg(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	t.Run("pipe, fast-start mp4", func(t *testing.T) {
		path := makeMedia(t, f, "fast.mp4", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-movflags", "+faststart")
		src, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer src.Close()
		var out bytes.Buffer
		// Wrapping hides the *os.File, so the bytes really go through a pipe.
		if err := f.CoverFrame(ctx, io.MultiReader(src), &out); err != nil {
			t.Fatal(err)
		}
		assertCoverJPEG(t, out.Bytes())
	})
	t.Run("file, moov at the end", func(t *testing.T) {
		path := makeMedia(t, f, "plain.mp4", "-c:v", "libx264", "-pix_fmt", "yuv420p")
		var out bytes.Buffer
		if err := f.CoverFrameFile(ctx, path, &out); err != nil {
			t.Fatal(err)
		}
		assertCoverJPEG(t, out.Bytes())
	})
	t.Run("file name that looks like an option", func(t *testing.T) {
		path := makeMedia(t, f, "-y.mp4", "-c:v", "libx264", "-pix_fmt", "yuv420p")
		t.Chdir(filepath.Dir(path))
		var out bytes.Buffer
		if err := f.CoverFrameFile(ctx, "-y.mp4", &out); err != nil {
			t.Fatal(err)
		}
		assertCoverJPEG(t, out.Bytes())
	})
	t.Run("not a video", func(t *testing.T) {
		var out bytes.Buffer
		err := f.CoverFrame(ctx, strings.NewReader(strings.Repeat("plain text ", 100)), &out)
		if !errors.Is(err, ErrCoverFrame) {
			t.Errorf("err = %v, want ErrCoverFrame", err)
		}
		if out.Len() != 0 {
			t.Errorf("wrote %d bytes on failure", out.Len())
		}
	})
	t.Run("missing file", func(t *testing.T) {
		err := f.CoverFrameFile(ctx, filepath.Join(t.TempDir(), "nope.mp4"), io.Discard)
		if !errors.Is(err, ErrCoverFrame) {
			t.Errorf("err = %v, want ErrCoverFrame", err)
		}
	})
}

// ctxReader stands for a blob reader that delivers nothing until its request's context ends.
type ctxReader struct{ ctx context.Context }

func (r ctxReader) Read([]byte) (int, error) {
	<-r.ctx.Done()
	return 0, r.ctx.Err()
}

// TestCoverFrameTimeout feeds a source that never delivers a byte: the context must end the run.
func TestCoverFrameTimeout(t *testing.T) {
	f := requireFFmpeg(t)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := f.CoverFrame(ctx, ctxReader{ctx}, io.Discard)
	if !errors.Is(err, ErrCoverFrame) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want ErrCoverFrame wrapping context.DeadlineExceeded", err)
	}
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("CoverFrame took %v with a 300ms deadline", elapsed)
	}
}

// TestRealFiles checks Sniff, the default extension lists and the ffmpeg demuxer whitelist
// against files that ffmpeg itself writes, one per container a media library accepts.
func TestRealFiles(t *testing.T) {
	f := requireFFmpeg(t)
	h264 := []string{"-c:v", "libx264", "-pix_fmt", "yuv420p"}
	tests := []struct {
		file   string
		args   []string
		kind   Kind
		format string
	}{
		{"a.mp4", h264, KindVideo, "mp4"},
		{"a.mov", h264, KindVideo, "mov"},
		{"a.m4v", h264, KindVideo, "mp4"},
		{"a.3gp", h264, KindVideo, "3gp"},
		{"a.3g2", h264, KindVideo, "3g2"},
		{"a.mkv", h264, KindVideo, "mkv"},
		{"a.webm", []string{"-c:v", "libvpx", "-deadline", "realtime"}, KindVideo, "webm"},
		{"a.avi", []string{"-c:v", "mpeg4"}, KindVideo, "avi"},
		{"a.flv", []string{"-c:v", "flv1"}, KindVideo, "flv"},
		{"a.ts", h264, KindVideo, "mpegts"},
		{"a.m2ts", append([]string{"-mpegts_m2ts_mode", "1"}, h264...), KindVideo, "m2ts"},
		{"a.mpg", []string{"-c:v", "mpeg2video"}, KindVideo, "mpeg"},
		{"a.wmv", []string{"-c:v", "wmv2"}, KindVideo, "wmv"},
		{"a.ogv", []string{"-c:v", "libtheora"}, KindVideo, "ogv"},
		{"a.webp", []string{"-frames:v", "1", "-c:v", "libwebp"}, KindImage, "webp"},
		{"a.jpg", []string{"-frames:v", "1"}, KindImage, "jpeg"},
		{"a.png", []string{"-frames:v", "1"}, KindImage, "png"},
		{"a.gif", []string{"-frames:v", "1"}, KindImage, "gif"},
		{"a.bmp", []string{"-frames:v", "1"}, KindImage, "bmp"},
		{"a.tiff", []string{"-frames:v", "1"}, KindImage, "tiff"},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			path := makeMedia(t, f, tt.file, tt.args...)
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			s := Sniff(data)
			if s.Kind != tt.kind || s.Format != tt.format {
				t.Fatalf("Sniff = %+v, want %v %s", s, tt.kind, tt.format)
			}
			if err := Allowed(s.Kind, tt.file, true, true, nil, nil); err != nil {
				t.Errorf("Allowed(%s) = %v", tt.file, err)
			}
			if d := filetype.Describe(tt.file, s.ContentType); !d.PreviewByCI {
				t.Errorf("Describe(%s, %s) = %+v, want a preview", tt.file, s.ContentType, d)
			}
			var out bytes.Buffer
			if tt.kind == KindImage {
				if _, err := Thumbnail(bytes.NewReader(data), ThumbOptions{Width: 160}, &out); err != nil {
					t.Fatalf("Thumbnail: %v", err)
				}
				return
			}
			if err := f.CoverFrameFile(ctx, path, &out); err != nil {
				t.Fatalf("CoverFrameFile: %v", err)
			}
			assertCoverJPEG(t, out.Bytes())
		})
	}
	t.Run("audio only", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "a.m4a")
		cmd := exec.Command(f.Path, "-hide_banner", "-loglevel", "error", "-nostdin",
			"-f", "lavfi", "-i", "sine=duration=0.5", "-c:a", "aac", path)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("ffmpeg: %v\n%s", err, out)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if s := Sniff(data); s.Kind != KindOther || s.ContentType != "audio/mp4" {
			t.Errorf("Sniff(m4a) = %+v, want other audio/mp4", s)
		}
		if err := f.CoverFrameFile(ctx, path, io.Discard); !errors.Is(err, ErrCoverFrame) {
			t.Errorf("CoverFrameFile(m4a) err = %v, want ErrCoverFrame", err)
		}
	})
}
