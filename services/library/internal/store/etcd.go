// Package store keeps libraries in etcd (docs/architecture.md: the control plane's store).
//
// Keys, all under /smh/library/:
//
//	libraries/<id>        JSON record of the library
//	secrets/<id>          the sealed secret (AES-256-GCM, see app.secretBox)
//	pending-purges/<id>   a deleted library whose tokens are not yet purged (app.Delete)
//
// The secret has a key of its own so that reading or updating a library never touches it. Its
// mod revision is the secret's generation (app.SealedSecret): etcd revisions only grow, and only a
// reset rewrites the key.
package store

import (
	"context"
	"fmt"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/opensmh/opensmh/services/library/internal/app"
)

const (
	libraryPrefix = "/smh/library/libraries/"
	secretPrefix  = "/smh/library/secrets/"
	purgePrefix   = "/smh/library/pending-purges/"
)

func libraryKey(id string) string { return libraryPrefix + id }
func secretKey(id string) string  { return secretPrefix + id }
func purgeKey(id string) string   { return purgePrefix + id }

// Etcd is the etcd implementation of app.Store.
type Etcd struct {
	cli *clientv3.Client
}

var _ app.Store = (*Etcd)(nil)

// New answers a store over cli.
func New(cli *clientv3.Client) *Etcd {
	return &Etcd{cli: cli}
}

// Create writes the library and its secret in one transaction, only if the id is unused (also
// by a deleted library whose purge is pending).
func (s *Etcd) Create(ctx context.Context, lib app.Library, sealedSecret []byte) error {
	val, err := encodeLibrary(lib)
	if err != nil {
		return err
	}
	resp, err := s.cli.Txn(ctx).
		If(
			clientv3.Compare(clientv3.CreateRevision(libraryKey(lib.ID)), "=", 0),
			clientv3.Compare(clientv3.CreateRevision(purgeKey(lib.ID)), "=", 0),
		).
		Then(
			clientv3.OpPut(libraryKey(lib.ID), string(val)),
			clientv3.OpPut(secretKey(lib.ID), string(sealedSecret)),
		).
		Commit()
	if err != nil {
		return fmt.Errorf("etcd: %w", err)
	}
	if !resp.Succeeded {
		return app.ErrLibraryExists
	}
	return nil
}

// Get reads one library.
func (s *Etcd) Get(ctx context.Context, id string) (app.Library, error) {
	resp, err := s.cli.Get(ctx, libraryKey(id))
	if err != nil {
		return app.Library{}, fmt.Errorf("etcd: %w", err)
	}
	if len(resp.Kvs) == 0 {
		return app.Library{}, app.ErrLibraryNotFound
	}
	return decodeLibrary(resp.Kvs[0].Value)
}

// List orders libraries by their key's create revision, which is the order in which they were
// created, newest first. It reads the keys of the pages up to the one asked for (a small read: no
// values), then the values of that page at the same revision, so a page is one consistent view.
// The number of libraries is small (they are made by an operator), so skipping by key count is
// cheap.
func (s *Etcd) List(ctx context.Context, page, size int) ([]app.Library, int, error) {
	keys, err := s.cli.Get(ctx, libraryPrefix,
		clientv3.WithPrefix(),
		clientv3.WithKeysOnly(),
		clientv3.WithSort(clientv3.SortByCreateRevision, clientv3.SortDescend),
		clientv3.WithLimit(int64(page)*int64(size)),
	)
	if err != nil {
		return nil, 0, fmt.Errorf("etcd: %w", err)
	}
	total := int(keys.Count)
	skip := int64(page-1) * int64(size)
	if skip >= int64(len(keys.Kvs)) {
		return []app.Library{}, total, nil
	}
	ops := make([]clientv3.Op, 0, size)
	for _, kv := range keys.Kvs[skip:] {
		ops = append(ops, clientv3.OpGet(string(kv.Key), clientv3.WithRev(keys.Header.Revision)))
	}
	resp, err := s.cli.Txn(ctx).Then(ops...).Commit()
	if err != nil {
		return nil, 0, fmt.Errorf("etcd: %w", err)
	}
	libs := make([]app.Library, 0, len(ops))
	for _, r := range resp.Responses {
		for _, kv := range r.GetResponseRange().GetKvs() {
			lib, err := decodeLibrary(kv.Value)
			if err != nil {
				return nil, 0, err
			}
			libs = append(libs, lib)
		}
	}
	return libs, total, nil
}

// Update is a compare-and-swap loop on the record's mod revision: a write lands only if the
// record is unchanged since it was read; otherwise the change is applied again to a fresh read.
// The loop ends with success, an error from change or etcd, or the caller's context.
func (s *Etcd) Update(ctx context.Context, id string, change func(app.Library) (app.Library, error)) (app.Library, error) {
	key := libraryKey(id)
	for {
		if err := ctx.Err(); err != nil {
			return app.Library{}, err
		}
		resp, err := s.cli.Get(ctx, key)
		if err != nil {
			return app.Library{}, fmt.Errorf("etcd: %w", err)
		}
		if len(resp.Kvs) == 0 {
			return app.Library{}, app.ErrLibraryNotFound
		}
		kv := resp.Kvs[0]
		cur, err := decodeLibrary(kv.Value)
		if err != nil {
			return app.Library{}, err
		}
		next, err := change(cur)
		if err != nil {
			return app.Library{}, err
		}
		// The id and creation time are the record's identity; change cannot move them.
		next.ID, next.CreatedAt = cur.ID, cur.CreatedAt
		val, err := encodeLibrary(next)
		if err != nil {
			return app.Library{}, err
		}
		txn, err := s.cli.Txn(ctx).
			If(clientv3.Compare(clientv3.ModRevision(key), "=", kv.ModRevision)).
			Then(clientv3.OpPut(key, string(val))).
			Commit()
		if err != nil {
			return app.Library{}, fmt.Errorf("etcd: %w", err)
		}
		if txn.Succeeded {
			return next, nil
		}
	}
}

// WithSecret reads the library and its sealed secret in one transaction, so both belong to the
// same revision.
func (s *Etcd) WithSecret(ctx context.Context, id string) (app.Library, app.SealedSecret, error) {
	resp, err := s.cli.Txn(ctx).
		Then(clientv3.OpGet(libraryKey(id)), clientv3.OpGet(secretKey(id))).
		Commit()
	if err != nil {
		return app.Library{}, app.SealedSecret{}, fmt.Errorf("etcd: %w", err)
	}
	libKVs := resp.Responses[0].GetResponseRange().GetKvs()
	secretKVs := resp.Responses[1].GetResponseRange().GetKvs()
	if len(libKVs) == 0 {
		return app.Library{}, app.SealedSecret{}, app.ErrLibraryNotFound
	}
	if len(secretKVs) == 0 {
		return app.Library{}, app.SealedSecret{}, fmt.Errorf("library %s has no stored secret", id)
	}
	lib, err := decodeLibrary(libKVs[0].Value)
	if err != nil {
		return app.Library{}, app.SealedSecret{}, err
	}
	return lib, app.SealedSecret{Sealed: secretKVs[0].Value, Generation: secretKVs[0].ModRevision}, nil
}

// ReplaceSecret overwrites the sealed secret in one put, guarded by the library's existence, so a
// reset cannot resurrect the secret of a library deleted meanwhile. The put's revision is the new
// secret's mod revision, hence its generation.
func (s *Etcd) ReplaceSecret(ctx context.Context, id string, sealedSecret []byte) (int64, error) {
	resp, err := s.cli.Txn(ctx).
		If(clientv3.Compare(clientv3.CreateRevision(libraryKey(id)), ">", 0)).
		Then(clientv3.OpPut(secretKey(id), string(sealedSecret))).
		Commit()
	if err != nil {
		return 0, fmt.Errorf("etcd: %w", err)
	}
	if !resp.Succeeded {
		return 0, app.ErrLibraryNotFound
	}
	return resp.Header.Revision, nil
}

// Remove deletes the library and its secret and records the pending token purge, all in one
// transaction. When the library is already gone, the else branch tells whether a purge is still
// pending (a delete to resume) or not (not found).
func (s *Etcd) Remove(ctx context.Context, id string) error {
	resp, err := s.cli.Txn(ctx).
		If(clientv3.Compare(clientv3.CreateRevision(libraryKey(id)), ">", 0)).
		Then(
			clientv3.OpDelete(libraryKey(id)),
			clientv3.OpDelete(secretKey(id)),
			clientv3.OpPut(purgeKey(id), id),
		).
		Else(clientv3.OpGet(purgeKey(id), clientv3.WithCountOnly())).
		Commit()
	if err != nil {
		return fmt.Errorf("etcd: %w", err)
	}
	if resp.Succeeded {
		return nil
	}
	if resp.Responses[0].GetResponseRange().GetCount() > 0 {
		return nil
	}
	return app.ErrLibraryNotFound
}

// PurgeDone forgets a pending purge.
func (s *Etcd) PurgeDone(ctx context.Context, id string) error {
	if _, err := s.cli.Delete(ctx, purgeKey(id)); err != nil {
		return fmt.Errorf("etcd: %w", err)
	}
	return nil
}
