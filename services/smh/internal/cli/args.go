package cli

import (
	"strconv"
	"strings"
	"time"
)

// Argument readers of the trash, versions, quota, find and share commands: each refuses a bad
// value as a usage error (exit 2) before any call.

// mustSpace reads arg as the address of a space, LIBRARY[/SPACE]: with no path.
func mustSpace(arg string) (remote, error) {
	r, err := mustRemote(arg)
	if err != nil {
		return remote{}, err
	}
	if r.Path != "" {
		return remote{}, usagef("%q: give the space alone, LIBRARY[/SPACE]: with nothing after the colon", arg)
	}
	return r, nil
}

// mustFile reads arg as the address of a path other than the root.
func mustFile(arg string) (remote, error) {
	r, err := mustRemote(arg)
	if err != nil {
		return remote{}, err
	}
	if r.Path == "" {
		return remote{}, usagef("%q: give a file, LIBRARY[/SPACE]:PATH", arg)
	}
	return r, nil
}

// ids reads positive decimal ids (recycled items, history versions).
func ids(what string, args []string) ([]int64, error) {
	out := make([]int64, len(args))
	for i, a := range args {
		n, err := strconv.ParseInt(a, 10, 64)
		if err != nil || n <= 0 {
			return nil, usagef("%q is not a %s (a positive number)", a, what)
		}
		out[i] = n
	}
	return out, nil
}

// instant reads a time as RFC 3339 (2026-12-31T18:00:00Z), a day (2026-12-31, midnight UTC) or
// a span from now in days, hours or minutes (7d, 36h, 90m), counted forward when ahead is set
// (a share's expiry) and back otherwise (find's --newer and --older).
func instant(flag, v string, now time.Time, ahead bool) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		return t, nil
	}
	span, err := time.ParseDuration(v)
	if days, ok := strings.CutSuffix(v, "d"); ok {
		var n int
		n, err = strconv.Atoi(days)
		span = time.Duration(n) * 24 * time.Hour
	}
	if err != nil || span <= 0 {
		return time.Time{}, usagef("--%s %q: give a time (2026-12-31T18:00:00Z or 2026-12-31) or a span (7d, 36h, 90m)", flag, v)
	}
	if !ahead {
		span = -span
	}
	return now.Add(span), nil
}

// byteSize reads a size in bytes, with an optional k, M, G or T suffix (powers of 1024).
func byteSize(flag, v string) (int64, error) {
	mult := int64(1)
	for i, suffix := range []string{"k", "M", "G", "T"} {
		if num, ok := strings.CutSuffix(v, suffix); ok {
			v, mult = num, int64(1)<<(10*(i+1))
			break
		}
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 || n > (1<<62)/mult {
		return 0, usagef("--%s %q: give bytes, optionally with k, M, G or T (1024-based)", flag, v)
	}
	return n * mult, nil
}
