package gateway

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/opensmh/opensmh/services/gateway/internal/dispatch"
)

// The early refusal takes a write's library from its row, and leaves token management to the
// token service, which authenticates by the library secret or the token in the path (1.1-1.4).
func TestWriteWithBody(t *testing.T) {
	table := dispatch.Compile(dispatch.Routes)
	tests := []struct {
		name, method, target string
		wantLibrary          string
		wantOK               bool
	}{
		{"a space write", "POST", "/api/v1/space/smh0000000000001", "smh0000000000001", true},
		{"a file copy", "PUT", "/api/v1/file/smh0000000000001/sp/a.txt", "smh0000000000001", true},
		{"token renewal", "POST", "/api/v1/token/smh0000000000001/tok", "", false},
		{"token minting", "POST", "/api/v1/token?library_id=smh0000000000001", "", false},
		{"a read", "GET", "/api/v1/space/smh0000000000001/list", "", false},
		{"no row", "POST", "/api/v1/nothing/smh0000000000001", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, tt.target, strings.NewReader(`{"copyFrom":"b.txt"}`))
			lib, ok := writeWithBody(table, r)
			if lib != tt.wantLibrary || ok != tt.wantOK {
				t.Fatalf("writeWithBody = %q, %v; want %q, %v", lib, ok, tt.wantLibrary, tt.wantOK)
			}
		})
	}
}
