package e2e

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"testing"
	"time"
)

// The change feed and the deletion check over real HTTPS (SMH API 3.18,
// docs/changefeed.md): cursor, events in commit order with their fields and extraInfo, paging,
// bad cursors and limits, expiry after the retention window, checkFileDeletion.

func TestChangeFeed(t *testing.T) {
	onEveryEngine(t, testChangeFeed)
}

// feedAPI addresses one space's change feed.
type feedAPI struct {
	s          *system
	lib, space string
	token      string
}

func (a feedAPI) cursor(t *testing.T) string {
	t.Helper()
	r := a.s.call("GET", "/api/v1/fs-delta/"+a.lib+"/"+a.space+"/cursor", q(a.token), nil, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("cursor: %d %s", r.Status, r.Body)
	}
	c, _ := r.JSON(t)["cursor"].(string)
	if c == "" {
		t.Fatalf("cursor answer %s", r.Body)
	}
	return c
}

func (a feedAPI) page(cursor string, kv ...string) response {
	a.s.t.Helper()
	query := q(a.token, kv...)
	if cursor != "" {
		query.Set("cursor", cursor)
	}
	return a.s.call("GET", "/api/v1/fs-delta/"+a.lib+"/"+a.space+"/delta", query, nil, nil)
}

// all reads every event after cursor in pages of limit and answers them and the last cursor.
func (a feedAPI) all(t *testing.T, cursor, limit string) ([]map[string]any, string) {
	t.Helper()
	var events []map[string]any
	for range 1000 {
		r := a.page(cursor, "limit", limit)
		if r.Status != http.StatusOK {
			t.Fatalf("delta: %d %s", r.Status, r.Body)
		}
		body := r.JSON(t)
		for _, e := range body["contents"].([]any) {
			events = append(events, e.(map[string]any))
		}
		cursor = body["cursor"].(string)
		if body["hasMore"] != true {
			return events, cursor
		}
	}
	t.Fatal("the log does not end")
	return nil, ""
}

func testChangeFeed(t *testing.T, s *system) {
	lib := s.createLibrary("feed", map[string]any{"isFileLibrary": true, "useRecycleBin": true})
	admin := s.mustMint(lib, url.Values{"grant": {"admin"}, "user_id": {"ann"}})
	f := fileAPI{s: s, lib: lib.ID, space: "-", token: admin, library: lib}
	d := dirAPI{s: s, lib: lib.ID, space: "-"}
	feed := feedAPI{s: s, lib: lib.ID, space: "-", token: admin}

	start := feed.cursor(t)
	if r := d.do("PUT", "docs", q(admin), nil); r.Status/100 != 2 {
		t.Fatalf("mkdir: %d %s", r.Status, r.Body)
	}
	f.upload("docs/a.txt", []byte("hello"), nil)
	if r := f.do("PUT", "docs/b.txt", nil, map[string]any{"from": "docs/a.txt"}); r.Status/100 != 2 {
		t.Fatalf("rename: %d %s", r.Status, r.Body)
	}
	if r := d.do("PUT", "copy", q(admin), map[string]any{"copyFrom": "docs"}); r.Status/100 != 2 {
		t.Fatalf("copy directory: %d %s", r.Status, r.Body)
	}
	if r := f.do("DELETE", "docs/b.txt", nil, nil); r.Status != http.StatusOK {
		t.Fatalf("delete into the bin: %d %s", r.Status, r.Body)
	}
	f.upload("copy/b.txt", []byte("hello, world"), q("", "conflict_resolution_strategy", "overwrite"))

	events, end := feed.all(t, start, "2")
	var kinds []string
	for _, e := range events {
		kinds = append(kinds, e["eventType"].(string)+" "+e["name"].(string))
	}
	want := []string{"FILE.CREATE docs", "FILE.CREATE a.txt", "FILE.MOVE b.txt", "FILE.COPY copy", "FILE.COPY b.txt",
		"FILE.TRASH b.txt", "FILE.CREATE_OVERWRITE b.txt"}
	if !slices.Equal(kinds, want) {
		t.Fatalf("events %q, want %q", kinds, want)
	}
	byKind := map[string]map[string]any{}
	for _, e := range events {
		byKind[e["eventType"].(string)] = e
	}

	t.Run("fields and extraInfo", func(t *testing.T) {
		created := events[1]
		if created["type"] != "file" || created["size"] != "5" || created["location"] != float64(0) || created["userId"] != "ann" {
			t.Errorf("create: %v", created)
		}
		if _, err := time.Parse("2006-01-02T15:04:05.000Z", created["eventTime"].(string)); err != nil {
			t.Errorf("eventTime: %v", err)
		}
		if events[0]["type"] != "dir" || events[0]["size"] != nil {
			t.Errorf("a directory carries no file fields: %v", events[0])
		}
		if extra, _ := created["extraInfo"].(map[string]any); extra == nil || extra["isRapidUpload"] != false {
			t.Errorf("create extraInfo: %v", created["extraInfo"])
		}
		move := byKind["FILE.MOVE"]
		extra, _ := move["extraInfo"].(map[string]any)
		if move["inode"] != created["inode"] || extra["fromParentInode"] != events[0]["inode"] || extra["toParentInode"] != events[0]["inode"] {
			t.Errorf("move: %v", move)
		}
		copied := events[4]
		if extra, _ := copied["extraInfo"].(map[string]any); extra["sourceInode"] != created["inode"] || copied["parentInode"] != events[3]["inode"] {
			t.Errorf("copied file: %v", copied)
		}
		trash := byKind["FILE.TRASH"]
		if trash["location"] != float64(1) || trash["extraInfo"] != nil || trash["inode"] != created["inode"] {
			t.Errorf("trash: %v", trash)
		}
		ow := byKind["FILE.CREATE_OVERWRITE"]
		extra, _ = ow["extraInfo"].(map[string]any)
		if ow["size"] != "12" || extra["owInode"] != copied["inode"] || extra["owSize"] != "5" || extra["owEtag"] != copied["eTag"] {
			t.Errorf("overwrite: %v", ow)
		}
	})

	t.Run("the head answers nothing more", func(t *testing.T) {
		r := feed.page(end)
		body := r.JSON(t)
		if r.Status != http.StatusOK || len(body["contents"].([]any)) != 0 || body["hasMore"] != false || body["cursor"] != end {
			t.Fatalf("at the head: %d %s", r.Status, r.Body)
		}
		if c := feed.cursor(t); c != end {
			t.Fatalf("getDeltaCursor %q, the log's end %q", c, end)
		}
	})

	t.Run("an instant upload is a rapid upload", func(t *testing.T) {
		data := []byte("instant content, sent once")
		f.upload("docs/first.txt", data, nil)
		beginning, full := chainedHashes(data)
		from := feed.cursor(t)
		if r := f.do("PUT", "docs/again.txt", nil, map[string]any{"beginningHash": beginning, "fullHash": full, "size": strconv.Itoa(len(data))}); r.Status != http.StatusOK {
			t.Fatalf("instant upload: %d %s", r.Status, r.Body)
		}
		got, _ := feed.all(t, from, "10")
		if len(got) != 1 || got[0]["eventType"] != "FILE.CREATE" || got[0]["name"] != "again.txt" {
			t.Fatalf("events after the instant upload: %v", got)
		}
		if extra, _ := got[0]["extraInfo"].(map[string]any); extra["isRapidUpload"] != true {
			t.Fatalf("instant upload extraInfo: %v", got[0]["extraInfo"])
		}
	})

	t.Run("bad cursors and limits", func(t *testing.T) {
		expectError(t, feed.page(""), http.StatusBadRequest, "ParamInvalid")
		expectError(t, feed.page("not-a-cursor"), http.StatusBadRequest, "ParamInvalid")
		expectError(t, feed.page(start[:len(start)-2]+"AA"), http.StatusBadRequest, "ParamInvalid")
		expectError(t, feed.page(start, "limit", "0"), http.StatusBadRequest, "ParamInvalid")
		expectError(t, feed.page(start, "limit", "1001"), http.StatusBadRequest, "ParamInvalid")
		if r := feed.page(start, "limit", "1000"); r.Status != http.StatusOK {
			t.Fatalf("limit 1000: %d %s", r.Status, r.Body)
		}
		// A cursor of another library's space is not this space's.
		other := s.createLibrary("feed2", map[string]any{"isFileLibrary": true})
		otherAdmin := s.mustMint(other, url.Values{"grant": {"admin"}})
		foreign := feedAPI{s: s, lib: other.ID, space: "-", token: otherAdmin}.cursor(t)
		expectError(t, feed.page(foreign), http.StatusBadRequest, "ParamInvalid")
	})

	t.Run("deletion check", func(t *testing.T) {
		check := func(token, inode string) response {
			return s.call("GET", "/api/v1/file-deletion-check/"+lib.ID+"/-/"+inode, q(token), nil, nil)
		}
		trash := byKind["FILE.TRASH"]
		r := check(admin, trash["inode"].(string))
		if r.Status != http.StatusOK {
			t.Fatalf("check: %d %s", r.Status, r.Body)
		}
		body := r.JSON(t)
		if body["reason"] != "Unknown" || body["deletedAt"] != trash["eventTime"] || body["quotaCleanupRecordRetentionDays"] != float64(180) {
			t.Errorf("check answer %s", r.Body)
		}
		expectError(t, check(admin, events[3]["inode"].(string)), http.StatusNotFound, "FileNotFound")
		expectError(t, check(admin, "987654321"), http.StatusNotFound, "FileNotFound")
		expectError(t, check(admin, "x"), http.StatusNotFound, "FileNotFound")
		reader := s.mustMint(lib, url.Values{"grant": {"upload_file"}})
		expectError(t, check(reader, trash["inode"].(string)), http.StatusForbidden, "NoPermission")
	})

	t.Run("a cursor past the retention window expires", func(t *testing.T) {
		kept := feed.cursor(t) // the head before the window passes: no event after it is pruned
		s.fakeClock().Advance(181 * 24 * time.Hour)
		fresh := s.mustMint(lib, url.Values{"grant": {"admin"}})
		feed := feedAPI{s: s, lib: lib.ID, space: "-", token: fresh}
		if r := d.do("PUT", "later", q(fresh), nil); r.Status/100 != 2 {
			t.Fatalf("mkdir: %d %s", r.Status, r.Body)
		}
		s.collect()
		expectError(t, feed.page(start), http.StatusBadRequest, "CursorExpired")
		// A cursor whose next events are all kept still reads.
		events, _ := feed.all(t, kept, "100")
		if len(events) != 1 || events[0]["name"] != "later" {
			t.Fatalf("after the last old event: %v", events)
		}
		if events, _ := feed.all(t, feed.cursor(t), "100"); len(events) != 0 {
			t.Fatalf("a fresh cursor: %v", events)
		}
	})
}
