package dispatch

// Routes is the SMH dispatcher table: the one place where the public SMH business API is listed
// (architecture.md, "The public edge"). SMH picks an operation by method, path shape, flag query
// keys (present with or without a value) and, for PUT on a file, by a key of the JSON body;
// grpc-gateway routes by method and path only, so each row names the internal grpc-gateway route
// (proto/http.yaml) of exactly one RPC. Within one method and path shape, rows with more flags
// come first, so the most specific row wins.
var Routes = []Route{
	// smh-api.md 1.1: generate an access token (GET, or POST with an optional JSON body).
	{Method: "GET", Pattern: "/api/v1/token", Target: "/_smh/token/create", RPC: "smh.token.v1.TokenService/CreateToken"},
	{Method: "POST", Pattern: "/api/v1/token", Target: "/_smh/token/create", RPC: "smh.token.v1.TokenService/CreateToken"},
	// 1.2: renew.
	{Method: "POST", Pattern: "/api/v1/token/{LibraryId}/{AccessToken}", Target: "/_smh/token/renew/{LibraryId}/{AccessToken}", RPC: "smh.token.v1.TokenService/RenewToken"},
	// 1.3: delete one token.
	{Method: "DELETE", Pattern: "/api/v1/token/{LibraryId}/{AccessToken}", Target: "/_smh/token/delete/{LibraryId}/{AccessToken}", RPC: "smh.token.v1.TokenService/DeleteToken"},
	// 1.4: delete a user's tokens.
	{Method: "DELETE", Pattern: "/api/v1/token/{LibraryId}", Target: "/_smh/token/delete-user/{LibraryId}", RPC: "smh.token.v1.TokenService/DeleteUserTokens"},
}
