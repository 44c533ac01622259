package app

import (
	"context"
	"crypto/rand"
	"errors"
	"math/big"
	"regexp"
	"slices"
	"strings"

	"github.com/opensmh/opensmh/pkg/authz"
)

// DefaultSpace is the only space of a single-tenant library (12.3).
const DefaultSpace = "-"

// customSpaceID is 2.1's rule for caller-chosen ids: 2-32 of [a-z0-9-], no "-" at either end.
var customSpaceID = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,30}[a-z0-9]$`)

// newSpaceID answers "space" + 13 base36 characters, as SMH's generated ids look (2.1).
func newSpaceID() (string, error) {
	const digits = "0123456789abcdefghijklmnopqrstuvwxyz"
	b := []byte("space")
	for range 13 {
		n, err := rand.Int(rand.Reader, big.NewInt(int64(len(digits))))
		if err != nil {
			return "", err
		}
		b = append(b, digits[n.Int64()])
	}
	return string(b), nil
}

// ExtensionPatch is a partial space extension: nil pointers keep the stored value. For the lists
// and the tag, Clear* asks to clear (JSON null).
type ExtensionPatch struct {
	IsPublicRead              *bool
	IsMultiAlbum              *bool
	AllowPhoto                *bool
	AllowVideo                *bool
	AllowPhotoExtname         *[]string
	AllowVideoExtname         *[]string
	AllowFileExtname          *[]string
	RecognizeSensitiveContent *bool
	SpaceTag                  *string
}

// apply merges the patch into ext.
func (p ExtensionPatch) apply(ext SpaceExtension) SpaceExtension {
	set := func(dst *bool, v *bool) {
		if v != nil {
			*dst = *v
		}
	}
	setList := func(dst *[]string, v *[]string) {
		if v != nil {
			*dst = slices.Clone(*v)
		}
	}
	set(&ext.IsPublicRead, p.IsPublicRead)
	set(&ext.IsMultiAlbum, p.IsMultiAlbum)
	set(&ext.AllowPhoto, p.AllowPhoto)
	set(&ext.AllowVideo, p.AllowVideo)
	setList(&ext.AllowPhotoExtname, p.AllowPhotoExtname)
	setList(&ext.AllowVideoExtname, p.AllowVideoExtname)
	setList(&ext.AllowFileExtname, p.AllowFileExtname)
	set(&ext.RecognizeSensitiveContent, p.RecognizeSensitiveContent)
	if p.SpaceTag != nil {
		ext.SpaceTag = *p.SpaceTag
	}
	return ext
}

// validateExtension applies the rules of 2.1 and 2.6 for the kind of library.
func validateExtension(lib Library, ext SpaceExtension) error {
	if lib.IsFileLibrary {
		if ext.IsMultiAlbum {
			return invalid("isMultiAlbum is for media libraries")
		}
		if ext.AllowPhoto || ext.AllowVideo || len(ext.AllowPhotoExtname) > 0 || len(ext.AllowVideoExtname) > 0 {
			return invalid("allowPhoto, allowVideo and their extension lists are for media libraries")
		}
	} else if len(ext.AllowFileExtname) > 0 {
		return invalid("allowFileExtname is for file libraries")
	}
	for name, list := range map[string][]string{"allowPhotoExtname": ext.AllowPhotoExtname, "allowVideoExtname": ext.AllowVideoExtname, "allowFileExtname": ext.AllowFileExtname} {
		if len(list) > 100 {
			return invalid("%s lists more than 100 extensions", name)
		}
		for _, e := range list {
			if !strings.HasPrefix(e, ".") || len(e) < 2 || len(e) > 32 || strings.ContainsAny(e, "/\\ ") {
				return invalid("%s: %q is not an extension like \".jpg\"", name, e)
			}
		}
	}
	if len(ext.SpaceTag) > 64 {
		return invalid("spaceTag is longer than 64 characters")
	}
	return nil
}

// CreateSpace creates a tenant space (2.1): admin or create_space, multi-tenant libraries only.
func (n *Namespace) CreateSpace(ctx context.Context, libraryID, customID string, patch ExtensionPatch) (string, error) {
	r, err := n.begin(ctx, libraryID)
	if err != nil {
		return "", err
	}
	p, err := r.require(authz.Admin, authz.CreateSpace)
	if err != nil {
		return "", err
	}
	if !r.lib.IsMultiSpace {
		return "", ErrNotMultiSpace
	}
	if customID != "" && !customSpaceID.MatchString(customID) {
		return "", &InputError{Err: ErrSpaceIDInvalid, Reason: "space_id must be 2-32 of [a-z0-9-], not starting or ending with -"}
	}
	ext := patch.apply(SpaceExtension{})
	if err := validateExtension(r.lib, ext); err != nil {
		return "", err
	}
	id := customID
	for attempt := 0; ; attempt++ {
		if customID == "" {
			if id, err = newSpaceID(); err != nil {
				return "", err
			}
		}
		err = n.store.CreateSpace(ctx, Space{LibraryID: libraryID, ID: id, UserID: p.UserID, CreatedAt: n.clock.Now(), Ext: ext})
		// A generated id that collides (13 base36 characters: practically never) is drawn again.
		if errors.Is(err, ErrSpaceExists) && customID == "" && attempt < 3 {
			continue
		}
		if err != nil {
			return "", err
		}
		return id, nil
	}
}

// DeleteSpace deletes a tenant space (2.2): admin or delete_space; a space with entries only
// with force.
func (n *Namespace) DeleteSpace(ctx context.Context, libraryID, spaceID string, force bool) error {
	r, err := n.begin(ctx, libraryID)
	if err != nil {
		return err
	}
	p, err := r.require(authz.Admin, authz.DeleteSpace)
	if err != nil {
		return err
	}
	if !r.lib.IsMultiSpace {
		return ErrNotMultiSpace
	}
	// A space-management token (minted without space_id) holds no spaces and may delete any space
	// of its library (2.2); a token minted for spaces may delete only those (docs/security.md).
	if len(p.SpaceIDs) > 0 {
		if err := p.RequireSpace(spaceID); err != nil {
			return err
		}
	}
	return n.store.DeleteSpace(ctx, libraryID, spaceID, force)
}

// SpaceList is a page of spaces.
type SpaceList struct {
	Spaces []Space
	// Marker continues the listing; "" on the last page.
	Marker string
}

// ListSpaces lists spaces ordered by id (2.3, 2.4). Admins and space admins see every space,
// other users the spaces they created; a public-read library lists them all without a token.
func (n *Namespace) ListSpaces(ctx context.Context, libraryID, marker, prefix, startName string, limit int) (SpaceList, error) {
	r, err := n.begin(ctx, libraryID)
	if err != nil {
		return SpaceList{}, err
	}
	opts := SpaceListOptions{After: startName, Prefix: prefix, Limit: limit}
	if marker != "" {
		opts.After = marker // marker beats start_name (2.4)
	}
	switch {
	case r.p == nil && !r.lib.IsPublicRead:
		return SpaceList{}, authz.ErrEmptyAccessToken
	case r.p != nil && !r.p.Has(authz.Admin) && !r.p.Has(authz.SpaceAdmin):
		opts.UserID = r.p.UserID
	}
	if !r.lib.IsMultiSpace {
		if err := n.ensureDefaultSpace(ctx, libraryID); err != nil {
			return SpaceList{}, err
		}
		opts.UserID = "" // the one space belongs to everyone
	}
	switch {
	case opts.Limit == 0:
		opts.Limit = 1000
	case opts.Limit < 0 || opts.Limit > 1000:
		return SpaceList{}, invalid("limit must be 1-1000")
	}
	spaces, more, err := n.store.ListSpaces(ctx, libraryID, opts)
	if err != nil {
		return SpaceList{}, err
	}
	out := SpaceList{Spaces: spaces}
	if more && len(spaces) > 0 {
		out.Marker = spaces[len(spaces)-1].ID
	}
	return out, nil
}

// CountSpaces answers the number of spaces (2.10).
func (n *Namespace) CountSpaces(ctx context.Context, libraryID string) (int64, error) {
	r, err := n.begin(ctx, libraryID)
	if err != nil {
		return 0, err
	}
	if r.p == nil && !r.lib.IsPublicRead {
		return 0, authz.ErrEmptyAccessToken
	}
	if !r.lib.IsMultiSpace {
		return 1, nil
	}
	return n.store.CountSpaces(ctx, libraryID)
}

// space loads a space the request may read: the token reaches it, or it (or its library) is
// public-read (12.7). The single-tenant space "-" is created on first use.
func (n *Namespace) space(ctx context.Context, r request, spaceID string) (Space, error) {
	return n.spaceBy(ctx, r, spaceID, n.getSpace(ctx, r.lib.ID, spaceID))
}

// getSpace is the read of a space alone, for spaceBy and lookupSpaceBy.
func (n *Namespace) getSpace(ctx context.Context, libraryID, spaceID string) func() (Space, error) {
	return func() (Space, error) { return n.store.GetSpace(ctx, libraryID, spaceID) }
}

// spaceBy is space with the store read that answers the space: GetSpace, or a read that brings
// what the use case needs from the space along with it (ResolveFile).
func (n *Namespace) spaceBy(ctx context.Context, r request, spaceID string, read func() (Space, error)) (Space, error) {
	if r.p != nil {
		// The token's spaces are checked before the store is asked, so a token of some tenants'
		// spaces cannot learn which other spaces exist. A single-tenant library answers any id
		// but "-" with SpaceNotFound, as it always did (lookupSpace, without a store call).
		if r.lib.IsMultiSpace || spaceID == DefaultSpace {
			if err := r.p.RequireSpace(spaceID); err != nil {
				return Space{}, err
			}
		}
		return n.lookupSpaceBy(ctx, r.lib, spaceID, read)
	}
	s, err := n.lookupSpaceBy(ctx, r.lib, spaceID, read)
	switch {
	case err == nil && (r.lib.IsPublicRead || s.Ext.IsPublicRead):
		return s, nil
	case err == nil, errors.Is(err, ErrSpaceNotFound) && !r.lib.IsPublicRead:
		// Without credentials, an unknown space of a private library answers as a private
		// space does, as an unknown library does (begin); a public-read library shows its
		// spaces by design.
		return Space{}, authz.ErrEmptyAccessToken
	}
	return Space{}, err
}

// lookupSpace loads a space of lib, creating a single-tenant library's space "-" on first use.
func (n *Namespace) lookupSpace(ctx context.Context, lib Library, spaceID string) (Space, error) {
	return n.lookupSpaceBy(ctx, lib, spaceID, n.getSpace(ctx, lib.ID, spaceID))
}

// lookupSpaceBy is lookupSpace with the store read that answers the space (see spaceBy); the
// read runs again once "-" is created.
func (n *Namespace) lookupSpaceBy(ctx context.Context, lib Library, spaceID string, read func() (Space, error)) (Space, error) {
	if !lib.IsMultiSpace {
		if spaceID != DefaultSpace {
			return Space{}, ErrSpaceNotFound
		}
	}
	s, err := read()
	if errors.Is(err, ErrSpaceNotFound) && !lib.IsMultiSpace {
		if err := n.ensureDefaultSpace(ctx, lib.ID); err != nil {
			return Space{}, err
		}
		return read()
	}
	return s, err
}

// ensureDefaultSpace creates the single-tenant space "-" the first time it is needed.
// It looks first and writes only when the space is missing: every request on a single-tenant
// library passes here, and a write would queue each read behind the store's writer (on SQLite,
// behind a long tree copy, until the transaction deadline answered 503).
func (n *Namespace) ensureDefaultSpace(ctx context.Context, libraryID string) error {
	_, err := n.store.GetSpace(ctx, libraryID, DefaultSpace)
	if !errors.Is(err, ErrSpaceNotFound) {
		return err
	}
	err = n.store.CreateSpace(ctx, Space{LibraryID: libraryID, ID: DefaultSpace, CreatedAt: n.clock.Now()})
	if errors.Is(err, ErrSpaceExists) {
		return nil
	}
	return err
}

// SpaceExtension answers a space's settings (2.5).
func (n *Namespace) SpaceExtension(ctx context.Context, libraryID, spaceID string) (SpaceExtension, error) {
	r, err := n.begin(ctx, libraryID)
	if err != nil {
		return SpaceExtension{}, err
	}
	s, err := n.space(ctx, r, spaceID)
	if err != nil {
		return SpaceExtension{}, err
	}
	return s.Ext, nil
}

// UpdateSpaceExtension changes the settings a request carries (2.6): admin or space_admin;
// isMultiAlbum is fixed at creation.
func (n *Namespace) UpdateSpaceExtension(ctx context.Context, libraryID, spaceID string, patch ExtensionPatch) error {
	r, err := n.begin(ctx, libraryID)
	if err != nil {
		return err
	}
	if _, err := r.require(authz.Admin, authz.SpaceAdmin); err != nil {
		return err
	}
	if _, err := n.space(ctx, r, spaceID); err != nil {
		return err
	}
	return n.store.UpdateSpaceExtension(ctx, libraryID, spaceID, func(cur SpaceExtension) (SpaceExtension, error) {
		if patch.IsMultiAlbum != nil && *patch.IsMultiAlbum != cur.IsMultiAlbum {
			return cur, invalid("isMultiAlbum is fixed at creation")
		}
		next := patch.apply(cur)
		if err := validateExtension(r.lib, next); err != nil {
			return cur, err
		}
		return next, nil
	})
}

// SpaceCounts answers a space's counters: size (2.7) for readers of the space, the file counts
// (2.10) for admins and space admins.
func (n *Namespace) SpaceCounts(ctx context.Context, libraryID, spaceID string, adminOnly bool) (SpaceCounts, error) {
	r, err := n.begin(ctx, libraryID)
	if err != nil {
		return SpaceCounts{}, err
	}
	if adminOnly {
		if _, err := r.require(authz.Admin, authz.SpaceAdmin); err != nil {
			return SpaceCounts{}, err
		}
	}
	if _, err := n.space(ctx, r, spaceID); err != nil {
		return SpaceCounts{}, err
	}
	return n.store.SpaceCounts(ctx, libraryID, spaceID)
}

// LibraryUsageView is a library's usage (2.8): its counters, its own cap (Capacity nil without
// enableQuota) and the capacities its space quotas allocate.
type LibraryUsageView struct {
	Counts    SpaceCounts
	Capacity  *int64
	Allocated int64
}

// Available answers what the library may still take under its cap (nil without one).
func (v LibraryUsageView) Available() *int64 {
	if v.Capacity == nil {
		return nil
	}
	left := max(*v.Capacity-v.Counts.Usage(), 0)
	return &left
}

// LibraryUsage answers the library's usage (2.8): admin only, and not a token minted for some
// spaces: the total covers every tenant's files (docs/security.md). Usage counts the bins and
// the versions too (decision 16).
func (n *Namespace) LibraryUsage(ctx context.Context, libraryID string) (LibraryUsageView, error) {
	r, err := n.begin(ctx, libraryID)
	if err != nil {
		return LibraryUsageView{}, err
	}
	p, err := r.require(authz.Admin)
	if err != nil {
		return LibraryUsageView{}, err
	}
	if r.lib.IsMultiSpace && len(p.SpaceIDs) > 0 && !p.AllSpaces {
		return LibraryUsageView{}, authz.ErrNoPermission
	}
	c, err := n.store.LibraryCounts(ctx, libraryID)
	if err != nil {
		return LibraryUsageView{}, err
	}
	allocated, err := n.store.AllocatedQuota(ctx, libraryID)
	if err != nil {
		return LibraryUsageView{}, err
	}
	out := LibraryUsageView{Counts: c, Allocated: allocated}
	if r.lib.EnableQuota && r.lib.LibraryQuota > 0 {
		capacity := r.lib.LibraryQuota
		out.Capacity = &capacity
	}
	return out, nil
}

// SpacesUsage answers the usage of several spaces (2.9) with the quota covering each: admin
// for any space, space_admin for the token's own spaces.
func (n *Namespace) SpacesUsage(ctx context.Context, libraryID string, spaceIDs []string) ([]SpaceQuotaUsage, error) {
	r, err := n.begin(ctx, libraryID)
	if err != nil {
		return nil, err
	}
	p, err := r.require(authz.Admin, authz.SpaceAdmin)
	if err != nil {
		return nil, err
	}
	if len(spaceIDs) == 0 || len(spaceIDs) > 100 {
		return nil, invalid("name 1-100 space ids")
	}
	out := make([]SpaceQuotaUsage, 0, len(spaceIDs))
	for _, id := range spaceIDs {
		if err := p.RequireSpace(id); err != nil {
			return nil, err
		}
		if _, err := n.space(ctx, r, id); err != nil {
			return nil, err
		}
		u, err := n.spaceQuotaUsage(ctx, libraryID, id)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, nil
}

// PurgeLibrary removes every space and entry of a deleted library (the library service calls it
// with the operator key, checked by the transport).
func (n *Namespace) PurgeLibrary(ctx context.Context, libraryID string) error {
	return n.store.DeleteLibrary(ctx, libraryID)
}

// maxUsageLibraries bounds LibrariesUsage: the largest page of the admin list (docs/architecture.md,
// "The admin API"), whose figures the library service asks for in one call.
const maxUsageLibraries = 100

// LibrariesUsage answers the usage counters of libraries for the admin API's library object
// (the library service calls it with the operator key, checked by the transport). Ids are
// answered once each, in id order. A library the namespace holds nothing of answers zeros: the
// namespace does not know which libraries exist, and an unused library has no spaces yet.
func (n *Namespace) LibrariesUsage(ctx context.Context, libraryIDs []string) ([]LibraryUsage, error) {
	ids, err := distinctIDs(libraryIDs, maxUsageLibraries, "library")
	if err != nil || len(ids) == 0 {
		return nil, err
	}
	return n.store.LibrariesUsage(ctx, ids)
}

// distinctIDs answers the non-empty ids of an internal batch call sorted and once each, or
// ParamInvalid when the call names more than max.
func distinctIDs(in []string, max int, what string) ([]string, error) {
	if len(in) > max {
		return nil, invalid("at most %d %s ids per call", max, what)
	}
	ids := make([]string, 0, len(in))
	for _, id := range in {
		if id != "" {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return slices.Compact(ids), nil
}
