package dispatch

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
)

// unreadable is a body that fails the test when read.
type unreadable struct{ t *testing.T }

func (u unreadable) Read([]byte) (int, error) {
	u.t.Error("Address read the body")
	return 0, errors.New("read")
}

// TestAddressReadsNoBody: Address names the row's pattern and parameters of a body-chosen route
// without reading the body, the same ones Match finds by the body.
func TestAddressReadsNoBody(t *testing.T) {
	table := Compile(Routes)
	tests := []struct{ method, target string }{
		{http.MethodPut, "/api/v1/file/smh0000000000001/sp/a/b.txt?access_token=t"},
		{http.MethodPut, "/api/v1/directory/smh0000000000001/sp/d"},
		{http.MethodPost, "/api/v1/file/smh0000000000001/sp/key?confirm"},
	}
	for _, tt := range tests {
		r := httptest.NewRequest(tt.method, tt.target, unreadable{t})
		a, ok := table.Address(r)
		if !ok {
			t.Fatalf("%s %s: no row", tt.method, tt.target)
		}
		m, _ := table.Match(httptest.NewRequest(tt.method, tt.target, nil))
		if a.Route.Pattern != m.Route.Pattern || a.Params["LibraryId"] != "smh0000000000001" || a.Params["SpaceId"] != "sp" {
			t.Errorf("%s %s: Address %s %v, Match %s", tt.method, tt.target, a.Route.Pattern, a.Params, m.Route.Pattern)
		}
	}
	if _, ok := table.Address(httptest.NewRequest(http.MethodPut, "/api/v1/nothing/x", unreadable{t})); ok {
		t.Error("Address matched an unknown path")
	}
}
