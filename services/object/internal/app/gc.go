package app

import (
	"context"
	"errors"
	"strings"
	"time"
)

// Garbage collection (docs/architecture.md, "Background work" and "Failure rules"). Every step is
// idempotent and resumable: a crash at any point leaves state that the next run finishes.
//
// Why a blob is never collected while it may become a file: a blob is a candidate only when no
// open or received upload holds it and it was last used (created, or taken by an instant upload)
// more than the grace period ago; the namespace then says no entry references it; dooming it
// re-checks the first two conditions in one transaction, and an instant upload never takes a
// doomed blob. A file entry can only come from an upload that holds the blob or from an instant
// upload that took it, or from copying an entry that references it — none of which can happen
// to a doomed blob.

// gcBatch bounds each step's work per run.
const gcBatch = 200

// GCReport counts what one run removed.
type GCReport struct {
	ExpiredUploads int
	Blobs          int
	OrphanBlobs    int
	OrphanParts    int
	TempFiles      int
}

// tempCleaner is a blob store that leaves temporary files behind when it crashes (local disk).
type tempCleaner interface {
	CleanTemp(olderThan time.Duration) (int, error)
}

// CollectGarbage runs every cleanup step once.
func (o *Object) CollectGarbage(ctx context.Context) (GCReport, error) {
	var (
		r    GCReport
		errs []error
	)
	now := o.clock.Now()
	n, err := o.expireUploads(ctx, now)
	r.ExpiredUploads += n
	errs = append(errs, err)
	n, err = o.collectBlobs(ctx, now)
	r.Blobs += n
	errs = append(errs, err)
	if r.ExpiredUploads+r.Blobs > 0 {
		// Inline blobs' bytes went with their records, sessions with theirs (docs/smallfiles.md).
		errs = append(errs, o.store.ReturnFreeSpace(ctx))
	}
	r.OrphanBlobs, r.OrphanParts, err = o.sweepOrphans(ctx, now)
	errs = append(errs, err)
	if tc, ok := o.blobs.Store.(tempCleaner); ok {
		n, err := tc.CleanTemp(o.gcGrace)
		r.TempFiles += n
		errs = append(errs, err)
	}
	return r, errors.Join(errs...)
}

// expireUploads removes sessions past their expiry with their parts; a received blob they held
// becomes idle and is collected once unreferenced. Confirmed sessions go too (their blob
// belongs to the file now): after that, a repeated confirm answers 404 UploadNotFound.
func (o *Object) expireUploads(ctx context.Context, now time.Time) (int, error) {
	ups, err := o.store.ExpiredUploads(ctx, now, gcBatch)
	if err != nil {
		return 0, err
	}
	for _, u := range ups {
		o.dropParts(ctx, u.ID)
		if err := o.store.DeleteUpload(ctx, u.ID); err != nil {
			return 0, err
		}
	}
	return len(ups), nil
}

// collectBlobs removes blobs that nothing references: first those a crashed run doomed, then
// idle ones the namespace no longer knows.
func (o *Object) collectBlobs(ctx context.Context, now time.Time) (int, error) {
	removed := 0
	doomed, err := o.store.DoomedBlobs(ctx, gcBatch)
	if err != nil {
		return 0, err
	}
	for _, b := range doomed {
		if err := o.removeBlob(ctx, b.ID); err != nil {
			return removed, err
		}
		removed++
	}
	cutoff := now.Add(-o.gcGrace)
	idle, err := o.store.IdleBlobs(ctx, cutoff, gcBatch)
	if err != nil || len(idle) == 0 {
		return removed, err
	}
	ids := make([]string, len(idle))
	for i, b := range idle {
		ids[i] = b.ID
	}
	referenced, err := o.ns.ReferencedBlobs(ctx, ids)
	if err != nil {
		return removed, err
	}
	for _, id := range ids {
		if referenced[id] {
			continue
		}
		ok, err := o.store.DoomBlob(ctx, id, cutoff)
		if err != nil {
			return removed, err
		}
		if !ok {
			continue
		}
		if err := o.removeBlob(ctx, id); err != nil {
			return removed, err
		}
		removed++
	}
	return removed, nil
}

// removeBlob deletes a doomed blob's bytes and thumbnails, then its record.
func (o *Object) removeBlob(ctx context.Context, id string) error {
	if err := o.blobs.Delete(ctx, blobKey(id)); err != nil {
		return err
	}
	if err := o.blobs.List(ctx, "thumbs/"+id[:2]+"/"+id+"/", func(i blobInfo) error {
		return o.blobs.Delete(ctx, i.Key)
	}); err != nil {
		return err
	}
	return o.store.DeleteBlob(ctx, id)
}

// sweepOrphans removes bytes with no record: a blob written before a crash kept its record from
// being saved, or parts of a session already gone. Only bytes older than the grace period are
// touched, so an upload in flight keeps its bytes.
func (o *Object) sweepOrphans(ctx context.Context, now time.Time) (blobs, parts int, err error) {
	cutoff := now.Add(-o.gcGrace)
	blobs, err = o.sweep(ctx, "blobs/", cutoff, func(key string) string {
		return key[strings.LastIndexByte(key, '/')+1:]
	}, o.store.KnownBlobs)
	if err != nil {
		return blobs, 0, err
	}
	parts, err = o.sweep(ctx, "parts/", cutoff, func(key string) string {
		id, _, _ := strings.Cut(strings.TrimPrefix(key, "parts/"), "/")
		return id
	}, o.store.KnownUploads)
	return blobs, parts, err
}

func (o *Object) sweep(ctx context.Context, prefix string, cutoff time.Time, idOf func(string) string,
	known func(context.Context, []string) (map[string]bool, error)) (int, error) {
	removed := 0
	var batch []blobInfo
	flush := func() error {
		ids := make([]string, len(batch))
		for i, b := range batch {
			ids[i] = idOf(b.Key)
		}
		k, err := known(ctx, ids)
		if err != nil {
			return err
		}
		for i, b := range batch {
			if !k[ids[i]] {
				if err := o.blobs.Delete(ctx, b.Key); err != nil {
					return err
				}
				removed++
			}
		}
		batch = batch[:0]
		return nil
	}
	err := o.blobs.List(ctx, prefix, func(i blobInfo) error {
		if !i.ModTime.Before(cutoff) {
			return nil
		}
		batch = append(batch, i)
		if len(batch) == gcBatch {
			return flush()
		}
		return nil
	})
	if err == nil && len(batch) > 0 {
		err = flush()
	}
	return removed, err
}
