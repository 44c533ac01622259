package authz

import (
	"context"

	libraryv1 "github.com/opensmh/opensmh/gen/go/smh/library/v1"
	"github.com/opensmh/opensmh/pkg/adminauth"
	"github.com/opensmh/opensmh/pkg/smherr"
)

// LibrarySecrets verifies library secrets through the library service (decision 4: a business
// request may carry library_secret instead of a token). It is not cached: a reset secret must be
// refused at once, and the library service answers from one etcd read. The RPC is internal: the
// call carries the operator key adminKey.
func LibrarySecrets(client libraryv1.LibraryServiceClient, adminKey string) SecretVerifier {
	return librarySecrets{client: client, adminKey: adminKey}
}

type librarySecrets struct {
	client   libraryv1.LibraryServiceClient
	adminKey string
}

func (l librarySecrets) VerifyLibrarySecret(ctx context.Context, libraryID, secret string) error {
	_, err := l.client.VerifyLibrarySecret(adminauth.Outgoing(ctx, l.adminKey), &libraryv1.VerifyLibrarySecretRequest{LibraryId: libraryID, LibrarySecret: secret})
	if err != nil {
		return smherr.As(err) // the library service's SMH answer (WrongLibraryIdOrSecret, ...)
	}
	return nil
}
