package store

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/opensmh/opensmh/services/namespace/internal/app"
)

// nodeColumns is the column list every node query selects, in scanNode's order.
const nodeColumns = `inode, library_id, space_id, parent_inode, name, type, user_id, created_at, modified_at,
	local_created, local_modified, size, content_type, etag, crc64, metadata, labels, child_dirs, child_files,
	blob_id, link_target, category, tree_size, tree_files, tree_dirs, version, creation_way, latest_at`

// nodeColumnsOf is nodeColumns qualified by a table alias, for queries that join.
func nodeColumnsOf(alias string) string { return qualified(alias, nodeColumns) }

// qualified qualifies each column of a column list by a table alias.
func qualified(alias, columns string) string {
	cols := strings.Split(columns, ",")
	for i, c := range cols {
		cols[i] = alias + "." + strings.TrimSpace(c)
	}
	return strings.Join(cols, ", ")
}

// nodeRow is a node with the store-only columns a use case never sees.
type nodeRow struct {
	app.Node
	childDirs, childFiles int64
	// tree is what a directory holds below it (migration 0006); zero for files.
	tree app.TreeTotals
}

// totals answers what the entry holds, itself included.
func (r nodeRow) totals() app.TreeTotals {
	if r.isDir() {
		return app.TreeTotals{Size: r.tree.Size, Files: r.tree.Files, Dirs: r.tree.Dirs + 1}
	}
	return app.TreeTotals{Size: r.Size, Files: 1}
}

func (r nodeRow) isDir() bool { return r.Type == app.TypeDir }

type scanner interface{ Scan(dest ...any) error }

// leading scans a row whose first columns go to first and whose remaining columns are the ones
// the caller's Scan asks for, so a row carrying nodeColumns after columns of its own (a bin
// item's, a recent file's) scans through scanNode.
type leading struct {
	sc    scanner
	first []any
}

func (l leading) Scan(dest ...any) error { return l.sc.Scan(append(l.first, dest...)...) }

func scanNode(sc scanner) (nodeRow, error) {
	var (
		r                   nodeRow
		typ, meta, labels   string
		created, modified   int64
		localCtime, localMt string
		linkTarget          sql.NullInt64
		latestAt            sql.NullInt64
	)
	err := sc.Scan(&r.Inode, &r.LibraryID, &r.SpaceID, &r.ParentInode, &r.Name, &typ, &r.UserID,
		&created, &modified, &localCtime, &localMt, &r.Size, &r.ContentType, &r.ETag, &r.CRC64,
		&meta, &labels, &r.childDirs, &r.childFiles, &r.BlobID, &linkTarget, &r.Category,
		&r.tree.Size, &r.tree.Files, &r.tree.Dirs, &r.Version, &r.CreationWay, &latestAt)
	if err != nil {
		return nodeRow{}, err
	}
	r.LinkTarget = linkTarget.Int64
	if latestAt.Valid {
		r.LatestAt = fromMillis(latestAt.Int64)
	}
	r.Type = app.NodeType(typ)
	r.CreatedAt = fromMillis(created)
	r.ModifiedAt = fromMillis(modified)
	r.LocalCreationTime = localCtime
	r.LocalModificationTime = localMt
	if r.MetaData, err = decodeMeta(meta); err != nil {
		return nodeRow{}, fmt.Errorf("inode %d: %w", r.Inode, err)
	}
	if r.Labels, err = decodeLabels(labels); err != nil {
		return nodeRow{}, fmt.Errorf("inode %d: %w", r.Inode, err)
	}
	return r, nil
}

func millis(t time.Time) int64 { return t.UnixMilli() }

func fromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

// encodeMeta stores nil and empty maps alike as {} so the column stays NOT NULL and uniform.
func encodeMeta(m map[string]string) string {
	if len(m) == 0 {
		return "{}"
	}
	b, _ := json.Marshal(m) // a map of strings always marshals
	return string(b)
}

func decodeMeta(s string) (map[string]string, error) {
	var m map[string]string
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return nil, fmt.Errorf("metadata: %w", err)
	}
	if len(m) == 0 {
		return nil, nil
	}
	return m, nil
}

func encodeLabels(l []string) string {
	if len(l) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(l) // a slice of strings always marshals
	return string(b)
}

func decodeLabels(s string) ([]string, error) {
	var l []string
	if err := json.Unmarshal([]byte(s), &l); err != nil {
		return nil, fmt.Errorf("labels: %w", err)
	}
	if len(l) == 0 {
		return nil, nil
	}
	return l, nil
}

// storedExtension is the JSON form of app.SpaceExtension. Its own field names keep stored rows
// readable when the Go struct changes.
type storedExtension struct {
	IsPublicRead              bool     `json:"isPublicRead"`
	IsMultiAlbum              bool     `json:"isMultiAlbum"`
	AllowPhoto                bool     `json:"allowPhoto"`
	AllowVideo                bool     `json:"allowVideo"`
	AllowPhotoExtname         []string `json:"allowPhotoExtname,omitempty"`
	AllowVideoExtname         []string `json:"allowVideoExtname,omitempty"`
	AllowFileExtname          []string `json:"allowFileExtname,omitempty"`
	RecognizeSensitiveContent bool     `json:"recognizeSensitiveContent"`
	SpaceTag                  string   `json:"spaceTag,omitempty"`
	RecycleRetentionDays      int      `json:"recycleRetentionDays,omitempty"`
	DownloadTrafficLimit      int64    `json:"downloadTrafficLimit,omitempty"`
}

func encodeExtension(e app.SpaceExtension) string {
	b, _ := json.Marshal(storedExtension(e)) // plain fields always marshal
	return string(b)
}

func decodeExtension(s string) (app.SpaceExtension, error) {
	var e storedExtension
	if err := json.Unmarshal([]byte(s), &e); err != nil {
		return app.SpaceExtension{}, fmt.Errorf("space extension: %w", err)
	}
	return app.SpaceExtension(e), nil
}
