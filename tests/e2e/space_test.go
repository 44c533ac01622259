package e2e

import (
	"net/http"
	"net/url"
	"regexp"
	"testing"
)

var generatedSpaceID = regexp.MustCompile(`^space[0-9a-z]{13}$`)

// Tenant spaces (SMH API section 2) over HTTPS, on every store engine.
func TestSpaces(t *testing.T) { onEveryEngine(t, testSpaces) }

func testSpaces(t *testing.T, s *system) {
	single := s.createLibrary("single", map[string]any{"isFileLibrary": true})
	multi := s.createLibrary("multi", map[string]any{"isMultiSpace": true})
	media := s.createLibrary("media", map[string]any{"isMultiSpace": true})

	admin := s.mustMint(multi, url.Values{"grant": {"admin"}, "user_id": {"boss"}})
	creator := s.mustMint(multi, url.Values{"grant": {"create_space,delete_space"}, "user_id": {"ann"}})
	reader := s.mustMint(multi, url.Values{"user_id": {"rita"}})
	tok := func(t string) url.Values { return url.Values{"access_token": {t}} }
	with := func(q url.Values, kv ...string) url.Values {
		out := url.Values{}
		for k, v := range q {
			out[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			out.Set(kv[i], kv[i+1])
		}
		return out
	}
	base := "/api/v1/space/" + multi.ID

	var generated string
	t.Run("create", func(t *testing.T) {
		r := s.call("POST", base, tok(admin), nil, nil)
		if r.Status != http.StatusCreated {
			t.Fatalf("create: %d %s", r.Status, r.Body)
		}
		generated, _ = r.JSON(t)["spaceId"].(string)
		if !generatedSpaceID.MatchString(generated) {
			t.Fatalf("generated id %q", generated)
		}
		r = s.call("POST", base, with(tok(creator), "space_id", "team-a"), map[string]any{"isPublicRead": true, "spaceTag": "team"}, nil)
		if r.Status != http.StatusCreated || r.JSON(t)["spaceId"] != "team-a" {
			t.Fatalf("custom id: %d %s", r.Status, r.Body)
		}
		expectError(t, s.call("POST", base, with(tok(admin), "space_id", "team-a"), nil, nil), http.StatusConflict, "SpaceAlreadyExists")
		for _, bad := range []string{"x", "-ab", "ab-", "Upper", "has_underscore", "abcdefghijklmnopqrstuvwxyz0123456789"} {
			expectError(t, s.call("POST", base, with(tok(admin), "space_id", bad), nil, nil), http.StatusBadRequest, "SpaceIdInvalid")
		}
		expectError(t, s.call("POST", base, tok(reader), nil, nil), http.StatusForbidden, "NoPermission")
		expectError(t, s.call("POST", base, nil, nil, nil), http.StatusBadRequest, "EmptyAccessToken")
		expectError(t, s.call("POST", base, with(tok(admin), "space_id", "bad-ext"), map[string]any{"allowFileExtname": []string{".txt"}}, nil), http.StatusBadRequest, "ParamInvalid")
		singleAdmin := s.mustMint(single, url.Values{"grant": {"admin"}})
		expectError(t, s.call("POST", "/api/v1/space/"+single.ID, tok(singleAdmin), nil, nil), http.StatusBadRequest, "NotMultiSpaceLibrary")
		// Another library's token on an unknown library is refused as on any library not its
		// own: whether the library exists is not revealed.
		expectError(t, s.call("POST", "/api/v1/space/smh0000000000000", tok(admin), nil, nil), http.StatusForbidden, "InvalidAccessToken")
	})

	t.Run("list, both forms, and count", func(t *testing.T) {
		r := s.call("GET", base, tok(admin), nil, nil)
		var legacy []map[string]any
		if r.Status != http.StatusOK || jsonInto(t, r.Body, &legacy) != 2 {
			t.Fatalf("legacy list: %d %s", r.Status, r.Body)
		}
		// Others see the spaces they created.
		r = s.call("GET", base, tok(creator), nil, nil)
		if jsonInto(t, r.Body, &legacy) != 1 || legacy[0]["spaceId"] != "team-a" || legacy[0]["userId"] != "ann" {
			t.Fatalf("creator's list: %s", r.Body)
		}
		page := s.call("GET", base+"/list", with(tok(admin), "limit", "1"), nil, nil).JSON(t)
		if list, _ := page["list"].([]any); len(list) != 1 || page["marker"] == nil {
			t.Fatalf("first page: %v", page)
		}
		next := s.call("GET", base+"/list", with(tok(admin), "limit", "1", "marker", page["marker"].(string)), nil, nil).JSON(t)
		if list, _ := next["list"].([]any); len(list) != 1 || next["marker"] != nil {
			t.Fatalf("last page: %v", next)
		}
		if total := s.call("GET", base+"/count", tok(admin), nil, nil).JSON(t)["total"]; total != float64(2) {
			t.Fatalf("count %v", total)
		}
		expectError(t, s.call("GET", base+"/list", with(tok(admin), "limit", "1001"), nil, nil), http.StatusBadRequest, "ParamInvalid")
	})

	t.Run("extension", func(t *testing.T) {
		ext := base + "/team-a/extension"
		got := s.call("GET", ext, tok(admin), nil, nil).JSON(t)
		if got["isPublicRead"] != true || got["spaceTag"] != "team" || got["isMultiAlbum"] != false {
			t.Fatalf("extension %v", got)
		}
		r := s.call("POST", ext, tok(admin), map[string]any{"spaceTag": nil, "isPublicRead": false}, nil)
		if r.Status != http.StatusNoContent {
			t.Fatalf("update: %d %s", r.Status, r.Body)
		}
		got = s.call("GET", ext, tok(admin), nil, nil).JSON(t)
		if got["isPublicRead"] != false || got["spaceTag"] != nil {
			t.Fatalf("after update %v", got)
		}
		expectError(t, s.call("POST", ext, tok(admin), map[string]any{"isMultiAlbum": true}, nil), http.StatusBadRequest, "ParamInvalid")
		expectError(t, s.call("POST", ext, tok(reader), map[string]any{"isPublicRead": true}, nil), http.StatusForbidden, "NoPermission")
		expectError(t, s.call("GET", base+"/nope/extension", tok(admin), nil, nil), http.StatusNotFound, "SpaceNotFound")
		// A token for one space does not reach another.
		other := s.mustMint(multi, url.Values{"space_id": {generated}})
		expectError(t, s.call("GET", ext, tok(other), nil, nil), http.StatusForbidden, "AccessTokenNotMatchSpace")
		if r := s.call("GET", base+"/"+generated+"/extension", tok(other), nil, nil); r.Status != http.StatusOK {
			t.Fatalf("own space: %d %s", r.Status, r.Body)
		}
	})

	t.Run("size, counts and usage", func(t *testing.T) {
		if got := s.call("GET", base+"/team-a/size", tok(admin), nil, nil).JSON(t)["size"]; got != "0" {
			t.Fatalf("size %v", got)
		}
		fc := s.call("GET", base+"/team-a/file-count", tok(admin), nil, nil).JSON(t)
		for _, k := range []string{"fileNum", "dirNum", "recycledFileNum", "recycledDirNum", "historyFileNum"} {
			if fc[k] != "0" {
				t.Fatalf("file-count %v", fc)
			}
		}
		usage := s.call("GET", "/api/v1/usage/"+multi.ID, tok(admin), nil, nil).JSON(t)
		if usage["totalFileSize"] != "0" || usage["capacity"] != nil {
			t.Fatalf("library usage %v", usage)
		}
		if _, ok := usage["capacity"]; !ok {
			t.Fatalf("capacity missing (should be null): %v", usage)
		}
		var per []map[string]any
		r := s.call("GET", "/api/v1/usage/"+multi.ID+"/team-a,"+generated, tok(admin), nil, nil)
		if jsonInto(t, r.Body, &per) != 2 || per[0]["spaceId"] != "team-a" || per[0]["size"] != "0" || per[0]["fileSize"] != "0" {
			t.Fatalf("spaces usage: %s", r.Body)
		}
		expectError(t, s.call("GET", "/api/v1/usage/"+multi.ID, tok(reader), nil, nil), http.StatusForbidden, "NoPermission")
	})

	t.Run("single-tenant libraries have the space -", func(t *testing.T) {
		st := s.mustMint(single, nil)
		var list []map[string]any
		r := s.call("GET", "/api/v1/space/"+single.ID, tok(st), nil, nil)
		if jsonInto(t, r.Body, &list) != 1 || list[0]["spaceId"] != "-" {
			t.Fatalf("spaces of a single-tenant library: %d %s", r.Status, r.Body)
		}
		if r := s.call("GET", "/api/v1/space/"+single.ID+"/-/extension", tok(st), nil, nil); r.Status != http.StatusOK {
			t.Fatalf("extension of -: %d %s", r.Status, r.Body)
		}
		expectError(t, s.call("DELETE", "/api/v1/space/"+single.ID+"/-", tok(s.mustMint(single, url.Values{"grant": {"admin"}})), nil, nil), http.StatusBadRequest, "NotMultiSpaceLibrary")
	})

	t.Run("public read", func(t *testing.T) {
		open := s.createLibrary("open", map[string]any{"isPublicRead": true})
		if r := s.call("GET", "/api/v1/space/"+open.ID+"/-/extension", nil, nil, nil); r.Status != http.StatusOK {
			t.Fatalf("public read without a token: %d %s", r.Status, r.Body)
		}
		expectError(t, s.call("GET", "/api/v1/space/"+single.ID+"/-/extension", nil, nil, nil), http.StatusBadRequest, "EmptyAccessToken")
		// A public-read space of a multi-tenant library answers reads without a token.
		mAdmin := s.mustMint(media, url.Values{"grant": {"admin"}})
		r := s.call("POST", "/api/v1/space/"+media.ID, with(tok(mAdmin), "space_id", "gallery"), map[string]any{"isPublicRead": true}, nil)
		if r.Status != http.StatusCreated {
			t.Fatalf("create public space: %d %s", r.Status, r.Body)
		}
		if r := s.call("GET", "/api/v1/space/"+media.ID+"/gallery/size", nil, nil, nil); r.Status != http.StatusOK {
			t.Fatalf("public space read: %d %s", r.Status, r.Body)
		}
		// Writes always need a token.
		expectError(t, s.call("POST", "/api/v1/space/"+media.ID+"/gallery/extension", nil, map[string]any{"isPublicRead": false}, nil), http.StatusBadRequest, "EmptyAccessToken")
	})

	t.Run("delete", func(t *testing.T) {
		expectError(t, s.call("DELETE", base+"/team-a", tok(reader), nil, nil), http.StatusForbidden, "NoPermission")
		r := s.call("DELETE", base+"/team-a", tok(creator), nil, nil)
		if r.Status != http.StatusNoContent || len(r.Body) != 0 {
			t.Fatalf("delete: %d %s", r.Status, r.Body)
		}
		expectError(t, s.call("DELETE", base+"/team-a", tok(creator), nil, nil), http.StatusNotFound, "SpaceNotFound")
		expectError(t, s.call("GET", base+"/team-a/extension", tok(admin), nil, nil), http.StatusNotFound, "SpaceNotFound")
	})

	t.Run("deleting the library purges its spaces", func(t *testing.T) {
		if r := s.admin("DELETE", "/admin/v1/libraries/"+multi.ID, nil); r.Status != http.StatusNoContent {
			t.Fatalf("delete library: %d %s", r.Status, r.Body)
		}
		// Depending on whether the namespace still caches the library's facts (for up to 2 s), the
		// purged token or the missing library answers first; either way nothing is reachable.
		r := s.call("GET", base+"/count", tok(admin), nil, nil)
		code, _ := r.JSON(t)["code"].(string)
		if !(r.Status == http.StatusNotFound && code == "LibraryNotFound") && !(r.Status == http.StatusForbidden && code == "InvalidAccessToken") {
			t.Fatalf("after library delete: %d %s", r.Status, r.Body)
		}
	})
}
