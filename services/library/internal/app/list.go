package app

import (
	"context"
	"fmt"
)

// Pagination of GET /admin/v1/libraries (docs/architecture.md, "The admin API").
const (
	defaultPage     = 1
	defaultPageSize = 10
	maxPageSize     = 100
)

// Page is one page of libraries, newest first, with the number of libraries in all.
type Page struct {
	Libraries  []Library
	TotalCount int
}

// List answers a page of libraries with their usage figures, asked for the whole page in one
// call. A page or size of 0 means the default; negative values and sizes above 100 are refused.
func (l *Libraries) List(ctx context.Context, page, size int) (Page, error) {
	switch {
	case page < 0:
		return Page{}, invalidParam("page must be 1 or more")
	case size < 0 || size > maxPageSize:
		return Page{}, invalidParam("page_size must be between 1 and %d", maxPageSize)
	}
	if page == 0 {
		page = defaultPage
	}
	if size == 0 {
		size = defaultPageSize
	}
	libs, total, err := l.store.List(ctx, page, size)
	if err != nil {
		return Page{}, fmt.Errorf("list libraries: %w", err)
	}
	if err := l.withUsage(ctx, libs); err != nil {
		return Page{}, fmt.Errorf("list libraries: %w", err)
	}
	return Page{Libraries: libs, TotalCount: total}, nil
}
