package reqmeta

// ClientAddress is the IP address of the client that reached the public edge (issue 13: rate
// limits per address, docs/shares.md). The gateway sets it on every proxied REST request from the
// connection's remote address (or, behind a trusted proxy, from X-Forwarded-For; docs/security.md),
// overwriting whatever the client sent; the public gRPC servers overwrite it from the peer
// address. A service may therefore trust it as far as it trusts the gateway. Empty means the call
// did not come through the public edge (an internal caller).
const ClientAddress = "x-smh-client-address"

// ShareAccessToken carries a share access token beside the caller's own token: the
// share_access_token query of 13.12's save (decision 14), moved out of the URL by the gateway
// like access_token.
const ShareAccessToken = "x-smh-share-access-token"
