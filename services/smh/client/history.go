package client

import (
	"context"
	"strconv"
)

// Version is one entry of a file's history (smh-api.md 9.4): the current content first, then
// the versions an overwrite kept, newest first.
type Version struct {
	// ID names a kept version on the routes that take a history id; 0 for the current content.
	ID int64 `json:"id,omitempty"`
	// Version counts the file's contents from 1.
	Version         int64  `json:"version"`
	IsLatestVersion bool   `json:"isLatestVersion"`
	Name            string `json:"name"`
	Size            Int64  `json:"size"`
	CRC64           string `json:"crc64,omitempty"`
	ContentType     string `json:"contentType,omitempty"`
	CreatedBy       string `json:"createdBy,omitempty"`
	// CreationWay is 0 create, 1 update (overwrite), 2 restore of a version.
	CreationWay   int    `json:"creationWay"`
	CreationTime  string `json:"creationTime,omitempty"`
	SetLatestTime string `json:"setLatestTime,omitempty"`
}

// ListVersions calls fn for each entry of the history of the file at path, a page of up to 100
// at a time. The list always holds the current content, whatever the history switch (decision 24).
func (s *Space) ListVersions(ctx context.Context, path string, fn func(Version) error) error {
	return eachPage(func(marker string) ([]Version, string, error) {
		var page struct {
			// NextMarker is there only when HasMore is (9.4).
			NextMarker string    `json:"nextMarker"`
			Contents   []Version `json:"contents"`
		}
		_, err := s.call(ctx, "GET", s.url("directory-history", "history-list/"+path), markerQuery("100", marker), nil, &page)
		return page.Contents, page.NextMarker, err
	}, fn)
}

// RestoreVersion makes a kept version the file's current content (9.6); the content it replaces
// becomes a version. It answers the file as it now is.
func (s *Space) RestoreVersion(ctx context.Context, id int64) (Entry, error) {
	var e Entry
	_, err := s.call(ctx, "POST", s.url("directory-history", "latest-version/"+strconv.FormatInt(id, 10)), nil, nil, &e)
	return e, err
}

// DeleteVersions deletes kept versions for good (9.5): all of them, or none when one is unknown.
func (s *Space) DeleteVersions(ctx context.Context, ids []int64) error {
	strs := make([]string, len(ids))
	for i, id := range ids {
		strs[i] = strconv.FormatInt(id, 10) // 9.5 takes the ids as JSON strings
	}
	_, err := s.call(ctx, "POST", s.url("directory-history", "delete"), nil, strs, nil)
	return err
}
