package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/opensmh/opensmh/pkg/sqldb"
	"github.com/opensmh/opensmh/services/namespace/internal/app"
)

// The change feed's property (issue 12 item 5, docs/changefeed.md "Replaying"): a client takes
// a cursor, walks the tree while writers change it, then replays the log from the cursor, and
// reaches exactly the server's live tree.

// feedEntry is what the client keeps of an entry and compares with the server.
type feedEntry struct {
	parent int64
	name   string
	typ    app.NodeType
	size   int64
	etag   string
}

func entryOf(n app.Node) feedEntry {
	return feedEntry{parent: n.ParentInode, name: n.Name, typ: n.Type, size: n.Size, etag: n.ETag}
}

// feedClient is a sync client's local copy of a space: inode → entry.
type feedClient struct {
	t          *testing.T
	st         app.Store
	lib, space string
	tree       map[int64]feedEntry
}

// walk lists dir and everything below it into the client's tree, page by page (each page its
// own read, as a client's listing is). A directory gone meanwhile is skipped: its deletion is
// in the log.
func (c *feedClient) walk(ctx context.Context, dir int64) {
	queue := []int64{dir}
	for len(queue) > 0 {
		d := queue[0]
		queue = queue[1:]
		opts := app.ListOptions{Limit: 3}
		for {
			page, err := c.st.List(ctx, c.lib, c.space, d, opts)
			if err != nil {
				break
			}
			for _, n := range page.Entries {
				c.tree[n.Inode] = entryOf(n)
				if n.IsDir() {
					queue = append(queue, n.Inode)
				}
			}
			if page.NextMarker == "" {
				break
			}
			opts.Marker = page.NextMarker
		}
	}
}

// drop removes inode and every entry below it (a deleted directory's one event stands for its
// subtree).
func (c *feedClient) drop(inode int64) {
	children := map[int64][]int64{}
	for id, e := range c.tree {
		children[e.parent] = append(children[e.parent], id)
	}
	queue := []int64{inode}
	for len(queue) > 0 {
		x := queue[0]
		queue = queue[1:]
		delete(c.tree, x)
		queue = append(queue, children[x]...)
	}
}

// apply replays one event as docs/changefeed.md tells a client to.
func (c *feedClient) apply(ctx context.Context, e app.DeltaEvent) {
	if e.Location == locationHistory {
		return // about a history version: the live entry is as it was
	}
	if e.Location != 0 {
		c.drop(e.Node.Inode)
		return
	}
	if e.ExtraInfo != "" {
		var extra map[string]any
		if err := json.Unmarshal([]byte(e.ExtraInfo), &extra); err != nil {
			c.t.Fatalf("event %d: extraInfo %q: %v", e.Seq, e.ExtraInfo, err)
		}
		if ow, ok := extra["owInode"].(string); ok {
			if id, _ := strconv.ParseInt(ow, 10, 64); id != e.Node.Inode {
				c.drop(id)
			}
		}
	}
	_, known := c.tree[e.Node.Inode]
	c.tree[e.Node.Inode] = entryOf(e.Node)
	if !known && e.Node.IsDir() && (e.Type == app.EventFileMove || e.Type == app.EventFileMoveOverwrite) {
		// A directory the walk missed: it moved from where the walk had not been yet to where
		// it had been. Its contents are listed now.
		c.walk(ctx, e.Node.Inode)
	}
}

// replay reads the log from cursor page by page and answers the last position; the numbers it
// reads must follow each other without a gap.
func (c *feedClient) replay(ctx context.Context, from app.DeltaPosition, limit int) app.DeltaPosition {
	for {
		page, err := c.st.DeltaLog(ctx, c.lib, c.space, from, limit)
		if err != nil {
			c.t.Fatalf("DeltaLog(%+v): %v", from, err)
		}
		for _, e := range page.Events {
			if e.Seq != from.Seq+1 {
				c.t.Fatalf("event %d follows %d: a gap", e.Seq, from.Seq)
			}
			from.Seq = e.Seq
			c.apply(ctx, e)
		}
		if page.Next != from {
			c.t.Fatalf("page ends at %+v, its last event at %+v", page.Next, from)
		}
		if !page.More {
			return from
		}
	}
}

// feedWriter makes random changes to a space; each goroutine has its own.
type feedWriter struct {
	st         app.Store
	lib, space string
	rng        *rand.Rand
	now        time.Time
	tag        string
	ok         map[string]int
}

func (w *feedWriter) path() []string {
	names := []string{"a", "b", "c.txt"}
	out := make([]string, 1+w.rng.IntN(3))
	for i := range out {
		out[i] = names[w.rng.IntN(len(names))]
	}
	return out
}

// existing answers the path of a random live entry (a file when wantFile), found by a random
// walk down from the root; w.path() when there is none.
func (w *feedWriter) existing(ctx context.Context, wantFile bool) []string {
	var (
		path []string
		dir  int64
	)
	for range 4 {
		page, err := w.st.List(ctx, w.lib, w.space, dir, app.ListOptions{Limit: 100})
		if err != nil || len(page.Entries) == 0 {
			break
		}
		n := page.Entries[w.rng.IntN(len(page.Entries))]
		path = append(path, n.Name)
		if !n.IsDir() {
			return path
		}
		if !wantFile && w.rng.IntN(3) == 0 {
			return path
		}
		dir = n.Inode
	}
	if len(path) == 0 || wantFile {
		return w.path()
	}
	return path
}

func (w *feedWriter) step(ctx context.Context, i int) {
	w.now = w.now.Add(time.Millisecond)
	strategies := []app.Conflict{app.ConflictAsk, app.ConflictRename, app.ConflictOverwrite}
	strategy := strategies[w.rng.IntN(len(strategies))]
	bin := app.WriteRules{Recycle: true, UserID: "u-" + w.tag}
	var (
		op  string
		err error
	)
	switch k := w.rng.IntN(23); {
	case k < 3:
		op = "mkdir"
		_, _, err = w.st.MakeDirectories(ctx, w.lib, w.space, w.path(), strategy, app.DirAttrs{UserID: "u-" + w.tag}, w.now)
	case k < 6:
		op = "file"
		blob := fmt.Sprintf("%s-%d", w.tag, i)
		_, err = w.st.CreateFile(ctx, w.lib, w.space, w.path(), app.Node{Size: int64(w.rng.IntN(1000)), ETag: blob, BlobID: blob},
			strategy, app.WriteRules{}, w.now)
	case k < 8:
		op = "overwrite"
		blob := fmt.Sprintf("%s-%d", w.tag, i)
		_, err = w.st.CreateFile(ctx, w.lib, w.space, w.path(), app.Node{Size: int64(w.rng.IntN(1000)), ETag: blob, BlobID: blob},
			app.ConflictOverwrite, app.WriteRules{}, w.now)
	case k < 10:
		op = "copy"
		_, err = w.st.CopyTree(ctx, w.lib, w.space, w.existing(ctx, false), w.path(), strategy, app.WriteRules{}, w.now)
	case k < 12:
		op = "move"
		_, err = w.st.Move(ctx, w.lib, w.space, w.existing(ctx, false), w.path(), strategy, bin, w.now)
	case k < 13:
		op = "rename"
		from := w.existing(ctx, false)
		to := append(append([]string{}, from[:len(from)-1]...), from[len(from)-1]+"-r")
		_, err = w.st.Move(ctx, w.lib, w.space, from, to, strategy, bin, w.now)
	case k < 15:
		op = "trash"
		_, err = w.st.DeleteTree(ctx, w.lib, w.space, w.existing(ctx, false), bin, w.now)
	case k < 16:
		op = "delete"
		_, err = w.st.DeleteTree(ctx, w.lib, w.space, w.existing(ctx, false), app.WriteRules{}, w.now)
	case k < 18:
		op = "restore"
		var page app.RecyclePage
		page, err = w.st.ListRecycled(ctx, w.lib, w.space, app.RecycleListOptions{Limit: 50})
		if err == nil && len(page.Items) == 0 {
			err = app.ErrRecycledItemNotFound
		}
		if err == nil {
			it := page.Items[w.rng.IntN(len(page.Items))]
			_, err = w.st.RestoreRecycled(ctx, w.lib, w.space, it.ID, app.RestoreOptions{Strategy: strategy,
				FallbackToRoot: w.rng.IntN(2) == 0}, bin, w.now)
		}
	default:
		op = "symlink"
		_, err = w.st.CreateSymlink(ctx, w.lib, w.space, w.path(), w.existing(ctx, true), strategy, "u-"+w.tag, app.WriteRules{}, w.now)
	}
	if err == nil {
		w.ok[op]++
	}
}

// serverTree walks the live tree once nothing writes.
func serverTree(ctx context.Context, t *testing.T, st app.Store, lib, space string) map[int64]feedEntry {
	c := &feedClient{t: t, st: st, lib: lib, space: space, tree: map[int64]feedEntry{}}
	c.walk(ctx, 0)
	return c.tree
}

func TestDeltaReplayReachesTree(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *SQL) {
		ctx := context.Background()
		ops := map[string]int{}
		for _, seed := range []uint64{1, 2, 3} {
			t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
				lib, space := "lib1", fmt.Sprint("feed", seed)
				if err := s.CreateSpace(ctx, app.Space{LibraryID: lib, ID: space, CreatedAt: t0}); err != nil {
					t.Fatal(err)
				}
				newWriter := func(tag string, stream uint64) *feedWriter {
					return &feedWriter{st: s, lib: lib, space: space, rng: rand.New(rand.NewPCG(seed, stream)),
						now: t0, tag: tag, ok: map[string]int{}}
				}
				before := newWriter("w0", 0)
				for i := range 100 {
					before.step(ctx, i)
				}
				head, err := s.DeltaHead(ctx, lib, space)
				if err != nil {
					t.Fatal(err)
				}
				// Writers run while the client walks.
				c := &feedClient{t: t, st: s, lib: lib, space: space, tree: map[int64]feedEntry{}}
				var wg sync.WaitGroup
				writers := []*feedWriter{newWriter("w1", 1), newWriter("w2", 2), newWriter("w3", 3)}
				for _, w := range writers {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for i := range 60 {
							w.step(ctx, i)
						}
					}()
				}
				c.walk(ctx, 0)
				wg.Wait()
				after := newWriter("w4", 4)
				for i := range 30 {
					after.step(ctx, i)
				}
				end := c.replay(ctx, head, 7)
				want := serverTree(ctx, t, s, lib, space)
				for id, e := range want {
					if got, ok := c.tree[id]; !ok || got != e {
						t.Errorf("inode %d: client has %+v (%v), server %+v", id, got, ok, e)
					}
				}
				for id, e := range c.tree {
					if _, ok := want[id]; !ok {
						t.Errorf("inode %d: client has %+v, the server does not", id, e)
					}
				}
				final, err := s.DeltaHead(ctx, lib, space)
				if err != nil || final != end {
					t.Fatalf("head %+v (%v), replay ended at %+v", final, err, end)
				}
				for _, w := range append(writers, before, after) {
					for k, v := range w.ok {
						ops[k] += v
					}
				}
				t.Logf("%d entries, %d events after the cursor", len(want), end.Seq-head.Seq)
			})
		}
		t.Logf("successful operations: %v", ops)
		for _, op := range []string{"mkdir", "file", "overwrite", "copy", "move", "rename", "trash", "delete", "restore", "symlink"} {
			if ops[op] == 0 {
				t.Errorf("no %s succeeded: the runs prove nothing about it", op)
			}
		}
	})
}

// TestDeltaCursorExpiry: a cursor of an earlier space of the same id, one past the head, and one
// whose next events were pruned are refused; pruning keeps a suffix of the numbers.
func TestDeltaCursorExpiry(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *SQL) {
		f := newFixture(t, s)
		f.mkdir("a")
		mid, err := s.DeltaHead(f.ctx, f.lib, f.space)
		if err != nil {
			t.Fatal(err)
		}
		f.now = t0.Add(48 * time.Hour)
		f.mkdir("b")
		f.file("b/x", 3)
		if _, err := s.DeltaLog(f.ctx, f.lib, f.space, app.DeltaPosition{Epoch: mid.Epoch + 1, Seq: mid.Seq}, 10); !errors.Is(err, app.ErrCursorExpired) {
			t.Fatalf("another epoch: %v", err)
		}
		if _, err := s.DeltaLog(f.ctx, f.lib, f.space, app.DeltaPosition{Epoch: mid.Epoch, Seq: mid.Seq + 10}, 10); !errors.Is(err, app.ErrCursorInvalid) {
			t.Fatalf("past the head: %v", err)
		}
		page, err := s.DeltaLog(f.ctx, f.lib, f.space, app.DeltaPosition{Epoch: mid.Epoch}, 10)
		if err != nil || len(page.Events) != 3 || page.Events[0].Type != app.EventFileCreate || page.Events[0].Node.Name != "a" {
			t.Fatalf("from the start: %+v, %v", page, err)
		}
		n, err := s.PruneDelta(f.ctx, t0.Add(24*time.Hour), 100)
		if err != nil || n != 1 {
			t.Fatalf("PruneDelta: %d, %v", n, err)
		}
		if _, err := s.DeltaLog(f.ctx, f.lib, f.space, app.DeltaPosition{Epoch: mid.Epoch}, 10); !errors.Is(err, app.ErrCursorExpired) {
			t.Fatalf("pruned: %v", err)
		}
		page, err = s.DeltaLog(f.ctx, f.lib, f.space, mid, 10)
		if err != nil || len(page.Events) != 2 || page.More {
			t.Fatalf("from mid: %+v, %v", page, err)
		}
		// Everything pruned: only the head is a good cursor.
		if _, err := s.PruneDelta(f.ctx, t0.Add(100*time.Hour), 100); err != nil {
			t.Fatal(err)
		}
		if _, err := s.DeltaLog(f.ctx, f.lib, f.space, mid, 10); !errors.Is(err, app.ErrCursorExpired) {
			t.Fatalf("all pruned, old cursor: %v", err)
		}
		head, _ := s.DeltaHead(f.ctx, f.lib, f.space)
		if page, err := s.DeltaLog(f.ctx, f.lib, f.space, head, 10); err != nil || len(page.Events) != 0 {
			t.Fatalf("all pruned, head: %+v, %v", page, err)
		}
	})
}

// TestDeletionOf: a user's delete is Unknown, the quota job's RemovedByQuota (through its own
// events), a file inside a deleted directory answers its directory's deletion, a live or
// unknown inode is not found.
func TestDeletionOf(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *SQL) {
		f := newFixture(t, s)
		f.mkdir("d")
		inner := f.file("d/x", 1)
		gone := f.file("y", 1)
		live := f.file("z", 1)
		if _, err := s.DeletionOf(f.ctx, f.lib, f.space, live.Inode); !errors.Is(err, app.ErrNodeNotFound) {
			t.Fatalf("live: %v", err)
		}
		if _, err := s.DeletionOf(f.ctx, f.lib, f.space, 999999); !errors.Is(err, app.ErrNodeNotFound) {
			t.Fatalf("unknown: %v", err)
		}
		at := f.tick()
		if _, err := s.DeleteTree(f.ctx, f.lib, f.space, p("d"), app.WriteRules{Recycle: true}, at); err != nil {
			t.Fatal(err)
		}
		d, err := s.DeletionOf(f.ctx, f.lib, f.space, inner.Inode)
		if err != nil || d.ByQuota || !d.DeletedAt.Equal(at) {
			t.Fatalf("inside a deleted directory: %+v, %v", d, err)
		}
		// The quota job's removal of a live file.
		at = f.tick()
		err = s.inWrite(f.ctx, f.lib, f.space, func(tx *sqldb.Tx) error {
			n, err := nodeByInode(f.ctx, tx, f.lib, f.space, gone.Inode)
			if err != nil {
				return err
			}
			_, err = deleteEntryBy(f.ctx, tx, n, app.WriteRules{}, deletion{byQuota: true}, at)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		d, err = s.DeletionOf(f.ctx, f.lib, f.space, gone.Inode)
		if err != nil || !d.ByQuota || !d.DeletedAt.Equal(at) {
			t.Fatalf("removed by quota: %+v, %v", d, err)
		}
		head, _ := s.DeltaHead(f.ctx, f.lib, f.space)
		page, err := s.DeltaLog(f.ctx, f.lib, f.space, app.DeltaPosition{Epoch: head.Epoch, Seq: head.Seq - 1}, 10)
		if err != nil || len(page.Events) != 1 || page.Events[0].Type != app.EventTaskFileDelete || !page.Events[0].RemovedByQuota {
			t.Fatalf("the quota event: %+v, %v", page, err)
		}
	})
}
