package app

import (
	"context"
	"time"
)

// A token missing from the cache is read from etcd once however many requests present it at the
// same time: a client that fans out requests with a freshly minted token on another replica, or
// every request after a re-sync emptied the cache, would otherwise cost one etcd Get each.
// The read runs detached from the request that started it (pkg/cache.Group), so that request's
// cancellation does not fail the others waiting for the same token; loadTimeout ends a read etcd
// does not answer.

const loadTimeout = 10 * time.Second

// loadShared is load (validate.go) with the concurrent misses of one token sharing a read. A
// caller whose ctx ends answers ctx's error; the read goes on for the others.
func (t *Tokens) loadShared(ctx context.Context, h [32]byte) (*entry, error) {
	return t.loads.Do(ctx, h, func(ctx context.Context) (*entry, error) { return t.load(ctx, h) })
}
