package app

import (
	"context"
	"errors"
	"time"
)

// Share links (SMH API section 13, docs/shares.md): the store's side. A share names entries
// of one space by inode (migration 0016); it goes with its space or library.

// ShareStore keeps shares, their items, their visitors and their counters.
type ShareStore interface {
	// CreateShare records sh (its ShareID and Code minted by the caller) with the entries at
	// paths, in one transaction: every path must name a live entry of the space, else
	// ErrNodeNotFound and nothing is recorded. Paths naming one entry twice keep the first.
	// Answers the share as stored.
	CreateShare(ctx context.Context, sh Share, paths [][]string) (Share, error)
	// GetShare answers a share of a library by its ShareID; ErrShareNotFound when there is none.
	GetShare(ctx context.Context, libraryID, shareID string) (Share, error)
	// GetShareByCode answers the share a visitor's code names; ErrShareNotFound when none.
	GetShareByCode(ctx context.Context, code string) (Share, error)
	// ListShares answers a page of a library's shares matching q, in q's order.
	ListShares(ctx context.Context, libraryID string, q ShareQuery) (SharePage, error)
	// UpdateShare replaces the share's config (and name, when not nil) if its version is still
	// version, resets previewUsed and downloadUsed, and bumps the version: ErrShareUpdated when
	// another update came first, ErrShareNotFound when it is gone.
	UpdateShare(ctx context.Context, libraryID, shareID string, version int64, name *string, cfg ShareConfig, now time.Time) (Share, error)
	// SetShareEnabled sets the flags that are not nil.
	SetShareEnabled(ctx context.Context, libraryID, shareID string, adminEnabled, ownerEnabled *bool, now time.Time) error
	// DeleteShare removes a share with its items and visitors.
	DeleteShare(ctx context.Context, libraryID, shareID string) error
	// CountShareUse adds one preview or download to the share's counter unless limit (> 0) is
	// reached, atomically: ErrShareLimitReached then. limit 0 counts without a bound.
	CountShareUse(ctx context.Context, sharePK int64, purpose SharePurpose, limit int64) error
	// RecordWrongCode counts a wrong extraction code in the share's current window (a new
	// window starts when the last began before now - window) and answers the window's count.
	RecordWrongCode(ctx context.Context, sharePK int64, now time.Time, window time.Duration) (int64, error)
	// AddShareVisitor counts userID as a visitor of the share (once): ErrShareUserLimit when
	// limit (> 0) distinct visitors are counted already and userID is not one of them.
	AddShareVisitor(ctx context.Context, sharePK int64, userID string, limit int64, now time.Time) error
	// LiveShareItems answers up to limit of the share's items that are live entries (their row
	// and every ancestor's), in the order the share named them.
	LiveShareItems(ctx context.Context, sh Share, limit int) ([]Node, error)
	// ShareChainEnd answers the entry at the end of an inode chain inside the share: the first
	// inode must be a live item of the share and each next one a live child of the one before.
	// ErrNotInShare otherwise.
	ShareChainEnd(ctx context.Context, sh Share, chain []int64) (Node, error)
	// VisitShare reads, as one snapshot, the share a visitor's code names and what chain
	// names in it: up to itemLimit live items when chain is empty (LiveShareItems), else the
	// entry at its end (ShareChainEnd). ErrShareNotFound when the code names no share; what
	// the chain finds, or why it finds nothing, is the ShareVisit's, for the caller to answer
	// only after it has judged the visitor and the share's state.
	VisitShare(ctx context.Context, code string, chain []int64, itemLimit int) (ShareVisit, error)
	// ShareHolds reports whether inode is a live entry inside the share: one of its items or
	// under one (a symlink's target must be, for a visitor to reach it).
	ShareHolds(ctx context.Context, sh Share, inode int64) (bool, error)
}

// ShareVisit is what VisitShare read: the share, and Items (empty chain) or End, or ChainErr.
type ShareVisit struct {
	Share    Share
	Items    []Node
	End      Node
	ChainErr error
}

// Share store errors.
var (
	ErrShareNotFound     = errors.New("share not found")
	ErrShareUpdated      = errors.New("the share was updated meanwhile")
	ErrShareLimitReached = errors.New("the share's preview or download limit is reached")
	ErrShareUserLimit    = errors.New("the share's visitor limit is reached")
	ErrNotInShare        = errors.New("the entry is not in the share")
)

// SharePurpose is what a visitor fetches: it picks the counter.
type SharePurpose string

// Purposes of a fetch (ShareResolverService).
const (
	PurposePreview  SharePurpose = "preview"
	PurposeDownload SharePurpose = "download"
)

// ShareConfig is a share's permissions config (13.0); an update replaces it whole (decision 28).
type ShareConfig struct {
	IsPermanent bool
	// ExpireAt is zero for a permanent share.
	ExpireAt       time.Time
	ExtractionCode string
	CanPreview     bool
	CanDownload    bool
	CanSave        bool
	// ForbidAnonymous: only visitors with their own token of the share's library (13.9).
	ForbidAnonymous bool
	// Limits; 0 = none (docs/shares.md).
	PreviewLimit, DownloadLimit, UserLimit int64
}

// Share is one share as stored.
type Share struct {
	// PK is the store's row id: never shown (ShareID and Code are the public names).
	PK                         int64
	LibraryID, SpaceID         string
	ShareID, Code              string
	CreatorID                  string
	Name                       string
	Config                     ShareConfig
	ToUsers                    []string
	PreviewUsed, DownloadUsed  int64
	AdminEnabled, OwnerEnabled bool
	Status                     int
	CreatedAt, UpdatedAt       time.Time
	Version                    int64
	FailedCodes                int64
	FailedWindowStart          time.Time
	ItemCount                  int64
	Visitors                   int64
	// FirstItem is the inode the share named first (0 if none); with ItemCount 1 it is the
	// single item.
	FirstItem int64
}

// ShareQuery selects a page of shares (13.4, 13.5). Empty fields do not filter.
type ShareQuery struct {
	CreatorID string
	// SpaceIDs, when not nil, keeps only the shares of these spaces (empty: none).
	SpaceIDs []string
	// NameLike matches names containing it, case-insensitively.
	NameLike               string
	CreatedFrom, CreatedTo *time.Time
	ExpireFrom, ExpireTo   *time.Time
	OrderBy                ShareOrder
	Desc                   bool
	Marker                 string
	Limit                  int
}

// ShareOrder is a listing order of shares.
type ShareOrder string

// Share orders (13.4 orderBy). A permanent share sorts after every expiring one by expireTime.
const (
	ShareByCreateTime ShareOrder = "createTime"
	ShareByExpireTime ShareOrder = "expireTime"
	ShareByName       ShareOrder = "name"
	ShareByCreator    ShareOrder = "creatorId"
)

// SharePage is a page of shares; NextMarker is "" on the last page.
type SharePage struct {
	Shares     []Share
	NextMarker string
}
