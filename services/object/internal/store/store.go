// Package store is the object service's SQL store (app.Store): upload sessions, their parts and
// blob records, on SQLite (the embedded default) or PostgreSQL through pkg/sqldb. The object
// service owns these tables; it never touches the namespace's.
package store

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"

	"github.com/opensmh/opensmh/pkg/sqldb"
	"github.com/opensmh/opensmh/services/object/internal/app"
)

//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrationFiles embed.FS

// migrationLockKey serialises the migrations of object replicas starting together ("SMH"
// "objm"); the namespace uses another key, so both may share a database.
const migrationLockKey = 0x534d48_6f626a6d

// SQL is the store on one engine.
type SQL struct {
	db *sqldb.DB
}

var _ app.Store = (*SQL)(nil)

// Open opens the store named by dsn (see sqldb.Open) and applies the embedded migrations.
// txTimeout bounds each transaction (0 = sqldb.DefaultTxTimeout).
func Open(ctx context.Context, dsn string, txTimeout time.Duration) (*SQL, error) {
	migrations, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	db, err := sqldb.Open(ctx, dsn, sqldb.Options{
		Migrations:       migrations,
		MigrationLockKey: migrationLockKey,
		VersionTable:     "object_schema_version",
		TxTimeout:        txTimeout,
		// Inline blobs are most of the file's bytes; garbage collection gives back what they
		// freed (docs/smallfiles.md).
		ReturnFreePages: true,
	})
	if err != nil {
		return nil, err
	}
	return &SQL{db: db}, nil
}

// Close releases the connections.
func (s *SQL) Close() error { return s.db.Close() }

// Ping answers nil while the database answers (the readiness probe).
func (s *SQL) Ping(ctx context.Context) error { return s.db.Ping(ctx) }

// Engine names the engine: "sqlite" or "postgres".
func (s *SQL) Engine() string { return s.db.Engine() }

func ms(t time.Time) int64 { return t.UnixMilli() }

func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

const uploadColumns = `id, library_id, space_id, path, user_id, kind, strategy, force, rules, attrs,
	created_at, expires_at, state, blob_id, answer`

func scanUpload(row interface{ Scan(...any) error }) (app.Upload, error) {
	var (
		u                  app.Upload
		path, rules, attrs string
		answer             string
		force              int
		created, expires   int64
		kind, state        string
	)
	if err := row.Scan(&u.ID, &u.LibraryID, &u.SpaceID, &path, &u.UserID, &kind, &u.Strategy, &force,
		&rules, &attrs, &created, &expires, &state, &u.BlobID, &answer); err != nil {
		return app.Upload{}, err
	}
	if err := json.Unmarshal([]byte(path), &u.Path); err != nil {
		return app.Upload{}, fmt.Errorf("store: upload %s path: %w", u.ID, err)
	}
	if err := json.Unmarshal([]byte(rules), &u.Rules); err != nil {
		return app.Upload{}, fmt.Errorf("store: upload %s rules: %w", u.ID, err)
	}
	if err := json.Unmarshal([]byte(attrs), &u.Attrs); err != nil {
		return app.Upload{}, fmt.Errorf("store: upload %s attrs: %w", u.ID, err)
	}
	u.Kind, u.State = app.UploadKind(kind), app.UploadState(state)
	u.Force = force != 0
	u.CreatedAt, u.ExpiresAt = fromMS(created), fromMS(expires)
	if answer != "" {
		u.Answer = []byte(answer)
	}
	return u, nil
}

// CreateUpload implements app.Store. With a cap, two begins of one owner count one after the
// other, so the cap holds under concurrency: on PostgreSQL the owner's row in upload_owners is
// locked first (the no-op UPDATE takes the row lock), and at READ COMMITTED the count, a later
// statement, sees the sessions the lock holder committed; on SQLite the single writer runs them
// one after the other.
//
// The write is lazy (sqldb.InLazyWrite): a session lost to a machine crash costs its client a
// new begin (its PUT answers 404), and the PUT's durable commit makes the session durable too
// (docs/smallfiles.md).
func (s *SQL) CreateUpload(ctx context.Context, u app.Upload, maxOpen int) error {
	path, err := json.Marshal(u.Path)
	if err != nil {
		return err
	}
	rules, err := json.Marshal(u.Rules)
	if err != nil {
		return err
	}
	attrs, err := json.Marshal(u.Attrs)
	if err != nil {
		return err
	}
	return s.db.InLazyWrite(ctx, func(t *sqldb.Tx) error {
		if maxOpen > 0 {
			if err := holdOpenSlot(ctx, t, u, maxOpen); err != nil {
				return err
			}
		}
		_, err := t.Exec(ctx, `INSERT INTO uploads (`+uploadColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', '')`,
			u.ID, u.LibraryID, u.SpaceID, string(path), u.UserID, string(u.Kind), u.Strategy, boolInt(u.Force),
			string(rules), string(attrs), ms(u.CreatedAt), ms(u.ExpiresAt), string(app.StateOpen))
		return wrap("create upload", err)
	})
}

// holdOpenSlot answers app.ErrTooManyOpenUploads when u's owner already has maxOpen unconfirmed
// sessions that have not expired at u.CreatedAt. On PostgreSQL it first locks the owner's row,
// so that two replicas' begins for one owner count one after the other; SQLite's single writer
// already runs them one after the other, and the lock's UPDATE would only cost a page write.
func holdOpenSlot(ctx context.Context, t *sqldb.Tx, u app.Upload, maxOpen int) error {
	if t.Postgres() {
		if _, err := t.Exec(ctx, `INSERT INTO upload_owners (library_id, user_id) VALUES (?, ?) ON CONFLICT DO NOTHING`,
			u.LibraryID, u.UserID); err != nil {
			return wrap("add upload owner", err)
		}
		if _, err := t.Exec(ctx, `UPDATE upload_owners SET user_id = user_id WHERE library_id = ? AND user_id = ?`,
			u.LibraryID, u.UserID); err != nil {
			return wrap("lock upload owner", err)
		}
	}
	var open int
	err := t.QueryRow(ctx, `SELECT COUNT(*) FROM uploads WHERE library_id = ? AND user_id = ? AND state IN (?, ?) AND expires_at > ?`,
		u.LibraryID, u.UserID, string(app.StateOpen), string(app.StateReceived), ms(u.CreatedAt)).Scan(&open)
	if err != nil {
		return wrap("count open uploads", err)
	}
	if open >= maxOpen {
		return app.ErrTooManyOpenUploads
	}
	return nil
}

// GetUpload implements app.Store. One statement, so no transaction.
func (s *SQL) GetUpload(ctx context.Context, id string) (app.Upload, error) {
	var u app.Upload
	err := s.db.InStatements(ctx, func(t *sqldb.Tx) error {
		var err error
		u, err = getUpload(ctx, t, id)
		return err
	})
	return u, err
}

// lockUpload reads an upload for a write transaction, holding its row until commit, so that a
// part, a confirm and an abort of one upload never interleave (PostgreSQL runs them at READ
// COMMITTED; SQLite has one writer anyway). The no-op UPDATE takes the row lock on both engines,
// which have no common SELECT ... FOR UPDATE.
func lockUpload(ctx context.Context, t *sqldb.Tx, id string) (app.Upload, error) {
	if _, err := t.Exec(ctx, `UPDATE uploads SET id = id WHERE id = ?`, id); err != nil {
		return app.Upload{}, wrap("lock upload", err)
	}
	return getUpload(ctx, t, id)
}

func getUpload(ctx context.Context, t *sqldb.Tx, id string) (app.Upload, error) {
	u, err := scanUpload(t.QueryRow(ctx, `SELECT `+uploadColumns+` FROM uploads WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return app.Upload{}, app.ErrUploadNotFound
	}
	return u, wrap("get upload", err)
}

// insertBlob records b, with its bytes when they are inline (b.Data non-nil; NULL otherwise).
func insertBlob(ctx context.Context, t *sqldb.Tx, b app.Blob) error {
	var data any
	if b.Data != nil {
		data = b.Data
	}
	_, err := t.Exec(ctx, `INSERT INTO blobs (id, library_id, space_id, size, crc64, etag, beginning_hash, full_hash,
		content_type, kind, created_at, used_at, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		b.ID, b.LibraryID, b.SpaceID, b.Size, b.CRC64, b.ETag, b.BeginningHash, b.FullHash, b.ContentType, string(b.Kind),
		ms(b.CreatedAt), ms(b.UsedAt), data)
	return wrap("insert blob", err)
}

// RecordBlob implements app.Store.
func (s *SQL) RecordBlob(ctx context.Context, b app.Blob) error {
	return s.db.InWrite(ctx, func(t *sqldb.Tx) error { return insertBlob(ctx, t, b) })
}

// AttachBlob implements app.Store. The state test is the UPDATE's own condition: the statement
// locks the row on both engines and (on PostgreSQL, after waiting for a concurrent writer of it)
// judges the row as committed, so no separate lock and read are needed.
func (s *SQL) AttachBlob(ctx context.Context, uploadID string, b app.Blob) error {
	return s.db.InWrite(ctx, func(t *sqldb.Tx) error {
		// A blob attached before is no longer held by this upload: garbage collection finds it
		// idle and unreferenced after its grace period.
		res, err := t.Exec(ctx, `UPDATE uploads SET blob_id = ?, state = ? WHERE id = ? AND state IN (?, ?)`,
			b.ID, string(app.StateReceived), uploadID, string(app.StateOpen), string(app.StateReceived))
		if err := updatedOne(ctx, t, res, err, uploadID, "attach blob"); err != nil {
			return err
		}
		return insertBlob(ctx, t, b)
	})
}

// updatedOne judges a conditional UPDATE of one upload: nil when it changed the row, otherwise
// ErrUploadNotFound for an unknown id and ErrUploadNotOpen for an upload in another state.
func updatedOne(ctx context.Context, t *sqldb.Tx, res sql.Result, err error, uploadID, op string) error {
	if err != nil {
		return wrap(op, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 1 {
		return wrap(op, err)
	}
	var one int
	switch err := t.QueryRow(ctx, `SELECT 1 FROM uploads WHERE id = ?`, uploadID).Scan(&one); {
	case errors.Is(err, sql.ErrNoRows):
		return app.ErrUploadNotFound
	case err != nil:
		return wrap(op, err)
	}
	return app.ErrUploadNotOpen
}

// PutPart implements app.Store.
func (s *SQL) PutPart(ctx context.Context, p app.Part) error {
	return s.db.InWrite(ctx, func(t *sqldb.Tx) error {
		u, err := lockUpload(ctx, t, p.UploadID)
		if err != nil {
			return err
		}
		if u.State != app.StateOpen {
			return app.ErrUploadNotOpen
		}
		_, err = t.Exec(ctx, `INSERT INTO parts (upload_id, part_number, size, etag, received_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (upload_id, part_number) DO UPDATE
			SET size = excluded.size, etag = excluded.etag, received_at = excluded.received_at`,
			p.UploadID, p.Number, p.Size, p.ETag, ms(p.ReceivedAt))
		return wrap("put part", err)
	})
}

// Parts implements app.Store.
func (s *SQL) Parts(ctx context.Context, uploadID string) ([]app.Part, error) {
	var parts []app.Part
	err := s.db.InRead(ctx, func(t *sqldb.Tx) error {
		rows, err := t.Query(ctx, `SELECT part_number, size, etag, received_at FROM parts
			WHERE upload_id = ? ORDER BY part_number`, uploadID)
		if err != nil {
			return wrap("parts", err)
		}
		defer rows.Close()
		for rows.Next() {
			p := app.Part{UploadID: uploadID}
			var received int64
			if err := rows.Scan(&p.Number, &p.Size, &p.ETag, &received); err != nil {
				return wrap("parts", err)
			}
			p.ReceivedAt = fromMS(received)
			parts = append(parts, p)
		}
		return wrap("parts", rows.Err())
	})
	return parts, err
}

// HoldBlob implements app.Store.
func (s *SQL) HoldBlob(ctx context.Context, uploadID string, b app.Blob) error {
	return s.db.InWrite(ctx, func(t *sqldb.Tx) error {
		u, err := lockUpload(ctx, t, uploadID)
		if err != nil {
			return err
		}
		if u.State != app.StateOpen {
			return app.ErrUploadNotOpen
		}
		if err := insertBlob(ctx, t, b); err != nil {
			return err
		}
		_, err = t.Exec(ctx, `UPDATE uploads SET blob_id = ? WHERE id = ?`, b.ID, uploadID)
		return wrap("hold blob", err)
	})
}

// RenewUpload implements app.Store.
func (s *SQL) RenewUpload(ctx context.Context, id string, expires time.Time) error {
	return s.db.InWrite(ctx, func(t *sqldb.Tx) error {
		u, err := lockUpload(ctx, t, id)
		if err != nil {
			return err
		}
		if u.State != app.StateOpen {
			return app.ErrUploadNotOpen
		}
		_, err = t.Exec(ctx, `UPDATE uploads SET expires_at = ? WHERE id = ?`, ms(expires), id)
		return wrap("renew upload", err)
	})
}

// Confirm implements app.Store.
//
// The write is lazy (sqldb.InLazyWrite): it follows the namespace's durable commit of the file,
// which records the upload id, so a confirm undone by a machine crash is repeated by the
// client's retry and answers the same file (docs/smallfiles.md).
func (s *SQL) Confirm(ctx context.Context, id string, answer []byte) error {
	return s.db.InLazyWrite(ctx, func(t *sqldb.Tx) error {
		res, err := t.Exec(ctx, `UPDATE uploads SET state = ?, answer = ? WHERE id = ? AND state <> ?`,
			string(app.StateConfirmed), string(answer), id, string(app.StateAborted))
		return updatedOne(ctx, t, res, err, id, "confirm")
	})
}

// AbortUpload implements app.Store.
func (s *SQL) AbortUpload(ctx context.Context, id string) error {
	return s.db.InWrite(ctx, func(t *sqldb.Tx) error {
		u, err := lockUpload(ctx, t, id)
		if err != nil {
			return err
		}
		if u.State == app.StateConfirmed {
			return app.ErrUploadNotOpen
		}
		if _, err := t.Exec(ctx, `DELETE FROM parts WHERE upload_id = ?`, id); err != nil {
			return wrap("abort", err)
		}
		_, err = t.Exec(ctx, `UPDATE uploads SET state = ?, blob_id = '' WHERE id = ?`, string(app.StateAborted), id)
		return wrap("abort", err)
	})
}

// blobColumns are a blob's record without its inline bytes (data), which GetBlob adds.
const blobColumns = `id, library_id, space_id, size, crc64, etag, beginning_hash, full_hash, content_type, kind, created_at, used_at`

// scanBlob reads blobColumns, followed by data when withData.
func scanBlob(row interface{ Scan(...any) error }, withData bool) (app.Blob, error) {
	var (
		b             app.Blob
		kind          string
		created, used int64
	)
	dest := []any{&b.ID, &b.LibraryID, &b.SpaceID, &b.Size, &b.CRC64, &b.ETag, &b.BeginningHash, &b.FullHash,
		&b.ContentType, &kind, &created, &used}
	if withData {
		dest = append(dest, &b.Data)
	}
	if err := row.Scan(dest...); err != nil {
		return app.Blob{}, err
	}
	if withData && b.Size == 0 {
		// Drivers may scan an empty value as nil, which would read as "in the blob store"; an
		// empty blob's bytes are known without looking anywhere.
		b.Data = []byte{}
	}
	b.Kind = app.BlobKind(kind)
	b.CreatedAt, b.UsedAt = fromMS(created), fromMS(used)
	return b, nil
}

// TakeBlobByHash implements app.Store.
func (s *SQL) TakeBlobByHash(ctx context.Context, libraryID, spaceID, beginningHash, fullHash string, size int64, now time.Time) (app.Blob, error) {
	var b app.Blob
	err := s.db.InWrite(ctx, func(t *sqldb.Tx) error {
		q := `SELECT ` + blobColumns + ` FROM blobs
			WHERE library_id = ? AND space_id = ? AND beginning_hash = ? AND size = ? AND doomed = 0`
		args := []any{libraryID, spaceID, beginningHash, size}
		if fullHash != "" {
			q += ` AND full_hash = ?`
			args = append(args, fullHash)
		}
		var err error
		b, err = scanBlob(t.QueryRow(ctx, q+` ORDER BY created_at LIMIT 1`, args...), false)
		if errors.Is(err, sql.ErrNoRows) {
			return app.ErrBlobNotFound
		}
		if err != nil || fullHash == "" {
			return wrap("find blob", err)
		}
		// Marking it used keeps garbage collection (which dooms only blobs idle for its grace
		// period) off it. The doomed test is repeated here because on PostgreSQL a collection
		// may doom the blob between the SELECT and this UPDATE, which then waits for it and
		// re-reads the row.
		res, err := t.Exec(ctx, `UPDATE blobs SET used_at = ? WHERE id = ? AND doomed = 0`, ms(now), b.ID)
		if err != nil {
			return wrap("take blob", err)
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return errors.Join(app.ErrBlobNotFound, err)
		}
		b.UsedAt = now
		return nil
	})
	return b, err
}

// GetBlob implements app.Store: the record with its inline bytes, in one statement. Only small
// blobs have them, so reading them along costs little and saves a second query for the callers
// that serve them (downloads, previews).
func (s *SQL) GetBlob(ctx context.Context, id string) (app.Blob, error) {
	return s.getBlob(ctx, id, true)
}

// BlobRecord implements app.Store: GetBlob without the inline bytes.
func (s *SQL) BlobRecord(ctx context.Context, id string) (app.Blob, error) {
	return s.getBlob(ctx, id, false)
}

func (s *SQL) getBlob(ctx context.Context, id string, withData bool) (app.Blob, error) {
	columns := blobColumns
	if withData {
		columns += `, data`
	}
	q := `SELECT ` + columns + ` FROM blobs WHERE id = ?`
	var b app.Blob
	err := s.db.InStatements(ctx, func(t *sqldb.Tx) error {
		var err error
		b, err = scanBlob(t.QueryRow(ctx, q, id), withData)
		if errors.Is(err, sql.ErrNoRows) {
			return app.ErrBlobNotFound
		}
		return wrap("get blob", err)
	})
	return b, err
}

// ExpiredUploads implements app.Store.
func (s *SQL) ExpiredUploads(ctx context.Context, before time.Time, limit int) ([]app.Upload, error) {
	var out []app.Upload
	err := s.db.InRead(ctx, func(t *sqldb.Tx) error {
		rows, err := t.Query(ctx, `SELECT `+uploadColumns+` FROM uploads
			WHERE expires_at < ? ORDER BY expires_at LIMIT ?`,
			ms(before), limit)
		if err != nil {
			return wrap("expired uploads", err)
		}
		defer rows.Close()
		for rows.Next() {
			u, err := scanUpload(rows)
			if err != nil {
				return wrap("expired uploads", err)
			}
			out = append(out, u)
		}
		return wrap("expired uploads", rows.Err())
	})
	return out, err
}

// DeleteUpload implements app.Store.
func (s *SQL) DeleteUpload(ctx context.Context, id string) error {
	return s.db.InWrite(ctx, func(t *sqldb.Tx) error {
		if _, err := t.Exec(ctx, `DELETE FROM parts WHERE upload_id = ?`, id); err != nil {
			return wrap("delete upload", err)
		}
		_, err := t.Exec(ctx, `DELETE FROM uploads WHERE id = ?`, id)
		return wrap("delete upload", err)
	})
}

// IdleBlobs implements app.Store.
func (s *SQL) IdleBlobs(ctx context.Context, usedBefore time.Time, limit int) ([]app.Blob, error) {
	return s.blobs(ctx, `SELECT `+blobColumns+` FROM blobs b
		WHERE b.doomed = 0 AND b.used_at < ?
		  AND NOT EXISTS (SELECT 1 FROM uploads u WHERE u.blob_id = b.id AND u.state IN (?, ?))
		ORDER BY b.used_at LIMIT ?`,
		ms(usedBefore), string(app.StateOpen), string(app.StateReceived), limit)
}

// DoomedBlobs implements app.Store.
func (s *SQL) DoomedBlobs(ctx context.Context, limit int) ([]app.Blob, error) {
	return s.blobs(ctx, `SELECT `+blobColumns+` FROM blobs WHERE doomed = 1 ORDER BY id LIMIT ?`, limit)
}

func (s *SQL) blobs(ctx context.Context, query string, args ...any) ([]app.Blob, error) {
	var out []app.Blob
	err := s.db.InRead(ctx, func(t *sqldb.Tx) error {
		rows, err := t.Query(ctx, query, args...)
		if err != nil {
			return wrap("blobs", err)
		}
		defer rows.Close()
		for rows.Next() {
			b, err := scanBlob(rows, false)
			if err != nil {
				return wrap("blobs", err)
			}
			out = append(out, b)
		}
		return wrap("blobs", rows.Err())
	})
	return out, err
}

// DoomBlob implements app.Store.
func (s *SQL) DoomBlob(ctx context.Context, id string, usedBefore time.Time) (bool, error) {
	var doomed bool
	err := s.db.InWrite(ctx, func(t *sqldb.Tx) error {
		res, err := t.Exec(ctx, `UPDATE blobs SET doomed = 1 WHERE id = ? AND doomed = 0 AND used_at < ?
			AND NOT EXISTS (SELECT 1 FROM uploads u WHERE u.blob_id = blobs.id AND u.state IN (?, ?))`,
			id, ms(usedBefore), string(app.StateOpen), string(app.StateReceived))
		if err != nil {
			return wrap("doom blob", err)
		}
		n, err := res.RowsAffected()
		doomed = n == 1
		return wrap("doom blob", err)
	})
	return doomed, err
}

// DeleteBlob implements app.Store.
func (s *SQL) DeleteBlob(ctx context.Context, id string) error {
	return s.db.InWrite(ctx, func(t *sqldb.Tx) error {
		_, err := t.Exec(ctx, `DELETE FROM blobs WHERE id = ? AND doomed = 1`, id)
		return wrap("delete blob", err)
	})
}

// ReturnFreeSpace implements app.Store.
func (s *SQL) ReturnFreeSpace(ctx context.Context) error { return s.db.ReturnFreePages(ctx) }

// KnownBlobs implements app.Store.
func (s *SQL) KnownBlobs(ctx context.Context, ids []string) (map[string]bool, error) {
	return s.known(ctx, "blobs", ids)
}

// KnownUploads implements app.Store.
func (s *SQL) KnownUploads(ctx context.Context, ids []string) (map[string]bool, error) {
	return s.known(ctx, "uploads", ids)
}

// known answers which ids are rows of table (a constant of this package).
func (s *SQL) known(ctx context.Context, table string, ids []string) (map[string]bool, error) {
	known := make(map[string]bool, len(ids))
	if len(ids) == 0 {
		return known, nil
	}
	err := s.db.InRead(ctx, func(t *sqldb.Tx) error {
		args := make([]any, len(ids))
		for i, id := range ids {
			args[i] = id
		}
		marks := strings.TrimSuffix(strings.Repeat("?, ", len(ids)), ", ")
		rows, err := t.Query(ctx, `SELECT id FROM `+table+` WHERE id IN (`+marks+`)`, args...)
		if err != nil {
			return wrap("known "+table, err)
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				return wrap("known "+table, err)
			}
			known[id] = true
		}
		return wrap("known "+table, rows.Err())
	})
	return known, err
}

// wrap gives a driver error the store's prefix; app sentinels pass through unchanged.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("store: %s: %w", op, err)
}
