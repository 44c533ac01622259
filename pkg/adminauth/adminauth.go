// Package adminauth checks the operator key on admin and internal RPCs.
package adminauth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"

	"google.golang.org/grpc/metadata"

	"github.com/opensmh/opensmh/pkg/reqmeta"
	"github.com/opensmh/opensmh/pkg/smherr"
)

// ErrInvalidAdminKey answers a missing or wrong operator key (docs/architecture.md, "The admin API").
var ErrInvalidAdminKey = smherr.New(http.StatusUnauthorized, "InvalidAdminKey", "missing or wrong admin key")

// Checker holds the operator key's digest and compares presented keys in constant time.
type Checker struct {
	digest [32]byte
}

// NewChecker remembers the digest of key, not the key.
func NewChecker(key string) *Checker {
	return &Checker{digest: sha256.Sum256([]byte(key))}
}

// Check accepts the request when its "authorization: Bearer <key>" metadata carries the key.
// Comparing digests keeps the time independent of where the strings differ and of their length.
func (c *Checker) Check(ctx context.Context) error {
	presented, ok := strings.CutPrefix(reqmeta.Incoming(ctx, reqmeta.Authorization), "Bearer ")
	if !ok || presented == "" {
		return ErrInvalidAdminKey
	}
	d := sha256.Sum256([]byte(presented))
	if subtle.ConstantTimeCompare(d[:], c.digest[:]) != 1 {
		return ErrInvalidAdminKey
	}
	return nil
}

// Outgoing returns ctx with the operator key attached, for internal calls between services.
func Outgoing(ctx context.Context, key string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, reqmeta.Authorization, "Bearer "+key)
}
