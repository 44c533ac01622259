package client

import (
	"context"
	"net/url"
	"strconv"
)

// RecycledItem is one item of a space's recycle bin (smh-api.md 5.1). A deleted directory is one
// item holding all it held.
type RecycledItem struct {
	ID   int64  `json:"recycledItemId"`
	Name string `json:"name"`
	// Type is dir, file, image or video.
	Type string `json:"type"`
	// OriginalPath is where the item was, as segments from the space root.
	OriginalPath     []string `json:"originalPath"`
	Size             Int64    `json:"size"`
	CreationTime     string   `json:"creationTime,omitempty"`
	ModificationTime string   `json:"modificationTime,omitempty"`
	RemovalTime      string   `json:"removalTime"`
	// RemainingTime is the whole days before the bin purges the item on its own.
	RemainingTime int64  `json:"remainingTime"`
	FileType      string `json:"fileType,omitempty"`
}

// ListRecycled calls fn for each item of the space's recycle bin, newest removal first
// (decision 23), a page of up to 100 (5.1's maximum) at a time.
func (s *Space) ListRecycled(ctx context.Context, fn func(RecycledItem) error) error {
	return eachPage(func(marker string) ([]RecycledItem, string, error) {
		q := markerQuery("100", marker)
		q.Set("by-marker", "1")
		var page struct {
			NextMarker string         `json:"nextMarker"`
			Contents   []RecycledItem `json:"contents"`
		}
		_, err := s.call(ctx, "GET", s.url("recycled", ""), q, nil, &page)
		return page.Contents, page.NextMarker, err
	}, fn)
}

// Restore puts a recycled item back where it was (5.4), making missing parents again, and answers
// where it landed. strategy is Ask (the default: a taken name fails with 409), Rename or
// Overwrite; toRoot restores into the space root when the original parent is gone.
func (s *Space) Restore(ctx context.Context, id int64, strategy string, toRoot bool) ([]string, error) {
	q := strategyQuery(strategy)
	q.Set("restore", "")
	if toRoot {
		q.Set("restore_path_strategy", "fallbackToRoot")
	}
	var out struct {
		Path []string `json:"path"`
	}
	_, err := s.call(ctx, "POST", s.url("recycled", strconv.FormatInt(id, 10)), q, nil, &out)
	return out.Path, err
}

// PurgeRecycled deletes recycled items for good (5.3): all of them, or none when one is unknown
// (404 RecycledItemNotFound).
func (s *Space) PurgeRecycled(ctx context.Context, ids []int64) error {
	_, err := s.call(ctx, "POST", s.url("recycled", ""), url.Values{"delete": {""}}, ids, nil)
	return err
}

// EmptyRecycleBin deletes every item of the space's recycle bin for good (5.6).
func (s *Space) EmptyRecycleBin(ctx context.Context) error {
	_, err := s.call(ctx, "DELETE", s.url("recycled", ""), nil, nil, nil)
	return err
}
