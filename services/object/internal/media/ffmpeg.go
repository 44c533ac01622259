package media

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// FFmpeg draws video covers (3.11 "Video cover = first frame", 4.8) with an ffmpeg binary. It is
// optional: without it the preview endpoint redirects to the video itself.
type FFmpeg struct {
	// Path is the ffmpeg executable; "" means not installed.
	Path string
}

// FindFFmpeg looks ffmpeg up on PATH.
func FindFFmpeg() FFmpeg {
	p, err := exec.LookPath("ffmpeg")
	if err != nil {
		return FFmpeg{}
	}
	return FFmpeg{Path: p}
}

// Available reports whether covers can be drawn.
func (f FFmpeg) Available() bool {
	return f.Path != ""
}

const (
	// stderrLimit caps how much of ffmpeg's complaint is kept for the error message.
	stderrLimit = 2 << 10
	// waitDelay bounds how long Wait waits for ffmpeg's output pipes to close after ffmpeg has
	// exited or been killed (a grandchild could hold them open).
	waitDelay = 5 * time.Second
)

// demuxers is ffmpeg's -format_whitelist: the containers a media library accepts (Sniff's video
// formats). Untrusted input must not reach demuxers such as hls or concat, which open other files
// or URLs named inside the input.
var demuxers = strings.Join([]string{
	"mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm", "avi", "flv", "mpegts", "mpeg", "mpegvideo", "asf",
	"ogg",
}, ",")

// CoverFrame writes the first video frame of src as a JPEG to w. src is streamed through a pipe,
// which fails for an MP4 or MOV whose moov box sits at the end (the common layout of files that
// were not "fast-started"): use CoverFrameFile for those. Nothing is written to w unless ffmpeg
// succeeds.
//
// ctx bounds the run: ffmpeg is killed when it ends. CoverFrame still returns only once its copy
// of src has stopped, so src must not block past ctx either (a blob reader opened with the same
// ctx does not); a Read that never returns cannot be interrupted from here.
func (f FFmpeg) CoverFrame(ctx context.Context, src io.Reader, w io.Writer) error {
	return f.run(ctx, src, "pipe:0", "pipe", w)
}

// CoverFrameFile is CoverFrame for a local file, which ffmpeg can seek in.
func (f FFmpeg) CoverFrameFile(ctx context.Context, path string, w io.Writer) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	// The "file:" prefix keeps a name such as "http:x" or "-y" from being read as a protocol or
	// an option.
	return f.run(ctx, nil, "file:"+abs, "file", w)
}

func (f FFmpeg) run(ctx context.Context, stdin io.Reader, input, protocols string, w io.Writer) error {
	if !f.Available() {
		return ErrFFmpegUnavailable
	}
	args := []string{
		"-hide_banner", "-loglevel", "error",
		"-protocol_whitelist", protocols,
		"-format_whitelist", demuxers,
		"-i", input,
		"-map", "0:v:0", "-frames:v", "1", "-f", "image2", "-c:v", "mjpeg", "pipe:1",
	}
	if stdin == nil {
		args = append([]string{"-nostdin"}, args...)
	}
	cmd := exec.CommandContext(ctx, f.Path, args...)
	cmd.Stdin = stdin
	cmd.WaitDelay = waitDelay
	var out bytes.Buffer
	stderr := &limitedBuffer{limit: stderrLimit}
	cmd.Stdout, cmd.Stderr = &out, stderr
	if err := cmd.Run(); err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return fmt.Errorf("%w: %w", ErrCoverFrame, ctxErr)
		}
		return fmt.Errorf("%w: %w: %s", ErrCoverFrame, err, strings.TrimSpace(stderr.String()))
	}
	if out.Len() == 0 {
		return fmt.Errorf("%w: ffmpeg wrote nothing", ErrCoverFrame)
	}
	_, err := out.WriteTo(w)
	return err
}

// limitedBuffer keeps the first limit bytes written to it and drops the rest, so a chatty ffmpeg
// cannot grow memory.
type limitedBuffer struct {
	buf   bytes.Buffer
	limit int
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := b.limit - b.buf.Len(); room > 0 {
		b.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (b *limitedBuffer) String() string {
	return b.buf.String()
}
