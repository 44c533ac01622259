package gateway

import (
	"slices"

	"github.com/opensmh/opensmh/services/gateway/internal/dispatch"
)

// Route is a read-only copy of one row of the SMH dispatcher table, for tests outside this
// module that must walk every public route (the tenant-isolation matrix of docs/security.md).
type Route struct {
	Method, Pattern string
	Flags           []string
	BodyKey         string
	// RPC is the gRPC full name of the method the row reaches, "/package.Service/Method".
	RPC string
}

// Routes answers copies of the dispatcher table's rows in matching order. The table itself
// stays in the dispatch package: changing a copy changes nothing.
func Routes() []Route {
	out := make([]Route, 0, len(dispatch.Routes))
	for _, r := range dispatch.Routes {
		out = append(out, Route{
			Method: r.Method, Pattern: r.Pattern, Flags: slices.Clone(r.Flags),
			BodyKey: r.BodyKey, RPC: r.RPC,
		})
	}
	return out
}
