package store

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/opensmh/opensmh/pkg/sqldb"
	"github.com/opensmh/opensmh/services/namespace/internal/app"
	"github.com/opensmh/opensmh/services/namespace/storetest"
)

// The contract suite: every test is written against app.Store and runs once per engine through
// eachEngine.

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 678_000_000, time.UTC)

// fixture is one space of a fresh store with a millisecond clock that moves on every write.
type fixture struct {
	t          *testing.T
	ctx        context.Context
	st         app.Store
	raw        *SQL
	lib, space string
	now        time.Time
}

func newFixture(t *testing.T, s *SQL) *fixture {
	t.Helper()
	f := &fixture{t: t, ctx: context.Background(), st: s, raw: s, lib: "lib1", space: "sp1", now: t0}
	if err := f.st.CreateSpace(f.ctx, app.Space{LibraryID: f.lib, ID: f.space, UserID: "u1", CreatedAt: t0}); err != nil {
		t.Fatalf("CreateSpace: %v", err)
	}
	return f
}

func (f *fixture) tick() time.Time {
	f.now = f.now.Add(time.Millisecond)
	return f.now
}

// p splits "a/b/c" into a path; "" is the root.
func p(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, "/")
}

func (f *fixture) mkdir(path string) app.Node {
	f.t.Helper()
	n, _, err := f.st.MakeDirectories(f.ctx, f.lib, f.space, p(path), app.ConflictAsk, app.DirAttrs{UserID: "u1"}, f.tick())
	if err != nil {
		f.t.Fatalf("MakeDirectories(%q): %v", path, err)
	}
	return n
}

func (f *fixture) file(path string, size int64) app.Node {
	f.t.Helper()
	placed, err := f.st.CreateFile(f.ctx, f.lib, f.space, p(path), app.Node{Size: size, UserID: "u1"}, app.ConflictAsk, app.WriteRules{}, f.tick())
	if err != nil {
		f.t.Fatalf("CreateFile(%q): %v", path, err)
	}
	return placed.Node
}

func (f *fixture) lookup(path string) app.Node {
	f.t.Helper()
	n, err := f.st.Lookup(f.ctx, f.lib, f.space, p(path))
	if err != nil {
		f.t.Fatalf("Lookup(%q): %v", path, err)
	}
	return n
}

func (f *fixture) counts() app.SpaceCounts {
	f.t.Helper()
	c, err := f.st.SpaceCounts(f.ctx, f.lib, f.space)
	if err != nil {
		f.t.Fatalf("SpaceCounts: %v", err)
	}
	return c
}

// listAll walks every page of a listing and answers the entries' names.
func (f *fixture) listAll(dir int64, opts app.ListOptions) []string {
	f.t.Helper()
	var names []string
	for pages := 0; ; pages++ {
		if pages > 10000 {
			f.t.Fatal("listing does not end")
		}
		page, err := f.st.List(f.ctx, f.lib, f.space, dir, opts)
		if err != nil {
			f.t.Fatalf("List(%+v): %v", opts, err)
		}
		for _, e := range page.Entries {
			names = append(names, e.Name)
		}
		if page.NextMarker == "" {
			return names
		}
		opts.Marker = page.NextMarker
	}
}

func wantErr(t *testing.T, what string, got, want error) {
	t.Helper()
	if !errors.Is(got, want) {
		t.Fatalf("%s: error %v, want %v", what, got, want)
	}
}

func wantCounts(t *testing.T, what string, got app.SpaceCounts, size, files, dirs int64) {
	t.Helper()
	if got.Size != size || got.FileNum != files || got.DirNum != dirs {
		t.Fatalf("%s: counts size=%d files=%d dirs=%d, want %d %d %d", what, got.Size, got.FileNum, got.DirNum, size, files, dirs)
	}
}

func TestSpaces(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *SQL) {
		ctx := context.Background()
		var st app.Store = s
		ext := app.SpaceExtension{IsMultiAlbum: true, AllowPhoto: true, AllowPhotoExtname: []string{".jpg"}, SpaceTag: "team"}
		for i, id := range []string{"b", "a", "ab", "c", "abc"} {
			user := "u1"
			if i%2 == 1 {
				user = "u2"
			}
			if err := st.CreateSpace(ctx, app.Space{LibraryID: "L", ID: id, UserID: user, CreatedAt: t0.Add(time.Duration(i) * time.Second), Ext: ext}); err != nil {
				t.Fatalf("CreateSpace %s: %v", id, err)
			}
		}
		if err := st.CreateSpace(ctx, app.Space{LibraryID: "other", ID: "a", CreatedAt: t0}); err != nil {
			t.Fatalf("same id in another library: %v", err)
		}
		wantErr(t, "duplicate", st.CreateSpace(ctx, app.Space{LibraryID: "L", ID: "a", CreatedAt: t0}), app.ErrSpaceExists)

		got, err := st.GetSpace(ctx, "L", "ab")
		if err != nil {
			t.Fatal(err)
		}
		want := app.Space{LibraryID: "L", ID: "ab", UserID: "u1", CreatedAt: t0.Add(2 * time.Second), Ext: ext}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("GetSpace = %+v, want %+v", got, want)
		}
		_, err = st.GetSpace(ctx, "L", "zz")
		wantErr(t, "GetSpace missing", err, app.ErrSpaceNotFound)

		ids := func(opts app.SpaceListOptions) ([]string, bool) {
			t.Helper()
			list, more, err := st.ListSpaces(ctx, "L", opts)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, sp := range list {
				out = append(out, sp.ID)
			}
			return out, more
		}
		tests := []struct {
			name string
			opts app.SpaceListOptions
			want []string
			more bool
		}{
			{"all", app.SpaceListOptions{}, []string{"a", "ab", "abc", "b", "c"}, false},
			{"page", app.SpaceListOptions{Limit: 2}, []string{"a", "ab"}, true},
			{"after", app.SpaceListOptions{After: "ab", Limit: 2}, []string{"abc", "b"}, true},
			{"last page", app.SpaceListOptions{After: "abc", Limit: 2}, []string{"b", "c"}, false},
			{"prefix", app.SpaceListOptions{Prefix: "ab"}, []string{"ab", "abc"}, false},
			{"prefix after", app.SpaceListOptions{Prefix: "a", After: "a"}, []string{"ab", "abc"}, false},
			{"user", app.SpaceListOptions{UserID: "u2"}, []string{"a", "c"}, false},
			{"user page", app.SpaceListOptions{UserID: "u1", Limit: 2}, []string{"ab", "abc"}, true},
		}
		for _, tt := range tests {
			got, more := ids(tt.opts)
			if !reflect.DeepEqual(got, tt.want) || more != tt.more {
				t.Errorf("%s: %v more=%v, want %v more=%v", tt.name, got, more, tt.want, tt.more)
			}
		}
		if n, err := st.CountSpaces(ctx, "L"); err != nil || n != 5 {
			t.Fatalf("CountSpaces = %d, %v", n, err)
		}

		// Extension: a partial update in one transaction; IsMultiAlbum stays as created.
		err = st.UpdateSpaceExtension(ctx, "L", "a", func(e app.SpaceExtension) (app.SpaceExtension, error) {
			e.IsPublicRead, e.IsMultiAlbum, e.AllowPhotoExtname = true, false, nil
			return e, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		got, _ = st.GetSpace(ctx, "L", "a")
		if !got.Ext.IsPublicRead || !got.Ext.IsMultiAlbum || got.Ext.AllowPhotoExtname != nil || got.Ext.SpaceTag != "team" {
			t.Fatalf("extension after update: %+v", got.Ext)
		}
		boom := errors.New("boom")
		err = st.UpdateSpaceExtension(ctx, "L", "a", func(e app.SpaceExtension) (app.SpaceExtension, error) {
			e.SpaceTag = "changed"
			return e, boom
		})
		wantErr(t, "failing change", err, boom)
		if got, _ = st.GetSpace(ctx, "L", "a"); got.Ext.SpaceTag != "team" {
			t.Fatal("a failing change was written")
		}
		wantErr(t, "update missing", st.UpdateSpaceExtension(ctx, "L", "zz", func(e app.SpaceExtension) (app.SpaceExtension, error) { return e, nil }), app.ErrSpaceNotFound)

		// Deletion: refused while an entry lives, unless forced.
		if _, _, err := st.MakeDirectories(ctx, "L", "b", p("d/e"), app.ConflictAsk, app.DirAttrs{}, t0); err != nil {
			t.Fatal(err)
		}
		if _, err := st.CreateFile(ctx, "L", "b", p("d/f"), app.Node{Size: 7}, app.ConflictAsk, app.WriteRules{}, t0); err != nil {
			t.Fatal(err)
		}
		if _, _, err := st.MakeDirectories(ctx, "L", "c", p("x"), app.ConflictAsk, app.DirAttrs{}, t0); err != nil {
			t.Fatal(err)
		}
		lc, err := st.LibraryCounts(ctx, "L")
		if err != nil {
			t.Fatal(err)
		}
		wantCounts(t, "library", lc, 7, 1, 3)
		wantErr(t, "delete non-empty", st.DeleteSpace(ctx, "L", "b", false), app.ErrSpaceNotEmpty)
		if err := st.DeleteSpace(ctx, "L", "b", true); err != nil {
			t.Fatalf("forced delete: %v", err)
		}
		wantErr(t, "delete again", st.DeleteSpace(ctx, "L", "b", true), app.ErrSpaceNotFound)
		if err := st.DeleteSpace(ctx, "L", "abc", false); err != nil {
			t.Fatalf("delete empty: %v", err)
		}
		if n := rawQueryInt(t, s, "SELECT COUNT(*) FROM nodes WHERE library_id = 'L' AND space_id = 'b'"); n != 0 {
			t.Fatalf("%d rows left of a deleted space", n)
		}
		_, err = st.SpaceCounts(ctx, "L", "b")
		wantErr(t, "counts of deleted", err, app.ErrSpaceNotFound)

		if err := st.DeleteLibrary(ctx, "L"); err != nil {
			t.Fatal(err)
		}
		if n, _ := st.CountSpaces(ctx, "L"); n != 0 {
			t.Fatalf("%d spaces after DeleteLibrary", n)
		}
		if n := rawQueryInt(t, s, "SELECT COUNT(*) FROM nodes WHERE library_id = 'L'"); n != 0 {
			t.Fatalf("%d rows after DeleteLibrary", n)
		}
		if n, _ := st.CountSpaces(ctx, "other"); n != 1 {
			t.Fatal("DeleteLibrary touched another library")
		}
		lc, _ = st.LibraryCounts(ctx, "L")
		wantCounts(t, "deleted library", lc, 0, 0, 0)
	})
}

// TestLibrariesUsage: one grouped query sums each library's spaces, answers zeros for a library
// without spaces, keeps libraries apart, and counts live entries only (a deleted file leaves the
// figures at once, before the purge).
func TestLibrariesUsage(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *SQL) {
		ctx := context.Background()
		var st app.Store = s
		for _, sp := range []struct{ lib, id string }{{"multi", "s1"}, {"multi", "s2"}, {"single", "-"}, {"empty", "-"}} {
			if err := st.CreateSpace(ctx, app.Space{LibraryID: sp.lib, ID: sp.id, CreatedAt: t0}); err != nil {
				t.Fatalf("CreateSpace %s/%s: %v", sp.lib, sp.id, err)
			}
		}
		mkdir := func(lib, space, path string) {
			t.Helper()
			if _, _, err := st.MakeDirectories(ctx, lib, space, p(path), app.ConflictAsk, app.DirAttrs{}, t0); err != nil {
				t.Fatalf("MakeDirectories %s/%s/%s: %v", lib, space, path, err)
			}
		}
		file := func(lib, space, path string, size int64) {
			t.Helper()
			if _, err := st.CreateFile(ctx, lib, space, p(path), app.Node{Size: size}, app.ConflictAsk, app.WriteRules{}, t0); err != nil {
				t.Fatalf("CreateFile %s/%s/%s: %v", lib, space, path, err)
			}
		}
		mkdir("multi", "s1", "a/b")
		file("multi", "s1", "a/b/x", 100)
		file("multi", "s1", "a/y", 20)
		mkdir("multi", "s2", "c")
		file("multi", "s2", "c/z", 3)
		file("single", "-", "big", 1<<40) // beyond 32 bits
		file("single", "-", "gone", 5)
		if _, err := st.DeleteFile(ctx, "single", "-", p("gone"), app.WriteRules{}, t0); err != nil {
			t.Fatal(err)
		}

		ids := []string{"single", "nospaces", "multi", "empty"}
		got, err := st.LibrariesUsage(ctx, ids)
		if err != nil {
			t.Fatal(err)
		}
		want := []app.LibraryUsage{
			{LibraryID: "single", Size: 1 << 40, DirNum: 0, FileNum: 1},
			{LibraryID: "nospaces"},
			{LibraryID: "multi", Size: 123, DirNum: 3, FileNum: 3},
			{LibraryID: "empty"},
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("LibrariesUsage(%v)\n got %+v\nwant %+v", ids, got, want)
		}
		// The sums agree with the per-library counters the SMH API answers (2.8).
		for _, u := range got {
			lc, err := st.LibraryCounts(ctx, u.LibraryID)
			if err != nil {
				t.Fatal(err)
			}
			wantCounts(t, u.LibraryID, lc, u.Size, u.FileNum, u.DirNum)
		}
		if got, err := st.LibrariesUsage(ctx, nil); err != nil || len(got) != 0 {
			t.Fatalf("LibrariesUsage(nil) = %v, %v", got, err)
		}
		many := make([]string, 100)
		for i := range many {
			many[i] = fmt.Sprintf("lib%03d", i)
		}
		many[42] = "multi"
		got, err = st.LibrariesUsage(ctx, many)
		if err != nil || len(got) != 100 || got[42] != want[2] || got[0] != (app.LibraryUsage{LibraryID: "lib000"}) {
			t.Fatalf("LibrariesUsage of 100 ids: %d answers, [42] %+v, [0] %+v, %v", len(got), got[42], got[0], err)
		}
	})
}

func TestLookup(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *SQL) {
		f := newFixture(t, s)
		root := f.lookup("")
		if root.Inode != 0 || !root.IsDir() || !root.CreatedAt.Equal(t0) || root.SpaceID != f.space {
			t.Fatalf("root = %+v", root)
		}
		d := f.mkdir("a/b")
		fl := f.file("a/b/c.txt", 3)
		if got := f.lookup("a/b"); got.Inode != d.Inode || got.Type != app.TypeDir || got.Name != "b" {
			t.Fatalf("Lookup(a/b) = %+v", got)
		}
		got := f.lookup("a/b/c.txt")
		if got.Inode != fl.Inode || got.Size != 3 || got.Type != app.TypeFile || got.ParentInode != d.Inode {
			t.Fatalf("Lookup(file) = %+v", got)
		}
		if !got.CreatedAt.Equal(f.now) || got.CreatedAt.Location() != time.UTC {
			t.Fatalf("times not kept at ms precision in UTC: %v, want %v", got.CreatedAt, f.now)
		}
		_, err := f.st.Lookup(f.ctx, f.lib, f.space, p("a/x"))
		wantErr(t, "missing", err, app.ErrNodeNotFound)
		_, err = f.st.Lookup(f.ctx, f.lib, f.space, p("a/b/c.txt/d"))
		wantErr(t, "through a file", err, app.ErrNotDirectory)
		_, err = f.st.Lookup(f.ctx, f.lib, "nope", nil)
		wantErr(t, "missing space", err, app.ErrSpaceNotFound)
		// Names are exact: no case folding, no normalisation (decision 6).
		_, err = f.st.Lookup(f.ctx, f.lib, f.space, p("A"))
		wantErr(t, "case", err, app.ErrNodeNotFound)
	})
}

func TestMakeDirectories(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *SQL) {
		f := newFixture(t, s)
		attrs := app.DirAttrs{UserID: "u9", MetaData: map[string]string{"k": "v"}, Labels: []string{"x", "y"},
			LocalCreationTime: "2020-01-01T00:00:00.000Z", LocalModificationTime: "2020-01-02T00:00:00.000Z"}
		n, path, err := f.st.MakeDirectories(f.ctx, f.lib, f.space, p("a/b/c"), app.ConflictAsk, attrs, f.tick())
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(path, p("a/b/c")) || n.Name != "c" || !n.IsDir() || n.Inode == 0 {
			t.Fatalf("MakeDirectories = %+v %v", n, path)
		}
		c := f.lookup("a/b/c")
		if c.UserID != "u9" || !reflect.DeepEqual(c.MetaData, attrs.MetaData) || !reflect.DeepEqual(c.Labels, attrs.Labels) ||
			c.LocalCreationTime != attrs.LocalCreationTime || c.LocalModificationTime != attrs.LocalModificationTime {
			t.Fatalf("attributes not stored: %+v", c)
		}
		if a := f.lookup("a"); a.MetaData != nil || a.Labels != nil || a.UserID != "u9" {
			t.Fatalf("a created parent got the last component's attributes: %+v", a)
		}
		wantCounts(t, "three dirs", f.counts(), 0, 0, 3)
		if root := f.lookup(""); !root.ModifiedAt.Equal(f.now) {
			t.Fatalf("root modification time %v, want %v", root.ModifiedAt, f.now)
		}

		// Existing parents are reused; only the missing ones count.
		f.mkdir("a/b/d/e")
		wantCounts(t, "reuse", f.counts(), 0, 0, 5)

		_, _, err = f.st.MakeDirectories(f.ctx, f.lib, f.space, p("a/b/c"), app.ConflictAsk, app.DirAttrs{}, f.tick())
		wantErr(t, "ask", err, app.ErrNameTaken)
		_, _, err = f.st.MakeDirectories(f.ctx, f.lib, f.space, p("a/b/c"), "", app.DirAttrs{}, f.tick())
		wantErr(t, "default strategy is ask", err, app.ErrNameTaken)
		for i, want := range []string{"c (1)", "c (2)"} {
			n, path, err := f.st.MakeDirectories(f.ctx, f.lib, f.space, p("a/b/c"), app.ConflictRename, app.DirAttrs{}, f.tick())
			if err != nil {
				t.Fatal(err)
			}
			if n.Name != want || !reflect.DeepEqual(path, []string{"a", "b", want}) {
				t.Fatalf("rename #%d = %q %v, want %q", i+1, n.Name, path, want)
			}
		}
		f.file("a/b/f.txt", 1)
		_, _, err = f.st.MakeDirectories(f.ctx, f.lib, f.space, p("a/b/f.txt"), app.ConflictAsk, app.DirAttrs{}, f.tick())
		wantErr(t, "ask on a file", err, app.ErrNameTaken)
		// A directory has no extension: the counter goes at the end.
		n, _, err = f.st.MakeDirectories(f.ctx, f.lib, f.space, p("a/b/f.txt"), app.ConflictRename, app.DirAttrs{}, f.tick())
		if err != nil || n.Name != "f.txt (1)" {
			t.Fatalf("rename beside a file = %q, %v", n.Name, err)
		}
		before := f.counts()
		_, _, err = f.st.MakeDirectories(f.ctx, f.lib, f.space, p("a/b/f.txt/g/h"), app.ConflictAsk, app.DirAttrs{}, f.tick())
		wantErr(t, "file in the middle", err, app.ErrNotDirectory)
		if f.counts() != before {
			t.Fatal("a failed MakeDirectories changed the counters")
		}
		// overwrite keeps an existing directory (mkdir -p).
		n, _, err = f.st.MakeDirectories(f.ctx, f.lib, f.space, p("a/b/c"), app.ConflictOverwrite, app.DirAttrs{}, f.tick())
		if err != nil || n.Inode != c.Inode {
			t.Fatalf("overwrite of a directory = %+v, %v", n, err)
		}
		_, _, err = f.st.MakeDirectories(f.ctx, f.lib, f.space, nil, app.ConflictAsk, app.DirAttrs{}, f.tick())
		wantErr(t, "root", err, app.ErrNameTaken)
		_, _, err = f.st.MakeDirectories(f.ctx, f.lib, "nope", p("a"), app.ConflictAsk, app.DirAttrs{}, f.tick())
		wantErr(t, "missing space", err, app.ErrSpaceNotFound)
		checkInvariants(t, s, f.lib, f.space)
	})
}

func TestCreateFile(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *SQL) {
		f := newFixture(t, s)
		f.mkdir("d")
		a := f.file("d/a.jpg", 10)
		for _, want := range []string{"a (1).jpg", "a (2).jpg"} {
			placed, err := f.st.CreateFile(f.ctx, f.lib, f.space, p("d/a.jpg"), app.Node{Size: 1}, app.ConflictRename, app.WriteRules{}, f.tick())
			if err != nil || placed.Node.Name != want || placed.Path[1] != want || placed.Overwritten {
				t.Fatalf("rename = %+v %v, want %q", placed, err, want)
			}
		}
		_, err := f.st.CreateFile(f.ctx, f.lib, f.space, p("d/a.jpg"), app.Node{}, app.ConflictAsk, app.WriteRules{}, f.tick())
		wantErr(t, "ask", err, app.ErrNameTaken)
		_, err = f.st.CreateFile(f.ctx, f.lib, f.space, p("x/a.jpg"), app.Node{}, app.ConflictAsk, app.WriteRules{}, f.tick())
		wantErr(t, "no parent", err, app.ErrNodeNotFound)
		_, err = f.st.CreateFile(f.ctx, f.lib, f.space, p("d"), app.Node{}, app.ConflictOverwrite, app.WriteRules{}, f.tick())
		wantErr(t, "overwrite a directory", err, app.ErrNameTaken)
		_, err = f.st.CreateFile(f.ctx, f.lib, f.space, p("d/a.jpg/b.jpg"), app.Node{}, app.ConflictRename, app.WriteRules{}, f.tick())
		wantErr(t, "file in the middle", err, app.ErrNotDirectory)
		_, err = f.st.CreateFile(f.ctx, f.lib, f.space, p("d/a.jpg/x/b.jpg"), app.Node{}, app.ConflictRename, app.WriteRules{}, f.tick())
		wantErr(t, "file deeper in the middle", err, app.ErrNotDirectory)
		wantCounts(t, "files", f.counts(), 12, 3, 1)
		created := f.lookup("d/a.jpg").CreatedAt
		placed, err := f.st.CreateFile(f.ctx, f.lib, f.space, p("d/a.jpg"),
			app.Node{Type: app.TypeImage, Size: 100, ETag: "e", CRC64: "42", ContentType: "image/jpeg", BlobID: "blob2", Category: "cat"},
			app.ConflictOverwrite, app.WriteRules{}, f.tick())
		n := placed.Node
		if err != nil || !placed.Overwritten || n.Inode != a.Inode || n.Size != 100 || n.Type != app.TypeImage || n.CRC64 != "42" ||
			n.BlobID != "blob2" || n.Category != "cat" || !n.CreatedAt.Equal(created) || !n.ModifiedAt.Equal(f.now) {
			t.Fatalf("overwrite = %+v, %v", placed, err)
		}
		if got := f.lookup("d/a.jpg"); got.BlobID != "blob2" || got.Category != "cat" || got.LinkTarget != 0 {
			t.Fatalf("stored = %+v", got)
		}
		wantCounts(t, "overwrite", f.counts(), 102, 3, 1)
		_, err = f.st.CreateFile(f.ctx, f.lib, f.space, p("d/l"), app.Node{Type: app.TypeSymlink}, app.ConflictAsk, app.WriteRules{}, f.tick())
		if err == nil {
			t.Fatal("CreateFile made a symlink")
		}
		checkInvariants(t, s, f.lib, f.space)
	})
}

func TestMigrationsIdempotent(t *testing.T) {
	for _, e := range storetest.Engines() {
		t.Run(e.Name, func(t *testing.T) {
			dsn := e.DSN(t)
			s := openStore(t, dsn)
			f := newFixture(t, s)
			f.mkdir("kept")
			applied := rawQueryInt(t, s, "SELECT COUNT(*) FROM schema_migrations")
			if applied == 0 {
				t.Fatal("no migration recorded")
			}
			// Concurrent Opens of an up-to-date database (replicas restarting) do nothing.
			errs := make(chan error, 4)
			for range 4 {
				go func() {
					s2, err := Open(context.Background(), dsn, 0)
					if err == nil {
						err = s2.Close()
					}
					errs <- err
				}()
			}
			for range 4 {
				if err := <-errs; err != nil {
					t.Fatalf("second Open: %v", err)
				}
			}
			if n := rawQueryInt(t, s, "SELECT COUNT(*) FROM schema_migrations"); n != applied {
				t.Fatalf("schema_migrations has %d rows after reopening, want %d", n, applied)
			}
			f.lookup("kept")
		})
	}
}

func TestConcurrentFirstOpen(t *testing.T) {
	// Replicas starting together on an empty database: exactly one applies each migration.
	for _, e := range storetest.Engines() {
		t.Run(e.Name, func(t *testing.T) {
			dsn := e.DSN(t)
			const n = 4
			errs := make(chan error, n)
			for range n {
				go func() {
					s, err := Open(context.Background(), dsn, 0)
					if err == nil {
						err = s.Close()
					}
					errs <- err
				}()
			}
			for range n {
				if err := <-errs; err != nil {
					t.Fatalf("concurrent Open: %v", err)
				}
			}
			s := openStore(t, dsn)
			steps, err := sqldb.Migrations(migrations, s.Engine())
			if err != nil {
				t.Fatal(err)
			}
			if got := rawQueryInt(t, s, "SELECT COUNT(*) FROM schema_migrations"); got != int64(len(steps)) {
				t.Fatalf("%d migrations recorded, want %d", got, len(steps))
			}
		})
	}
}

func TestOpenDSNForms(t *testing.T) {
	dir := t.TempDir()
	for _, dsn := range []string{dir + "/plain.db", "sqlite://" + dir + "/prefixed.db", "file:" + dir + "/uri.db"} {
		s, err := Open(context.Background(), dsn, 0)
		if err != nil {
			t.Fatalf("Open(%q): %v", dsn, err)
		}
		if s.Engine() != "sqlite" {
			t.Fatalf("Open(%q) chose %s", dsn, s.Engine())
		}
		var mode string
		err = s.inWrite(context.Background(), "", "", func(tx *sqldb.Tx) error {
			return tx.QueryRow(context.Background(), "PRAGMA journal_mode").Scan(&mode)
		})
		if err != nil || mode != "wal" {
			t.Fatalf("journal_mode = %q, %v", mode, err)
		}
		if fk := rawQueryInt(t, s, "PRAGMA foreign_keys"); fk != 1 {
			t.Fatalf("foreign_keys = %d", fk)
		}
		_ = s.Close()
	}
	if _, err := Open(context.Background(), "postgres://%zz", 0); err == nil || strings.Contains(err.Error(), "%zz") {
		t.Fatalf("a bad PostgreSQL DSN: %v", err)
	}
}

// checkInvariants checks a space against a recount from its rows (docs/lifecycle.md): every
// row that is not deleted itself hangs under an existing directory (no orphans); the entries
// reachable from the root are exactly the live ones, and the space counters, per-directory child
// counts and subtree totals match a recount of them; every deleted entry is a bin item or queued
// for purging, and the bin counters match the items.
func checkInvariants(t *testing.T, s *SQL, lib, space string) {
	t.Helper()
	q := func(query string) int64 {
		t.Helper()
		return rawQueryInt(t, s, strings.ReplaceAll(strings.ReplaceAll(query, "$LIB", "'"+lib+"'"), "$SPACE", "'"+space+"'"))
	}
	if n := q(`SELECT COUNT(*) FROM nodes c WHERE c.library_id = $LIB AND c.space_id = $SPACE
		AND c.deleted_at IS NULL AND c.parent_inode <> 0 AND NOT EXISTS (SELECT 1 FROM nodes p
		WHERE p.inode = c.parent_inode AND p.is_dir = 1
		AND p.library_id = c.library_id AND p.space_id = c.space_id)`); n != 0 {
		t.Fatalf("%d orphans", n)
	}
	// The recursive step is written as subtreeCTE's is (sub CROSS JOIN nodes), which SQLite plans
	// as a lookup of each directory's children; a plain JOIN scanned the space once per entry.
	const reach = `WITH RECURSIVE sub(inode, is_dir, size) AS (
			SELECT inode, is_dir, size FROM nodes WHERE library_id = $LIB AND space_id = $SPACE AND parent_inode = 0 AND deleted_at IS NULL
		UNION ALL
			SELECT n.inode, n.is_dir, n.size FROM sub CROSS JOIN nodes n
			WHERE n.parent_inode = sub.inode AND sub.is_dir = 1 AND n.library_id = $LIB AND n.space_id = $SPACE AND n.deleted_at IS NULL
		) `
	live := q(reach + `SELECT COUNT(*) FROM sub`)
	files := q(reach + `SELECT COUNT(*) FROM sub WHERE is_dir = 0`)
	size := q(reach + `SELECT COALESCE(SUM(size), 0) FROM sub WHERE is_dir = 0`)
	var c app.SpaceCounts
	c, err := s.SpaceCounts(context.Background(), lib, space)
	if err != nil {
		t.Fatal(err)
	}
	if c.FileNum != files || c.DirNum != live-files || c.Size != size {
		t.Fatalf("counters %+v, recount files=%d dirs=%d size=%d", c, files, live-files, size)
	}
	if n := q(reach + `SELECT COUNT(*) FROM sub JOIN nodes d ON d.inode = sub.inode WHERE d.is_dir = 1
		AND (d.child_dirs <> (SELECT COUNT(*) FROM nodes c WHERE c.parent_inode = d.inode AND c.deleted_at IS NULL AND c.is_dir = 1)
		  OR d.child_files <> (SELECT COUNT(*) FROM nodes c WHERE c.parent_inode = d.inode AND c.deleted_at IS NULL AND c.is_dir = 0))`); n != 0 {
		t.Fatalf("%d directories with wrong child counts", n)
	}
	// Subtree totals of every directory that is live or in the bin (entries queued for purging
	// are being taken apart): a recount over (ancestor, descendant) pairs of rows not deleted
	// themselves.
	if n := q(`WITH RECURSIVE kept(inode) AS (
			SELECT inode FROM nodes WHERE library_id = $LIB AND space_id = $SPACE AND parent_inode = 0 AND deleted_at IS NULL
			UNION SELECT inode FROM recycled_items WHERE library_id = $LIB AND space_id = $SPACE
		UNION ALL
			SELECT n.inode FROM kept CROSS JOIN nodes n
			WHERE n.parent_inode = kept.inode AND n.library_id = $LIB AND n.space_id = $SPACE AND n.deleted_at IS NULL
		), pairs(ancestor, node) AS (
			SELECT parent_inode, inode FROM nodes WHERE library_id = $LIB AND space_id = $SPACE
				AND deleted_at IS NULL AND parent_inode <> 0
		UNION ALL
			SELECT a.parent_inode, pairs.node FROM pairs CROSS JOIN nodes a
			WHERE a.inode = pairs.ancestor AND a.parent_inode <> 0 AND a.deleted_at IS NULL
		), totals(dir, size, files, dirs) AS (
			SELECT pairs.ancestor, SUM(CASE WHEN x.is_dir = 1 THEN 0 ELSE x.size END), SUM(1 - x.is_dir), SUM(x.is_dir)
			FROM pairs JOIN nodes x ON x.inode = pairs.node GROUP BY pairs.ancestor
		) SELECT COUNT(*) FROM nodes d LEFT JOIN totals ON totals.dir = d.inode
		WHERE d.library_id = $LIB AND d.space_id = $SPACE AND d.is_dir = 1 AND d.inode IN (SELECT inode FROM kept)
			AND (d.tree_size <> COALESCE(totals.size, 0) OR d.tree_files <> COALESCE(totals.files, 0)
				OR d.tree_dirs <> COALESCE(totals.dirs, 0))`); n != 0 {
		t.Fatalf("%d directories with wrong subtree totals", n)
	}
	// Symlinks (3.15): a live link points at a live file of its space, never at a directory or
	// another link; nothing else has a target; links and directories reference no blob.
	if n := q(reach + `SELECT COUNT(*) FROM sub JOIN nodes l ON l.inode = sub.inode WHERE l.type = 'symlink'
		AND NOT EXISTS (SELECT 1 FROM sub t JOIN nodes tn ON tn.inode = t.inode WHERE t.inode = l.link_target
		AND tn.is_dir = 0 AND tn.type <> 'symlink')`); n != 0 {
		t.Fatalf("%d symlinks without a live file as target", n)
	}
	if n := q(`SELECT COUNT(*) FROM nodes WHERE library_id = $LIB AND space_id = $SPACE AND deleted_at IS NULL
		AND ((type = 'symlink') <> (link_target IS NOT NULL) OR (type IN ('symlink', 'dir') AND blob_id <> ''))`); n != 0 {
		t.Fatalf("%d entries with a target or blob that their type does not allow", n)
	}
	if n := q(`SELECT COUNT(*) FROM spaces s WHERE s.library_id = $LIB AND s.space_id = $SPACE
		AND (s.root_child_dirs <> (SELECT COUNT(*) FROM nodes c WHERE c.library_id = s.library_id AND c.space_id = s.space_id
			AND c.parent_inode = 0 AND c.deleted_at IS NULL AND c.is_dir = 1)
		  OR s.root_child_files <> (SELECT COUNT(*) FROM nodes c WHERE c.library_id = s.library_id AND c.space_id = s.space_id
			AND c.parent_inode = 0 AND c.deleted_at IS NULL AND c.is_dir = 0))`); n != 0 {
		t.Fatal("wrong root child counts")
	}
	// Every deleted entry is exactly one of: a bin item, queued for purging.
	if n := q(`SELECT COUNT(*) FROM nodes d WHERE d.library_id = $LIB AND d.space_id = $SPACE
		AND d.deleted_at IS NOT NULL AND d.deleted_root = d.inode
		AND (SELECT COUNT(*) FROM recycled_items r WHERE r.inode = d.inode)
			+ (SELECT COUNT(*) FROM purge_queue p WHERE p.inode = d.inode) <> 1`); n != 0 {
		t.Fatalf("%d deleted entries neither in the bin nor queued (or both)", n)
	}
	binSize := q(`SELECT COALESCE(SUM(size), 0) FROM recycled_items WHERE library_id = $LIB AND space_id = $SPACE`)
	binFiles := q(`SELECT COALESCE(SUM(files), 0) FROM recycled_items WHERE library_id = $LIB AND space_id = $SPACE`)
	binDirs := q(`SELECT COALESCE(SUM(dirs), 0) FROM recycled_items WHERE library_id = $LIB AND space_id = $SPACE`)
	if c.RecycledFileNum != binFiles || c.RecycledDirNum != binDirs ||
		q(`SELECT recycled_size FROM spaces WHERE library_id = $LIB AND space_id = $SPACE`) != binSize {
		t.Fatalf("bin counters %+v, items hold files=%d dirs=%d size=%d", c, binFiles, binDirs, binSize)
	}
	if s.Engine() == "sqlite" {
		checkSearchIndex(t, s)
	}
}

// checkSearchIndex checks SQLite's search index against the rows it indexes (every space of the
// database): no change left pending after a commit (migration 0017), every live row indexed
// under its name and nothing else, and FTS5's own structure sound.
func checkSearchIndex(t *testing.T, s *SQL) {
	t.Helper()
	if n := rawQueryInt(t, s, `SELECT COUNT(*) FROM node_names_pending`); n != 0 {
		t.Fatalf("%d search index changes left pending after their commit", n)
	}
	// node_names_docsize holds a row for each indexed row id.
	if n := rawQueryInt(t, s, `SELECT COUNT(*) FROM nodes n WHERE n.deleted_at IS NULL
		AND NOT EXISTS (SELECT 1 FROM node_names_docsize d WHERE d.id = n.inode)`); n != 0 {
		t.Fatalf("%d live entries missing from the search index", n)
	}
	if n := rawQueryInt(t, s, `SELECT COUNT(*) FROM node_names_docsize d
		WHERE NOT EXISTS (SELECT 1 FROM nodes n WHERE n.inode = d.id AND n.deleted_at IS NULL)`); n != 0 {
		t.Fatalf("%d search index entries for rows that are gone or deleted", n)
	}
	// Each live name of three characters or more finds its own row.
	if n := rawQueryInt(t, s, `SELECT COUNT(*) FROM nodes n WHERE n.deleted_at IS NULL AND length(n.name) >= 3
		AND n.inode NOT IN (SELECT rowid FROM node_names WHERE node_names MATCH '"' || replace(n.name, '"', '""') || '"')`); n != 0 {
		t.Fatalf("%d live entries that a search for their own name does not find", n)
	}
	rawExec(t, s, `INSERT INTO node_names (node_names) VALUES ('integrity-check')`)
}

// names renders a listing for failure messages.
func names(entries []app.Node) string {
	var b strings.Builder
	for i, e := range entries {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, "%s", e.Name)
	}
	return b.String()
}
