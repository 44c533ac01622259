package store

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/opensmh/opensmh/services/namespace/internal/app"
)

func (f *fixture) favorite(user string, inode int64) {
	f.t.Helper()
	if err := f.st.AddFavorite(f.ctx, f.lib, f.space, user, inode, f.tick()); err != nil {
		f.t.Fatalf("AddFavorite(%s, %d): %v", user, inode, err)
	}
}

// favoriteNames lists every favorite of user page by page (marker mode) as name or
// "deleted:<inode>", with the path when asked.
func (f *fixture) favoriteNames(user string, desc bool, limit int) []string {
	f.t.Helper()
	var out []string
	marker := ""
	for range 100 {
		page, err := f.st.ListFavorites(f.ctx, f.lib, f.space, user, app.FavoriteListOptions{Desc: desc, Marker: marker, Limit: limit, WithPath: true})
		if err != nil {
			f.t.Fatalf("ListFavorites: %v", err)
		}
		if len(page.Items) > limit {
			f.t.Fatalf("page of %d items, limit %d", len(page.Items), limit)
		}
		for _, it := range page.Items {
			switch {
			case it.Deleted:
				if it.Node.Name != "" || it.Path != nil || it.Node.Inode != it.Inode {
					f.t.Fatalf("deleted favorite carries the entry: %+v", it)
				}
				out = append(out, "deleted")
			default:
				out = append(out, strings.Join(it.Path, "/"))
			}
		}
		if page.NextMarker == "" {
			return out
		}
		marker = page.NextMarker
	}
	f.t.Fatal("ListFavorites never ended")
	return nil
}

func TestFavoritesPerUserOrderAndDeletedTargets(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *SQL) {
		f := newFixture(t, s)
		dir := f.mkdir("docs/deep")
		a := f.file("docs/deep/a.txt", 3)
		b := f.file("b.pdf", 5)
		c := f.file("c.doc", 7)
		f.favorite("alice", dir.Inode)
		f.favorite("alice", a.Inode)
		f.favorite("alice", b.Inode)
		f.favorite("alice", c.Inode)
		f.favorite("bob", b.Inode)

		if err := f.st.AddFavorite(f.ctx, f.lib, f.space, "alice", b.Inode, f.tick()); !errors.Is(err, app.ErrFavoriteExists) {
			t.Fatalf("second add = %v, want ErrFavoriteExists", err)
		}
		for _, in := range []int64{0, -1, 999999} {
			if err := f.st.AddFavorite(f.ctx, f.lib, f.space, "alice", in, f.tick()); !errors.Is(err, app.ErrNodeNotFound) {
				t.Fatalf("add of inode %d = %v, want ErrNodeNotFound", in, err)
			}
		}

		// Both orders, every page size: the same items, never another user's.
		want := []string{"docs/deep", "docs/deep/a.txt", "b.pdf", "c.doc"}
		for _, limit := range []int{1, 2, 3, 10} {
			if got := f.favoriteNames("alice", false, limit); !slices.Equal(got, want) {
				t.Fatalf("asc limit %d = %v, want %v", limit, got, want)
			}
			rev := slices.Clone(want)
			slices.Reverse(rev)
			if got := f.favoriteNames("alice", true, limit); !slices.Equal(got, rev) {
				t.Fatalf("desc limit %d = %v, want %v", limit, got, rev)
			}
		}
		if got := f.favoriteNames("bob", true, 10); !slices.Equal(got, []string{"b.pdf"}) {
			t.Fatalf("bob = %v", got)
		}

		// Page mode counts the user's favorites.
		page, err := f.st.ListFavorites(f.ctx, f.lib, f.space, "alice", app.FavoriteListOptions{Offset: 2, Limit: 2, Count: true})
		if err != nil || page.Total != 4 || len(page.Items) != 2 || page.Items[0].Inode != b.Inode || page.Items[0].Path != nil {
			t.Fatalf("page mode = %+v, %v", page, err)
		}

		// Deleting a directory marks only its row: the file below it reads as deleted too. A
		// file purged for good (its row gone) reads as deleted as well.
		binned, err := f.st.DeleteTree(f.ctx, f.lib, f.space, p("docs"), binRules, f.tick())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.st.DeleteFile(f.ctx, f.lib, f.space, p("c.doc"), app.WriteRules{}, f.tick()); err != nil {
			t.Fatal(err)
		}
		if _, err := f.raw.DrainPurges(f.ctx, f.now.Add(time.Hour), 1000); err != nil {
			t.Fatal(err)
		}
		if n := rawQueryInt(t, s, "SELECT COUNT(*) FROM nodes WHERE inode = ?", c.Inode); n != 0 {
			t.Fatalf("c.doc's row still there (%d)", n)
		}
		if got := f.favoriteNames("alice", false, 2); !slices.Equal(got, []string{"deleted", "deleted", "b.pdf", "deleted"}) {
			t.Fatalf("after deletes = %v", got)
		}
		if err := f.st.AddFavorite(f.ctx, f.lib, f.space, "carol", a.Inode, f.tick()); !errors.Is(err, app.ErrNodeNotFound) {
			t.Fatalf("add below a deleted directory = %v, want ErrNodeNotFound", err)
		}
		// Restored from the bin, the directory's favorites are live again.
		f.restore(binned.RecycledID, app.RestoreOptions{})
		if got := f.favoriteNames("alice", false, 2); !slices.Equal(got, []string{"docs/deep", "docs/deep/a.txt", "b.pdf", "deleted"}) {
			t.Fatalf("after the restore = %v", got)
		}

		// Removing works for deleted targets; a second remove is ErrFavoriteNotFound.
		if err := f.st.RemoveFavorite(f.ctx, f.lib, f.space, "alice", c.Inode); err != nil {
			t.Fatal(err)
		}
		if err := f.st.RemoveFavorite(f.ctx, f.lib, f.space, "alice", c.Inode); !errors.Is(err, app.ErrFavoriteNotFound) {
			t.Fatalf("second remove = %v", err)
		}
		if err := f.st.RemoveFavorite(f.ctx, f.lib, f.space, "alice", b.Inode); err != nil {
			t.Fatal(err)
		}
		marks, err := f.st.FavoritedAmong(f.ctx, f.lib, f.space, "bob", []int64{a.Inode, b.Inode, c.Inode})
		if err != nil || len(marks) != 1 || !marks[b.Inode] {
			t.Fatalf("bob's marks = %v, %v", marks, err)
		}
		if marks, err := f.st.FavoritedAmong(f.ctx, f.lib, f.space, "alice", []int64{b.Inode}); err != nil || len(marks) != 0 {
			t.Fatalf("alice's marks after remove = %v, %v", marks, err)
		}

		for _, bad := range []string{"x", "f1", "f1.x", "fa.1", "f1.0"} {
			if _, err := f.st.ListFavorites(f.ctx, f.lib, f.space, "alice", app.FavoriteListOptions{Marker: bad, Limit: 5}); !errors.Is(err, app.ErrMarkerNotFound) {
				t.Fatalf("marker %q = %v, want ErrMarkerNotFound", bad, err)
			}
		}

		// A deleted space takes its favorites and recent files with it.
		if err := f.st.RecordRecent(f.ctx, f.lib, f.space, "bob", b.Inode, app.RecentPreview, f.tick(), 10); err != nil {
			t.Fatal(err)
		}
		if err := f.st.DeleteSpace(f.ctx, f.lib, f.space, true); err != nil {
			t.Fatal(err)
		}
		if n := rawQueryInt(t, s, "SELECT COUNT(*) FROM favorites") + rawQueryInt(t, s, "SELECT COUNT(*) FROM recent_files"); n != 0 {
			t.Fatalf("%d favorite or recent rows outlive their space", n)
		}
	})
}

func TestFavoritedAmongManyInodes(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *SQL) {
		f := newFixture(t, s)
		x := f.file("x", 1)
		f.favorite("u", x.Inode)
		inodes := make([]int64, 0, 2500)
		for i := range int64(2500) {
			inodes = append(inodes, i+1)
		}
		marks, err := f.st.FavoritedAmong(f.ctx, f.lib, f.space, "u", inodes)
		if err != nil || len(marks) != 1 || !marks[x.Inode] {
			t.Fatalf("marks = %v, %v", marks, err)
		}
		if marks, err := f.st.FavoritedAmong(f.ctx, f.lib, f.space, "", inodes); err != nil || len(marks) != 0 {
			t.Fatalf("no user = %v, %v", marks, err)
		}
	})
}

// recentNames lists every recent file page by page as "name:action".
func (f *fixture) recentNames(user string, opts app.RecentListOptions) []string {
	f.t.Helper()
	var out []string
	for range 100 {
		page, err := f.st.ListRecent(f.ctx, f.lib, f.space, user, opts)
		if err != nil {
			f.t.Fatalf("ListRecent: %v", err)
		}
		if len(page.Items) > opts.Limit {
			f.t.Fatalf("page of %d, limit %d", len(page.Items), opts.Limit)
		}
		for _, it := range page.Items {
			out = append(out, it.Node.Name+":"+string(it.Action))
		}
		if page.NextMarker == "" {
			return out
		}
		opts.Marker = page.NextMarker
	}
	f.t.Fatal("ListRecent never ended")
	return nil
}

func TestRecentFilesOrderRefreshCapAndFilters(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *SQL) {
		f := newFixture(t, s)
		f.mkdir("d")
		a := f.file("a.pdf", 1)
		b := f.file("d/b.txt", 2)
		c := f.file("c.jpg", 3)
		gone := f.file("d/gone.doc", 4)
		f.mkdir("x")
		below := f.file("x/below.txt", 5)
		record := func(user string, n app.Node, act app.RecentAction, keep int) {
			t.Helper()
			if err := f.st.RecordRecent(f.ctx, f.lib, f.space, user, n.Inode, act, f.tick(), keep); err != nil {
				t.Fatal(err)
			}
		}
		record("u", below, app.RecentModify, 100)
		record("u", a, app.RecentPreview, 100)
		record("u", b, app.RecentPreview, 100)
		record("u", gone, app.RecentPreview, 100)
		record("u", c, app.RecentModify, 100)
		record("u", a, app.RecentModify, 100)
		record("u", b, app.RecentPreview, 100) // refreshed: moves to the top, still one row
		record("v", c, app.RecentPreview, 100)
		if _, err := f.st.DeleteFile(f.ctx, f.lib, f.space, p("d/gone.doc"), binRules, f.tick()); err != nil {
			t.Fatal(err)
		}
		if _, err := f.st.DeleteTree(f.ctx, f.lib, f.space, p("x"), binRules, f.tick()); err != nil {
			t.Fatal(err) // x/below.txt is gone with its directory
		}
		want := []string{"b.txt:preview", "a.pdf:modify", "c.jpg:modify", "a.pdf:preview"}
		for _, limit := range []int{1, 2, 3, 10} {
			if got := f.recentNames("u", app.RecentListOptions{Limit: limit}); !slices.Equal(got, want) {
				t.Fatalf("limit %d = %v, want %v", limit, got, want)
			}
		}
		if got := f.recentNames("u", app.RecentListOptions{Limit: 1, Action: app.RecentModify}); !slices.Equal(got, []string{"a.pdf:modify", "c.jpg:modify"}) {
			t.Fatalf("modify only = %v", got)
		}
		pdf := func(n app.Node) bool { return strings.HasSuffix(n.Name, ".pdf") }
		if got := f.recentNames("u", app.RecentListOptions{Limit: 1, Match: pdf}); !slices.Equal(got, []string{"a.pdf:modify", "a.pdf:preview"}) {
			t.Fatalf("pdf only = %v", got)
		}
		page, err := f.st.ListRecent(f.ctx, f.lib, f.space, "u", app.RecentListOptions{Limit: 1, WithPath: true})
		if err != nil || len(page.Items) != 1 || !slices.Equal(page.Items[0].Path, []string{"d", "b.txt"}) {
			t.Fatalf("with path = %+v, %v", page, err)
		}
		if got := f.recentNames("v", app.RecentListOptions{Limit: 5}); !slices.Equal(got, []string{"c.jpg:preview"}) {
			t.Fatalf("v = %v", got)
		}

		// The cap keeps the newest rows.
		record("u", c, app.RecentPreview, 2)
		if n := rawQueryInt(t, s, "SELECT COUNT(*) FROM recent_files WHERE user_id = 'u'"); n != 2 {
			t.Fatalf("%d rows kept, want 2", n)
		}
		if got := f.recentNames("u", app.RecentListOptions{Limit: 5}); !slices.Equal(got, []string{"c.jpg:preview", "b.txt:preview"}) {
			t.Fatalf("after the cap = %v", got)
		}
		for _, bad := range []string{"x", "r1.2", "r1.2.edit", "r1.0.preview", "ra.2.preview"} {
			if _, err := f.st.ListRecent(f.ctx, f.lib, f.space, "u", app.RecentListOptions{Marker: bad, Limit: 5}); !errors.Is(err, app.ErrMarkerNotFound) {
				t.Fatalf("marker %q = %v, want ErrMarkerNotFound", bad, err)
			}
		}
	})
}
