package app

import (
	"context"
	"fmt"
)

// Patch is a partial update (PATCH /admin/v1/libraries/{id}): only the fields present change.
type Patch struct {
	Name     *string
	Remark   *string
	Settings SettingsPatch
}

// Update applies a patch. Fields fixed at creation may be sent with their current value only.
// The merged library is validated with the same rules as a new one, and the store writes it only
// if nobody changed the library meanwhile (it retries on a fresh read otherwise), so concurrent
// patches of different fields all survive. Bad input changes nothing. The answer carries the
// usage figures like Get's; they are read before the write, so that a usage source that cannot
// answer fails the call with nothing changed rather than after the change.
func (l *Libraries) Update(ctx context.Context, id string, p Patch) (Library, error) {
	if !ValidLibraryID(id) {
		return Library{}, ErrLibraryNotFound
	}
	if p.Name != nil {
		if err := checkName(*p.Name); err != nil {
			return Library{}, err
		}
	}
	if p.Remark != nil {
		if err := checkRemark(*p.Remark); err != nil {
			return Library{}, err
		}
	}
	usage, err := l.usage.Usage(ctx, []string{id})
	if err != nil {
		return Library{}, fmt.Errorf("update library %s: usage: %w", id, err)
	}
	lib, err := l.store.Update(ctx, id, func(cur Library) (Library, error) {
		return applyPatch(cur, p)
	})
	if err != nil {
		return Library{}, fmt.Errorf("update library %s: %w", id, err)
	}
	lib.Usage = usage[id]
	return lib, nil
}

// applyPatch answers cur changed by p, or the rule p breaks.
func applyPatch(cur Library, p Patch) (Library, error) {
	if err := checkImmutable(cur.Settings, p.Settings); err != nil {
		return Library{}, err
	}
	settings, err := cur.Settings.apply(p.Settings).validate()
	if err != nil {
		return Library{}, err
	}
	next := cur
	next.Settings = settings
	if p.Name != nil {
		next.Name = *p.Name
	}
	if p.Remark != nil {
		next.Remark = *p.Remark
	}
	return next, nil
}
