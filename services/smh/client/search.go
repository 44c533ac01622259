package client

import (
	"context"
)

// SearchQuery is the filter of a synchronous name search (smh-api.md 8.2); empty fields do not
// filter. Every list is OR'ed within itself; the fields are AND'ed.
type SearchQuery struct {
	// Keywords match parts of names, case-insensitively.
	Keywords []string `json:"keywords,omitempty"`
	// Scope is the directory searched, with its subdirectories ("" = the whole space).
	Scope string `json:"scope,omitempty"`
	// FileTypes are dir, file and symlink.
	FileTypes       []string `json:"fileTypes,omitempty"`
	InExtnames      []string `json:"inExtnames,omitempty"`
	ExcludeExtnames []string `json:"excludeExtnames,omitempty"`
	MinFileSize     *int64   `json:"minFileSize,omitempty"`
	MaxFileSize     *int64   `json:"maxFileSize,omitempty"`
	// ModificationTimeStart and ModificationTimeEnd bound the modification time (RFC 3339).
	ModificationTimeStart string   `json:"modificationTimeStart,omitempty"`
	ModificationTimeEnd   string   `json:"modificationTimeEnd,omitempty"`
	Labels                []string `json:"labels,omitempty"`
}

// Hit is one entry a search found: Path holds the whole path, the entry's own name last.
type Hit struct {
	Entry
	UserID string `json:"userId,omitempty"`
}

// Search calls fn for each entry the search finds in the space, best first, following the
// server's markers a page of up to 100 at a time: a page may hold fewer entries than more to come.
func (s *Space) Search(ctx context.Context, sq SearchQuery, fn func(Hit) error) error {
	return eachPage(func(marker string) ([]Hit, string, error) {
		var page struct {
			NextMarker string `json:"nextMarker"`
			Contents   []Hit  `json:"contents"`
		}
		_, err := s.call(ctx, "POST", s.url("search", "search-fs"), markerQuery("100", marker), sq, &page)
		return page.Contents, page.NextMarker, err
	}, fn)
}
