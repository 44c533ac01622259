package client

import (
	"context"
	"fmt"
)

// SpaceUsage is what a space holds and what its quota leaves (smh-api.md 2.9, decision 10).
type SpaceUsage struct {
	SpaceID string `json:"spaceId"`
	// Size is the bytes the space uses: live files, the recycle bin and history versions.
	Size Int64 `json:"size"`
	// Capacity and AvailableSpace are the space quota's; nil without one.
	Capacity       *Int64 `json:"capacity"`
	AvailableSpace *Int64 `json:"availableSpace"`
}

// LibraryUsage is what a library holds and its own cap (2.8, decision 10).
type LibraryUsage struct {
	TotalFileSize Int64 `json:"totalFileSize"`
	// Capacity and AvailableSpace are the library's cap (enableQuota, libraryQuota); nil without one.
	Capacity       *Int64 `json:"capacity"`
	AvailableSpace *Int64 `json:"availableSpace"`
	// TotalAllocatedSpaceQuota is the sum of the capacities of the library's space quotas.
	TotalAllocatedSpaceQuota Int64 `json:"totalAllocatedSpaceQuota"`
}

// Usage answers the space's usage and quota (2.9).
func (s *Space) Usage(ctx context.Context) (SpaceUsage, error) {
	var out []SpaceUsage
	if _, err := s.call(ctx, "GET", s.url("usage", ""), nil, nil, &out); err != nil {
		return SpaceUsage{}, err
	}
	if len(out) != 1 {
		return SpaceUsage{}, fmt.Errorf("usage of space %s: the server answered %d spaces", s.SpaceID, len(out))
	}
	return out[0], nil
}

// LibraryUsage answers the usage and cap of the space's library (2.8); it needs an admin token.
func (s *Space) LibraryUsage(ctx context.Context) (LibraryUsage, error) {
	var out LibraryUsage
	_, err := s.call(ctx, "GET", s.libraryURL("usage", ""), nil, nil, &out)
	return out, err
}
