package store

import (
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/opensmh/opensmh/pkg/sqldb"
	"github.com/opensmh/opensmh/services/namespace/internal/app"
)

// History versions (section 9, decision 19, docs/lifecycle.md) on both engines.

var historyOn = app.WriteRules{KeepVersions: 10, UserID: "u2"}

// upload overwrites (or creates) path with content of size bytes in blob under rules.
func (f *fixture) upload(path string, size int64, blob string, rules app.WriteRules) app.Placed {
	f.t.Helper()
	placed, err := f.st.CommitUpload(f.ctx, f.lib, f.space, p(path),
		app.Node{Size: size, BlobID: blob, UserID: rules.UserID, ETag: "etag-" + blob, CRC64: "1", ContentType: "text/plain"},
		app.ConflictOverwrite, "", rules, f.tick())
	if err != nil {
		f.t.Fatalf("CommitUpload(%q, %s): %v", path, blob, err)
	}
	return placed
}

// versions answers the blobs of a file's versions, newest first.
func (f *fixture) versions(inode int64) []string {
	f.t.Helper()
	page, err := f.st.ListVersions(f.ctx, f.lib, f.space, inode, app.VersionListOptions{Desc: true, Limit: 1000})
	if err != nil {
		f.t.Fatalf("ListVersions: %v", err)
	}
	var blobs []string
	for _, v := range page.Versions {
		blobs = append(blobs, v.BlobID)
	}
	return blobs
}

// historyCounts answers the space's history counters.
func (f *fixture) historyCounts() (size, num int64) {
	f.t.Helper()
	size = rawQueryInt(f.t, f.raw, "SELECT history_size FROM spaces WHERE library_id = ? AND space_id = ?", f.lib, f.space)
	num = rawQueryInt(f.t, f.raw, "SELECT history_file_num FROM spaces WHERE library_id = ? AND space_id = ?", f.lib, f.space)
	if c := f.counts(); c.HistoryFileNum != num {
		f.t.Fatalf("SpaceCounts.HistoryFileNum = %d, column %d", c.HistoryFileNum, num)
	}
	return size, num
}

// keep archives the current content of the file at path as a version through keepVersion, as an
// overwrite does, without overwriting it: the HistoryStore tests seed versions this way.
func (f *fixture) keep(path string, rules app.WriteRules) {
	f.t.Helper()
	err := f.raw.inWrite(f.ctx, f.lib, f.space, func(t *sqldb.Tx) error {
		n, err := lookupPath(f.ctx, t, f.lib, f.space, p(path))
		if err != nil {
			return err
		}
		return keepVersion(f.ctx, t, n, n.Inode, rules, f.tick())
	})
	if err != nil {
		f.t.Fatalf("keepVersion(%q): %v", path, err)
	}
}

func TestVersionOnOverwriteInPlace(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *SQL) {
		f := newFixture(t, s)
		first := f.upload("a.txt", 10, "b1", historyOn).Node
		if first.Version != 1 || first.CreationWay != app.HistoryCreated {
			t.Fatalf("first content: version %d way %d", first.Version, first.CreationWay)
		}
		f.upload("a.txt", 20, "b2", historyOn)
		third := f.upload("a.txt", 30, "b3", historyOn).Node
		if third.Inode != first.Inode || third.Version != 3 || third.CreationWay != app.HistoryUpdated || third.BlobID != "b3" {
			t.Fatalf("after two overwrites: %+v", third)
		}
		if got := f.versions(first.Inode); !reflect.DeepEqual(got, []string{"b2", "b1"}) {
			t.Fatalf("versions = %v, want [b2 b1]", got)
		}
		if size, num := f.historyCounts(); size != 30 || num != 2 {
			t.Fatalf("history counters = %d bytes, %d versions; want 30, 2", size, num)
		}
		if c := f.counts(); c.Size != 30 || c.FileNum != 1 {
			t.Fatalf("live counters = %+v", c)
		}
		page, err := s.ListVersions(f.ctx, f.lib, f.space, first.Inode, app.VersionListOptions{Desc: true, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		v := page.Versions[0]
		if v.Version != 2 || v.CreationWay != app.HistoryUpdated || v.CreatedBy != "u2" || v.Size != 20 ||
			v.ETag != "etag-b2" || !v.ExpiresAt.IsZero() {
			t.Fatalf("newest version = %+v", v)
		}
		// History off: an overwrite replaces the content for good.
		f.upload("a.txt", 40, "b4", app.WriteRules{})
		if got := f.versions(first.Inode); len(got) != 2 {
			t.Fatalf("history off made a version: %v", got)
		}
	})
}

func TestVersionOnCopyOntoFile(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *SQL) {
		f := newFixture(t, s)
		dst := f.upload("dst.txt", 10, "old", historyOn).Node
		f.upload("src.txt", 15, "new", historyOn)
		placed, err := s.CopyFile(f.ctx, f.lib, f.space, p("src.txt"), p("dst.txt"), app.ConflictOverwrite, historyOn, f.tick())
		if err != nil || placed.Node.Inode != dst.Inode || placed.Node.BlobID != "new" {
			t.Fatalf("CopyFile = %+v, %v", placed, err)
		}
		if got := f.versions(dst.Inode); !reflect.DeepEqual(got, []string{"old"}) {
			t.Fatalf("versions of the copy target = %v", got)
		}
		if size, num := f.historyCounts(); size != 10 || num != 1 {
			t.Fatalf("history counters = %d, %d", size, num)
		}
	})
}

func TestVersionsFollowMoveOntoFile(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *SQL) {
		f := newFixture(t, s)
		f.upload("dst.txt", 10, "d1", historyOn)
		replaced := f.upload("dst.txt", 11, "d2", historyOn).Node // d1 is a version of dst
		moved := f.upload("src.txt", 12, "s1", historyOn).Node
		placed, err := s.MoveFile(f.ctx, f.lib, f.space, p("src.txt"), p("dst.txt"), app.ConflictOverwrite, historyOn, f.tick())
		if err != nil || placed.Node.Inode != moved.Inode {
			t.Fatalf("MoveFile = %+v, %v", placed, err)
		}
		// The moved file holds the path, the replaced content as its newest version and the
		// replaced file's own versions after it.
		if got := f.versions(moved.Inode); !reflect.DeepEqual(got, []string{"d2", "d1"}) {
			t.Fatalf("versions of the moved file = %v", got)
		}
		if got := f.versions(replaced.Inode); len(got) != 0 {
			t.Fatalf("the replaced file kept versions: %v", got)
		}
		n := f.lookup("dst.txt")
		if n.Version != replaced.Version+1 || n.CreationWay != app.HistoryUpdated || n.BlobID != "s1" {
			t.Fatalf("moved file = %+v", n)
		}
		if got := f.referenced("d1", "d2", "s1", "zz"); !reflect.DeepEqual(got, []string{"d1", "d2", "s1"}) {
			t.Fatalf("ReferencedBlobs = %v", got)
		}
	})
}

func TestVersionCountLimitDropsOldest(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *SQL) {
		f := newFixture(t, s)
		rules := app.WriteRules{KeepVersions: 2}
		n := f.upload("a", 1, "v1", rules).Node
		for i, blob := range []string{"v2", "v3", "v4"} {
			f.upload("a", int64(i+2), blob, rules)
		}
		if got := f.versions(n.Inode); !reflect.DeepEqual(got, []string{"v3", "v2"}) {
			t.Fatalf("versions = %v, want [v3 v2]", got)
		}
		if size, num := f.historyCounts(); size != 3+2 || num != 2 {
			t.Fatalf("history counters = %d, %d", size, num)
		}
		// The dropped version's blob is no longer referenced; the kept ones are.
		if got := f.referenced("v1", "v2", "v3", "v4"); !reflect.DeepEqual(got, []string{"v2", "v3", "v4"}) {
			t.Fatalf("ReferencedBlobs = %v", got)
		}
	})
}

func TestVersionsSharedBlobsAndExpiry(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *SQL) {
		f := newFixture(t, s)
		rules := app.WriteRules{KeepVersions: 5, VersionDays: 3}
		f.file("a", 5)
		n := f.putFile("b", 5, "shared", app.TypeFile)
		f.keep("b", rules) // a version of b names "shared"
		if got := f.referenced("shared"); !reflect.DeepEqual(got, []string{"shared"}) {
			t.Fatalf("ReferencedBlobs = %v", got)
		}
		page, err := s.ListVersions(f.ctx, f.lib, f.space, n.Inode, app.VersionListOptions{Limit: 5})
		if err != nil || len(page.Versions) != 1 {
			t.Fatalf("ListVersions = %+v, %v", page, err)
		}
		v := page.Versions[0]
		if want := v.ArchivedAt.Add(72 * time.Hour); !v.ExpiresAt.Equal(want) {
			t.Fatalf("expires %v, want %v", v.ExpiresAt, want)
		}
		// Before expiry nothing goes; after it the version and its counters do.
		if n, err := s.ExpireVersions(f.ctx, v.ExpiresAt, 100); err != nil || n != 0 {
			t.Fatalf("ExpireVersions at expiry = %d, %v", n, err)
		}
		if n, err := s.ExpireVersions(f.ctx, v.ExpiresAt.Add(time.Millisecond), 100); err != nil || n != 1 {
			t.Fatalf("ExpireVersions after expiry = %d, %v", n, err)
		}
		if size, num := f.historyCounts(); size != 0 || num != 0 {
			t.Fatalf("history counters after expiry = %d, %d", size, num)
		}
		// The live file still names the blob.
		if got := f.referenced("shared"); !reflect.DeepEqual(got, []string{"shared"}) {
			t.Fatalf("ReferencedBlobs after expiry = %v", got)
		}
	})
}

func TestListVersionsPages(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *SQL) {
		f := newFixture(t, s)
		n := f.putFile("a", 1, "b", app.TypeFile)
		for range 5 {
			f.keep("a", historyOn)
		}
		for _, order := range []app.VersionOrder{app.VersionsByID, app.VersionsByCreationTime} {
			for _, desc := range []bool{true, false} {
				opts := app.VersionListOptions{OrderBy: order, Desc: desc, Limit: 2, Count: true}
				var ids []int64
				for pages := 0; ; pages++ {
					page, err := s.ListVersions(f.ctx, f.lib, f.space, n.Inode, opts)
					if err != nil || page.Total != 5 || pages > 5 {
						t.Fatalf("ListVersions(%+v) = %+v, %v", opts, page, err)
					}
					for _, v := range page.Versions {
						ids = append(ids, v.ID)
					}
					if !page.More {
						break
					}
					opts.Marker = page.NextMarker
				}
				sorted := slices.Clone(ids)
				slices.Sort(sorted)
				if desc {
					slices.Reverse(sorted)
				}
				if len(ids) != 5 || !slices.Equal(ids, sorted) {
					t.Fatalf("order %s desc %v: ids %v", order, desc, ids)
				}
				page, err := s.ListVersions(f.ctx, f.lib, f.space, n.Inode, app.VersionListOptions{OrderBy: order, Desc: desc, Offset: 4, Limit: 2})
				if err != nil || len(page.Versions) != 1 || page.Versions[0].ID != ids[4] || page.More {
					t.Fatalf("page at offset 4 = %+v, %v", page, err)
				}
			}
		}
		if _, err := s.ListVersions(f.ctx, f.lib, f.space, n.Inode, app.VersionListOptions{Marker: "x"}); !errors.Is(err, app.ErrMarkerNotFound) {
			t.Fatalf("bad marker: %v", err)
		}
	})
}

func TestRestoreVersion(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *SQL) {
		f := newFixture(t, s)
		f.mkdir("d")
		n := f.putFile("d/a", 10, "b1", app.TypeFile)
		f.keep("d/a", historyOn) // version 1 = b1 (10 bytes); the file is at version 2 still holding b1
		if _, err := s.CommitUpload(f.ctx, f.lib, f.space, p("d/a"), app.Node{Size: 25, BlobID: "b2"}, app.ConflictOverwrite, "", app.WriteRules{}, f.tick()); err != nil {
			t.Fatal(err)
		}
		page, err := s.ListVersions(f.ctx, f.lib, f.space, n.Inode, app.VersionListOptions{Limit: 10})
		if err != nil || len(page.Versions) != 1 {
			t.Fatalf("ListVersions = %+v, %v", page, err)
		}
		chosen := page.Versions[0]
		restored, path, err := s.RestoreVersion(f.ctx, f.lib, f.space, chosen.ID, historyOn, f.tick())
		if err != nil {
			t.Fatalf("RestoreVersion: %v", err)
		}
		if !reflect.DeepEqual(path, p("d/a")) || restored.BlobID != "b1" || restored.Size != 10 ||
			restored.CreationWay != app.HistoryRestored || restored.Version != 3 || !restored.LatestAt.Equal(f.now) {
			t.Fatalf("restored = %+v at %v", restored, path)
		}
		// The chosen version stays; the replaced content (b2) is the newest version.
		if got := f.versions(n.Inode); !reflect.DeepEqual(got, []string{"b2", "b1"}) {
			t.Fatalf("versions = %v", got)
		}
		if c := f.counts(); c.Size != 10 {
			t.Fatalf("live size = %d, want 10", c.Size)
		}
		if size, num := f.historyCounts(); size != 35 || num != 2 {
			t.Fatalf("history counters = %d, %d", size, num)
		}
		if got := rawQueryInt(t, s, "SELECT tree_size FROM nodes WHERE inode = ?", f.lookup("d").Inode); got != 10 {
			t.Fatalf("tree_size of d = %d, want 10", got)
		}
		if _, _, err := s.RestoreVersion(f.ctx, f.lib, f.space, 999999, historyOn, f.tick()); !errors.Is(err, app.ErrHistoryNotFound) {
			t.Fatalf("unknown version: %v", err)
		}
		// A version of another space is unknown here.
		if err := s.CreateSpace(f.ctx, app.Space{LibraryID: f.lib, ID: "sp2", CreatedAt: t0}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.RestoreVersion(f.ctx, f.lib, "sp2", chosen.ID, historyOn, f.tick()); !errors.Is(err, app.ErrHistoryNotFound) {
			t.Fatalf("version of another space: %v", err)
		}
	})
}

func TestDeleteVersionsAllOrNothing(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *SQL) {
		f := newFixture(t, s)
		n := f.putFile("a", 7, "b", app.TypeFile)
		f.keep("a", historyOn)
		f.keep("a", historyOn)
		page, err := s.ListVersions(f.ctx, f.lib, f.space, n.Inode, app.VersionListOptions{Limit: 10})
		if err != nil || len(page.Versions) != 2 {
			t.Fatalf("ListVersions = %+v, %v", page, err)
		}
		a, b := page.Versions[0].ID, page.Versions[1].ID
		if err := s.DeleteVersions(f.ctx, f.lib, f.space, []int64{a, 999999}, "u1", f.tick()); !errors.Is(err, app.ErrHistoryNotFound) {
			t.Fatalf("DeleteVersions with an unknown id: %v", err)
		}
		if size, num := f.historyCounts(); size != 14 || num != 2 {
			t.Fatalf("a refused delete changed the counters: %d, %d", size, num)
		}
		if err := s.DeleteVersions(f.ctx, f.lib, f.space, []int64{a, a}, "u1", f.tick()); err != nil {
			t.Fatalf("DeleteVersions: %v", err)
		}
		if _, err := s.Version(f.ctx, f.lib, f.space, a); !errors.Is(err, app.ErrHistoryNotFound) {
			t.Fatalf("deleted version answers %v", err)
		}
		if v, err := s.Version(f.ctx, f.lib, f.space, b); err != nil || v.Inode != n.Inode {
			t.Fatalf("kept version = %+v, %v", v, err)
		}
		if size, num := f.historyCounts(); size != 7 || num != 1 {
			t.Fatalf("history counters = %d, %d", size, num)
		}
	})
}

func TestDropVersionsOfPurgedFiles(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *SQL) {
		f := newFixture(t, s)
		a := f.putFile("a", 3, "ba", app.TypeFile)
		b := f.putFile("b", 4, "bb", app.TypeFile)
		f.keep("a", historyOn)
		f.keep("b", historyOn)
		err := s.inWrite(f.ctx, f.lib, f.space, func(tx *sqldb.Tx) error {
			return dropVersionsOf(f.ctx, tx, f.lib, f.space, []int64{a.Inode})
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(f.versions(a.Inode)) != 0 || len(f.versions(b.Inode)) != 1 {
			t.Fatalf("versions after drop: a %v, b %v", f.versions(a.Inode), f.versions(b.Inode))
		}
		if size, num := f.historyCounts(); size != 4 || num != 1 {
			t.Fatalf("history counters = %d, %d", size, num)
		}
	})
}

func TestClearLibraryHistory(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *SQL) {
		f := newFixture(t, s)
		if err := s.CreateSpace(f.ctx, app.Space{LibraryID: f.lib, ID: "sp2", CreatedAt: t0}); err != nil {
			t.Fatal(err)
		}
		f.putFile("a", 3, "ba", app.TypeFile)
		f.keep("a", historyOn)
		f.keep("a", historyOn)
		g := *f
		g.space = "sp2"
		g.putFile("x", 5, "bx", app.TypeFile)
		g.keep("x", historyOn)
		now := f.tick()
		task, err := s.ClearLibraryHistory(f.ctx, f.lib, time.Minute, now)
		if err != nil || task.ID <= 0 || task.DeleteCount != 3 || task.Status != app.TaskDone {
			t.Fatalf("ClearLibraryHistory = %+v, %v", task, err)
		}
		if size, num := f.historyCounts(); size != 0 || num != 0 {
			t.Fatalf("counters of sp1 = %d, %d", size, num)
		}
		if size, num := g.historyCounts(); size != 0 || num != 0 {
			t.Fatalf("counters of sp2 = %d, %d", size, num)
		}
		if _, err := s.ClearLibraryHistory(f.ctx, f.lib, time.Minute, now.Add(59*time.Second)); !errors.Is(err, app.ErrRateLimited) {
			t.Fatalf("second purge within the minute: %v", err)
		}
		if _, err := s.ClearLibraryHistory(f.ctx, "other", time.Minute, now.Add(time.Second)); err != nil {
			t.Fatalf("another library's purge: %v", err)
		}
		again, err := s.ClearLibraryHistory(f.ctx, f.lib, time.Minute, now.Add(time.Minute))
		if err != nil || again.DeleteCount != 0 {
			t.Fatalf("purge a minute later = %+v, %v", again, err)
		}
		got, err := s.LibraryTasks(f.ctx, f.lib, []int32{again.ID, task.ID, 99999})
		if err != nil || len(got) != 2 || got[0].ID != task.ID || got[0].DeleteCount != 3 || got[1].ID != again.ID ||
			got[0].Type != app.LibraryTaskClearHistory || got[0].Status != app.TaskDone {
			t.Fatalf("LibraryTasks = %+v, %v", got, err)
		}
		if got, err := s.LibraryTasks(f.ctx, "other", []int32{task.ID}); err != nil || len(got) != 0 {
			t.Fatalf("another library sees the task: %+v, %v", got, err)
		}
		if n, err := s.PurgeLibraryTasks(f.ctx, now.Add(time.Minute), 100); err != nil || n != 2 {
			t.Fatalf("PurgeLibraryTasks = %d, %v", n, err)
		}
	})
}

func TestVersionsGoWithTheirSpace(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *SQL) {
		f := newFixture(t, s)
		f.putFile("a", 3, "ba", app.TypeFile)
		f.keep("a", historyOn)
		if err := s.DeleteSpace(f.ctx, f.lib, f.space, true); err != nil {
			t.Fatal(err)
		}
		if n := rawQueryInt(t, s, "SELECT COUNT(*) FROM file_versions"); n != 0 {
			t.Fatalf("%d versions outlived their space", n)
		}
	})
}
