package client

import (
	"context"
	"time"
)

// ShareOptions describe a new share link (smh-api.md 13.1; what the server keeps, docs/shares.md).
type ShareOptions struct {
	Name string
	// Paths are the shared files and directories, from the space root.
	Paths []string
	// ExtractionCode is the secret a visitor types (0-6 letters or digits; "" = none).
	ExtractionCode string
	// Expire is when the link stops working; the zero time makes it permanent.
	Expire time.Time
	// CanPreview, CanDownload and CanSave are what a visitor may do; browsing is always allowed.
	CanPreview, CanDownload, CanSave bool
}

// Share is a created share link (13.1).
type Share struct {
	ID string `json:"id"`
	// Code is the public handle in the link, not the extraction code.
	Code string `json:"code"`
	// Endpoint is the link a visitor opens.
	Endpoint    string `json:"endpoint"`
	CreateTime  string `json:"createTime"`
	ExpireTime  string `json:"expireTime,omitempty"`
	IsPermanent bool   `json:"isPermanent"`
}

// shareConfig is 13.1's config. Every field is sent: an unset one takes its default (decision 28).
type shareConfig struct {
	IsPermanent      bool   `json:"isPermanent"`
	ExpireTime       string `json:"expireTime,omitempty"`
	ExtractionCode   string `json:"extractionCode,omitempty"`
	CanPreview       bool   `json:"canPreview"`
	CanDownload      bool   `json:"canDownload"`
	CanSaveToNetdisk bool   `json:"canSaveToNetdisk"`
}

// CreateShare shares files and directories of the space (13.1) as the token's user.
func (s *Space) CreateShare(ctx context.Context, o ShareOptions) (Share, error) {
	cfg := shareConfig{IsPermanent: o.Expire.IsZero(), ExtractionCode: o.ExtractionCode,
		CanPreview: o.CanPreview, CanDownload: o.CanDownload, CanSaveToNetdisk: o.CanSave}
	if !cfg.IsPermanent {
		cfg.ExpireTime = o.Expire.UTC().Format("2006-01-02T15:04:05.000Z") // 12.4's form
	}
	body := struct {
		Name     string      `json:"name"`
		FilePath []string    `json:"filePath"`
		Config   shareConfig `json:"config"`
	}{o.Name, o.Paths, cfg}
	var out Share
	_, err := s.call(ctx, "POST", s.url("share", ""), nil, body, &out)
	return out, err
}

// ShareInfo is a share as the list shows it (13.4).
type ShareInfo struct {
	ID               string `json:"id"`
	Name             string `json:"name"`
	Code             string `json:"code"`
	CreatorID        string `json:"creatorId"`
	CreateTime       string `json:"createTime"`
	ExpireTime       string `json:"expireTime,omitempty"`
	IsPermanent      bool   `json:"isPermanent"`
	AdminEnabled     bool   `json:"adminEnabled"`
	OwnerEnabled     bool   `json:"ownerEnabled"`
	CanPreview       bool   `json:"canPreview"`
	CanDownload      bool   `json:"canDownload"`
	CanSaveToNetdisk bool   `json:"canSaveToNetdisk"`
}

// ListShares calls fn for each share of the library the token may see (13.4: an admin sees
// all, anyone else their own), oldest first, a page of up to 100 at a time.
func (s *Space) ListShares(ctx context.Context, fn func(ShareInfo) error) error {
	return eachPage(func(marker string) ([]ShareInfo, string, error) {
		var page struct {
			// 13.4 names the next page's marker "marker" and says whether there is one in hasMore.
			Marker   string      `json:"marker"`
			HasMore  bool        `json:"hasMore"`
			Contents []ShareInfo `json:"contents"`
		}
		_, err := s.call(ctx, "GET", s.libraryURL("share", "list"), markerQuery("100", marker), nil, &page)
		if !page.HasMore {
			page.Marker = ""
		}
		return page.Contents, page.Marker, err
	}, fn)
}

// DeleteShare deletes a share link for good (13.2); the link stops working at once.
func (s *Space) DeleteShare(ctx context.Context, id string) error {
	_, err := s.call(ctx, "DELETE", s.libraryURL("share", id), nil, nil, nil)
	return err
}
