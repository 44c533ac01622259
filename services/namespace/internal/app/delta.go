package app

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"hash/crc32"
	"strconv"
	"strings"
	"time"

	"github.com/opensmh/opensmh/pkg/authz"
)

// The change feed and the deletion check (SMH API 3.18, docs/changefeed.md): getDeltaCursor,
// queryDeltaLog and checkFileDeletion. The store records the events in the transactions that
// change the tree; these use cases read them.

// Change-feed errors; the transport maps each to its SMH code.
var (
	// ErrCursorExpired: the cursor's next events are no longer kept (older than the retention
	// window), or it belongs to an earlier space of the same id: the client must resync fully
	// (400 CursorExpired).
	ErrCursorExpired = errors.New("the cursor has expired")
	// ErrCursorInvalid: not a cursor of this space (malformed, altered, of another space, or past
	// the head): 400 ParamInvalid.
	ErrCursorInvalid = errors.New("the cursor is not valid")
)

// Event types (3.18 eventType) the store records.
const (
	EventFileCreate           = "FILE.CREATE"
	EventFileCreateOverwrite  = "FILE.CREATE_OVERWRITE"
	EventFileModify           = "FILE.MODIFY"
	EventFileDelete           = "FILE.DELETE"
	EventFileCopy             = "FILE.COPY"
	EventFileCopyOverwrite    = "FILE.COPY_OVERWRITE"
	EventFileMove             = "FILE.MOVE"
	EventFileMoveOverwrite    = "FILE.MOVE_OVERWRITE"
	EventFileTrash            = "FILE.TRASH"
	EventFileRestore          = "FILE.RESTORE"
	EventFileRestoreOverwrite = "FILE.RESTORE_OVERWRITE"
	EventTaskFileDelete       = "TASK.FILE.DELETE"
	EventTaskFileTrash        = "TASK.FILE.TRASH"
	EventRecycleDelete        = "RECYCLE.DELETE"
	EventHistoryLatest        = "HISTORY.LATEST"
	EventHistoryDelete        = "HISTORY.DELETE"
)

// Change-feed limits (3.18) and the default retention of its events.
const (
	defaultDeltaLimit      = 100
	maxDeltaLimit          = 1000
	DefaultDeltaRetention  = 180 * 24 * time.Hour
	deltaCursorVersion     = "d1"
	deltaCursorMaxEncoded  = 128
	deltaCursorCheckDomain = "smh-delta-cursor"
)

// DeltaPosition is a place in a space's change feed: the space's creation time in ms (Epoch,
// which tells it from an earlier space of the same id) and the number of the last event before
// it (Seq; 0 = before the first).
type DeltaPosition struct {
	Epoch int64
	Seq   int64
}

// DeltaEvent is one recorded event: the entry as the change left it (Node: inode, parent, name,
// type and, for files, content), where it is now (Location: 0 live, 1 bin, 3 deleted for good),
// who did it and its extraInfo as JSON ("" = null).
type DeltaEvent struct {
	Seq            int64
	Type           string
	Time           time.Time
	UserID         string
	Location       int
	RemovedByQuota bool
	ExtraInfo      string
	Node           Node
}

// DeltaPage is a page of events and the position after its last one.
type DeltaPage struct {
	Events []DeltaEvent
	Next   DeltaPosition
	More   bool
}

// Deletion is how a deleted entry went (checkFileDeletion).
type Deletion struct {
	DeletedAt time.Time
	ByQuota   bool
}

// DeltaStore is the change feed's part of the store.
type DeltaStore interface {
	// DeltaHead answers the space's current position (ErrSpaceNotFound).
	DeltaHead(ctx context.Context, libraryID, spaceID string) (DeltaPosition, error)
	// DeltaLog answers up to limit events after from, in commit order: ErrCursorExpired when
	// from's epoch is not the space's or its next events were pruned, ErrCursorInvalid when from
	// lies past the head.
	DeltaLog(ctx context.Context, libraryID, spaceID string, from DeltaPosition, limit int) (DeltaPage, error)
	// DeletionOf answers how the inode's entry (or the deleted directory holding it) was
	// deleted; ErrNodeNotFound when it is live or unknown.
	DeletionOf(ctx context.Context, libraryID, spaceID string, inode int64) (Deletion, error)
	// PruneDelta removes up to limit events recorded before before, oldest first per space.
	PruneDelta(ctx context.Context, before time.Time, limit int) (int64, error)
}

// cursorCheck binds a cursor's payload to its library and space: a cursor of another space, or
// an altered one, fails it. It is a checksum, not a secret: a client that forges a valid one
// gains nothing it could not read with its own cursor (docs/changefeed.md "Cursors").
func cursorCheck(libraryID, spaceID, payload string) uint32 {
	return crc32.ChecksumIEEE([]byte(deltaCursorCheckDomain + "\x00" + libraryID + "\x00" + spaceID + "\x00" + payload))
}

// EncodeDeltaCursor answers the opaque cursor of p in the space.
func EncodeDeltaCursor(libraryID, spaceID string, p DeltaPosition) string {
	payload := deltaCursorVersion + "." + strconv.FormatInt(p.Epoch, 10) + "." + strconv.FormatInt(p.Seq, 10)
	raw := payload + "." + strconv.FormatUint(uint64(cursorCheck(libraryID, spaceID, payload)), 36)
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

// ParseDeltaCursor reads a cursor EncodeDeltaCursor made for the same space; anything else is
// ErrCursorInvalid.
func ParseDeltaCursor(libraryID, spaceID, cursor string) (DeltaPosition, error) {
	if cursor == "" || len(cursor) > deltaCursorMaxEncoded {
		return DeltaPosition{}, ErrCursorInvalid
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(cursor)
	if err != nil {
		return DeltaPosition{}, ErrCursorInvalid
	}
	parts := strings.Split(string(raw), ".")
	if len(parts) != 4 || parts[0] != deltaCursorVersion {
		return DeltaPosition{}, ErrCursorInvalid
	}
	epoch, err1 := parseCounter(parts[1])
	seq, err2 := parseCounter(parts[2])
	check, err3 := strconv.ParseUint(parts[3], 36, 32)
	if err1 != nil || err2 != nil || err3 != nil {
		return DeltaPosition{}, ErrCursorInvalid
	}
	payload := strings.Join(parts[:3], ".")
	if uint32(check) != cursorCheck(libraryID, spaceID, payload) || EncodeDeltaCursor(libraryID, spaceID,
		DeltaPosition{Epoch: epoch, Seq: seq}) != cursor {
		return DeltaPosition{}, ErrCursorInvalid
	}
	return DeltaPosition{Epoch: epoch, Seq: seq}, nil
}

// parseCounter reads a non-negative decimal without sign or leading zeros (one spelling per
// value, so a cursor has one form).
func parseCounter(s string) (int64, error) {
	if s == "" || (len(s) > 1 && s[0] == '0') || s[0] == '+' || s[0] == '-' {
		return 0, ErrCursorInvalid
	}
	return strconv.ParseInt(s, 10, 64)
}

// openFeed opens a request on a space's change feed: any principal of the space, no grant and
// no public read (the feed shows deleted names and who acted; docs/changefeed.md).
func (n *Namespace) openFeed(ctx context.Context, libraryID, spaceID string, grants ...string) (target, error) {
	return n.open(ctx, libraryID, spaceID, "", false, grants...)
}

// DeltaCursor answers the cursor of the space's head (getDeltaCursor).
func (n *Namespace) DeltaCursor(ctx context.Context, libraryID, spaceID string) (string, error) {
	t, err := n.openFeed(ctx, libraryID, spaceID)
	if err != nil {
		return "", err
	}
	p, err := n.store.DeltaHead(ctx, libraryID, t.space.ID)
	if err != nil {
		return "", err
	}
	return EncodeDeltaCursor(libraryID, t.space.ID, p), nil
}

// DeltaLog is queryDeltaLog's answer: the events and the cursor after them.
type DeltaLog struct {
	Events []DeltaEvent
	Cursor string
	More   bool
}

// QueryDeltaLog answers the events after cursor (queryDeltaLog): limit 1-1000, default 100
// (nil); a missing or foreign cursor is ParamInvalid, an expired one CursorExpired.
func (n *Namespace) QueryDeltaLog(ctx context.Context, libraryID, spaceID, cursor string, limit *int) (DeltaLog, error) {
	t, err := n.openFeed(ctx, libraryID, spaceID)
	if err != nil {
		return DeltaLog{}, err
	}
	l := defaultDeltaLimit
	if limit != nil {
		if *limit < 1 || *limit > maxDeltaLimit {
			return DeltaLog{}, invalid("limit must be 1-%d", maxDeltaLimit)
		}
		l = *limit
	}
	if cursor == "" {
		return DeltaLog{}, invalid("cursor is required")
	}
	from, err := ParseDeltaCursor(libraryID, t.space.ID, cursor)
	if err != nil {
		return DeltaLog{}, err
	}
	page, err := n.store.DeltaLog(ctx, libraryID, t.space.ID, from, l)
	if err != nil {
		return DeltaLog{}, err
	}
	return DeltaLog{Events: page.Events, Cursor: EncodeDeltaCursor(libraryID, t.space.ID, page.Next), More: page.More}, nil
}

// FileDeletion is checkFileDeletion's answer.
type FileDeletion struct {
	ByQuota       bool
	DeletedAt     time.Time
	RetentionDays int
}

// CheckFileDeletion answers why and when the entry inode went (checkFileDeletion): admin or
// space_admin; a live or unknown inode is FileNotFound.
func (n *Namespace) CheckFileDeletion(ctx context.Context, libraryID, spaceID, rawInode string) (FileDeletion, error) {
	t, err := n.openFeed(ctx, libraryID, spaceID, authz.Admin, authz.SpaceAdmin)
	if err != nil {
		return FileDeletion{}, err
	}
	inode, err := strconv.ParseInt(rawInode, 10, 64)
	if err != nil || inode <= 0 {
		return FileDeletion{}, fmt.Errorf("%w: inode %q", ErrFileNotFound, rawInode)
	}
	d, err := n.store.DeletionOf(ctx, libraryID, t.space.ID, inode)
	if errors.Is(err, ErrNodeNotFound) {
		return FileDeletion{}, ErrFileNotFound
	}
	if err != nil {
		return FileDeletion{}, err
	}
	return FileDeletion{ByQuota: d.ByQuota, DeletedAt: d.DeletedAt, RetentionDays: int(n.deltaRetention / (24 * time.Hour))}, nil
}
