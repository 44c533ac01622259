package store

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/opensmh/opensmh/services/namespace/internal/app"
)

// listingFixture fills directory "d" with directories and files whose sort keys collide on
// purpose (equal sizes and times), so tie-breaking by inode is exercised.
func listingFixture(t *testing.T, s *SQL) (*fixture, app.Node, []app.Node) {
	f := newFixture(t, s)
	f.mkdir("d")
	var entries []app.Node
	names := []string{"b", "a", "Z", "ab", "é", "c", "aa", "b0", "_", "a.b"}
	for i, name := range names {
		if i%3 == 0 {
			at := app.DirAttrs{LocalCreationTime: fmt.Sprintf("2020-%02d", 10-i), LocalModificationTime: fmt.Sprintf("2021-%02d", i%4)}
			n, _, err := f.st.MakeDirectories(f.ctx, f.lib, f.space, []string{"d", "dir-" + name}, app.ConflictAsk, at, f.tick())
			if err != nil {
				t.Fatal(err)
			}
			entries = append(entries, n)
		}
		now := f.now
		if i%2 == 0 {
			now = f.tick() // every other file shares the previous entry's time
		}
		placed, err := s.CreateFile(f.ctx, f.lib, f.space, []string{"d", name}, app.Node{
			Size: int64(i % 4), LocalCreationTime: fmt.Sprintf("2020-%02d", i%5), LocalModificationTime: fmt.Sprintf("2022-%02d", i),
		}, app.ConflictAsk, app.WriteRules{}, now)
		if err != nil {
			t.Fatal(err)
		}
		entries = append(entries, placed.Node)
	}
	// A file in the root and a deleted file: neither belongs to d's listing.
	f.file("outside", 1)
	f.file("d/gone", 1)
	if _, err := f.st.DeleteTree(f.ctx, f.lib, f.space, p("d/gone"), app.WriteRules{}, time.Now()); err != nil {
		t.Fatal(err)
	}
	return f, f.lookup("d"), entries
}

// expected computes a listing in Go from the entries: the reference the engines must match.
func expected(entries []app.Node, opts app.ListOptions) []string {
	key := func(n app.Node) (string, int64) {
		switch opts.OrderBy {
		case app.OrderModificationTime:
			return "", n.ModifiedAt.UnixMilli()
		case app.OrderSize:
			return "", n.Size
		case app.OrderCreationTime:
			return "", n.CreatedAt.UnixMilli()
		case app.OrderLocalCreationTime:
			return n.LocalCreationTime, 0
		case app.OrderLocalModificationTime:
			return n.LocalModificationTime, 0
		default:
			return n.Name, 0
		}
	}
	var sel []app.Node
	for _, e := range entries {
		if opts.OnlyDirs && !e.IsDir() || opts.OnlyFiles && e.IsDir() || !strings.HasPrefix(e.Name, opts.Prefix) {
			continue
		}
		if opts.StartName != "" && (opts.OrderBy == app.OrderDefault || opts.OrderBy == app.OrderName) &&
			(!opts.Desc && e.Name <= opts.StartName || opts.Desc && e.Name >= opts.StartName) {
			continue
		}
		sel = append(sel, e)
	}
	slices.SortFunc(sel, func(a, b app.Node) int {
		if !opts.Union && a.IsDir() != b.IsDir() {
			if a.IsDir() {
				return -1
			}
			return 1
		}
		as, an := key(a)
		bs, bn := key(b)
		c := cmp.Or(cmp.Compare(as, bs), cmp.Compare(an, bn), cmp.Compare(a.Inode, b.Inode))
		if opts.Desc {
			return -c
		}
		return c
	})
	var out []string
	for _, e := range sel {
		out = append(out, e.Name)
	}
	return out
}

func TestListOrders(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *SQL) {
		f, d, entries := listingFixture(t, s)
		// The entries' modification times as stored (directories moved when children came).
		for i, e := range entries {
			entries[i] = f.lookup("d/" + e.Name)
		}
		orders := []app.OrderBy{app.OrderDefault, app.OrderName, app.OrderModificationTime, app.OrderSize,
			app.OrderCreationTime, app.OrderLocalCreationTime, app.OrderLocalModificationTime}
		for _, order := range orders {
			for _, desc := range []bool{false, true} {
				for _, union := range []bool{false, true} {
					for _, filter := range []string{"", "dirs", "files"} {
						opts := app.ListOptions{OrderBy: order, Desc: desc, Union: union, OnlyDirs: filter == "dirs", OnlyFiles: filter == "files"}
						name := fmt.Sprintf("order=%q desc=%v union=%v filter=%s", order, desc, union, filter)
						want := expected(entries, opts)
						opts.Limit = 1000
						if got := f.listAll(d.Inode, opts); !reflect.DeepEqual(got, want) {
							t.Fatalf("%s:\n got %v\nwant %v", name, got, want)
						}
						for _, limit := range []int{1, 7} {
							opts.Limit = limit
							if got := f.listAll(d.Inode, opts); !reflect.DeepEqual(got, want) {
								t.Fatalf("%s limit %d:\n got %v\nwant %v", name, limit, got, want)
							}
						}
						// Page mode: consecutive offsets give the same sequence.
						var paged []string
						for off := 0; off < len(want)+3; off += 3 {
							page, err := f.st.List(f.ctx, f.lib, f.space, d.Inode, app.ListOptions{OrderBy: order, Desc: desc, Union: union,
								OnlyDirs: opts.OnlyDirs, OnlyFiles: opts.OnlyFiles, Offset: off, Limit: 3})
							if err != nil {
								t.Fatal(err)
							}
							for _, e := range page.Entries {
								paged = append(paged, e.Name)
							}
						}
						if !reflect.DeepEqual(paged, want) {
							t.Fatalf("%s page mode:\n got %v\nwant %v", name, paged, want)
						}
					}
				}
			}
		}

		for _, tt := range []struct {
			name string
			opts app.ListOptions
		}{
			{"prefix", app.ListOptions{Prefix: "a"}},
			{"prefix dirs", app.ListOptions{Prefix: "dir-a"}},
			{"prefix union desc", app.ListOptions{Prefix: "a", Union: true, Desc: true}},
			{"prefix non-ascii", app.ListOptions{Prefix: "é"}},
			{"prefix none", app.ListOptions{Prefix: "zz"}},
			{"start", app.ListOptions{StartName: "aa"}},
			{"start desc", app.ListOptions{StartName: "b", Desc: true}},
			{"start union", app.ListOptions{StartName: "b", Union: true}},
			{"start and prefix", app.ListOptions{StartName: "a", Prefix: "a"}},
			{"start ignored by size", app.ListOptions{StartName: "b", OrderBy: app.OrderSize}},
			{"prefix by size", app.ListOptions{Prefix: "a", OrderBy: app.OrderSize, Desc: true}},
		} {
			want := expected(entries, tt.opts)
			for _, limit := range []int{2, 1000} {
				tt.opts.Limit = limit
				if got := f.listAll(d.Inode, tt.opts); !reflect.DeepEqual(got, want) {
					t.Fatalf("%s (limit %d):\n got %v\nwant %v", tt.name, limit, got, want)
				}
			}
		}

		page, err := f.st.List(f.ctx, f.lib, f.space, d.Inode, app.ListOptions{Limit: 2})
		if err != nil {
			t.Fatal(err)
		}
		if page.SubDirCount != 4 || page.FileCount != 10 || page.NextMarker == "" || len(page.Entries) != 2 {
			t.Fatalf("counts dirs=%d files=%d marker=%q entries=%s", page.SubDirCount, page.FileCount, page.NextMarker, names(page.Entries))
		}
		root, err := f.st.List(f.ctx, f.lib, f.space, 0, app.ListOptions{Limit: 10})
		if err != nil || root.SubDirCount != 1 || root.FileCount != 1 || names(root.Entries) != "d,outside" || root.NextMarker != "" {
			t.Fatalf("root listing %+v, %v", root, err)
		}

		// Markers are tied to their listing's options; anything else is not found.
		for _, bad := range []app.ListOptions{
			{Marker: "not base64 !"}, {Marker: "e30"}, {Marker: "bm9wZQ"},
			{Marker: page.NextMarker, OrderBy: app.OrderSize}, {Marker: page.NextMarker, Desc: true}, {Marker: page.NextMarker, Union: true},
		} {
			_, err := f.st.List(f.ctx, f.lib, f.space, d.Inode, bad)
			wantErr(t, "marker "+bad.Marker, err, app.ErrMarkerNotFound)
		}
		// OrderDefault and OrderName are the same listing, so their markers are interchangeable.
		if _, err := f.st.List(f.ctx, f.lib, f.space, d.Inode, app.ListOptions{Marker: page.NextMarker, OrderBy: app.OrderName}); err != nil {
			t.Fatalf("name marker: %v", err)
		}

		file := f.lookup("d/a")
		_, err = f.st.List(f.ctx, f.lib, f.space, file.Inode, app.ListOptions{})
		wantErr(t, "list a file", err, app.ErrNotDirectory)
		_, err = f.st.List(f.ctx, f.lib, f.space, 999999, app.ListOptions{})
		wantErr(t, "list a missing inode", err, app.ErrNodeNotFound)
		_, err = f.st.List(f.ctx, f.lib, "other", d.Inode, app.ListOptions{})
		wantErr(t, "inode of another space", err, app.ErrNodeNotFound)
		_, err = f.st.List(f.ctx, f.lib, "other", 0, app.ListOptions{})
		wantErr(t, "root of a missing space", err, app.ErrSpaceNotFound)
	})
}

// TestListMarkerConcurrent walks ~500 entries 37 a page while another goroutine adds and
// removes entries: every entry present throughout is listed exactly once, none twice.
func TestListMarkerConcurrent(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *SQL) {
		f := newFixture(t, s)
		d := f.mkdir("d")
		stable := map[string]bool{}
		for i := range 500 {
			name := fmt.Sprintf("s%04d", i*2)
			if i%5 == 0 {
				f.mkdir("d/" + name)
			} else {
				f.file("d/"+name, int64(i%7))
			}
			stable[name] = true
		}
		for _, opts := range []app.ListOptions{
			{Limit: 37},
			{Limit: 37, Desc: true, Union: true},
			{Limit: 37, OrderBy: app.OrderSize},
			{Limit: 37, OrderBy: app.OrderCreationTime, Desc: true},
		} {
			ctx, cancel := context.WithCancel(context.Background())
			var (
				wg    sync.WaitGroup
				churn atomic.Int64 // changes made so far, so every page is interleaved with some
			)
			wg.Add(1)
			go func() { // churn: add odd names (interleaving the stable ones), remove some again
				defer wg.Done()
				rng := rand.New(rand.NewPCG(1, 2))
				now := time.Now()
				// The writes use a context that is never cancelled: a PostgreSQL commit cancelled
				// in flight can still land after the call returned, and the invariants below
				// would then read the counters and the rows on either side of it.
				stop := ctx
				ctx := context.Background()
				for i := 0; stop.Err() == nil; i++ {
					name := fmt.Sprintf("s%04d", rng.IntN(1000)*2+1)
					path := []string{"d", name}
					now = now.Add(time.Millisecond)
					var err error
					switch rng.IntN(3) {
					case 0:
						_, _, err = s.MakeDirectories(ctx, f.lib, f.space, path, app.ConflictAsk, app.DirAttrs{}, now)
					case 1:
						_, err = s.CreateFile(ctx, f.lib, f.space, path, app.Node{Size: int64(rng.IntN(7))}, app.ConflictAsk, app.WriteRules{}, now)
					default:
						_, err = s.DeleteTree(ctx, f.lib, f.space, path, app.WriteRules{}, time.Now())
					}
					if err != nil && !isExpected(err) {
						t.Errorf("churn: %v", err)
						return
					}
					churn.Add(1)
				}
			}()
			seen := map[string]int{}
			pages := 0
			for {
				page, err := s.List(f.ctx, f.lib, f.space, d.Inode, opts)
				if err != nil {
					cancel()
					wg.Wait()
					t.Fatalf("List: %v", err)
				}
				pages++
				for _, e := range page.Entries {
					seen[e.Name]++
				}
				if page.NextMarker == "" {
					break
				}
				opts.Marker = page.NextMarker
				for before := churn.Load(); churn.Load() < before+3; {
					time.Sleep(time.Millisecond)
				}
			}
			cancel()
			wg.Wait()
			for name, n := range seen {
				if n > 1 {
					t.Fatalf("%+v: %s listed %d times", opts, name, n)
				}
			}
			for name := range stable {
				if seen[name] != 1 {
					t.Fatalf("%+v: stable entry %s lost", opts, name)
				}
			}
			if pages < 500/37 {
				t.Fatalf("only %d pages", pages)
			}
		}
		checkInvariants(t, s, f.lib, f.space)
	})
}

func isExpected(err error) bool {
	for _, e := range []error{app.ErrNameTaken, app.ErrNodeNotFound, app.ErrNotDirectory} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}
