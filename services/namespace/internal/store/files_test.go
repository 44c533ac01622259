package store

import (
	"errors"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/opensmh/opensmh/services/namespace/internal/app"
)

// putFile commits a file with a blob.
func (f *fixture) putFile(path string, size int64, blob string, typ app.NodeType) app.Node {
	f.t.Helper()
	placed, err := f.st.CreateFile(f.ctx, f.lib, f.space, p(path), app.Node{Size: size, BlobID: blob, Type: typ}, app.ConflictAsk, app.WriteRules{}, f.tick())
	if err != nil {
		f.t.Fatalf("CreateFile(%q): %v", path, err)
	}
	return placed.Node
}

func (f *fixture) link(path, target string) app.Node {
	f.t.Helper()
	placed, err := f.st.CreateSymlink(f.ctx, f.lib, f.space, p(path), p(target), app.ConflictAsk, "u1", app.WriteRules{}, f.tick())
	if err != nil {
		f.t.Fatalf("CreateSymlink(%q → %q): %v", path, target, err)
	}
	return placed.Node
}

// resolve answers the path a symlink (or file) resolves to, "" when it resolves to nothing.
func (f *fixture) resolve(path string) string {
	f.t.Helper()
	r, err := f.st.ResolveFile(f.ctx, f.lib, f.space, p(path))
	if err != nil {
		return ""
	}
	return join(r.Path)
}

func (f *fixture) referenced(ids ...string) []string {
	f.t.Helper()
	got, err := f.st.ReferencedBlobs(f.ctx, ids)
	if err != nil {
		f.t.Fatal(err)
	}
	return got
}

func TestCopyFileSharesBlob(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *SQL) {
		f := newFixture(t, s)
		f.mkdir("d")
		f.mkdir("e")
		orig := f.putFile("d/a.jpg", 10, "blob-a", app.TypeImage)
		placed, err := f.st.CopyFile(f.ctx, f.lib, f.space, p("d/a.jpg"), p("e/b.jpg"), app.ConflictRename, app.WriteRules{}, f.tick())
		if err != nil || !reflect.DeepEqual(placed.Path, p("e/b.jpg")) || placed.Overwritten {
			t.Fatalf("CopyFile = %+v, %v", placed, err)
		}
		c := placed.Node
		if c.Inode == orig.Inode || c.BlobID != "blob-a" || c.Size != 10 || c.Type != app.TypeImage || !c.CreatedAt.Equal(f.now) {
			t.Fatalf("copy = %+v", c)
		}
		wantCounts(t, "after copy", f.counts(), 20, 2, 2)
		placed, err = f.st.CopyFile(f.ctx, f.lib, f.space, p("d/a.jpg"), p("d/a.jpg"), app.ConflictRename, app.WriteRules{}, f.tick())
		if err != nil || !reflect.DeepEqual(placed.Path, p("d/a (1).jpg")) {
			t.Fatalf("copy beside itself = %+v, %v", placed, err)
		}
		placed, err = f.st.CopyFile(f.ctx, f.lib, f.space, p("d/a.jpg"), p("d/a.jpg"), app.ConflictOverwrite, app.WriteRules{}, f.tick())
		if err != nil || placed.Overwritten || placed.Node.Inode != orig.Inode {
			t.Fatalf("copy onto itself = %+v, %v", placed, err)
		}
		if _, err := f.st.DeleteTree(f.ctx, f.lib, f.space, p("d/a (1).jpg"), app.WriteRules{}, time.Now()); err != nil {
			t.Fatal(err)
		}
		if got := f.referenced("blob-a", "other"); !reflect.DeepEqual(got, []string{"blob-a"}) {
			t.Fatalf("ReferencedBlobs = %v", got)
		}

		// Both entries deleted: the soft-deleted rows still reference the blob until purged.
		if _, err := f.st.DeleteFile(f.ctx, f.lib, f.space, p("d/a.jpg"), app.WriteRules{}, f.tick()); err != nil {
			t.Fatal(err)
		}
		if got := f.referenced("blob-a"); len(got) != 1 {
			t.Fatal("the copy's blob lost its reference while the copy lives")
		}
		if _, err := f.st.DeleteTree(f.ctx, f.lib, f.space, p("e"), app.WriteRules{}, time.Now()); err != nil {
			t.Fatal(err)
		}
		wantCounts(t, "all deleted", f.counts(), 0, 0, 1)
		if got := f.referenced("blob-a"); len(got) != 1 {
			t.Fatal("deleted rows awaiting the recycle bin no longer reference the blob")
		}
		if _, err := s.DrainPurges(f.ctx, time.Now().Add(time.Hour), 0); err != nil {
			t.Fatal(err)
		}
		if got := f.referenced("blob-a"); len(got) != 0 {
			t.Fatalf("after the purge: %v", got)
		}

		// Source errors.
		f.putFile("d/x.jpg", 1, "blob-x", "")
		_, err = f.st.CopyFile(f.ctx, f.lib, f.space, p("d/none"), p("d/y"), app.ConflictRename, app.WriteRules{}, f.tick())
		wantErr(t, "missing source", err, app.ErrSourceMissing)
		_, err = f.st.CopyFile(f.ctx, f.lib, f.space, p("d/x.jpg/z"), p("d/y"), app.ConflictRename, app.WriteRules{}, f.tick())
		wantErr(t, "source through a file", err, app.ErrSourceMissing)
		_, err = f.st.CopyFile(f.ctx, f.lib, f.space, p("d"), p("d/y"), app.ConflictRename, app.WriteRules{}, f.tick())
		wantErr(t, "directory source", err, app.ErrIsDirectory)
		_, err = f.st.CopyFile(f.ctx, f.lib, f.space, p("d/x.jpg"), p("nope/y"), app.ConflictRename, app.WriteRules{}, f.tick())
		wantErr(t, "missing parent", err, app.ErrNodeNotFound)
		_, err = f.st.CopyFile(f.ctx, f.lib, f.space, p("d/x.jpg"), p("d/x.jpg/y"), app.ConflictRename, app.WriteRules{}, f.tick())
		wantErr(t, "file in the middle", err, app.ErrNotDirectory)
		_, err = f.st.CopyFile(f.ctx, f.lib, f.space, p("d/x.jpg"), p("d"), app.ConflictOverwrite, app.WriteRules{}, f.tick())
		wantErr(t, "overwrite a directory", err, app.ErrNameTaken)
		checkInvariants(t, s, f.lib, f.space)
	})
}

func TestCopyFileOverwriteInPlace(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *SQL) {
		f := newFixture(t, s)
		src := f.putFile("src.txt", 7, "blob-src", "")
		dst := f.putFile("dst.txt", 3, "blob-dst", "")
		f.link("l", "dst.txt")
		placed, err := f.st.CopyFile(f.ctx, f.lib, f.space, p("src.txt"), p("dst.txt"), app.ConflictOverwrite, app.WriteRules{}, f.tick())
		if err != nil || !placed.Overwritten || placed.Node.Inode != dst.Inode || placed.Node.BlobID != "blob-src" || placed.Node.Size != 7 {
			t.Fatalf("overwrite copy = %+v, %v", placed, err)
		}
		wantCounts(t, "after", f.counts(), 14, 3, 0)
		if r, _ := f.st.ResolveFile(f.ctx, f.lib, f.space, p("l")); r.Node.BlobID != "blob-src" {
			t.Fatalf("the link does not follow the new content: %+v", r)
		}
		if got := f.referenced("blob-dst"); len(got) != 0 {
			t.Fatal("the overwritten content is still referenced")
		}
		// A copied link over a file: the file becomes a link in place, its own links follow.
		f.link("l2", "src.txt")
		placed, err = f.st.CopyFile(f.ctx, f.lib, f.space, p("l2"), p("dst.txt"), app.ConflictOverwrite, app.WriteRules{}, f.tick())
		if err != nil || placed.Node.Type != app.TypeSymlink || placed.Node.LinkTarget != src.Inode {
			t.Fatalf("link copied over a file = %+v, %v", placed, err)
		}
		if f.resolve("l") != "src.txt" || f.resolve("dst.txt") != "src.txt" {
			t.Fatalf("links after the overwrite: l → %q, dst.txt → %q", f.resolve("l"), f.resolve("dst.txt"))
		}
		_, err = f.st.CopyFile(f.ctx, f.lib, f.space, p("l2"), p("src.txt"), app.ConflictOverwrite, app.WriteRules{}, f.tick())
		wantErr(t, "a link copied over its own target", err, app.ErrSymlinkOverwrite)
		wantCounts(t, "end", f.counts(), 7, 4, 0)
		checkInvariants(t, s, f.lib, f.space)
	})
}

func TestSymlinks(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *SQL) {
		f := newFixture(t, s)
		f.mkdir("d")
		f.mkdir("e")
		target := f.putFile("d/t.txt", 5, "blob-t", "")
		l := f.link("e/l", "d/t.txt")
		if l.Type != app.TypeSymlink || l.LinkTarget != target.Inode || l.Size != 0 || l.BlobID != "" || l.UserID != "u1" {
			t.Fatalf("link = %+v", l)
		}
		wantCounts(t, "a link counts as a file of size 0", f.counts(), 5, 2, 2)
		r, err := f.st.ResolveFile(f.ctx, f.lib, f.space, p("e/l"))
		if err != nil || r.Node.Inode != target.Inode || !reflect.DeepEqual(r.Path, p("d/t.txt")) || !reflect.DeepEqual(r.LinkPath, p("e/l")) {
			t.Fatalf("ResolveFile(link) = %+v, %v", r, err)
		}
		r, err = f.st.ResolveFile(f.ctx, f.lib, f.space, p("d/t.txt"))
		if err != nil || r.LinkPath != nil || r.Node.BlobID != "blob-t" {
			t.Fatalf("ResolveFile(file) = %+v, %v", r, err)
		}
		_, err = f.st.ResolveFile(f.ctx, f.lib, f.space, p("d"))
		wantErr(t, "resolve a directory", err, app.ErrIsDirectory)
		_, err = f.st.ResolveFile(f.ctx, f.lib, f.space, p("d/none"))
		wantErr(t, "resolve nothing", err, app.ErrNodeNotFound)

		// A link to a link points at the final target.
		ll := f.link("ll", "e/l")
		if ll.LinkTarget != target.Inode {
			t.Fatalf("link to a link = %+v", ll)
		}
		_, err = f.st.CreateSymlink(f.ctx, f.lib, f.space, p("x"), p("d"), app.ConflictAsk, "", app.WriteRules{}, f.tick())
		wantErr(t, "link to a directory", err, app.ErrIsDirectory)
		_, err = f.st.CreateSymlink(f.ctx, f.lib, f.space, p("x"), p("d/none"), app.ConflictAsk, "", app.WriteRules{}, f.tick())
		wantErr(t, "link to nothing", err, app.ErrSourceMissing)
		_, err = f.st.CreateSymlink(f.ctx, f.lib, f.space, p("x/y"), p("d/t.txt"), app.ConflictAsk, "", app.WriteRules{}, f.tick())
		wantErr(t, "link without a parent", err, app.ErrNodeNotFound)
		_, err = f.st.CreateSymlink(f.ctx, f.lib, f.space, p("e/l"), p("d/t.txt"), app.ConflictAsk, "", app.WriteRules{}, f.tick())
		wantErr(t, "link ask", err, app.ErrNameTaken)
		placed, err := f.st.CreateSymlink(f.ctx, f.lib, f.space, p("e/l"), p("d/t.txt"), app.ConflictRename, "", app.WriteRules{}, f.tick())
		if err != nil || !reflect.DeepEqual(placed.Path, p("e/l (1)")) {
			t.Fatalf("link rename = %+v, %v", placed, err)
		}
		_, err = f.st.CreateSymlink(f.ctx, f.lib, f.space, p("d/t.txt"), p("ll"), app.ConflictOverwrite, "", app.WriteRules{}, f.tick())
		wantErr(t, "a link over its own target", err, app.ErrSymlinkOverwrite)

		// The link follows its target's move (same inode) and overwrite (in place).
		if _, err := f.st.MoveFile(f.ctx, f.lib, f.space, p("d/t.txt"), p("e/moved.txt"), app.ConflictAsk, app.WriteRules{}, f.tick()); err != nil {
			t.Fatal(err)
		}
		if got := f.resolve("e/l"); got != "e/moved.txt" {
			t.Fatalf("after the move the link resolves to %q", got)
		}
		if _, err := f.st.Move(f.ctx, f.lib, f.space, p("e"), p("f/g"), app.ConflictAsk, app.WriteRules{}, f.tick()); err != nil {
			t.Fatal(err)
		}
		if got := f.resolve("ll"); got != "f/g/moved.txt" {
			t.Fatalf("after the directory move the link resolves to %q", got)
		}
		placed, err = f.st.CreateFile(f.ctx, f.lib, f.space, p("f/g/moved.txt"), app.Node{Size: 9, BlobID: "blob-new"}, app.ConflictOverwrite, app.WriteRules{}, f.tick())
		if err != nil || !placed.Overwritten {
			t.Fatal(err)
		}
		if r, _ := f.st.ResolveFile(f.ctx, f.lib, f.space, p("ll")); r.Node.BlobID != "blob-new" || r.Node.Size != 9 {
			t.Fatalf("after the overwrite the link resolves to %+v", r)
		}

		// Moving a file over the target: the target's links follow to the moved file.
		other := f.putFile("other.txt", 2, "blob-o", "")
		placed, err = f.st.MoveFile(f.ctx, f.lib, f.space, p("other.txt"), p("f/g/moved.txt"), app.ConflictOverwrite, app.WriteRules{}, f.tick())
		if err != nil || !placed.Overwritten || placed.Node.Inode != other.Inode {
			t.Fatalf("move over the target = %+v, %v", placed, err)
		}
		if r, _ := f.st.ResolveFile(f.ctx, f.lib, f.space, p("ll")); r.Node.Inode != other.Inode {
			t.Fatalf("the link did not follow to the moved file: %+v", r)
		}
		_, err = f.st.MoveFile(f.ctx, f.lib, f.space, p("ll"), p("f/g/moved.txt"), app.ConflictOverwrite, app.WriteRules{}, f.tick())
		wantErr(t, "a link moved over its own target", err, app.ErrSymlinkOverwrite)
		checkInvariants(t, s, f.lib, f.space)

		// A symlink turned into a file by an upload stops being a link.
		placed, err = f.st.CreateFile(f.ctx, f.lib, f.space, p("ll"), app.Node{Size: 1, BlobID: "blob-ll"}, app.ConflictOverwrite, app.WriteRules{}, f.tick())
		if err != nil || placed.Node.Type != app.TypeFile || placed.Node.LinkTarget != 0 {
			t.Fatalf("upload over a link = %+v, %v", placed, err)
		}
		checkInvariants(t, s, f.lib, f.space)
	})
}

func TestDeletingTargetsDeletesLinks(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *SQL) {
		f := newFixture(t, s)
		f.mkdir("src/sub")
		f.mkdir("links")
		f.putFile("src/a.txt", 3, "blob-a", "")
		f.putFile("src/sub/b.txt", 4, "blob-b", "")
		f.putFile("keep.txt", 5, "blob-k", "")
		f.link("links/to-a", "src/a.txt")
		f.link("links/to-b", "src/sub/b.txt")
		f.link("links/to-keep", "keep.txt")
		f.link("src/inside", "keep.txt") // inside the deleted tree, pointing out
		f.link("root-to-a", "src/a.txt")
		before := f.counts()
		wantCounts(t, "before", before, 12, 8, 3)

		// Deleting a file deletes its links, wherever they are.
		deleted, err := f.st.DeleteFile(f.ctx, f.lib, f.space, p("src/a.txt"), app.WriteRules{}, f.tick())
		if err != nil || deleted.Node.Name != "a.txt" {
			t.Fatalf("DeleteFile = %+v, %v", deleted, err)
		}
		for _, l := range []string{"links/to-a", "root-to-a"} {
			if _, err := f.st.Lookup(f.ctx, f.lib, f.space, p(l)); err == nil {
				t.Fatalf("%s survived its target", l)
			}
		}
		wantCounts(t, "after the file", f.counts(), 9, 5, 3)
		checkInvariants(t, s, f.lib, f.space)

		// Deleting a directory deletes the links into its subtree.
		if _, err := f.st.DeleteTree(f.ctx, f.lib, f.space, p("src"), app.WriteRules{}, time.Now()); err != nil {
			t.Fatal(err)
		}
		if _, err := f.st.Lookup(f.ctx, f.lib, f.space, p("links/to-b")); err == nil {
			t.Fatal("a link into a deleted directory survived")
		}
		if f.resolve("links/to-keep") != "keep.txt" {
			t.Fatal("an unrelated link went")
		}
		wantCounts(t, "after the tree", f.counts(), 5, 2, 1)
		// The link from outside joined its target's deletion (one recycle-bin item); the link
		// inside src goes with src's subtree, untouched.
		if n := rawQueryInt(t, s, "SELECT COUNT(*) FROM nodes WHERE type = 'symlink' AND deleted_at IS NOT NULL AND deleted_root = ?",
			f.lookupDeleted("src")); n != 1 {
			t.Fatalf("%d links deleted with src, want 1 (to-b)", n)
		}

		// Deleting a link leaves its target; a directory is not a file.
		if _, err := f.st.DeleteFile(f.ctx, f.lib, f.space, p("links/to-keep"), app.WriteRules{}, f.tick()); err != nil {
			t.Fatal(err)
		}
		if f.resolve("keep.txt") != "keep.txt" {
			t.Fatal("deleting a link deleted its target")
		}
		_, err = f.st.DeleteFile(f.ctx, f.lib, f.space, p("links"), app.WriteRules{}, f.tick())
		wantErr(t, "delete a directory as a file", err, app.ErrIsDirectory)
		_, err = f.st.DeleteFile(f.ctx, f.lib, f.space, p("links/none"), app.WriteRules{}, f.tick())
		wantErr(t, "delete nothing", err, app.ErrNodeNotFound)
		_, err = f.st.DeleteFile(f.ctx, f.lib, f.space, p("keep.txt/x"), app.WriteRules{}, f.tick())
		wantErr(t, "delete through a file", err, app.ErrNotDirectory)
		checkInvariants(t, s, f.lib, f.space)
	})
}

// lookupDeleted answers the inode of the deleted entry named name at the root.
func (f *fixture) lookupDeleted(name string) int64 {
	f.t.Helper()
	return rawQueryInt(f.t, f.raw, "SELECT MAX(inode) FROM nodes WHERE parent_inode = 0 AND name = ? AND deleted_at IS NOT NULL", name)
}

func TestCopyTreeKeepsLinkTargets(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *SQL) {
		f := newFixture(t, s)
		f.mkdir("d")
		f.putFile("d/a.txt", 3, "blob-a", "")
		f.putFile("out.txt", 1, "blob-o", "")
		f.link("d/in", "d/a.txt")
		f.link("d/out", "out.txt")
		if _, err := f.st.CopyTree(f.ctx, f.lib, f.space, p("d"), p("c"), app.ConflictAsk, app.WriteRules{}, f.tick()); err != nil {
			t.Fatal(err)
		}
		// Links in the copy point at the original targets.
		if got := f.resolve("c/in"); got != "d/a.txt" {
			t.Fatalf("c/in → %q", got)
		}
		if got := f.resolve("c/out"); got != "out.txt" {
			t.Fatalf("c/out → %q", got)
		}
		if r, _ := f.st.ResolveFile(f.ctx, f.lib, f.space, p("c/a.txt")); r.Node.BlobID != "blob-a" {
			t.Fatalf("the copied file does not share the blob: %+v", r)
		}
		wantCounts(t, "copy", f.counts(), 7, 7, 2)
		checkInvariants(t, s, f.lib, f.space)
		// Deleting the original tree takes the copy's links to it as well.
		if _, err := f.st.DeleteTree(f.ctx, f.lib, f.space, p("d"), app.WriteRules{}, time.Now()); err != nil {
			t.Fatal(err)
		}
		if _, err := f.st.Lookup(f.ctx, f.lib, f.space, p("c/in")); err == nil {
			t.Fatal("c/in outlived its target")
		}
		wantCounts(t, "after", f.counts(), 4, 3, 1)
		checkInvariants(t, s, f.lib, f.space)
	})
}

func TestMoveFile(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *SQL) {
		f := newFixture(t, s)
		f.mkdir("d")
		a := f.putFile("d/a.txt", 3, "blob-a", "")
		f.putFile("d/b.txt", 4, "blob-b", "")
		placed, err := f.st.MoveFile(f.ctx, f.lib, f.space, p("d/a.txt"), p("d/a.txt"), app.ConflictAsk, app.WriteRules{}, f.tick())
		if err != nil || placed.Node.Inode != a.Inode || !reflect.DeepEqual(placed.Path, p("d/a.txt")) {
			t.Fatalf("onto itself = %+v, %v", placed, err)
		}
		placed, err = f.st.MoveFile(f.ctx, f.lib, f.space, p("d/a.txt"), p("d/b.txt"), app.ConflictRename, app.WriteRules{}, f.tick())
		if err != nil || !reflect.DeepEqual(placed.Path, p("d/b (1).txt")) || placed.Node.Inode != a.Inode {
			t.Fatalf("rename = %+v, %v", placed, err)
		}
		_, err = f.st.MoveFile(f.ctx, f.lib, f.space, p("d/b (1).txt"), p("x/a.txt"), app.ConflictAsk, app.WriteRules{}, f.tick())
		wantErr(t, "parents are not created", err, app.ErrNodeNotFound)
		placed, err = f.st.MoveFile(f.ctx, f.lib, f.space, p("d/b (1).txt"), p("a.txt"), app.ConflictAsk, app.WriteRules{}, f.tick())
		if err != nil || !reflect.DeepEqual(placed.Path, p("a.txt")) {
			t.Fatalf("move to the root = %+v, %v", placed, err)
		}
		wantCounts(t, "moves change no counter", f.counts(), 7, 2, 1)
		placed, err = f.st.MoveFile(f.ctx, f.lib, f.space, p("a.txt"), p("d/b.txt"), app.ConflictOverwrite, app.WriteRules{}, f.tick())
		if err != nil || !placed.Overwritten {
			t.Fatalf("overwrite = %+v, %v", placed, err)
		}
		wantCounts(t, "overwrite", f.counts(), 3, 1, 1)
		if got := f.referenced("blob-a", "blob-b"); !slices.Equal(got, []string{"blob-a", "blob-b"}) {
			t.Fatalf("the replaced file is a deleted row that still references its blob: %v", got)
		}
		_, err = f.st.MoveFile(f.ctx, f.lib, f.space, p("d"), p("e"), app.ConflictAsk, app.WriteRules{}, f.tick())
		wantErr(t, "a directory", err, app.ErrIsDirectory)
		_, err = f.st.MoveFile(f.ctx, f.lib, f.space, p("zz"), p("e"), app.ConflictAsk, app.WriteRules{}, f.tick())
		wantErr(t, "nothing", err, app.ErrSourceMissing)
		checkInvariants(t, s, f.lib, f.space)
	})
}

func TestNodeByInodeAndFirstMedia(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *SQL) {
		f := newFixture(t, s)
		f.mkdir("album")
		txt := f.putFile("album/notes.txt", 1, "b0", app.TypeFile)
		now := f.tick()
		// Two media with the same creation time: the lower inode wins; a later one never.
		first, err := f.st.CreateFile(f.ctx, f.lib, f.space, p("album/z.jpg"), app.Node{Type: app.TypeImage, BlobID: "b1"}, app.ConflictAsk, app.WriteRules{}, now)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.st.CreateFile(f.ctx, f.lib, f.space, p("album/a.mp4"), app.Node{Type: app.TypeVideo, BlobID: "b2"}, app.ConflictAsk, app.WriteRules{}, now); err != nil {
			t.Fatal(err)
		}
		f.putFile("album/later.jpg", 1, "b3", app.TypeImage)
		album := f.lookup("album")
		got, err := f.st.FirstMedia(f.ctx, f.lib, f.space, album.Inode)
		if err != nil || got.Inode != first.Node.Inode {
			t.Fatalf("FirstMedia = %+v, %v; want z.jpg", got, err)
		}
		if _, err := f.st.DeleteFile(f.ctx, f.lib, f.space, p("album/z.jpg"), app.WriteRules{}, f.tick()); err != nil {
			t.Fatal(err)
		}
		if got, err = f.st.FirstMedia(f.ctx, f.lib, f.space, album.Inode); err != nil || got.Name != "a.mp4" {
			t.Fatalf("FirstMedia after a delete = %+v, %v", got, err)
		}
		f.mkdir("empty")
		_, err = f.st.FirstMedia(f.ctx, f.lib, f.space, f.lookup("empty").Inode)
		wantErr(t, "no media", err, app.ErrNodeNotFound)

		n, path, err := f.st.NodeByInode(f.ctx, f.lib, f.space, txt.Inode)
		if err != nil || n.Name != "notes.txt" || !reflect.DeepEqual(path, p("album/notes.txt")) {
			t.Fatalf("NodeByInode = %+v %v, %v", n, path, err)
		}
		if n, path, err = f.st.NodeByInode(f.ctx, f.lib, f.space, album.Inode); err != nil || !n.IsDir() || !reflect.DeepEqual(path, p("album")) {
			t.Fatalf("NodeByInode(dir) = %+v %v, %v", n, path, err)
		}
		_, _, err = f.st.NodeByInode(f.ctx, f.lib, f.space, first.Node.Inode)
		wantErr(t, "deleted", err, app.ErrNodeNotFound)
		_, _, err = f.st.NodeByInode(f.ctx, f.lib, f.space, 0)
		wantErr(t, "root", err, app.ErrNodeNotFound)
		_, _, err = f.st.NodeByInode(f.ctx, f.lib, "other-space", txt.Inode)
		wantErr(t, "another space", err, app.ErrNodeNotFound)
	})
}

func TestReferencedBlobsBatches(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *SQL) {
		f := newFixture(t, s)
		var ids []string
		for i := range 1200 {
			ids = append(ids, "blob-"+string(rune('a'+i%26))+strconv.Itoa(i))
		}
		f.putFile("x", 1, ids[0], "")
		f.putFile("y", 1, ids[777], "")
		f.putFile("z", 1, ids[1199], "")
		got := f.referenced(ids...)
		want := []string{ids[0], ids[777], ids[1199]}
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Fatalf("ReferencedBlobs over 3 batches = %v, want %v", got, want)
		}
		if got := f.referenced(""); len(got) != 0 {
			t.Fatal("the empty blob id of directories is referenced")
		}
	})
}

// TestCommitUploadIsIdempotent: a commit repeated with its upload id (a confirm retried after a
// lost answer) answers the first entry, even after a move, and places nothing new.
func TestCommitUploadIsIdempotent(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *SQL) {
		f := newFixture(t, s)
		f.mkdir("d")
		f.putFile("d/a.bin", 1, "blob-0", app.TypeFile)
		commit := func(id string) app.Placed {
			t.Helper()
			placed, err := f.st.CommitUpload(f.ctx, f.lib, f.space, p("d/a.bin"), app.Node{Size: 5, BlobID: "blob-1"}, app.ConflictRename, id, app.WriteRules{}, f.tick())
			if err != nil {
				t.Fatalf("CommitUpload(%q): %v", id, err)
			}
			return placed
		}
		first := commit("upload-1")
		if join(first.Path) != "d/a (1).bin" {
			t.Fatalf("first commit placed at %v", first.Path)
		}
		if again := commit("upload-1"); again.Node.Inode != first.Node.Inode || join(again.Path) != "d/a (1).bin" {
			t.Fatalf("repeat placed %+v, want the first entry", again)
		}
		if _, err := f.st.MoveFile(f.ctx, f.lib, f.space, p("d/a (1).bin"), p("moved.bin"), app.ConflictAsk, app.WriteRules{}, f.tick()); err != nil {
			t.Fatal(err)
		}
		if again := commit("upload-1"); again.Node.Inode != first.Node.Inode || join(again.Path) != "moved.bin" {
			t.Fatalf("repeat after move placed %+v", again)
		}
		if other := commit("upload-2"); join(other.Path) != "d/a (1).bin" || other.Node.Inode == first.Node.Inode {
			t.Fatalf("another upload placed %+v", other)
		}
		c, err := f.st.SpaceCounts(f.ctx, f.lib, f.space)
		if err != nil || c.FileNum != 3 {
			t.Fatalf("file count %d (%v), want 3", c.FileNum, err)
		}
	})
}

func TestPruneCommits(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *SQL) {
		f := newFixture(t, s)
		if _, err := s.CommitUpload(f.ctx, f.lib, f.space, p("a.bin"), app.Node{Size: 1}, app.ConflictRename, "old", app.WriteRules{}, t0); err != nil {
			t.Fatal(err)
		}
		if _, err := s.CommitUpload(f.ctx, f.lib, f.space, p("b.bin"), app.Node{Size: 1}, app.ConflictRename, "new", app.WriteRules{}, t0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		n, err := s.PruneCommits(f.ctx, t0.Add(time.Minute), 0)
		if err != nil || n != 1 {
			t.Fatalf("pruned %d (%v), want 1", n, err)
		}
		// The forgotten upload would now place a new entry; the remembered one answers its own.
		if pl, err := s.CommitUpload(f.ctx, f.lib, f.space, p("b.bin"), app.Node{Size: 1}, app.ConflictRename, "new", app.WriteRules{}, t0.Add(2*time.Hour)); err != nil || join(pl.Path) != "b.bin" {
			t.Fatalf("remembered commit: %v %v", pl.Path, err)
		}
		if pl, err := s.CommitUpload(f.ctx, f.lib, f.space, p("a.bin"), app.Node{Size: 1}, app.ConflictRename, "old", app.WriteRules{}, t0.Add(2*time.Hour)); err != nil || join(pl.Path) != "a (1).bin" {
			t.Fatalf("forgotten commit: %v %v", pl.Path, err)
		}
	})
}

func TestTreeStats(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *SQL) {
		f := newFixture(t, s)
		f.mkdir("a/b/c")
		f.mkdir("a/d")
		f.putFile("a/x.bin", 10, "b1", app.TypeFile)
		f.putFile("a/b/c/y.bin", 32, "b2", app.TypeFile)
		f.link("a/d/l", "a/x.bin")
		f.putFile("z.bin", 100, "b3", app.TypeFile) // outside a
		c, err := s.TreeStats(f.ctx, f.lib, f.space, p("a"))
		if err != nil || c.Size != 42 || c.FileNum != 3 || c.DirNum != 3 {
			t.Fatalf("stats of a: %+v (%v), want 42 bytes, 3 files (a link counts), 3 dirs", c, err)
		}
		if _, err := s.DeleteTree(f.ctx, f.lib, f.space, p("a/b"), app.WriteRules{}, time.Now()); err != nil {
			t.Fatal(err)
		}
		if c, err := s.TreeStats(f.ctx, f.lib, f.space, p("a")); err != nil || c.Size != 10 || c.FileNum != 2 || c.DirNum != 1 {
			t.Fatalf("after deleting a/b: %+v (%v)", c, err)
		}
		if _, err := s.TreeStats(f.ctx, f.lib, f.space, p("z.bin")); !errors.Is(err, app.ErrNotDirectory) {
			t.Fatalf("stats of a file: %v", err)
		}
	})
}

// ResolveFileInSpace answers what GetSpace and ResolveFile answer, for every kind of path: a
// file at each depth (past the one-statement depth too), a directory, a symlink, nothing, a path
// through a file, a deleted file and the live one that took its name, another space's file.
func TestResolveFileInSpace(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *SQL) {
		f := newFixture(t, s)
		err := s.UpdateSpaceExtension(f.ctx, f.lib, f.space, func(ext app.SpaceExtension) (app.SpaceExtension, error) {
			ext.DownloadTrafficLimit, ext.IsPublicRead = 1<<20, true
			return ext, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		f.mkdir("d")
		f.mkdir("e")
		f.putFile("d/t.txt", 5, "blob-t", "")
		f.putFile("top.txt", 3, "blob-top", "")
		f.link("e/l", "d/t.txt")
		if _, err := f.st.DeleteFile(f.ctx, f.lib, f.space, p("d/t.txt"), binRules, f.tick()); err != nil {
			t.Fatal(err)
		}
		f.putFile("d/t.txt", 7, "blob-t2", "") // the name again, live beside its deleted row
		f.link("e/l2", "d/t.txt")
		f.putFile("d/gone.txt", 1, "blob-gone", "")
		if _, err := f.st.DeleteFile(f.ctx, f.lib, f.space, p("d/gone.txt"), binRules, f.tick()); err != nil {
			t.Fatal(err)
		}
		deep := strings.Repeat("x/", maxSpaceFileDepth+1)
		f.mkdir(strings.TrimSuffix(deep, "/"))
		f.putFile(deep+"f.txt", 2, "blob-deep", "")
		atLimit := strings.Repeat("x/", maxSpaceFileDepth-1) + "limit.txt"
		f.putFile(atLimit, 4, "blob-limit", "")
		if err := s.CreateSpace(f.ctx, app.Space{LibraryID: f.lib, ID: "other", UserID: "u2", CreatedAt: t0}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateFile(f.ctx, f.lib, "other", p("only-there.txt"), app.Node{Size: 1, BlobID: "blob-o"}, app.ConflictAsk, app.WriteRules{}, f.tick()); err != nil {
			t.Fatal(err)
		}

		paths := []string{"top.txt", "d/t.txt", "d", "d/none", "d/t.txt/x", "e/l", "e/l2", "d/gone.txt", "none/t.txt",
			deep + "f.txt", atLimit, strings.TrimSuffix(atLimit, "limit.txt") + "none", "only-there.txt"}
		for _, space := range []string{f.space, "other", "missing"} {
			for _, path := range paths {
				got, err := s.ResolveFileInSpace(f.ctx, f.lib, space, p(path))
				wantSpace, spaceErr := s.GetSpace(f.ctx, f.lib, space)
				if spaceErr != nil {
					if !errors.Is(err, spaceErr) || !reflect.DeepEqual(got, app.SpaceFile{}) {
						t.Errorf("%s %q: %+v, %v; want %v", space, path, got, err, spaceErr)
					}
					continue
				}
				want, fileErr := s.ResolveFile(f.ctx, f.lib, space, p(path))
				if err != nil || !reflect.DeepEqual(got.Space, wantSpace) || !reflect.DeepEqual(got.File, want) ||
					!errors.Is(got.FileErr, fileErr) || (got.FileErr == nil) != (fileErr == nil) {
					t.Errorf("%s %q: %+v, %v; want %+v, %+v, %v", space, path, got, err, wantSpace, want, fileErr)
				}
			}
		}
		// The answers that matter to a download, spelt out.
		got, err := s.ResolveFileInSpace(f.ctx, f.lib, f.space, p("d/t.txt"))
		if err != nil || got.File.Node.BlobID != "blob-t2" || got.Space.Ext.DownloadTrafficLimit != 1<<20 || !got.Space.Ext.IsPublicRead {
			t.Fatalf("live file = %+v, %v", got, err)
		}
		if got, _ := s.ResolveFileInSpace(f.ctx, f.lib, f.space, p("e/l2")); got.File.Node.BlobID != "blob-t2" || !reflect.DeepEqual(got.File.LinkPath, p("e/l2")) {
			t.Fatalf("symlink = %+v", got)
		}
		if got, _ := s.ResolveFileInSpace(f.ctx, f.lib, f.space, p("d/gone.txt")); !errors.Is(got.FileErr, app.ErrNodeNotFound) {
			t.Fatalf("deleted file = %+v", got)
		}
		if got, _ := s.ResolveFileInSpace(f.ctx, f.lib, f.space, p("d")); !errors.Is(got.FileErr, app.ErrIsDirectory) {
			t.Fatalf("directory = %+v", got)
		}
		for _, path := range []string{deep + "f.txt", atLimit} {
			if got, err := s.ResolveFileInSpace(f.ctx, f.lib, f.space, p(path)); err != nil || got.File.Node.Name != p(path)[len(p(path))-1] {
				t.Fatalf("%q = %+v, %v", path, got, err)
			}
		}
	})
}

// TestDestinationInSpace: the one read of a begin answers what GetSpace and the Lookups of the
// path and its parent answer, on every kind of path, at and past the depth of one statement.
func TestDestinationInSpace(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *SQL) {
		f := newFixture(t, s)
		f.mkdir("d")
		f.putFile("d/t.txt", 5, "blob-t", "")
		f.putFile("top.txt", 3, "blob-top", "")
		f.link("d/l", "top.txt")
		f.putFile("d/gone.txt", 1, "blob-gone", "")
		if _, err := f.st.DeleteFile(f.ctx, f.lib, f.space, p("d/gone.txt"), binRules, f.tick()); err != nil {
			t.Fatal(err)
		}
		deep := strings.Repeat("x/", maxSpaceFileDepth+1)
		f.mkdir(strings.TrimSuffix(deep, "/"))
		atLimit := strings.Repeat("x/", maxSpaceFileDepth)
		paths := []string{"new.txt", "top.txt", "d", "d/new.txt", "d/t.txt", "d/l", "d/gone.txt", "top.txt/x", "d/t.txt/x/y",
			"none/new.txt", "none/deeper/new.txt", deep + "new.txt", atLimit + "new.txt", atLimit + "x", "x/new.txt"}
		for _, space := range []string{f.space, "missing"} {
			for _, path := range paths {
				got, err := s.DestinationInSpace(f.ctx, f.lib, space, p(path))
				wantSpace, spaceErr := s.GetSpace(f.ctx, f.lib, space)
				if spaceErr != nil {
					if !errors.Is(err, spaceErr) || !reflect.DeepEqual(got, app.SpaceDestination{}) {
						t.Errorf("%s %q: %+v, %v; want %v", space, path, got, err, spaceErr)
					}
					continue
				}
				want := app.SpaceDestination{Space: wantSpace}
				want.Existing, want.ExistingErr = s.Lookup(f.ctx, f.lib, space, p(path))
				if errors.Is(want.ExistingErr, app.ErrNodeNotFound) {
					parent, err := s.Lookup(f.ctx, f.lib, space, p(path)[:len(p(path))-1])
					switch {
					case err != nil:
						want.ParentErr = err
					case !parent.IsDir():
						want.ParentErr = app.ErrNotDirectory
					}
				}
				if err != nil || !reflect.DeepEqual(got.Space, want.Space) || !reflect.DeepEqual(got.Existing, want.Existing) ||
					!sameErr(got.ExistingErr, want.ExistingErr) || !sameErr(got.ParentErr, want.ParentErr) {
					t.Errorf("%s %q:\n got %+v, %v\nwant %+v", space, path, got, err, want)
				}
			}
		}
	})
}

// sameErr: both nil, or the same sentinel.
func sameErr(got, want error) bool {
	if got == nil || want == nil {
		return got == want
	}
	return errors.Is(got, want) || errors.Is(want, got)
}
