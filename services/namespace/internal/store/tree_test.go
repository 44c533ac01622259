package store

import (
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/opensmh/opensmh/services/namespace/internal/app"
)

// bigTree makes dir root with 200 entries below it (dirs d0..d9 with sub e and files) and
// answers every entry's inode by path.
func bigTree(f *fixture, root string) map[string]int64 {
	f.t.Helper()
	inodes := map[string]int64{root: f.mkdir(root).Inode}
	for i := range 10 {
		d := fmt.Sprintf("%s/d%d", root, i)
		inodes[d] = f.mkdir(d).Inode
		inodes[d+"/e"] = f.mkdir(d + "/e").Inode
		for j := range 9 {
			fp := fmt.Sprintf("%s/f%d.txt", d, j)
			inodes[fp] = f.file(fp, int64(j+1)).Inode
			fp = fmt.Sprintf("%s/e/g%d", d, j)
			inodes[fp] = f.file(fp, 1).Inode
		}
	}
	return inodes // 1 + 10*(2+18) = 201 entries: the root plus 200 below it
}

func TestMove(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *SQL) {
		f := newFixture(t, s)
		inodes := bigTree(f, "src")
		f.mkdir("dst")
		before := f.counts()

		// The subtree moves as one row: every descendant keeps its inode and its path follows.
		path, err := f.st.Move(f.ctx, f.lib, f.space, p("src"), p("dst/new/moved"), app.ConflictAsk, app.WriteRules{}, f.tick())
		if err != nil || !reflect.DeepEqual(path, p("dst/new/moved")) {
			t.Fatalf("Move = %v, %v", path, err)
		}
		after := f.counts()
		if after.DirNum != before.DirNum+1 || after.FileNum != before.FileNum || after.Size != before.Size {
			t.Fatalf("counters %+v → %+v: only the created parent dst/new should count", before, after)
		}
		for old, inode := range inodes {
			got, err := f.st.PathOf(f.ctx, f.lib, f.space, inode)
			want := append(p("dst/new/moved"), p(old)[1:]...)
			if err != nil || !reflect.DeepEqual(got, want) {
				t.Fatalf("PathOf(%s) = %v, %v; want %v", old, got, err, want)
			}
		}
		if rows := rawQueryInt(t, s, "SELECT COUNT(*) FROM nodes WHERE parent_inode = ?", inodes["src"]); rows != 10 {
			t.Fatalf("the moved directory's children were rewritten? %d rows", rows)
		}
		_, err = f.st.Lookup(f.ctx, f.lib, f.space, p("src"))
		wantErr(t, "old path", err, app.ErrNodeNotFound)
		root := f.lookup("")
		if !root.ModifiedAt.Equal(f.now) {
			t.Fatal("the source parent's modification time did not move")
		}

		// Into its own subtree, however deep, or onto a path through it.
		for _, to := range []string{"dst/new/moved/d1", "dst/new/moved/d1/e/x", "dst/new/moved/x/y"} {
			_, err = f.st.Move(f.ctx, f.lib, f.space, p("dst/new/moved"), p(to), app.ConflictAsk, app.WriteRules{}, f.tick())
			wantErr(t, "move into "+to, err, app.ErrDestinationInside)
		}
		_, err = f.st.Move(f.ctx, f.lib, f.space, nil, p("x"), app.ConflictAsk, app.WriteRules{}, f.tick())
		wantErr(t, "move the root", err, app.ErrDestinationInside)

		// Onto itself: nothing changes.
		mt := f.lookup("dst").ModifiedAt
		path, err = f.st.Move(f.ctx, f.lib, f.space, p("dst/new"), p("dst/new"), app.ConflictRename, app.WriteRules{}, f.tick())
		if err != nil || !reflect.DeepEqual(path, p("dst/new")) || !f.lookup("dst").ModifiedAt.Equal(mt) {
			t.Fatalf("self move = %v, %v", path, err)
		}

		// Rename strategies: files keep the extension, directories append.
		f.file("a.jpg", 5)
		f.file("b.jpg", 6)
		f.mkdir("x")
		f.mkdir("y")
		_, err = f.st.Move(f.ctx, f.lib, f.space, p("a.jpg"), p("b.jpg"), app.ConflictAsk, app.WriteRules{}, f.tick())
		wantErr(t, "ask", err, app.ErrNameTaken)
		path, err = f.st.Move(f.ctx, f.lib, f.space, p("a.jpg"), p("b.jpg"), app.ConflictRename, app.WriteRules{}, f.tick())
		if err != nil || !reflect.DeepEqual(path, p("b (1).jpg")) {
			t.Fatalf("file rename = %v, %v", path, err)
		}
		path, err = f.st.Move(f.ctx, f.lib, f.space, p("x"), p("y"), app.ConflictRename, app.WriteRules{}, f.tick())
		if err != nil || !reflect.DeepEqual(path, p("y (1)")) {
			t.Fatalf("dir rename = %v, %v", path, err)
		}
		_, err = f.st.Move(f.ctx, f.lib, f.space, p("y (1)"), p("y"), app.ConflictOverwrite, app.WriteRules{}, f.tick())
		wantErr(t, "overwrite a directory", err, app.ErrNameTaken)
		// Overwrite replaces a file with a file; the replaced one leaves the counters.
		c := f.counts()
		path, err = f.st.Move(f.ctx, f.lib, f.space, p("b (1).jpg"), p("b.jpg"), app.ConflictOverwrite, app.WriteRules{}, f.tick())
		if err != nil || !reflect.DeepEqual(path, p("b.jpg")) {
			t.Fatalf("overwrite = %v, %v", path, err)
		}
		wantCounts(t, "overwrite", f.counts(), c.Size-6, c.FileNum-1, c.DirNum)
		if got := f.lookup("b.jpg"); got.Size != 5 {
			t.Fatalf("b.jpg is %+v, want the moved a.jpg", got)
		}
		// A file in the destination's parents.
		_, err = f.st.Move(f.ctx, f.lib, f.space, p("y"), p("b.jpg/y"), app.ConflictAsk, app.WriteRules{}, f.tick())
		wantErr(t, "through a file", err, app.ErrNotDirectory)
		_, err = f.st.Move(f.ctx, f.lib, f.space, p("missing"), p("z"), app.ConflictAsk, app.WriteRules{}, f.tick())
		wantErr(t, "missing source", err, app.ErrNodeNotFound)
		checkInvariants(t, s, f.lib, f.space)
	})
}

func TestCopyTree(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *SQL) {
		f := newFixture(t, s)
		inodes := bigTree(f, "src")
		f.file("src/d0/e/meta", 3)
		if err := f.st.UpdateAttrs(f.ctx, f.lib, f.space, p("src/d0/e/meta"), []string{"l"}, map[string]string{"k": "v"}, "u1", f.tick()); err != nil {
			t.Fatal(err)
		}
		before := f.counts()
		path, err := f.st.CopyTree(f.ctx, f.lib, f.space, p("src"), p("a/b/copy"), app.ConflictAsk, app.WriteRules{}, f.tick())
		if err != nil || !reflect.DeepEqual(path, p("a/b/copy")) {
			t.Fatalf("CopyTree = %v, %v", path, err)
		}
		// 202 copied entries (src, 20 dirs, 181 files) and 2 created parents.
		wantCounts(t, "after copy", f.counts(), 2*before.Size, 2*before.FileNum, 2*before.DirNum+2)
		src := treeShape(f, "src")
		dst := treeShape(f, "a/b/copy")
		if !reflect.DeepEqual(src, dst) {
			t.Fatalf("copy differs:\n%v\n%v", src, dst)
		}
		for old, inode := range inodes {
			n := f.lookup("a/b/copy" + old[len("src"):])
			if n.Inode == inode {
				t.Fatalf("%s kept its inode in the copy", old)
			}
		}
		if n := f.lookup("a/b/copy/d0/e/meta"); n.MetaData["k"] != "v" || !slices.Equal(n.Labels, []string{"l"}) {
			t.Fatalf("attributes not copied: %+v", n)
		}

		_, err = f.st.CopyTree(f.ctx, f.lib, f.space, p("src"), p("src/d1/inside"), app.ConflictAsk, app.WriteRules{}, f.tick())
		wantErr(t, "into own subtree", err, app.ErrDestinationInside)
		_, err = f.st.CopyTree(f.ctx, f.lib, f.space, p("src"), p("src"), app.ConflictAsk, app.WriteRules{}, f.tick())
		wantErr(t, "onto itself, ask", err, app.ErrNameTaken)
		path, err = f.st.CopyTree(f.ctx, f.lib, f.space, p("src/d1"), p("src/d1"), app.ConflictRename, app.WriteRules{}, f.tick())
		if err != nil || !reflect.DeepEqual(path, p("src/d1 (1)")) {
			t.Fatalf("copy beside itself = %v, %v", path, err)
		}
		path, err = f.st.CopyTree(f.ctx, f.lib, f.space, p("src/d1/f1.txt"), p("src/d1/f2.txt"), app.ConflictRename, app.WriteRules{}, f.tick())
		if err != nil || !reflect.DeepEqual(path, p("src/d1/f2 (1).txt")) {
			t.Fatalf("file copy rename = %v, %v", path, err)
		}
		c := f.counts()
		_, err = f.st.CopyTree(f.ctx, f.lib, f.space, p("src/d1/f1.txt"), p("src/d1/f2.txt"), app.ConflictOverwrite, app.WriteRules{}, f.tick())
		if err != nil {
			t.Fatal(err)
		}
		wantCounts(t, "overwrite copy", f.counts(), c.Size-3+2, c.FileNum, c.DirNum)
		checkInvariants(t, s, f.lib, f.space)
	})
}

// treeShape lists a subtree as relative path → type/size, for comparing copies.
func treeShape(f *fixture, root string) map[string]string {
	out := map[string]string{}
	var walk func(dir int64, prefix string)
	walk = func(dir int64, prefix string) {
		opts := app.ListOptions{Limit: 1000}
		for {
			page, err := f.st.List(f.ctx, f.lib, f.space, dir, opts)
			if err != nil {
				f.t.Fatal(err)
			}
			for _, e := range page.Entries {
				out[prefix+e.Name] = fmt.Sprintf("%s/%d/%d/%d", e.Type, e.Size, page.FileCount, page.SubDirCount)
				if e.IsDir() {
					walk(e.Inode, prefix+e.Name+"/")
				}
			}
			if page.NextMarker == "" {
				return
			}
			opts.Marker = page.NextMarker
		}
	}
	walk(f.lookup(root).Inode, "")
	return out
}

func TestDeleteTree(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *SQL) {
		f := newFixture(t, s)
		bigTree(f, "a")
		f.file("keep", 4)
		if n, err := f.st.CountTree(f.ctx, f.lib, f.space, p("a"), 0); err != nil || n != 200 {
			t.Fatalf("CountTree = %d, %v", n, err)
		}
		if n, err := f.st.CountTree(f.ctx, f.lib, f.space, p("a"), 50); err != nil || n != 50 {
			t.Fatalf("CountTree(atMost 50) = %d, %v", n, err)
		}
		if n, err := f.st.CountTree(f.ctx, f.lib, f.space, nil, 0); err != nil || n != 202 {
			t.Fatalf("CountTree(root) = %d, %v", n, err)
		}
		if n, err := f.st.CountTree(f.ctx, f.lib, f.space, p("keep"), 0); err != nil || n != 0 {
			t.Fatalf("CountTree(file) = %d, %v", n, err)
		}

		if _, err := f.st.DeleteTree(f.ctx, f.lib, f.space, p("a/d3"), app.WriteRules{}, time.Now()); err != nil {
			t.Fatal(err)
		}
		// d3: 2 dirs, 18 files of sizes 1..9 and nine 1s.
		wantCounts(t, "after deleting d3", f.counts(), 10*(45+9)-(45+9)+4, 10*18+1-18, 21-2)
		a := f.lookup("a")
		page, _ := f.st.List(f.ctx, f.lib, f.space, a.Inode, app.ListOptions{})
		if page.SubDirCount != 9 || len(page.Entries) != 9 {
			t.Fatalf("a lists %d dirs: %s", page.SubDirCount, names(page.Entries))
		}
		_, err := f.st.Lookup(f.ctx, f.lib, f.space, p("a/d3/e"))
		wantErr(t, "deleted", err, app.ErrNodeNotFound)
		// The name is free again; the old rows stay until purged, only the top one marked
		// (docs/lifecycle.md: a delete changes one row whatever the subtree holds).
		f.mkdir("a/d3")
		if n := rawQueryInt(t, s, "SELECT COUNT(*) FROM nodes WHERE deleted_at IS NOT NULL"); n != 1 {
			t.Fatalf("%d rows marked deleted, want 1", n)
		}

		if _, err := f.st.DeleteTree(f.ctx, f.lib, f.space, p("a"), app.WriteRules{}, time.Now()); err != nil {
			t.Fatal(err)
		}
		wantCounts(t, "after deleting a", f.counts(), 4, 1, 0)
		wantErr(t, "delete missing", second(f.st.DeleteTree(f.ctx, f.lib, f.space, p("a"), app.WriteRules{}, time.Now())), app.ErrNodeNotFound)
		if _, err := f.st.DeleteTree(f.ctx, f.lib, f.space, nil, app.WriteRules{}, time.Now()); err == nil {
			t.Fatal("deleting the root succeeded")
		}
		checkInvariants(t, s, f.lib, f.space)

		n, err := s.DrainPurges(f.ctx, time.Now().Add(time.Hour), 0)
		if err != nil || n != 202 {
			t.Fatalf("DrainPurges = %d, %v", n, err)
		}
		if n := rawQueryInt(t, s, "SELECT COUNT(*) FROM nodes"); n != 1 {
			t.Fatalf("%d rows after purge, want 1", n)
		}
		checkInvariants(t, s, f.lib, f.space)
	})
}

func TestAttrsAndPaths(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *SQL) {
		f := newFixture(t, s)
		f.mkdir("a/b")
		fl := f.file("a/b/c", 1)
		if err := f.st.UpdateAttrs(f.ctx, f.lib, f.space, p("a/b/c"), []string{"x"}, nil, "u1", f.tick()); err != nil {
			t.Fatal(err)
		}
		if err := f.st.UpdateAttrs(f.ctx, f.lib, f.space, p("a/b/c"), nil, map[string]string{"m": "1"}, "u1", f.tick()); err != nil {
			t.Fatal(err)
		}
		n := f.lookup("a/b/c")
		if !slices.Equal(n.Labels, []string{"x"}) || n.MetaData["m"] != "1" || !n.ModifiedAt.Equal(f.now) {
			t.Fatalf("attributes %+v", n)
		}
		if err := f.st.UpdateAttrs(f.ctx, f.lib, f.space, p("a/b/c"), []string{}, map[string]string{}, "u1", f.tick()); err != nil {
			t.Fatal(err)
		}
		if n := f.lookup("a/b/c"); n.Labels != nil || n.MetaData != nil {
			t.Fatalf("cleared attributes %+v", n)
		}
		wantErr(t, "missing", f.st.UpdateAttrs(f.ctx, f.lib, f.space, p("a/x"), nil, nil, "u1", f.tick()), app.ErrNodeNotFound)

		path, err := f.st.PathOf(f.ctx, f.lib, f.space, fl.Inode)
		if err != nil || !reflect.DeepEqual(path, p("a/b/c")) {
			t.Fatalf("PathOf = %v, %v", path, err)
		}
		if path, err := f.st.PathOf(f.ctx, f.lib, f.space, 0); err != nil || len(path) != 0 {
			t.Fatalf("PathOf(root) = %v, %v", path, err)
		}
		_, err = f.st.PathOf(f.ctx, f.lib, "other", fl.Inode)
		wantErr(t, "other space", err, app.ErrSpaceNotFound)
		if _, err := f.st.DeleteTree(f.ctx, f.lib, f.space, p("a"), app.WriteRules{}, time.Now()); err != nil {
			t.Fatal(err)
		}
		_, err = f.st.PathOf(f.ctx, f.lib, f.space, fl.Inode)
		wantErr(t, "deleted", err, app.ErrNodeNotFound)
	})
}

// second answers the error of a call that also answers a value.
func second[T any](_ T, err error) error { return err }
