package app

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/opensmh/opensmh/pkg/authz"
)

// Period bounds (SMH API section 1.1, period).
const (
	DefaultPeriod = 86400 * time.Second
	MinPeriod     = 1200 * time.Second
	// MaxPeriod caps a token's lifetime at one year. SMH documents no maximum; without one a
	// sliding token would never lapse, and expiresIn must fit the int32 of the response.
	MaxPeriod = 31536000 * time.Second
)

// Limits on opaque ids. They keep etcd keys and records small; SMH documents none.
const (
	maxOpaqueIDLength = 256
	maxSpaceIDLength  = 64
	// maxListItems follows the 2026 SDK's "≤100" for client_id and session_id lists (section 1.4).
	maxListItems = 100
	// maxSpaces bounds a token's record in etcd.
	maxSpaces = 1000
)

// SingleTenantSpace is the only space of a single-tenant library (section 12.3).
const SingleTenantSpace = "-"

// ParsePeriod reads the period query: an integer of seconds; non-positive or invalid → 86400;
// below 1200 → 1200 (section 1.1); above MaxPeriod (including integers too large to parse) → MaxPeriod.
func ParsePeriod(s string) time.Duration {
	s = strings.TrimSpace(s)
	n, err := strconv.ParseInt(s, 10, 64)
	switch {
	case errors.Is(err, strconv.ErrRange) && !strings.HasPrefix(s, "-"):
		return MaxPeriod
	case err != nil || n <= 0:
		return DefaultPeriod
	case n < int64(MinPeriod/time.Second):
		return MinPeriod
	case n > int64(MaxPeriod/time.Second):
		return MaxPeriod
	}
	return time.Duration(n) * time.Second
}

// ParseGrants reads the grant query: comma-separated, spaces trimmed, empty items skipped, empty
// = read only (section 1.1). Duplicates collapse (the set has one bit per grant). An unknown name
// answers a *GrantError.
func ParseGrants(s string) (authz.GrantSet, error) {
	var set authz.GrantSet
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		b, ok := authz.GrantBit(item)
		if !ok {
			if len(item) > 64 {
				item = item[:64]
			}
			return 0, &GrantError{Grant: item}
		}
		set |= b
	}
	return set, nil
}

// ParseSpaces reads space_id for a token (section 1.1 and decision 12):
//   - single-tenant library: empty or "-" → the library's only space "-"; anything else is invalid;
//   - multi-tenant: a comma list of ids, each 1–64 characters of [A-Za-z0-9_-] and not "-";
//     omitted → no spaces (a space-management token), or every space with the admin grant.
//
// Whether the spaces exist is not checked here: spaces belong to the namespace service.
func ParseSpaces(s string, multiSpace, admin bool) (spaces []string, all bool, err error) {
	s = strings.TrimSpace(s)
	if !multiSpace {
		if s == "" || s == SingleTenantSpace {
			return []string{SingleTenantSpace}, false, nil
		}
		return nil, false, fmt.Errorf("%w: a single-tenant library has only the space %q", ErrSpaceIDInvalid, SingleTenantSpace)
	}
	if s == "" {
		return nil, admin, nil
	}
	seen := make(map[string]bool)
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		if !validSpaceID(item) {
			return nil, false, ErrSpaceIDInvalid
		}
		if !seen[item] {
			seen[item] = true
			spaces = append(spaces, item)
		}
	}
	if len(spaces) > maxSpaces {
		return nil, false, paramInvalid("more than %d space ids", maxSpaces)
	}
	return spaces, false, nil
}

func validSpaceID(s string) bool {
	if s == "" || s == SingleTenantSpace || len(s) > maxSpaceIDLength {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// ParseIDList splits a comma list of opaque ids (user_id, client_id, session_id of section 1.4).
// Ids are opaque, so items are not trimmed; an empty string is the one-item list [""], which
// selects tokens minted with an empty id. Duplicates collapse.
func ParseIDList(s, name string) ([]string, error) {
	var out []string
	seen := make(map[string]bool)
	for item := range strings.SplitSeq(s, ",") {
		if len(item) > maxOpaqueIDLength {
			return nil, paramInvalid("an item of %s is longer than %d bytes", name, maxOpaqueIDLength)
		}
		if !seen[item] {
			seen[item] = true
			out = append(out, item)
		}
	}
	if len(out) > maxListItems {
		return nil, paramInvalid("%s lists more than %d items", name, maxListItems)
	}
	return out, nil
}

func checkOpaqueID(v, name string) error {
	if len(v) > maxOpaqueIDLength {
		return paramInvalid("%s is longer than %d bytes", name, maxOpaqueIDLength)
	}
	return nil
}

// checkCredentials applies the three "missing" codes of section 1.1 in the documented order.
func checkCredentials(libraryID, secret string) error {
	switch {
	case libraryID == "" && secret == "":
		return ErrEmptyLibraryIDAndSecret
	case libraryID == "":
		return ErrEmptyLibraryID
	case secret == "":
		return ErrEmptyLibrarySecret
	}
	return nil
}
