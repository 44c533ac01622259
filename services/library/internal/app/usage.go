package app

import (
	"context"
	"fmt"
)

// Usage is a library's usage figures (docs/architecture.md, "The admin API": size, dirNum, fileNum): its live
// bytes, directories and files over all its spaces. The namespace service keeps them; the library
// service only reports them.
type Usage struct {
	Size    int64
	DirNum  int64
	FileNum int64
}

// UsageSource answers the usage figures of several libraries in one call (the namespace
// service's counters). A library absent from the map has none (zeros). When the figures cannot be
// had for now (the source is down or slow), the error wraps ErrUsageUnavailable.
type UsageSource interface {
	Usage(ctx context.Context, ids []string) (map[string]Usage, error)
}

// withUsage fills the usage figures of libs with one call to the source.
//
// When the source cannot answer, the admin call fails (ErrUsageUnavailable: 503
// ServiceUnavailable) rather than answering zeros: zeros look exactly like a real empty library,
// and an operator, or the console, would take them as fact. A failed call says plainly that the
// figures are missing and is safe to repeat.
func (l *Libraries) withUsage(ctx context.Context, libs []Library) error {
	if len(libs) == 0 {
		return nil
	}
	ids := make([]string, len(libs))
	for i, lib := range libs {
		ids[i] = lib.ID
	}
	usage, err := l.usage.Usage(ctx, ids)
	if err != nil {
		return fmt.Errorf("usage of %d libraries: %w", len(ids), err)
	}
	for i := range libs {
		libs[i].Usage = usage[libs[i].ID]
	}
	return nil
}
