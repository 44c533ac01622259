package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"testing"
)

// Quotas over HTTPS (SMH API section 6, decisions 10, 13, 16, 27; docs/lifecycle.md "Quota").

// quotaAPI addresses the quota routes of one library with one token.
type quotaAPI struct {
	s     *system
	lib   string
	token string
}

func (a quotaAPI) create(body any) response {
	a.s.t.Helper()
	return a.s.call("POST", "/api/v1/quota/"+a.lib, q(a.token), body, nil)
}

func (a quotaAPI) get(x string) response {
	a.s.t.Helper()
	return a.s.call("GET", "/api/v1/quota/"+a.lib+"/"+url.PathEscape(x), q(a.token), nil, nil)
}

func (a quotaAPI) getSpace(space string) response {
	a.s.t.Helper()
	return a.s.call("GET", "/api/v1/space-quota/"+a.lib+"/"+url.PathEscape(space), q(a.token), nil, nil)
}

func (a quotaAPI) update(x string, body any) response {
	a.s.t.Helper()
	return a.s.call("PUT", "/api/v1/quota/"+a.lib+"/"+url.PathEscape(x), q(a.token), body, nil)
}

// mustCreate creates a quota and answers its id, checking that quotaId is a JSON number.
func (a quotaAPI) mustCreate(t *testing.T, body any) int {
	t.Helper()
	r := a.create(body)
	if r.Status != http.StatusCreated {
		t.Fatalf("create quota %v: %d %s", body, r.Status, r.Body)
	}
	var out map[string]json.RawMessage
	if err := json.Unmarshal(r.Body, &out); err != nil {
		t.Fatal(err)
	}
	id, err := strconv.Atoi(string(out["quotaId"]))
	if err != nil || id <= 0 {
		t.Fatalf("quotaId is not a positive JSON number: %s", r.Body)
	}
	return id
}

// expectJSON checks an answer's status and its body as exact JSON.
func expectJSON(t *testing.T, r response, status int, want string) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
	}
	var got, exp any
	if err := json.Unmarshal(r.Body, &got); err != nil {
		t.Fatalf("%v: %s", err, r.Body)
	}
	if err := json.Unmarshal([]byte(want), &exp); err != nil {
		t.Fatal(err)
	}
	g, _ := json.Marshal(got)
	e, _ := json.Marshal(exp)
	if !bytes.Equal(g, e) {
		t.Fatalf("body %s, want %s", g, e)
	}
}

// multiTenantFiles makes a multi-tenant file library with the given spaces and an admin token
// of every space.
func multiTenantFiles(t *testing.T, s *system, ext map[string]any, spaces ...string) (library, string) {
	t.Helper()
	if ext == nil {
		ext = map[string]any{}
	}
	ext["isMultiSpace"], ext["isFileLibrary"] = true, true
	lib := s.createLibrary("quota", ext)
	admin := s.mustMint(lib, q("", "grant", "admin", "user_id", "alice"))
	for _, sp := range spaces {
		if r := s.call("POST", "/api/v1/space/"+lib.ID, q(admin, "space_id", sp), nil, nil); r.Status != http.StatusCreated {
			t.Fatalf("create space %s: %d %s", sp, r.Status, r.Body)
		}
	}
	return lib, admin
}

func TestQuotaOperations(t *testing.T) { onEveryEngine(t, testQuotaOperations) }

// testQuotaOperations: the six operations, their refusals, and decision 13's space-or-id path.
func testQuotaOperations(t *testing.T, s *system) {
	lib, admin := multiTenantFiles(t, s, nil, "alpha", "beta", "gamma")
	a := quotaAPI{s: s, lib: lib.ID, token: admin}

	id := a.mustCreate(t, map[string]any{"spaces": []string{"alpha", "beta"}, "capacity": "1000", "removeWhenExceed": false, "removeAfterDays": 0})
	ids := strconv.Itoa(id)
	expectJSON(t, a.get("alpha"), http.StatusOK, `{"id":`+ids+`,"capacity":"1000"}`)
	expectJSON(t, a.getSpace("beta"), http.StatusOK, `{"id":`+ids+`,"capacity":"1000"}`)
	expectJSON(t, a.get(ids), http.StatusOK, `{"spaces":["alpha","beta"],"capacity":"1000"}`)

	// Refusals, none of which changes anything.
	expectError(t, a.create(map[string]any{"spaces": []string{"gamma", "beta"}, "capacity": 5}), http.StatusConflict, "DuplicateQuota")
	expectError(t, a.create(map[string]any{"spaces": []string{"gamma"}}), http.StatusBadRequest, "QuotaCapacityRequired")
	expectError(t, a.create(map[string]any{"spaces": []string{}, "capacity": 5}), http.StatusBadRequest, "QuotaSpacesInvalid")
	expectError(t, a.create(map[string]any{"capacity": 5}), http.StatusBadRequest, "QuotaSpacesInvalid")
	expectError(t, a.create(map[string]any{"spaces": []string{"gamma", "nowhere"}, "capacity": 5}), http.StatusBadRequest, "QuotaSpacesInvalid")
	expectError(t, a.create(map[string]any{"spaces": []string{"gamma", "gamma"}, "capacity": 5}), http.StatusBadRequest, "QuotaSpacesInvalid")
	expectError(t, a.create(map[string]any{"spaces": []any{"gamma", 7}, "capacity": 5}), http.StatusBadRequest, "QuotaSpacesInvalid")
	for _, bad := range []any{"abc", -1, 1.5, "-3", true, "1e3"} {
		expectError(t, a.create(map[string]any{"spaces": []string{"gamma"}, "capacity": bad}), http.StatusBadRequest, "ParamInvalid")
	}
	expectError(t, a.create(map[string]any{"spaces": []string{"gamma"}, "capacity": 5, "removeAfterDays": -1}), http.StatusBadRequest, "ParamInvalid")
	expectError(t, a.get("gamma"), http.StatusNotFound, "NoQuota")
	expectError(t, a.getSpace("gamma"), http.StatusNotFound, "NoQuota")
	expectError(t, a.getSpace("nowhere"), http.StatusNotFound, "SpaceNotFound")
	expectError(t, a.get("999999"), http.StatusNotFound, "QuotaNotFound")
	expectError(t, a.get("nowhere"), http.StatusNotFound, "QuotaNotFound")
	expectError(t, a.get("0"+ids), http.StatusNotFound, "QuotaNotFound")

	// 6.3 by space: capacity required, spaces refused; 6.6 by id: spaces replaced whole.
	if r := a.update("alpha", map[string]any{"capacity": 2000}); r.Status != http.StatusNoContent {
		t.Fatalf("update by space: %d %s", r.Status, r.Body)
	}
	expectJSON(t, a.get(ids), http.StatusOK, `{"spaces":["alpha","beta"],"capacity":"2000"}`)
	expectError(t, a.update("alpha", map[string]any{"removeNewest": true}), http.StatusBadRequest, "QuotaCapacityRequired")
	expectError(t, a.update("alpha", map[string]any{"capacity": 1, "spaces": []string{"alpha"}}), http.StatusBadRequest, "QuotaSpacesInvalid")
	expectError(t, a.update("gamma", map[string]any{"capacity": 1}), http.StatusNotFound, "NoQuota")
	if r := a.update(ids, map[string]any{"spaces": []string{"alpha"}}); r.Status != http.StatusNoContent {
		t.Fatalf("update by id: %d %s", r.Status, r.Body)
	}
	expectJSON(t, a.get(ids), http.StatusOK, `{"spaces":["alpha"],"capacity":"2000"}`)
	expectError(t, a.get("beta"), http.StatusNotFound, "NoQuota")
	expectError(t, a.update(ids, map[string]any{"spaces": []string{}}), http.StatusBadRequest, "QuotaSpacesInvalid")
	expectError(t, a.update("999999", map[string]any{"capacity": 1}), http.StatusNotFound, "QuotaNotFound")
	other := a.mustCreate(t, map[string]any{"spaces": []string{"gamma"}, "capacity": 10})
	expectError(t, a.update(ids, map[string]any{"spaces": []string{"alpha", "gamma"}}), http.StatusConflict, "DuplicateQuota")
	expectJSON(t, a.get(strconv.Itoa(other)), http.StatusOK, `{"spaces":["gamma"],"capacity":"10"}`)

	// Decision 13: an all-digit custom space id that equals a quota id names the space. Quota
	// ids are made until one has two digits (space ids are 2-32 characters).
	last := other
	for i := 0; last < 10; i++ {
		sp := fmt.Sprintf("filler-%d", i)
		if r := s.call("POST", "/api/v1/space/"+lib.ID, q(admin, "space_id", sp), nil, nil); r.Status != http.StatusCreated {
			t.Fatalf("create space: %d %s", r.Status, r.Body)
		}
		last = a.mustCreate(t, map[string]any{"spaces": []string{sp}, "capacity": 1})
	}
	digits := strconv.Itoa(last)
	expectJSON(t, a.get(digits), http.StatusOK, fmt.Sprintf(`{"spaces":["filler-%d"],"capacity":"1"}`, last-other-1))
	if r := s.call("POST", "/api/v1/space/"+lib.ID, q(admin, "space_id", digits), nil, nil); r.Status != http.StatusCreated {
		t.Fatalf("create space %s: %d %s", digits, r.Status, r.Body)
	}
	expectError(t, a.get(digits), http.StatusNotFound, "NoQuota") // the space, which has none
	mine := a.mustCreate(t, map[string]any{"spaces": []string{digits}, "capacity": 77})
	expectJSON(t, a.get(digits), http.StatusOK, fmt.Sprintf(`{"id":%d,"capacity":"77"}`, mine))
	if r := a.update(digits, map[string]any{"capacity": "78"}); r.Status != http.StatusNoContent {
		t.Fatalf("update the digit space: %d %s", r.Status, r.Body)
	}
	expectJSON(t, a.get(strconv.Itoa(mine)), http.StatusOK, fmt.Sprintf(`{"spaces":[%q],"capacity":"78"}`, digits))
	expectError(t, a.get(strconv.Itoa(last)+"00"), http.StatusNotFound, "QuotaNotFound")

	// A capacity beyond 2^53 travels as a string, exactly.
	if r := a.update("alpha", map[string]any{"capacity": "9223372036854775807"}); r.Status != http.StatusNoContent {
		t.Fatalf("largest capacity: %d %s", r.Status, r.Body)
	}
	expectJSON(t, a.get(ids), http.StatusOK, `{"spaces":["alpha"],"capacity":"9223372036854775807"}`)

	// Admin only; a token minted for some spaces reaches only quotas within them.
	uploader := quotaAPI{s: s, lib: lib.ID, token: s.mustMint(lib, q("", "grant", "upload_file", "space_id", "alpha", "user_id", "alice"))}
	expectError(t, uploader.get("alpha"), http.StatusForbidden, "NoPermission")
	expectError(t, uploader.create(map[string]any{"spaces": []string{"alpha"}, "capacity": 1}), http.StatusForbidden, "NoPermission")
	gammaAdmin := quotaAPI{s: s, lib: lib.ID, token: s.mustMint(lib, q("", "grant", "admin", "space_id", "gamma", "user_id", "alice"))}
	expectJSON(t, gammaAdmin.get("gamma"), http.StatusOK, fmt.Sprintf(`{"id":%d,"capacity":"10"}`, other))
	expectJSON(t, gammaAdmin.get(strconv.Itoa(other)), http.StatusOK, `{"spaces":["gamma"],"capacity":"10"}`)
	for _, x := range []string{"alpha", ids, "999999", "nowhere"} {
		expectError(t, gammaAdmin.get(x), http.StatusForbidden, "AccessTokenNotMatchSpace")
	}
	expectError(t, gammaAdmin.update(ids, map[string]any{"capacity": 1}), http.StatusForbidden, "AccessTokenNotMatchSpace")
	expectError(t, gammaAdmin.create(map[string]any{"spaces": []string{"beta"}, "capacity": 1}), http.StatusForbidden, "AccessTokenNotMatchSpace")
	expectJSON(t, a.get(ids), http.StatusOK, `{"spaces":["alpha"],"capacity":"9223372036854775807"}`)
	expectError(t, a.get("beta"), http.StatusNotFound, "NoQuota")

	// Deleting a space takes it out of its quota; a quota left without spaces goes.
	if r := s.call("DELETE", "/api/v1/space/"+lib.ID+"/gamma", q(admin, "force", "1"), nil, nil); r.Status != http.StatusNoContent {
		t.Fatalf("delete space: %d %s", r.Status, r.Body)
	}
	expectError(t, a.get(strconv.Itoa(other)), http.StatusNotFound, "QuotaNotFound")
}

func TestQuotaSingleTenant(t *testing.T) { onEveryEngine(t, testQuotaSingleTenant) }

// testQuotaSingleTenant: decision 27 (spaces omitted or ["-"]) and denyOnQuotaLessThanUsage.
func testQuotaSingleTenant(t *testing.T, s *system) {
	f := fileLibrary(t, s, map[string]any{"denyOnQuotaLessThanUsage": true})
	a := quotaAPI{s: s, lib: f.lib, token: f.token}
	f.upload("a.bin", bytes.Repeat([]byte("a"), 100), nil)

	expectError(t, a.create(map[string]any{"spaces": []string{"other"}, "capacity": 500}), http.StatusBadRequest, "QuotaSpacesInvalid")
	expectError(t, a.create(map[string]any{"capacity": 99}), http.StatusBadRequest, "QuotaCapacityLessThanSize")
	expectError(t, a.get("-"), http.StatusNotFound, "NoQuota")
	id := a.mustCreate(t, map[string]any{"capacity": 100})
	expectJSON(t, a.get("-"), http.StatusOK, fmt.Sprintf(`{"id":%d,"capacity":"100"}`, id))
	expectJSON(t, a.getSpace("-"), http.StatusOK, fmt.Sprintf(`{"id":%d,"capacity":"100"}`, id))
	expectJSON(t, a.get(strconv.Itoa(id)), http.StatusOK, `{"spaces":["-"],"capacity":"100"}`)
	expectError(t, a.create(map[string]any{"spaces": []string{"-"}, "capacity": 500}), http.StatusConflict, "DuplicateQuota")
	expectError(t, a.update("-", map[string]any{"capacity": 50}), http.StatusBadRequest, "QuotaCapacityLessThanSize")
	expectJSON(t, a.get("-"), http.StatusOK, fmt.Sprintf(`{"id":%d,"capacity":"100"}`, id))
	if r := a.update(strconv.Itoa(id), map[string]any{"spaces": []string{"-"}, "capacity": 150}); r.Status != http.StatusNoContent {
		t.Fatalf("update by id: %d %s", r.Status, r.Body)
	}
	expectJSON(t, a.get("-"), http.StatusOK, fmt.Sprintf(`{"id":%d,"capacity":"150"}`, id))
}

func TestQuotaEnforcement(t *testing.T) { onEveryEngine(t, testQuotaEnforcement) }

// testQuotaEnforcement: begin refuses a declared filesize over the remaining space before any
// ticket; confirm refuses real bytes over it (declared small, sent big); a copy is refused; the
// usage views show the quota (decision 10). Refusals change nothing.
func testQuotaEnforcement(t *testing.T, s *system) {
	lib, admin := multiTenantFiles(t, s, nil, "alpha", "free")
	a := quotaAPI{s: s, lib: lib.ID, token: admin}
	a.mustCreate(t, map[string]any{"spaces": []string{"alpha"}, "capacity": 1000})
	f := fileAPI{s: s, lib: lib.ID, space: "alpha", token: admin, library: lib}
	f.upload("first.bin", bytes.Repeat([]byte("x"), 600), nil)

	size := func() string {
		r := s.call("GET", "/api/v1/space/"+lib.ID+"/alpha/size", q(admin), nil, nil)
		if r.Status != http.StatusOK {
			t.Fatalf("size: %d %s", r.Status, r.Body)
		}
		return fmt.Sprint(r.JSON(t)["size"])
	}

	// Begin: all three kinds, refused before a ticket.
	expectError(t, f.do("PUT", "big.bin", q("", "filesize", "401"), nil), http.StatusBadRequest, "QuotaLimitReached")
	expectError(t, f.do("POST", "big.bin", q("", "multipart", "", "filesize", "401"), nil), http.StatusBadRequest, "QuotaLimitReached")
	expectError(t, f.do("POST", "big.bin", q("", "filesize", "401"), nil), http.StatusBadRequest, "QuotaLimitReached")
	f.begin("fits.bin", q("", "filesize", "400"), nil)

	// Confirm: declared 10 bytes, sent 500.
	tk := f.begin("liar.bin", q("", "filesize", "10"), nil)
	data := bytes.Repeat([]byte("y"), 500)
	if r := f.send(tk, "", data); r.Status != http.StatusOK {
		t.Fatalf("PUT bytes: %d %s", r.Status, r.Body)
	}
	expectError(t, f.confirm(tk.ConfirmKey, nil, map[string]any{"crc64": crcOf(data)}), http.StatusBadRequest, "QuotaLimitReached")
	if st := f.status("HEAD", "liar.bin"); st != http.StatusNotFound {
		t.Fatalf("a refused confirm left the file: HEAD %d", st)
	}

	// Copy: 600 more bytes do not fit.
	expectError(t, f.do("PUT", "copy.bin", nil, map[string]any{"copyFrom": "first.bin"}), http.StatusBadRequest, "QuotaLimitReached")
	if st := f.status("HEAD", "copy.bin"); st != http.StatusNotFound {
		t.Fatalf("a refused copy left the file: HEAD %d", st)
	}
	if got := size(); got != "600" {
		t.Fatalf("size after refusals %s, want 600", got)
	}

	// Usage views (2.7-2.9, decision 10).
	expectJSON(t, s.call("GET", "/api/v1/usage/"+lib.ID+"/alpha,free", q(admin), nil, nil), http.StatusOK,
		`[{"spaceId":"alpha","capacity":"1000","availableSpace":"400","size":"600","fileSize":"600"},
		  {"spaceId":"free","capacity":null,"availableSpace":null,"size":"0","fileSize":"0"}]`)
	expectJSON(t, s.call("GET", "/api/v1/usage/"+lib.ID, q(admin), nil, nil), http.StatusOK,
		`{"capacity":null,"availableSpace":null,"totalAllocatedSpaceQuota":"1000","totalFileSize":"600"}`)

	// The library's own cap (enableQuota + libraryQuota) covers every space.
	capped, cappedAdmin := multiTenantFiles(t, s, map[string]any{"enableQuota": true, "libraryQuota": 700}, "one", "two")
	g := fileAPI{s: s, lib: capped.ID, space: "one", token: cappedAdmin, library: capped}
	g.upload("a.bin", bytes.Repeat([]byte("a"), 500), nil)
	h := fileAPI{s: s, lib: capped.ID, space: "two", token: cappedAdmin, library: capped}
	expectError(t, h.do("PUT", "b.bin", q("", "filesize", "201"), nil), http.StatusBadRequest, "QuotaLimitReached")
	h.upload("b.bin", bytes.Repeat([]byte("b"), 200), nil)
	expectJSON(t, s.call("GET", "/api/v1/usage/"+capped.ID, q(cappedAdmin), nil, nil), http.StatusOK,
		`{"capacity":"700","availableSpace":"0","totalAllocatedSpaceQuota":"0","totalFileSize":"700"}`)
}

func TestQuotaConcurrentUploads(t *testing.T) { onEveryEngine(t, testQuotaConcurrentUploads) }

// testQuotaConcurrentUploads: uploads race their confirms into two spaces under one quota that
// fits exactly K of them. Every begin passes (nothing is committed yet); exactly K confirms land
// and the others answer 400 QuotaLimitReached: the quota is never exceeded, not even by one
// in-flight file, and no upload that fits is refused.
func testQuotaConcurrentUploads(t *testing.T, s *system) {
	const (
		n    = 12
		fit  = 5
		size = 256
	)
	lib, admin := multiTenantFiles(t, s, nil, "left", "right")
	a := quotaAPI{s: s, lib: lib.ID, token: admin}
	a.mustCreate(t, map[string]any{"spaces": []string{"left", "right"}, "capacity": fit * size})
	type upload struct {
		f    fileAPI
		tk   ticket
		data []byte
	}
	uploads := make([]upload, n)
	for i := range uploads {
		space := []string{"left", "right"}[i%2]
		f := fileAPI{s: s, lib: lib.ID, space: space, token: admin, library: lib}
		data := bytes.Repeat([]byte{byte('a' + i)}, size)
		tk := f.begin(fmt.Sprintf("f%d.bin", i), q("", "filesize", strconv.Itoa(size)), nil)
		if r := f.send(tk, "", data); r.Status != http.StatusOK {
			t.Fatalf("PUT bytes: %d %s", r.Status, r.Body)
		}
		uploads[i] = upload{f, tk, data}
	}
	var (
		wg              sync.WaitGroup
		mu              sync.Mutex
		landed, refused int
	)
	start := make(chan struct{})
	for _, u := range uploads {
		wg.Go(func() {
			<-start
			r, err := s.tryCall("POST", u.f.url(u.tk.ConfirmKey), u.f.query(q("", "confirm", "")), map[string]any{"crc64": crcOf(u.data)}, nil)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				t.Errorf("confirm: %v", err)
			case r.Status == http.StatusOK:
				landed++
			case r.Status == http.StatusBadRequest && bytes.Contains(r.Body, []byte(`"QuotaLimitReached"`)):
				refused++
			default:
				t.Errorf("confirm: %d %s", r.Status, r.Body)
			}
		})
	}
	close(start)
	wg.Wait()
	if landed != fit || refused != n-fit {
		t.Fatalf("%d confirms landed, %d refused; want %d and %d", landed, refused, fit, n-fit)
	}
	r := s.call("GET", "/api/v1/usage/"+lib.ID+"/left,right", q(admin), nil, nil)
	var usage []struct{ Size, AvailableSpace, Capacity string }
	if err := json.Unmarshal(r.Body, &usage); err != nil || len(usage) != 2 {
		t.Fatalf("usage: %d %s", r.Status, r.Body)
	}
	total := 0
	for _, u := range usage {
		n, _ := strconv.Atoi(u.Size)
		total += n
		if u.AvailableSpace != "0" || u.Capacity != strconv.Itoa(fit*size) {
			t.Fatalf("usage %s: want a full quota", r.Body)
		}
	}
	if total != fit*size {
		t.Fatalf("the spaces use %d bytes, want %d", total, fit*size)
	}
}

func TestQuotaRemovalJob(t *testing.T) { onEveryEngine(t, testQuotaRemovalJob) }

// testQuotaRemovalJob: a quota with removeWhenExceed (removeAfterDays 0) set below the usage is
// noted by one round of the cleanup job and made to fit by the next: the oldest file goes for
// good, the newer one stays (docs/lifecycle.md "Quota removal").
func testQuotaRemovalJob(t *testing.T, s *system) {
	lib, admin := multiTenantFiles(t, s, nil, "alpha")
	f := fileAPI{s: s, lib: lib.ID, space: "alpha", token: admin, library: lib}
	f.upload("old.bin", bytes.Repeat([]byte("o"), 600), nil)
	f.upload("new.bin", bytes.Repeat([]byte("n"), 300), nil)
	inodeOf := func(path string) string {
		t.Helper()
		info := s.call("GET", "/api/v1/directory/"+lib.ID+"/alpha/"+path, q(admin, "info", "", "with_inode", "1"), nil, nil).JSON(t)
		in, _ := info["inode"].(string)
		if in == "" {
			t.Fatalf("no inode for %s: %v", path, info)
		}
		return in
	}
	oldInode, newInode := inodeOf("old.bin"), inodeOf("new.bin")
	a := quotaAPI{s: s, lib: lib.ID, token: admin}
	a.mustCreate(t, map[string]any{"spaces": []string{"alpha"}, "capacity": 500, "removeWhenExceed": true, "removeAfterDays": 0})
	s.collect() // notes the quota over its capacity
	if st := f.status("HEAD", "old.bin"); st != http.StatusOK {
		t.Fatalf("removed before the quota was noted over: HEAD %d", st)
	}
	s.collect() // removeAfterDays 0 later: the oldest file goes
	if st := f.status("HEAD", "old.bin"); st != http.StatusNotFound {
		t.Fatalf("the oldest file of an over-quota space stayed: HEAD %d", st)
	}
	if st := f.status("HEAD", "new.bin"); st != http.StatusOK {
		t.Fatalf("a file the space had room for went: HEAD %d", st)
	}
	expectJSON(t, s.call("GET", "/api/v1/usage/"+lib.ID+"/alpha", q(admin), nil, nil), http.StatusOK,
		`[{"spaceId":"alpha","capacity":"500","availableSpace":"200","size":"300","fileSize":"300"}]`)

	// The deletion check (3.18, docs/changefeed.md) tells a removal by the quota from a user's
	// delete; a live file has no deletion.
	check := func(inode string) response {
		return s.call("GET", "/api/v1/file-deletion-check/"+lib.ID+"/alpha/"+inode, q(admin), nil, nil)
	}
	expectError(t, check(newInode), http.StatusNotFound, "FileNotFound")
	if r := check(oldInode); r.Status != http.StatusOK || r.JSON(t)["reason"] != "RemovedByQuota" || r.JSON(t)["deletedAt"] == nil ||
		r.JSON(t)["quotaCleanupRecordRetentionDays"] == nil {
		t.Fatalf("deletion check of the removed file: %d %s", r.Status, r.Body)
	}
	if r := f.do("DELETE", "new.bin", nil, nil); r.Status/100 != 2 {
		t.Fatalf("delete new.bin: %d %s", r.Status, r.Body)
	}
	if r := check(newInode); r.Status != http.StatusOK || r.JSON(t)["reason"] != "Unknown" {
		t.Fatalf("deletion check of a user's delete: %d %s", r.Status, r.Body)
	}
}
