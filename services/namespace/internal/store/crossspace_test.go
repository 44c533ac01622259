package store

import (
	"context"
	"testing"

	"github.com/opensmh/opensmh/services/namespace/internal/app"
)

// TestCrossSpaceTransfersInTheFeed: cross-space copies and moves (batch items naming another
// space) are announced in both spaces' change feeds, so a client of either space that took a
// cursor and a listing before them and replays the log reaches exactly the server's tree; the
// counters stay consistent in both.
func TestCrossSpaceTransfersInTheFeed(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *SQL) {
		ctx := context.Background()
		f := newFixture(t, s)
		other := "sp2"
		if err := s.CreateSpace(ctx, app.Space{LibraryID: f.lib, ID: other, CreatedAt: t0}); err != nil {
			t.Fatal(err)
		}
		f.mkdir("album/sub")
		f.file("album/a.jpg", 3)
		f.file("album/sub/b.jpg", 5)
		f.file("solo.txt", 7)
		into := &fixture{t: t, ctx: ctx, st: s, raw: s, lib: f.lib, space: other, now: t0}
		into.mkdir("dest")
		into.file("dest/solo.txt", 11) // overwritten by the copy below

		clients := map[string]*feedClient{}
		heads := map[string]app.DeltaPosition{}
		for _, sp := range []string{f.space, other} {
			head, err := s.DeltaHead(ctx, f.lib, sp)
			if err != nil {
				t.Fatal(err)
			}
			c := &feedClient{t: t, st: s, lib: f.lib, space: sp, tree: map[int64]feedEntry{}}
			c.walk(ctx, 0)
			clients[sp], heads[sp] = c, head
		}

		rules := app.WriteRules{UserID: "u1"}
		transfer := func(from, to string, strategy app.Conflict, move bool) {
			t.Helper()
			if _, err := s.TransferAcross(ctx, f.lib, f.space, p(from), other, p(to), strategy, move, rules, f.tick()); err != nil {
				t.Fatalf("TransferAcross(%s → %s, move %v): %v", from, to, move, err)
			}
		}
		transfer("album", "dest/copied", app.ConflictAsk, false)
		transfer("solo.txt", "dest/solo.txt", app.ConflictOverwrite, false)
		transfer("album", "dest/moved", app.ConflictAsk, true)

		for sp, c := range clients {
			c.replay(ctx, heads[sp], 4)
			want := serverTree(ctx, t, s, f.lib, sp)
			if len(want) == 0 {
				t.Fatalf("space %s: empty tree, the test proves nothing", sp)
			}
			for id, e := range want {
				if got, ok := c.tree[id]; !ok || got != e {
					t.Errorf("space %s inode %d: client has %+v (%v), server %+v", sp, id, got, ok, e)
				}
			}
			for id, e := range c.tree {
				if _, ok := want[id]; !ok {
					t.Errorf("space %s inode %d: client has %+v, the server does not", sp, id, e)
				}
			}
			checkInvariants(t, s, f.lib, sp)
		}
		if _, err := s.Lookup(ctx, f.lib, f.space, p("album")); err == nil {
			t.Error("the moved directory is still in its source space")
		}
		if n := into.lookup("dest/solo.txt"); n.Size != 7 {
			t.Errorf("overwritten file has size %d, want the copy's 7", n.Size)
		}
	})
}

// TestVirtualFileUpdateInTheFeed: changing a virtual file's size and content type (the ?update
// route, docs/fileops.md) is a FILE.MODIFY of the change feed, so a replaying client sees the
// new size.
func TestVirtualFileUpdateInTheFeed(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *SQL) {
		ctx := context.Background()
		f := newFixture(t, s)
		if _, err := s.CreateFile(ctx, f.lib, f.space, p("v.doc"), app.Node{Type: app.TypeVirtual, Size: 10, UserID: "u1"},
			app.ConflictAsk, app.WriteRules{}, f.tick()); err != nil {
			t.Fatal(err)
		}
		head, err := s.DeltaHead(ctx, f.lib, f.space)
		if err != nil {
			t.Fatal(err)
		}
		c := &feedClient{t: t, st: s, lib: f.lib, space: f.space, tree: map[int64]feedEntry{}}
		c.walk(ctx, 0)
		size, ct := int64(25), "application/msword"
		if err := s.UpdateVirtual(ctx, f.lib, f.space, p("v.doc"), &ct, &size, app.WriteRules{UserID: "u1"}, f.tick()); err != nil {
			t.Fatal(err)
		}
		c.replay(ctx, head, 10)
		v := f.lookup("v.doc")
		if got := c.tree[v.Inode]; got.size != 25 || got != entryOf(v) {
			t.Errorf("client has %+v, server %+v", got, entryOf(v))
		}
	})
}
