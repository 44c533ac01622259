package app_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/opensmh/opensmh/pkg/authz"
	"github.com/opensmh/opensmh/services/namespace/internal/app"
	"github.com/opensmh/opensmh/services/namespace/internal/store"
	"github.com/opensmh/opensmh/services/namespace/storetest"
)

// listCounter counts the directory listings the use cases ask of the store.
type listCounter struct {
	*store.SQL
	lists atomic.Int64
}

func (c *listCounter) List(ctx context.Context, libraryID, spaceID string, dir int64, opts app.ListOptions) (app.Page, error) {
	c.lists.Add(1)
	return c.SQL.List(ctx, libraryID, spaceID, dir, opts)
}

// treePages reads a share's tree for a zip page by page, limit entries a page.
func treePages(t *testing.T, ns *app.Namespace, code, chain string, limit int) []string {
	t.Helper()
	var got []string
	marker := ""
	for pages := 0; ; pages++ {
		if pages > 1000 {
			t.Fatal("the tree's pages never end")
		}
		tree, err := ns.ListSharedTree(context.Background(), code, chain, marker, limit, true)
		if err != nil {
			t.Fatalf("page %d (limit %d): %v", pages, limit, err)
		}
		if len(tree.Entries) > limit || (tree.NextMarker != "" && len(tree.Entries) != limit) {
			t.Fatalf("page %d holds %d entries for limit %d (next %q)", pages, len(tree.Entries), limit, tree.NextMarker)
		}
		for _, e := range tree.Entries {
			got = append(got, strings.Join(e.Path, "/"))
		}
		if tree.NextMarker == "" {
			return got
		}
		marker = tree.NextMarker
	}
}

// A folder zip's tree, read in pages of any size, is the tree read at once; each page resumes
// where the last ended (the reads grow with the tree, not with the tree times its pages); and a
// page boundary survives the tree changing under it.
func TestSharedTreePages(t *testing.T) {
	for _, e := range storetest.Engines() {
		t.Run(e.Name, func(t *testing.T) {
			f := newSaveFixture(t, e.DSN(t), 100)
			for _, d := range []string{"docs/sub/inner", "docs/z", "docs/z/deep", "docs/empty"} {
				f.mkdir("src", d)
			}
			for i, p := range []string{"docs/sub/c1", "docs/sub/c2", "docs/sub/inner/i1", "docs/z/deep/x.txt", "docs/m.txt", "docs/aa.txt"} {
				f.put("src", p, fmt.Sprint("blob-t", i), int64(i+1))
			}
			f.newShare("zip", app.ShareConfig{IsPermanent: true, CanDownload: true}, "docs", "top.txt")
			whole := treePages(t, f.ns, "code-zip", "", 1000)
			want := []string{"docs", "docs/a.txt", "docs/aa.txt", "docs/empty", "docs/m.txt", "docs/sub", "docs/sub/b.txt",
				"docs/sub/c1", "docs/sub/c2", "docs/sub/inner", "docs/sub/inner/i1", "docs/z", "docs/z/deep", "docs/z/deep/x.txt", "top.txt"}
			if strings.Join(whole, ",") != strings.Join(want, ",") {
				t.Fatalf("the tree at once:\n%v\nwant\n%v", whole, want)
			}
			chain := itoa(f.docs.Inode)
			under := treePages(t, f.ns, "code-zip", chain, 1000)
			for limit := 1; limit <= 7; limit++ {
				if got := treePages(t, f.ns, "code-zip", "", limit); strings.Join(got, ",") != strings.Join(whole, ",") {
					t.Fatalf("pages of %d:\n%v\nwant\n%v", limit, got, whole)
				}
				if got := treePages(t, f.ns, "code-zip", chain, limit); strings.Join(got, ",") != strings.Join(under, ",") {
					t.Fatalf("pages of %d under docs:\n%v\nwant\n%v", limit, got, under)
				}
			}

			// Reads: one page at a time costs about what the whole tree at once does.
			counter := &listCounter{SQL: f.st}
			ns := app.New(app.Config{Store: counter, Libraries: fakeLibraries{"tlib": {IsMultiSpace: true, IsFileLibrary: true}},
				Auth: authz.New(shareTokens{}, nil), Clock: f.clk, LibraryTTL: time.Nanosecond})
			defer ns.Close()
			treePages(t, ns, "code-zip", "", 1000)
			atOnce := counter.lists.Swap(0)
			treePages(t, ns, "code-zip", "", 1)
			if paged := counter.lists.Load(); paged > 4*int64(len(whole))+atOnce {
				t.Fatalf("pages of one entry listed %d directories; the tree at once %d", paged, atOnce)
			}

			// The tree changes between pages: the directory the last page ended in goes, a later
			// file comes. Nothing is given twice, and what lies after the cursor is still given.
			first, err := f.ns.ListSharedTree(context.Background(), "code-zip", chain, "", 5, true)
			if err != nil {
				t.Fatal(err)
			}
			last := first.Entries[len(first.Entries)-1]
			if strings.Join(last.Path, "/") != "sub" {
				t.Fatalf("the first 5 under docs end at %v", last.Path)
			}
			if _, err := f.ns.DeleteDirectory(as("tlib:admin@src,dst"), "tlib", "src", "docs/sub", false, false); err != nil {
				t.Fatal(err)
			}
			f.put("src", "docs/zz.txt", "blob-zz", 1)
			rest, err := f.ns.ListSharedTree(context.Background(), "code-zip", chain, first.NextMarker, 1000, true)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, e := range rest.Entries {
				names = append(names, strings.Join(e.Path, "/"))
			}
			if strings.Join(names, ",") != "z,z/deep,z/deep/x.txt,zz.txt" {
				t.Fatalf("after the change the walk gave %v", names)
			}

			// A marker is the walk's own, for the listing it came from.
			for _, bad := range []string{"x", "w", "w!!", "r0", first.NextMarker + "A", "w" + strings.Repeat("A", 40)} {
				if _, err := f.ns.ListSharedTree(context.Background(), "code-zip", chain, bad, 10, true); !errors.Is(err, app.ErrMarkerNotFound) {
					t.Fatalf("marker %q: %v, want ErrMarkerNotFound", bad, err)
				}
			}
			if _, err := f.ns.ListSharedTree(context.Background(), "code-zip", "", first.NextMarker, 10, true); !errors.Is(err, app.ErrMarkerNotFound) {
				t.Fatalf("a marker under docs at the share's root: %v, want ErrMarkerNotFound", err)
			}
		})
	}
}
