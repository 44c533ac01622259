package store

import (
	"context"
	"errors"
	"time"

	"github.com/opensmh/opensmh/services/namespace/internal/app"
)

// The recycle bin (smh-api.md section 5, docs/lifecycle.md).

var errNotYet = errors.New("store: not implemented yet")

func (s *SQL) ListRecycled(ctx context.Context, libraryID, spaceID string, opts app.RecycleListOptions) (app.RecyclePage, error) {
	return app.RecyclePage{}, errNotYet
}

func (s *SQL) RecycledItem(ctx context.Context, libraryID, spaceID string, id int64) (app.RecycledItem, error) {
	return app.RecycledItem{}, errNotYet
}

func (s *SQL) RestoreRecycled(ctx context.Context, libraryID, spaceID string, id int64, opts app.RestoreOptions, rules app.WriteRules, now time.Time) ([]string, error) {
	return nil, errNotYet
}

func (s *SQL) PurgeRecycled(ctx context.Context, libraryID, spaceID string, ids []int64, now time.Time) error {
	return errNotYet
}

func (s *SQL) EmptyRecycled(ctx context.Context, libraryID, spaceID string, now time.Time) error {
	return errNotYet
}

func (s *SQL) SetRecycleRetention(ctx context.Context, libraryID, spaceID string, days int) error {
	return errNotYet
}

func (s *SQL) ExpireRecycled(ctx context.Context, now time.Time, limit int) (int64, error) {
	return 0, errNotYet
}

func (s *SQL) DrainPurges(ctx context.Context, before time.Time, limit int) (int64, error) {
	return 0, errNotYet
}
