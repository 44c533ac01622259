package app

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"time"

	"github.com/opensmh/opensmh/pkg/authz"
)

// Quotas (SMH API section 6, decisions 13, 16, 27; docs/lifecycle.md "Quota"). A quota caps
// the usage (live + bin + versions) of one or more spaces of a library; every write that brings
// bytes into a covered space is checked inside its own transaction (the store's checkQuota), and
// a begin-upload is checked against the declared size first (CheckUpload).

// Quota use-case errors; the transport maps each to its 6.7 code.
var (
	// ErrQuotaSpacesInvalid: spaces empty, repeated, not of the library, or given for a
	// single-tenant library other than as ["-"] (decision 27).
	ErrQuotaSpacesInvalid = errors.New("quota spaces invalid")
	// ErrQuotaCapacityRequired: a create (or a by-space update) without capacity.
	ErrQuotaCapacityRequired = errors.New("quota capacity required")
)

// Quota is a quota and the spaces it covers.
type Quota struct {
	ID        int32
	LibraryID string
	// Spaces covered, in id order.
	Spaces   []string
	Capacity int64
	// The removal options of 6.1, stored as set. Nothing deletes files of an over-quota space
	// yet (docs/lifecycle.md): they are kept so a read-back and a later removal job agree.
	RemoveWhenExceed bool
	RemoveAfterDays  int
	RemoveNewest     bool
	CreatedAt        time.Time
	// Usage is the covered spaces' usage when the quota was read (SpaceCounts.Usage summed).
	Usage int64
}

// Available answers what the quota's spaces may still take (0 when over).
func (q Quota) Available() int64 { return max(q.Capacity-q.Usage, 0) }

// QuotaPatch is a quota change: nil keeps the stored value. Spaces replaces the whole list
// (6.6); only the by-id update carries it.
type QuotaPatch struct {
	Spaces           []string
	Capacity         *int64
	RemoveWhenExceed *bool
	RemoveAfterDays  *int
	RemoveNewest     *bool
}

// QuotaStore is the quotas in the SQL store. Every change runs in one transaction that, on
// PostgreSQL, holds the quota's row, so it is serialised with the writes checked against it.
type QuotaStore interface {
	// CreateQuota records q over q.Spaces and answers its id. ErrSpaceNotFound when a space is
	// not the library's; ErrDuplicateQuota when one has a quota already; with denyBelowUsage a
	// capacity under the spaces' usage is ErrQuotaLessThanUsage.
	CreateQuota(ctx context.Context, q Quota, denyBelowUsage bool, now time.Time) (int32, error)
	// QuotaOfSpace answers the quota covering a space (with its spaces and usage); ErrNoQuota
	// when none does.
	QuotaOfSpace(ctx context.Context, libraryID, spaceID string) (Quota, error)
	// QuotaByID answers a quota of the library; ErrQuotaNotFound when it has none with id.
	QuotaByID(ctx context.Context, libraryID string, id int32) (Quota, error)
	// UpdateQuotaOfSpace changes the quota covering a space (patch.Spaces is ignored);
	// ErrNoQuota when none does.
	UpdateQuotaOfSpace(ctx context.Context, libraryID, spaceID string, patch QuotaPatch, denyBelowUsage bool) error
	// UpdateQuotaByID changes a quota; a non-nil patch.Spaces replaces its spaces
	// (ErrSpaceNotFound, ErrDuplicateQuota as for CreateQuota). ErrQuotaNotFound for an unknown id.
	UpdateQuotaByID(ctx context.Context, libraryID string, id int32, patch QuotaPatch, denyBelowUsage bool) error
	// RemainingSpace answers how many more bytes the space may take: the least of what its
	// quota and the library's cap (libraryQuota > 0) leave, 0 when over. limited is false when
	// neither applies (remaining is then meaningless).
	RemainingSpace(ctx context.Context, libraryID, spaceID string, libraryQuota int64) (remaining int64, limited bool, err error)
	// AllocatedQuota sums the capacities of the library's quotas (2.8 totalAllocatedSpaceQuota).
	AllocatedQuota(ctx context.Context, libraryID string) (int64, error)
	// EnforceQuotaRemovals is one round of removeWhenExceed (6.1, docs/lifecycle.md "Quota
	// removal"): it notes quotas newly over their capacity and, removeAfterDays later, removes
	// bin items then files of their spaces for good until they fit; at most limit entries. It
	// answers how many entries it removed.
	EnforceQuotaRemovals(ctx context.Context, now time.Time, limit int) (int64, error)
}

// maxQuotaSpaces bounds the spaces one quota names in a request.
const maxQuotaSpaces = 1000

// maxRemoveAfterDays bounds removeAfterDays (a hundred years).
const maxRemoveAfterDays = 36500

// quotaRequest authenticates a quota call: admin (6.1-6.6 keep the older docs' grant).
func (n *Namespace) quotaRequest(ctx context.Context, libraryID string) (request, *authz.Principal, error) {
	r, err := n.begin(ctx, libraryID)
	if err != nil {
		return request{}, nil, err
	}
	p, err := r.require(authz.Admin)
	if err != nil {
		return request{}, nil, err
	}
	return r, p, nil
}

// quotaSpaces judges a request's spaces: decision 27 for a single-tenant library (omitted or
// ["-"]), otherwise a non-empty list of distinct ids the caller reaches. The store answers for
// their existence.
func quotaSpaces(r request, p *authz.Principal, spaces []string) ([]string, error) {
	if !r.lib.IsMultiSpace {
		if len(spaces) == 0 || len(spaces) == 1 && spaces[0] == DefaultSpace {
			return []string{DefaultSpace}, nil
		}
		return nil, &InputError{Err: ErrQuotaSpacesInvalid, Reason: `a single-tenant library's quota covers its one space: omit spaces or send ["-"]`}
	}
	if len(spaces) == 0 || len(spaces) > maxQuotaSpaces {
		return nil, &InputError{Err: ErrQuotaSpacesInvalid, Reason: "spaces must name 1-1000 spaces of the library"}
	}
	out := slices.Clone(spaces)
	slices.Sort(out)
	if len(slices.Compact(out)) != len(spaces) {
		return nil, &InputError{Err: ErrQuotaSpacesInvalid, Reason: "spaces names a space twice"}
	}
	for _, id := range out {
		if id == "" || id == DefaultSpace || len(id) > 64 {
			return nil, &InputError{Err: ErrQuotaSpacesInvalid, Reason: "spaces must name spaces of the library"}
		}
	}
	// A token minted for some spaces manages only quotas within them.
	for _, id := range out {
		if err := p.RequireSpace(id); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// checkQuotaFields judges the numbers of a create or update.
func checkQuotaFields(patch QuotaPatch) error {
	if patch.Capacity != nil && *patch.Capacity < 0 {
		return invalid("capacity must be a number of bytes, 0 or more")
	}
	if patch.RemoveAfterDays != nil && (*patch.RemoveAfterDays < 0 || *patch.RemoveAfterDays > maxRemoveAfterDays) {
		return invalid("removeAfterDays must be 0-%d", maxRemoveAfterDays)
	}
	return nil
}

// CreateQuota creates a quota (6.1): admin; 201 with its id. capacity is required; the
// removal options default to off (removeWhenExceed false, removeAfterDays 0, oldest first).
func (n *Namespace) CreateQuota(ctx context.Context, libraryID string, spec QuotaPatch) (int32, error) {
	r, p, err := n.quotaRequest(ctx, libraryID)
	if err != nil {
		return 0, err
	}
	spaces, err := quotaSpaces(r, p, spec.Spaces)
	if err != nil {
		return 0, err
	}
	if spec.Capacity == nil {
		return 0, ErrQuotaCapacityRequired
	}
	if err := checkQuotaFields(spec); err != nil {
		return 0, err
	}
	if !r.lib.IsMultiSpace {
		if err := n.ensureDefaultSpace(ctx, libraryID); err != nil {
			return 0, err
		}
	}
	q := Quota{LibraryID: libraryID, Spaces: spaces, Capacity: *spec.Capacity}
	if spec.RemoveWhenExceed != nil {
		q.RemoveWhenExceed = *spec.RemoveWhenExceed
	}
	if spec.RemoveAfterDays != nil {
		q.RemoveAfterDays = *spec.RemoveAfterDays
	}
	if spec.RemoveNewest != nil {
		q.RemoveNewest = *spec.RemoveNewest
	}
	id, err := n.store.CreateQuota(ctx, q, r.lib.DenyOnQuotaLessThanUsage, n.clock.Now())
	if errors.Is(err, ErrSpaceNotFound) {
		return 0, &InputError{Err: ErrQuotaSpacesInvalid, Reason: "spaces names a space the library does not have"}
	}
	return id, err
}

// QuotaRef is what /api/v1/quota/{lib}/{x} names (decision 13): a space, or a quota by id.
type QuotaRef struct {
	SpaceID string // set for the space form
	ID      int32  // set for the quota form
}

// resolveQuotaRef applies decision 13: x is a space when it is "-" or an existing space of the
// library, otherwise a decimal quota id (else QuotaNotFound). A token minted for some spaces
// gets AccessTokenNotMatchSpace for whatever is not within them (quotaByIDFor too), so it
// learns nothing of other tenants' spaces or quotas.
func (n *Namespace) resolveQuotaRef(ctx context.Context, r request, p *authz.Principal, x string) (QuotaRef, error) {
	if x == DefaultSpace {
		if err := p.RequireSpace(x); err != nil {
			return QuotaRef{}, err
		}
		if _, err := n.lookupSpace(ctx, r.lib, x); err != nil {
			return QuotaRef{}, err
		}
		return QuotaRef{SpaceID: x}, nil
	}
	if r.lib.IsMultiSpace && p.RequireSpace(x) == nil {
		_, err := n.store.GetSpace(ctx, r.lib.ID, x)
		if err == nil {
			return QuotaRef{SpaceID: x}, nil
		}
		if !errors.Is(err, ErrSpaceNotFound) {
			return QuotaRef{}, err
		}
	}
	id, err := strconv.ParseInt(x, 10, 32)
	if err != nil || id <= 0 || strconv.FormatInt(id, 10) != x {
		if r.lib.IsMultiSpace {
			if err := p.RequireSpace(x); err != nil {
				return QuotaRef{}, err
			}
		}
		return QuotaRef{}, ErrQuotaNotFound
	}
	return QuotaRef{ID: int32(id)}, nil
}

// quotaByIDFor loads a quota by id for p: a token minted for some spaces sees only quotas all
// of whose spaces it reaches, and is refused alike for the others and for unknown ids.
func (n *Namespace) quotaByIDFor(ctx context.Context, libraryID string, p *authz.Principal, id int32) (Quota, error) {
	q, err := n.store.QuotaByID(ctx, libraryID, id)
	if !p.AllSpaces {
		if errors.Is(err, ErrQuotaNotFound) {
			return Quota{}, authz.ErrAccessTokenNotMatchSpace
		}
		for _, s := range q.Spaces {
			if err := p.RequireSpace(s); err != nil {
				return Quota{}, err
			}
		}
	}
	return q, err
}

// GetQuota answers /api/v1/quota/{lib}/{x} (6.2 for a space, 6.5 for a quota id): admin.
// The space form answers 404 NoQuota when the space has none.
func (n *Namespace) GetQuota(ctx context.Context, libraryID, x string) (QuotaRef, Quota, error) {
	r, p, err := n.quotaRequest(ctx, libraryID)
	if err != nil {
		return QuotaRef{}, Quota{}, err
	}
	ref, err := n.resolveQuotaRef(ctx, r, p, x)
	if err != nil {
		return QuotaRef{}, Quota{}, err
	}
	var q Quota
	if ref.SpaceID != "" {
		q, err = n.store.QuotaOfSpace(ctx, libraryID, ref.SpaceID)
	} else {
		q, err = n.quotaByIDFor(ctx, libraryID, p, ref.ID)
	}
	return ref, q, err
}

// GetSpaceQuota answers the quota of a space (6.4): admin; 404 NoQuota when it has none.
func (n *Namespace) GetSpaceQuota(ctx context.Context, libraryID, spaceID string) (Quota, error) {
	r, p, err := n.quotaRequest(ctx, libraryID)
	if err != nil {
		return Quota{}, err
	}
	if r.lib.IsMultiSpace || spaceID == DefaultSpace {
		if err := p.RequireSpace(spaceID); err != nil {
			return Quota{}, err
		}
	}
	if _, err := n.lookupSpace(ctx, r.lib, spaceID); err != nil {
		return Quota{}, err
	}
	return n.store.QuotaOfSpace(ctx, libraryID, spaceID)
}

// UpdateQuota changes the quota /api/v1/quota/{lib}/{x} names (6.3 by space: capacity
// required, spaces refused; 6.6 by id: every field optional, spaces replaces the list): admin,
// 204. removeWhenExceed and removeNewest default to false when absent (6.3, 6.6), so an update
// that leaves them out turns them off.
func (n *Namespace) UpdateQuota(ctx context.Context, libraryID, x string, patch QuotaPatch) error {
	r, p, err := n.quotaRequest(ctx, libraryID)
	if err != nil {
		return err
	}
	ref, err := n.resolveQuotaRef(ctx, r, p, x)
	if err != nil {
		return err
	}
	if err := checkQuotaFields(patch); err != nil {
		return err
	}
	if patch.RemoveWhenExceed == nil {
		patch.RemoveWhenExceed = new(bool)
	}
	if patch.RemoveNewest == nil {
		patch.RemoveNewest = new(bool)
	}
	deny := r.lib.DenyOnQuotaLessThanUsage
	if ref.SpaceID != "" {
		if patch.Spaces != nil {
			return &InputError{Err: ErrQuotaSpacesInvalid, Reason: "spaces can be changed only through the quota's id (6.6)"}
		}
		if patch.Capacity == nil {
			return ErrQuotaCapacityRequired
		}
		return n.store.UpdateQuotaOfSpace(ctx, libraryID, ref.SpaceID, patch, deny)
	}
	if _, err := n.quotaByIDFor(ctx, libraryID, p, ref.ID); err != nil {
		return err
	}
	if patch.Spaces != nil {
		if patch.Spaces, err = quotaSpaces(r, p, patch.Spaces); err != nil {
			return err
		}
	}
	err = n.store.UpdateQuotaByID(ctx, libraryID, ref.ID, patch, deny)
	if errors.Is(err, ErrSpaceNotFound) {
		return &InputError{Err: ErrQuotaSpacesInvalid, Reason: "spaces names a space the library does not have"}
	}
	return err
}

// checkDeclaredSize is begin-upload's quota pre-check (3.1-3.3, 6.7): a declared filesize over
// what the space's quota (or the library's cap) still allows is refused before a ticket is
// issued. An overwrite without history replaces the old bytes, so only the difference counts;
// with history the old content stays as a version and the whole size counts. The confirm checks
// the real size again in its own transaction.
func (n *Namespace) checkDeclaredSize(ctx context.Context, t target, dest SpaceDestination, c Conflict, fileSize *int64) error {
	if fileSize == nil || *fileSize == 0 {
		return nil
	}
	rules := rulesFor(t.r.lib, t.p)
	remaining, limited, err := n.store.RemainingSpace(ctx, t.r.lib.ID, t.space.ID, rules.LibraryQuota)
	if err != nil || !limited {
		return err
	}
	added := *fileSize
	if c == ConflictOverwrite && rules.KeepVersions == 0 {
		if old := dest.Existing; dest.ExistingErr == nil && !old.IsDir() {
			added -= old.Size
		}
	}
	if added > remaining {
		return ErrQuotaLimitReached
	}
	return nil
}

// SpaceQuotaUsage is a space's usage with the quota covering it (2.9): Quota is nil without one.
type SpaceQuotaUsage struct {
	SpaceID string
	Usage   int64
	Quota   *Quota
}

// spaceQuotaUsage reads a space's usage and quota.
func (n *Namespace) spaceQuotaUsage(ctx context.Context, libraryID, spaceID string) (SpaceQuotaUsage, error) {
	c, err := n.store.SpaceCounts(ctx, libraryID, spaceID)
	if err != nil {
		return SpaceQuotaUsage{}, err
	}
	out := SpaceQuotaUsage{SpaceID: spaceID, Usage: c.Usage()}
	q, err := n.store.QuotaOfSpace(ctx, libraryID, spaceID)
	switch {
	case err == nil:
		out.Quota = &q
	case !errors.Is(err, ErrNoQuota):
		return SpaceQuotaUsage{}, err
	}
	return out, nil
}
