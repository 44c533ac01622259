// Package store keeps authtoken's records in etcd (docs/architecture.md: the control plane).
//
// Keys (authtoken owns everything under /smh/authtoken/):
//
//	/smh/authtoken/tokens/<sha256 hex>                     → JSON app.Record
//	/smh/authtoken/users/<lib b64>/u<user b64>/<sha256 hex> → JSON {clientId, sessionId}
//	/smh/authtoken/closed/<lib b64>                        → "" (a deleted library: no new tokens)
//	/smh/authtoken/secret-floors/<lib b64>                 → decimal secret generation: no new
//	                                                         tokens of an older secret
//
// The users index makes DeleteUserTokens read one (library, user) range rather than the whole
// library, and PurgeLibraryTokens one library range. Segments are base64url (no "/"), so opaque
// ids can never make one prefix match another; the "u" keeps an empty user id a non-empty segment.
package store

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/opensmh/opensmh/services/authtoken/internal/app"
)

const (
	root         = "/smh/authtoken/"
	tokensPrefix = root + "tokens/"
	usersPrefix  = root + "users/"
	closedPrefix = root + "closed/"
	floorPrefix  = root + "secret-floors/"
	// maxTxnOps stays under etcd's default --max-txn-ops (128).
	maxTxnOps = 128
	pageSize  = 1000
)

// Etcd implements app.Store.
type Etcd struct {
	cli *clientv3.Client
}

var _ app.Store = (*Etcd)(nil)

// NewEtcd answers a store on cli.
func NewEtcd(cli *clientv3.Client) *Etcd { return &Etcd{cli: cli} }

type indexValue struct {
	ClientID         string `json:"clientId,omitempty"`
	SessionID        string `json:"sessionId,omitempty"`
	SecretGeneration int64  `json:"secretGeneration,omitempty"`
}

func seg(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func tokenKey(hash string) string { return tokensPrefix + hash }

func closedKey(libraryID string) string { return closedPrefix + seg(libraryID) }

func floorKey(libraryID string) string { return floorPrefix + seg(libraryID) }

func libraryPrefix(libraryID string) string { return usersPrefix + seg(libraryID) + "/" }

func userPrefix(libraryID, userID string) string {
	return libraryPrefix(libraryID) + "u" + seg(userID) + "/"
}

func indexKey(libraryID, userID, hash string) string {
	return userPrefix(libraryID, userID) + hash
}

// Create implements app.Store. The transaction assumes the library's secret floor is still the
// one last seen (none, at first: most libraries never have one, so a mint costs one round trip);
// when the floor moved, the else branch reads it, and the token is stored only if its secret
// generation is not below it.
func (s *Etcd) Create(ctx context.Context, hash string, rec app.Record) (int64, error) {
	val, err := json.Marshal(rec)
	if err != nil {
		return 0, err
	}
	idx, err := json.Marshal(indexValue{ClientID: rec.ClientID, SessionID: rec.SessionID, SecretGeneration: rec.SecretGeneration})
	if err != nil {
		return 0, err
	}
	k, closed, floor := tokenKey(hash), closedKey(rec.LibraryID), floorKey(rec.LibraryID)
	var floorRev int64 // mod revision of the floor as last read; 0 = no floor
	for range 3 {
		resp, err := s.cli.Txn(ctx).
			If(
				clientv3.Compare(clientv3.CreateRevision(k), "=", 0),
				clientv3.Compare(clientv3.CreateRevision(closed), "=", 0),
				clientv3.Compare(clientv3.ModRevision(floor), "=", floorRev),
			).
			Then(clientv3.OpPut(k, string(val)), clientv3.OpPut(indexKey(rec.LibraryID, rec.UserID, hash), string(idx))).
			Else(clientv3.OpGet(closed, clientv3.WithCountOnly()), clientv3.OpGet(floor)).
			Commit()
		if err != nil {
			return 0, fmt.Errorf("create token: %w", err)
		}
		if resp.Succeeded {
			return resp.Header.Revision, nil
		}
		if resp.Responses[0].GetResponseRange().GetCount() > 0 {
			return 0, app.ErrLibraryClosed
		}
		kvs := resp.Responses[1].GetResponseRange().GetKvs()
		if len(kvs) == 0 || kvs[0].ModRevision == floorRev {
			// 256 random bits collided: practically impossible, and never worth overwriting.
			return 0, fmt.Errorf("create token: %w", app.ErrConflict)
		}
		lowest, err := decodeFloor(kvs[0].Value)
		if err != nil {
			return 0, err
		}
		if rec.SecretGeneration < lowest {
			return 0, app.ErrSecretReplaced
		}
		floorRev = kvs[0].ModRevision
	}
	return 0, fmt.Errorf("create token: secret floor kept moving: %w", app.ErrConflict)
}

// RaiseSecretFloor implements app.Store with compare-and-swap, so two resets racing each other
// leave the higher floor.
func (s *Etcd) RaiseSecretFloor(ctx context.Context, libraryID string, floor int64) error {
	key := floorKey(libraryID)
	for {
		resp, err := s.cli.Get(ctx, key)
		if err != nil {
			return fmt.Errorf("raise secret floor: %w", err)
		}
		var cur, rev int64
		if len(resp.Kvs) > 0 {
			if cur, err = decodeFloor(resp.Kvs[0].Value); err != nil {
				return err
			}
			rev = resp.Kvs[0].ModRevision
		}
		if cur >= floor {
			return nil
		}
		txn, err := s.cli.Txn(ctx).
			If(clientv3.Compare(clientv3.ModRevision(key), "=", rev)).
			Then(clientv3.OpPut(key, strconv.FormatInt(floor, 10))).
			Commit()
		if err != nil {
			return fmt.Errorf("raise secret floor: %w", err)
		}
		if txn.Succeeded {
			return nil
		}
	}
}

func decodeFloor(b []byte) (int64, error) {
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("decode secret floor: %w", err)
	}
	return n, nil
}

// CloseLibrary implements app.Store. Library ids are random and never reused, so the marker
// stays; it costs one small key per deleted library.
func (s *Etcd) CloseLibrary(ctx context.Context, libraryID string) error {
	if _, err := s.cli.Put(ctx, closedKey(libraryID), ""); err != nil {
		return fmt.Errorf("close library: %w", err)
	}
	return nil
}

// Get implements app.Store.
func (s *Etcd) Get(ctx context.Context, hash string) (app.StoredToken, error) {
	resp, err := s.cli.Get(ctx, tokenKey(hash))
	if err != nil {
		return app.StoredToken{}, fmt.Errorf("get token: %w", err)
	}
	if len(resp.Kvs) == 0 {
		return app.StoredToken{}, app.ErrNotFound
	}
	return decodeToken(resp.Kvs[0])
}

func decodeToken(kv *mvccpb.KeyValue) (app.StoredToken, error) {
	var rec app.Record
	if err := json.Unmarshal(kv.Value, &rec); err != nil {
		return app.StoredToken{}, fmt.Errorf("decode token record: %w", err)
	}
	return app.StoredToken{
		Hash:        strings.TrimPrefix(string(kv.Key), tokensPrefix),
		Record:      rec,
		ModRevision: kv.ModRevision,
	}, nil
}

// Scan implements app.Store. Each page is its own read at the current revision: a sweep over
// millions of records outlives any revision etcd keeps uncompacted, and the caller's
// compare-and-swap on each record makes a snapshot unnecessary.
func (s *Etcd) Scan(ctx context.Context, after string, limit int) ([]app.StoredToken, string, error) {
	from := tokensPrefix
	if after != "" {
		from = tokenKey(after) + "\x00"
	}
	resp, err := s.cli.Get(ctx, from, clientv3.WithRange(clientv3.GetPrefixRangeEnd(tokensPrefix)), clientv3.WithLimit(int64(limit)))
	if err != nil {
		return nil, "", fmt.Errorf("scan tokens: %w", err)
	}
	page := make([]app.StoredToken, 0, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		if st, err := decodeToken(kv); err == nil {
			page = append(page, st)
		}
	}
	if !resp.More || len(resp.Kvs) == 0 {
		return page, "", nil
	}
	return page, strings.TrimPrefix(string(resp.Kvs[len(resp.Kvs)-1].Key), tokensPrefix), nil
}

// SaveRenewal implements app.Store.
func (s *Etcd) SaveRenewal(ctx context.Context, hash string, rec app.Record, modRevision int64) (int64, error) {
	val, err := json.Marshal(rec)
	if err != nil {
		return 0, err
	}
	k := tokenKey(hash)
	resp, err := s.cli.Txn(ctx).
		If(clientv3.Compare(clientv3.ModRevision(k), "=", modRevision)).
		Then(clientv3.OpPut(k, string(val))).
		Commit()
	if err != nil {
		return 0, fmt.Errorf("save renewal: %w", err)
	}
	if !resp.Succeeded {
		return 0, app.ErrConflict
	}
	return resp.Header.Revision, nil
}

// Delete implements app.Store.
func (s *Etcd) Delete(ctx context.Context, hash string, rec app.Record, modRevision int64) (int64, error) {
	k := tokenKey(hash)
	resp, err := s.cli.Txn(ctx).
		If(clientv3.Compare(clientv3.ModRevision(k), "=", modRevision)).
		Then(clientv3.OpDelete(k), clientv3.OpDelete(indexKey(rec.LibraryID, rec.UserID, hash))).
		Commit()
	if err != nil {
		return 0, fmt.Errorf("delete token: %w", err)
	}
	if !resp.Succeeded {
		return 0, app.ErrConflict
	}
	return resp.Header.Revision, nil
}

// ListUserTokens implements app.Store.
func (s *Etcd) ListUserTokens(ctx context.Context, libraryID, userID string) ([]app.IndexEntry, error) {
	var out []app.IndexEntry
	err := s.walkIndex(ctx, libraryID, userPrefix(libraryID, userID), true, func(page []app.IndexEntry) error {
		out = append(out, page...)
		return nil
	})
	return out, err
}

// LibraryTokenPages implements app.Store.
func (s *Etcd) LibraryTokenPages(ctx context.Context, libraryID string, page func([]app.IndexEntry) error) error {
	return s.walkIndex(ctx, libraryID, libraryPrefix(libraryID), false, page)
}

// walkIndex reads an index range in pages, so a large library never makes one huge response nor
// one huge list in memory. With snapshot, every page is read at the first page's revision (one
// consistent view); without it, each page at the current revision, so that a walk that deletes
// as it goes can outlast etcd's compaction of the first page's revision.
func (s *Etcd) walkIndex(ctx context.Context, libraryID, prefix string, snapshot bool, page func([]app.IndexEntry) error) error {
	libPrefix := libraryPrefix(libraryID)
	end := clientv3.GetPrefixRangeEnd(prefix)
	key := prefix
	var rev int64
	for {
		opts := []clientv3.OpOption{clientv3.WithRange(end), clientv3.WithLimit(pageSize)}
		if rev != 0 {
			opts = append(opts, clientv3.WithRev(rev))
		}
		resp, err := s.cli.Get(ctx, key, opts...)
		if err != nil {
			return fmt.Errorf("list tokens: %w", err)
		}
		if snapshot {
			rev = resp.Header.Revision
		}
		entries := make([]app.IndexEntry, 0, len(resp.Kvs))
		for _, kv := range resp.Kvs {
			rest := strings.TrimPrefix(string(kv.Key), libPrefix)
			userSeg, hash, ok := strings.Cut(rest, "/")
			if !ok || !strings.HasPrefix(userSeg, "u") {
				continue
			}
			user, err := base64.RawURLEncoding.DecodeString(userSeg[1:])
			if err != nil {
				continue
			}
			var v indexValue
			_ = json.Unmarshal(kv.Value, &v) // a damaged value still names the token to delete
			entries = append(entries, app.IndexEntry{
				LibraryID: libraryID, UserID: string(user), Hash: hash,
				ClientID: v.ClientID, SessionID: v.SessionID, SecretGeneration: v.SecretGeneration,
			})
		}
		if len(entries) > 0 {
			if err := page(entries); err != nil {
				return err
			}
		}
		if !resp.More || len(resp.Kvs) == 0 {
			return nil
		}
		key = string(resp.Kvs[len(resp.Kvs)-1].Key) + "\x00"
	}
}

// DeleteTokens implements app.Store.
func (s *Etcd) DeleteTokens(ctx context.Context, entries []app.IndexEntry) (int64, error) {
	var rev int64
	for start := 0; start < len(entries); start += maxTxnOps / 2 {
		batch := entries[start:min(start+maxTxnOps/2, len(entries))]
		ops := make([]clientv3.Op, 0, 2*len(batch))
		for _, e := range batch {
			ops = append(ops, clientv3.OpDelete(tokenKey(e.Hash)), clientv3.OpDelete(indexKey(e.LibraryID, e.UserID, e.Hash)))
		}
		resp, err := s.cli.Txn(ctx).Then(ops...).Commit()
		if err != nil {
			return rev, fmt.Errorf("delete tokens: %w", err)
		}
		rev = resp.Header.Revision
	}
	return rev, nil
}

// Revision implements app.Store.
func (s *Etcd) Revision(ctx context.Context) (int64, error) {
	resp, err := s.cli.Get(ctx, tokensPrefix, clientv3.WithPrefix(), clientv3.WithCountOnly())
	if err != nil {
		return 0, fmt.Errorf("etcd revision: %w", err)
	}
	return resp.Header.Revision, nil
}

// Watch implements app.Store. WithRequireLeader makes a member cut off from its cluster end the
// watch instead of going silent, and progress notifications let the caller resume close to the
// head after a failure.
func (s *Etcd) Watch(ctx context.Context, from int64, apply func([]app.TokenEvent)) (int64, error) {
	wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
	defer cancel()
	last := from - 1
	wch := s.cli.Watch(wctx, tokensPrefix, clientv3.WithPrefix(), clientv3.WithRev(from), clientv3.WithProgressNotify())
	for resp := range wch {
		if resp.CompactRevision != 0 || errors.Is(resp.Err(), rpctypes.ErrCompacted) {
			return last, app.ErrCompacted
		}
		if err := resp.Err(); err != nil {
			return last, fmt.Errorf("watch tokens: %w", err)
		}
		events := make([]app.TokenEvent, 0, len(resp.Events))
		for _, ev := range resp.Events {
			te := app.TokenEvent{
				Hash:        strings.TrimPrefix(string(ev.Kv.Key), tokensPrefix),
				ModRevision: ev.Kv.ModRevision,
				Deleted:     ev.Type == clientv3.EventTypeDelete,
			}
			if !te.Deleted && json.Unmarshal(ev.Kv.Value, &te.Record) != nil {
				continue
			}
			events = append(events, te)
		}
		if len(events) > 0 {
			apply(events)
		}
		// Resume points: a progress notification vouches for every revision up to its header; an
		// event batch only for the events it carries.
		if resp.IsProgressNotify() {
			last = max(last, resp.Header.Revision)
		}
		for _, ev := range resp.Events {
			last = max(last, ev.Kv.ModRevision)
		}
	}
	if err := ctx.Err(); err != nil {
		return last, err
	}
	return last, errors.New("watch tokens: channel closed")
}
