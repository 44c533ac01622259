package e2e

import (
	"bytes"
	"net/http"
	"net/url"
	"strconv"
	"testing"
)

// TestInstantUploadStaysInItsSpace: in a multi-tenant library, instant upload (decision 2)
// matches content within the uploader's own space only. A tenant who knows another tenant's
// file by its hashes neither learns that it exists (no 202) nor gets a copy of it (no 200):
// both begins answer a ticket, as for content nobody has. Inside one space instant upload still
// works (docs/security.md, section 2).
func TestInstantUploadStaysInItsSpace(t *testing.T) {
	onEveryEngine(t, func(t *testing.T, s *system) {
		lib := s.createLibrary("tenants", map[string]any{"isFileLibrary": true, "isMultiSpace": true})
		admin := s.mustMint(lib, url.Values{"grant": {"admin"}})
		for _, id := range []string{"tenant-a", "tenant-b"} {
			if r := s.call("POST", "/api/v1/space/"+lib.ID, url.Values{"access_token": {admin}, "space_id": {id}}, nil, nil); r.Status != http.StatusCreated {
				t.Fatalf("create space %s: %d %s", id, r.Status, r.Body)
			}
		}
		tenant := func(space, user string) fileAPI {
			token := s.mustMint(lib, url.Values{"space_id": {space}, "user_id": {user}, "grant": {"upload_file"}})
			return fileAPI{s: s, lib: lib.ID, space: space, token: token, library: lib}
		}
		a, b := tenant("tenant-a", "alice"), tenant("tenant-b", "bob")

		data := randomBytes(t, 1<<20+3)
		a.upload("contract.pdf", data, nil)
		beginning, full := chainedHashes(data)
		size := strconv.Itoa(len(data))

		for _, body := range []map[string]any{
			{"beginningHash": beginning, "size": size},
			{"beginningHash": beginning, "fullHash": full, "size": size},
		} {
			r := b.do("PUT", "stolen.pdf", nil, body)
			if r.Status != http.StatusCreated {
				t.Fatalf("another tenant's begin with %v: %d %s, want 201 (a ticket, as for unknown content)", body, r.Status, r.Body)
			}
		}
		if r := b.do("GET", "stolen.pdf", nil, nil); r.Status != http.StatusNotFound {
			t.Fatalf("the other tenant has a stolen.pdf: %d %s", r.Status, r.Body)
		}

		// The same tenant still uploads instantly.
		if r := a.do("PUT", "copy.pdf", nil, map[string]any{"beginningHash": beginning, "size": size}); r.Status != http.StatusAccepted {
			t.Fatalf("probe in the owner's space: %d %s", r.Status, r.Body)
		}
		if r := a.do("PUT", "copy.pdf", nil, map[string]any{"beginningHash": beginning, "fullHash": full, "size": size}); r.Status != http.StatusOK {
			t.Fatalf("instant upload in the owner's space: %d %s", r.Status, r.Body)
		}
		if got := a.download("copy.pdf"); !bytes.Equal(got, data) {
			t.Fatal("the instant copy differs")
		}
	})
}
