package e2e

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/opensmh/opensmh/pkg/authz"
)

// TestShareSaveEdge drives 13.12's route through the gateway on both engines: the body is checked
// first (400 with the SMH body), an unknown share is 404 ShareNotFound, and nothing is saved. The
// full save (bytes, blobs, conflicts, quota, refusals) is covered by namespace's
// sharesave_test.go on both engines until the share routes of 13.1 reach this branch.
func TestShareSaveEdge(t *testing.T) {
	onEveryEngine(t, func(t *testing.T, s *system) {
		lib := s.createLibrary("save-edge", map[string]any{"isFileLibrary": true})
		tok := s.mustMint(lib, url.Values{"grant": {authz.UploadFile}, "user_id": {"bob"}})
		path := "/api/v1/share/file/no-such-share"
		body := map[string]any{"targetSpaceId": "-", "targetPath": "", "sourceInodesPath": "", "inodes": []string{"1"}}
		expectError(t, s.call("POST", path, url.Values{"save": {""}, "access_token": {tok}}, body, nil), http.StatusNotFound, "ShareNotFound")
		for _, bad := range []any{
			map[string]any{"targetSpaceId": "-", "sourceInodesPath": "", "inodes": []string{}},
			map[string]any{"targetSpaceId": "-", "sourceInodesPath": "x", "inodes": []string{"1"}},
			map[string]any{"sourceInodesPath": "", "inodes": []string{"1"}},
			[]any{1},
		} {
			r := s.call("POST", path, url.Values{"save": {""}, "access_token": {tok}, "share_access_token": {"acctk-not-real"}}, bad, nil)
			if r.Status != http.StatusBadRequest {
				t.Fatalf("body %v: %d %s", bad, r.Status, r.Body)
			}
			if j := r.JSON(t); j["code"] == "" || j["requestId"] == "" {
				t.Fatalf("body %v: not an SMH error body: %s", bad, r.Body)
			}
		}
		// The library is the share's, so the share is looked up before the token is judged: a
		// forged token meets the same 404 (a share's existence is no secret from whoever holds
		// its code; 13.8 tells it to anyone). On a real share it is 403 (namespace tests).
		expectError(t, s.call("POST", path, url.Values{"save": {""}, "access_token": {"acctk-forged"}}, body, nil), http.StatusNotFound, "ShareNotFound")
	})
}
