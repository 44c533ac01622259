package store

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/opensmh/opensmh/services/namespace/internal/app"
)

// newShare records a share of paths by creator with cfg.
func (f *fixture) newShare(id, creator, name string, cfg app.ShareConfig, paths ...string) app.Share {
	f.t.Helper()
	var ps [][]string
	for _, s := range paths {
		ps = append(ps, p(s))
	}
	sh, err := f.st.CreateShare(f.ctx, app.Share{
		LibraryID: f.lib, SpaceID: f.space, ShareID: "sid-" + id, Code: "code-" + id, CreatorID: creator,
		Name: name, Config: cfg, CreatedAt: f.tick(),
	}, ps)
	if err != nil {
		f.t.Fatalf("CreateShare(%s): %v", id, err)
	}
	return sh
}

func shareNames(page []app.Share) []string {
	var out []string
	for _, s := range page {
		out = append(out, s.Name)
	}
	return out
}

// listAllShares walks every page of a listing.
func (f *fixture) listAllShares(q app.ShareQuery) []string {
	f.t.Helper()
	var out []string
	for range 1000 {
		page, err := f.st.ListShares(f.ctx, f.lib, q)
		if err != nil {
			f.t.Fatalf("ListShares(%+v): %v", q, err)
		}
		if len(page.Shares) > q.Limit {
			f.t.Fatalf("page of %d, limit %d", len(page.Shares), q.Limit)
		}
		out = append(out, shareNames(page.Shares)...)
		if page.NextMarker == "" {
			return out
		}
		q.Marker = page.NextMarker
	}
	f.t.Fatal("ListShares never ended")
	return nil
}

func TestShareCreateGetAndItems(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *SQL) {
		f := newFixture(t, s)
		f.mkdir("docs/deep")
		a := f.file("docs/deep/a.txt", 3)
		b := f.file("b.pdf", 5)
		exp := t0.Add(48 * time.Hour)
		cfg := app.ShareConfig{ExpireAt: exp, ExtractionCode: "abc", CanPreview: true, PreviewLimit: 2, ForbidAnonymous: true, UserLimit: 3}
		sh := f.newShare("1", "alice", "first", cfg, "docs", "b.pdf", "docs")
		if sh.PK == 0 || sh.ShareID != "sid-1" || sh.Code != "code-1" || sh.CreatorID != "alice" || sh.Name != "first" ||
			!sh.AdminEnabled || !sh.OwnerEnabled || sh.Version != 1 || sh.ItemCount != 2 || sh.Visitors != 0 {
			t.Fatalf("created share %+v", sh)
		}
		if !sh.Config.ExpireAt.Equal(exp) || sh.Config != cfg {
			t.Fatalf("config %+v, want %+v", sh.Config, cfg)
		}
		docs := f.lookup("docs")
		if sh.FirstItem != docs.Inode {
			t.Fatalf("first item %d, want docs %d", sh.FirstItem, docs.Inode)
		}
		for _, get := range []func() (app.Share, error){
			func() (app.Share, error) { return f.st.GetShare(f.ctx, f.lib, "sid-1") },
			func() (app.Share, error) { return f.st.GetShareByCode(f.ctx, "code-1") },
		} {
			got, err := get()
			if err != nil || got.PK != sh.PK || got.Config != cfg {
				t.Fatalf("get = %+v, %v", got, err)
			}
		}
		if _, err := f.st.GetShare(f.ctx, "other-lib", "sid-1"); !errors.Is(err, app.ErrShareNotFound) {
			t.Fatalf("share of another library = %v", err)
		}
		if _, err := f.st.GetShareByCode(f.ctx, "nope"); !errors.Is(err, app.ErrShareNotFound) {
			t.Fatalf("unknown code = %v", err)
		}
		// A missing path, a path through a file, the root: nothing is recorded.
		for i, paths := range [][][]string{{p("b.pdf"), p("missing")}, {p("b.pdf/x")}, {nil}} {
			_, err := f.st.CreateShare(f.ctx, app.Share{LibraryID: f.lib, SpaceID: f.space, ShareID: fmt.Sprint("bad", i),
				Code: fmt.Sprint("badc", i), Name: "bad", CreatedAt: f.tick()}, paths)
			if !errors.Is(err, app.ErrNodeNotFound) {
				t.Fatalf("create with %v = %v, want ErrNodeNotFound", paths, err)
			}
		}
		if n := rawQueryInt(t, s, "SELECT COUNT(*) FROM shares"); n != 1 {
			t.Fatalf("%d shares after refused creates", n)
		}

		// Items: live ones in order; the chain must start at an item and descend by parents.
		items, err := f.st.LiveShareItems(f.ctx, sh, 10)
		if err != nil || len(items) != 2 || items[0].Inode != docs.Inode || items[1].Inode != b.Inode {
			t.Fatalf("items %+v, %v", items, err)
		}
		deep := f.lookup("docs/deep")
		end, err := f.st.ShareChainEnd(f.ctx, sh, []int64{docs.Inode, deep.Inode, a.Inode})
		if err != nil || end.Inode != a.Inode {
			t.Fatalf("chain end %+v, %v", end, err)
		}
		outside := f.file("outside.txt", 1)
		for _, chain := range [][]int64{nil, {outside.Inode}, {deep.Inode}, {docs.Inode, a.Inode}, {b.Inode, a.Inode}, {docs.Inode, 999999}} {
			if _, err := f.st.ShareChainEnd(f.ctx, sh, chain); !errors.Is(err, app.ErrNotInShare) {
				t.Fatalf("chain %v = %v, want ErrNotInShare", chain, err)
			}
		}
		// VisitShare reads the same in one transaction, by code; a chain that leaves the share
		// is the visit's ChainErr, an unknown code the call's error.
		v, err := f.st.VisitShare(f.ctx, sh.Code, nil, 10)
		if err != nil || v.Share.PK != sh.PK || v.ChainErr != nil || len(v.Items) != 2 || v.Items[0].Inode != docs.Inode {
			t.Fatalf("visit of the root = %+v, %v", v, err)
		}
		if v, err = f.st.VisitShare(f.ctx, sh.Code, []int64{docs.Inode, deep.Inode, a.Inode}, 0); err != nil || v.ChainErr != nil || v.End.Inode != a.Inode {
			t.Fatalf("visit of a chain = %+v, %v", v, err)
		}
		if v, err = f.st.VisitShare(f.ctx, sh.Code, []int64{outside.Inode}, 0); err != nil || !errors.Is(v.ChainErr, app.ErrNotInShare) {
			t.Fatalf("visit outside the share = %+v, %v", v, err)
		}
		if _, err = f.st.VisitShare(f.ctx, "no-such-code", nil, 10); !errors.Is(err, app.ErrShareNotFound) {
			t.Fatalf("visit of an unknown code = %v", err)
		}
		// ShareHolds: an item and what lies under it are inside; the rest of the space is not.
		for _, c := range []struct {
			inode int64
			want  bool
		}{{docs.Inode, true}, {deep.Inode, true}, {a.Inode, true}, {b.Inode, true}, {outside.Inode, false}, {999999, false}} {
			if got, err := f.st.ShareHolds(f.ctx, sh, c.inode); err != nil || got != c.want {
				t.Fatalf("ShareHolds(%d) = %v, %v; want %v", c.inode, got, err, c.want)
			}
		}
		// A deleted item (into the bin) is gone from the share, and so is what it holds.
		if _, err := f.st.DeleteTree(f.ctx, f.lib, f.space, p("docs"), app.WriteRules{Recycle: true}, f.tick()); err != nil {
			t.Fatal(err)
		}
		items, err = f.st.LiveShareItems(f.ctx, sh, 10)
		if err != nil || len(items) != 1 || items[0].Inode != b.Inode {
			t.Fatalf("items after delete %+v, %v", items, err)
		}
		if _, err := f.st.ShareChainEnd(f.ctx, sh, []int64{docs.Inode, deep.Inode}); !errors.Is(err, app.ErrNotInShare) {
			t.Fatalf("chain into a deleted item = %v", err)
		}
	})
}

func TestShareListOrdersFiltersAndMarkers(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *SQL) {
		f := newFixture(t, s)
		f.file("x.txt", 1)
		names := []string{"delta", "Alpha", "charlie", "bravo", "echo"}
		creators := []string{"u2", "u1", "u2", "u1", "u3"}
		for i, n := range names {
			cfg := app.ShareConfig{ExpireAt: t0.Add(time.Duration(10-i) * time.Hour)}
			if n == "charlie" {
				cfg = app.ShareConfig{IsPermanent: true}
			}
			f.newShare(fmt.Sprint(i), creators[i], n, cfg, "x.txt")
		}
		for _, limit := range []int{1, 2, 3, 100} {
			want := map[string][]string{
				"createTime": names,
				"name":       {"Alpha", "bravo", "charlie", "delta", "echo"}, // byte order
				"expireTime": {"echo", "bravo", "Alpha", "delta", "charlie"}, // permanent last
				"creatorId":  {"Alpha", "bravo", "delta", "charlie", "echo"}, // id breaks ties
			}
			for order, w := range want {
				got := f.listAllShares(app.ShareQuery{OrderBy: app.ShareOrder(order), Limit: limit})
				if !slices.Equal(got, w) {
					t.Fatalf("%s asc limit %d = %v, want %v", order, limit, got, w)
				}
				got = f.listAllShares(app.ShareQuery{OrderBy: app.ShareOrder(order), Desc: true, Limit: limit})
				rev := slices.Clone(w)
				slices.Reverse(rev)
				if !slices.Equal(got, rev) {
					t.Fatalf("%s desc limit %d = %v, want %v", order, limit, got, rev)
				}
			}
		}
		if got := f.listAllShares(app.ShareQuery{CreatorID: "u1", Limit: 10}); !slices.Equal(got, []string{"Alpha", "bravo"}) {
			t.Fatalf("creator u1 = %v", got)
		}
		// issue 13 wiring: a tenant's token lists only its spaces' shares.
		if got := f.listAllShares(app.ShareQuery{SpaceIDs: []string{f.space}, Limit: 10}); len(got) != len(names) {
			t.Fatalf("shares of the fixture's space = %v", got)
		}
		if got := f.listAllShares(app.ShareQuery{SpaceIDs: []string{"elsewhere", "nowhere"}, Limit: 10}); len(got) != 0 {
			t.Fatalf("shares of other spaces = %v", got)
		}
		if got := f.listAllShares(app.ShareQuery{SpaceIDs: []string{}, Limit: 10}); len(got) != 0 {
			t.Fatalf("shares of no space = %v", got)
		}
		if got := f.listAllShares(app.ShareQuery{NameLike: "A", Limit: 10}); !slices.Equal(got, []string{"delta", "Alpha", "charlie", "bravo"}) {
			t.Fatalf("name like a = %v", got)
		}
		from, to := t0.Add(6*time.Hour), t0.Add(8*time.Hour)
		if got := f.listAllShares(app.ShareQuery{ExpireFrom: &from, ExpireTo: &to, Limit: 10}); !slices.Equal(got, []string{"bravo", "echo"}) {
			// charlie is permanent: no expiry range holds it.
			t.Fatalf("expire range = %v", got)
		}
		created := t0.Add(3 * time.Millisecond)
		if got := f.listAllShares(app.ShareQuery{CreatedFrom: &created, Limit: 10}); !slices.Equal(got, []string{"Alpha", "charlie", "bravo", "echo"}) {
			t.Fatalf("created from = %v", got)
		}
		// A marker of another order or direction, or garbage, is refused.
		page, err := f.st.ListShares(f.ctx, f.lib, app.ShareQuery{Limit: 1})
		if err != nil || page.NextMarker == "" {
			t.Fatalf("first page %v %v", page, err)
		}
		for _, q := range []app.ShareQuery{
			{Marker: page.NextMarker, Desc: true, Limit: 1},
			{Marker: page.NextMarker, OrderBy: app.ShareByName, Limit: 1},
			{Marker: "!!", Limit: 1},
			{Marker: "e30", Limit: 1},
		} {
			if _, err := f.st.ListShares(f.ctx, f.lib, q); !errors.Is(err, app.ErrMarkerNotFound) {
				t.Fatalf("marker %+v = %v", q, err)
			}
		}
		// Another library's listing is empty.
		if page, err := f.st.ListShares(f.ctx, "lib2", app.ShareQuery{Limit: 10}); err != nil || len(page.Shares) != 0 {
			t.Fatalf("other library %+v %v", page, err)
		}
	})
}

func TestShareUpdateEnableDeleteAndCascade(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *SQL) {
		f := newFixture(t, s)
		f.file("x.txt", 1)
		sh := f.newShare("1", "u1", "one", app.ShareConfig{IsPermanent: true, CanPreview: true, CanDownload: true, PreviewLimit: 5, DownloadLimit: 5}, "x.txt")
		for _, purpose := range []app.SharePurpose{app.PurposePreview, app.PurposeDownload, app.PurposeDownload} {
			if err := f.st.CountShareUse(f.ctx, sh.PK, purpose, 5); err != nil {
				t.Fatal(err)
			}
		}
		got, _ := f.st.GetShare(f.ctx, f.lib, "sid-1")
		if got.PreviewUsed != 1 || got.DownloadUsed != 2 {
			t.Fatalf("counters %d %d", got.PreviewUsed, got.DownloadUsed)
		}
		name := "renamed"
		cfg := app.ShareConfig{ExpireAt: t0.Add(time.Hour), ExtractionCode: "zz"}
		upd, err := f.st.UpdateShare(f.ctx, f.lib, "sid-1", got.Version, &name, cfg, f.tick())
		if err != nil || upd.Name != name || upd.Config != cfg || upd.PreviewUsed != 0 || upd.DownloadUsed != 0 || upd.Version != 2 {
			t.Fatalf("update = %+v, %v", upd, err)
		}
		// The same version again lost the race.
		if _, err := f.st.UpdateShare(f.ctx, f.lib, "sid-1", got.Version, nil, cfg, f.tick()); !errors.Is(err, app.ErrShareUpdated) {
			t.Fatalf("stale update = %v", err)
		}
		if _, err := f.st.UpdateShare(f.ctx, f.lib, "nope", 1, nil, cfg, f.tick()); !errors.Is(err, app.ErrShareNotFound) {
			t.Fatalf("update of unknown = %v", err)
		}
		off := false
		if err := f.st.SetShareEnabled(f.ctx, f.lib, "sid-1", nil, &off, f.tick()); err != nil {
			t.Fatal(err)
		}
		got, _ = f.st.GetShare(f.ctx, f.lib, "sid-1")
		if !got.AdminEnabled || got.OwnerEnabled {
			t.Fatalf("flags %v %v", got.AdminEnabled, got.OwnerEnabled)
		}
		if err := f.st.SetShareEnabled(f.ctx, f.lib, "nope", &off, nil, f.tick()); !errors.Is(err, app.ErrShareNotFound) {
			t.Fatalf("enable unknown = %v", err)
		}
		if err := f.st.AddShareVisitor(f.ctx, sh.PK, "v1", 0, f.tick()); err != nil {
			t.Fatal(err)
		}
		if err := f.st.DeleteShare(f.ctx, f.lib, "sid-1"); err != nil {
			t.Fatal(err)
		}
		if err := f.st.DeleteShare(f.ctx, f.lib, "sid-1"); !errors.Is(err, app.ErrShareNotFound) {
			t.Fatalf("second delete = %v", err)
		}
		if _, err := f.st.GetShareByCode(f.ctx, "code-1"); !errors.Is(err, app.ErrShareNotFound) {
			t.Fatalf("deleted share by code = %v", err)
		}
		if n := rawQueryInt(t, s, "SELECT COUNT(*) FROM share_items") + rawQueryInt(t, s, "SELECT COUNT(*) FROM share_visitors"); n != 0 {
			t.Fatalf("%d item/visitor rows outlive their share", n)
		}

		// A deleted space takes its shares; a deleted library all of its spaces' shares.
		f.newShare("2", "u1", "two", app.ShareConfig{IsPermanent: true}, "x.txt")
		if err := f.st.CreateSpace(f.ctx, app.Space{LibraryID: f.lib, ID: "sp2", CreatedAt: t0}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.st.CreateShare(f.ctx, app.Share{LibraryID: f.lib, SpaceID: "sp2", ShareID: "sid-3", Code: "code-3", Name: "three", CreatedAt: f.tick()}, nil); err != nil {
			t.Fatal(err)
		}
		if err := f.st.DeleteSpace(f.ctx, f.lib, "sp2", true); err != nil {
			t.Fatal(err)
		}
		if _, err := f.st.GetShare(f.ctx, f.lib, "sid-3"); !errors.Is(err, app.ErrShareNotFound) {
			t.Fatalf("share of a deleted space = %v", err)
		}
		if err := f.st.DeleteLibrary(f.ctx, f.lib); err != nil {
			t.Fatal(err)
		}
		if n := rawQueryInt(t, s, "SELECT COUNT(*) FROM shares") + rawQueryInt(t, s, "SELECT COUNT(*) FROM share_items"); n != 0 {
			t.Fatalf("%d share rows outlive their library", n)
		}
	})
}

// TestShareCountersAndVisitorsHoldUnderConcurrency: racing fetches never count past a limit,
// racing new visitors never exceed userLimit, racing updates of one version: one wins.
func TestShareCountersAndVisitorsHoldUnderConcurrency(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *SQL) {
		f := newFixture(t, s)
		f.file("x.txt", 1)
		sh := f.newShare("1", "u1", "one", app.ShareConfig{IsPermanent: true, CanDownload: true, DownloadLimit: 7, UserLimit: 3}, "x.txt")
		const racers = 20
		var wg sync.WaitGroup
		var mu sync.Mutex
		counted, limited, visitors, full, won, stale := 0, 0, 0, 0, 0, 0
		for i := range racers {
			wg.Add(3)
			go func() {
				defer wg.Done()
				err := s.CountShareUse(f.ctx, sh.PK, app.PurposeDownload, 7)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					counted++
				case errors.Is(err, app.ErrShareLimitReached):
					limited++
				default:
					t.Errorf("count: %v", err)
				}
			}()
			go func() {
				defer wg.Done()
				err := s.AddShareVisitor(f.ctx, sh.PK, fmt.Sprint("v", i), 3, t0)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					visitors++
				case errors.Is(err, app.ErrShareUserLimit):
					full++
				default:
					t.Errorf("visitor: %v", err)
				}
			}()
			go func() {
				defer wg.Done()
				_, err := s.UpdateShare(f.ctx, f.lib, "sid-1", sh.Version, nil, sh.Config, t0)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					won++
				case errors.Is(err, app.ErrShareUpdated):
					stale++
				default:
					t.Errorf("update: %v", err)
				}
			}()
		}
		wg.Wait()
		if visitors != 3 || full != racers-3 || won != 1 || stale != racers-1 {
			t.Fatalf("visitors %d/%d, updates %d/%d", visitors, full, won, stale)
		}
		if counted+limited != racers || counted < 7 {
			// An update resets the counter, so more than 7 may count in all; never past 7 at once.
			t.Fatalf("counted %d, limited %d", counted, limited)
		}
		got, _ := s.GetShare(f.ctx, f.lib, "sid-1")
		if got.DownloadUsed > 7 || got.Visitors != 3 {
			t.Fatalf("download used %d, visitors %d", got.DownloadUsed, got.Visitors)
		}
	})
}

func TestShareWrongCodeWindow(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *SQL) {
		f := newFixture(t, s)
		f.file("x.txt", 1)
		sh := f.newShare("1", "u1", "one", app.ShareConfig{IsPermanent: true, ExtractionCode: "x"}, "x.txt")
		window := time.Minute
		for i := int64(1); i <= 3; i++ {
			n, err := s.RecordWrongCode(f.ctx, sh.PK, t0.Add(time.Duration(i)*time.Second), window)
			if err != nil || n != i {
				t.Fatalf("wrong code %d: %d, %v", i, n, err)
			}
		}
		got, _ := s.GetShare(f.ctx, f.lib, "sid-1")
		if got.FailedCodes != 3 || !got.FailedWindowStart.Equal(t0.Add(time.Second)) {
			t.Fatalf("window %d from %v", got.FailedCodes, got.FailedWindowStart)
		}
		// After the window a new one starts.
		if n, err := s.RecordWrongCode(f.ctx, sh.PK, t0.Add(2*time.Minute), window); err != nil || n != 1 {
			t.Fatalf("new window: %d, %v", n, err)
		}
		if _, err := s.RecordWrongCode(f.ctx, 999999, t0, window); !errors.Is(err, app.ErrShareNotFound) {
			t.Fatalf("unknown share = %v", err)
		}
	})
}

// VisitShare answers in one statement what LiveShareItems and ShareChainEnd answer by walking
// row by row: the two must agree through deletes into the bin, restores, moves and renames, at
// every item limit, for chains that stay in the share and chains that leave it.
func TestVisitShareAgreesWithTheWalk(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *SQL) {
		f := newFixture(t, s)
		f.mkdir("docs/deep/deeper")
		f.mkdir("other")
		f.file("docs/deep/deeper/x.bin", 4)
		f.file("docs/deep/a.txt", 3)
		f.file("docs/top.txt", 2)
		f.file("b.pdf", 5)
		f.file("other/o.txt", 1)
		sh := f.newShare("v", "alice", "visit", app.ShareConfig{IsPermanent: true, CanDownload: true},
			"docs/deep/a.txt", "b.pdf", "docs", "other/o.txt")
		inodes := map[string]int64{}
		for _, path := range []string{"docs", "docs/deep", "docs/deep/deeper", "docs/deep/deeper/x.bin", "docs/deep/a.txt",
			"docs/top.txt", "b.pdf", "other", "other/o.txt"} {
			inodes[path] = f.lookup(path).Inode
		}
		chains := [][]int64{
			{inodes["docs"]}, {inodes["docs"], inodes["docs/deep"]}, {inodes["docs"], inodes["docs/deep"], inodes["docs/deep/deeper"], inodes["docs/deep/deeper/x.bin"]},
			{inodes["docs/deep/a.txt"]}, {inodes["b.pdf"]}, {inodes["other/o.txt"]}, {inodes["other"]},
			{inodes["docs/deep"]}, {inodes["docs"], inodes["docs/deep/a.txt"]}, {inodes["b.pdf"], inodes["docs"]},
			{inodes["docs"], inodes["docs/top.txt"], inodes["docs/deep"]}, {999999}, {inodes["docs"], 999999},
		}
		agree := func(when string) {
			t.Helper()
			for _, limit := range []int{1, 2, 3, 10} {
				want, err := f.st.LiveShareItems(f.ctx, sh, limit)
				if err != nil {
					t.Fatal(err)
				}
				v, err := f.st.VisitShare(f.ctx, sh.Code, nil, limit)
				if err != nil || v.Share.PK != sh.PK || v.ChainErr != nil {
					t.Fatalf("%s: visit of the root (limit %d) = %+v, %v", when, limit, v, err)
				}
				if len(v.Items) != len(want) {
					t.Fatalf("%s: visit of the root (limit %d) found %d items, the walk %d", when, limit, len(v.Items), len(want))
				}
				for i := range want {
					if v.Items[i].Inode != want[i].Inode || v.Items[i].Name != want[i].Name || v.Items[i].Size != want[i].Size {
						t.Fatalf("%s: item %d of the visit %+v, of the walk %+v", when, i, v.Items[i], want[i])
					}
				}
			}
			for _, chain := range chains {
				end, walkErr := f.st.ShareChainEnd(f.ctx, sh, chain)
				v, err := f.st.VisitShare(f.ctx, sh.Code, chain, 0)
				if err != nil || v.Share.PK != sh.PK {
					t.Fatalf("%s: visit of %v = %+v, %v", when, chain, v, err)
				}
				if !errors.Is(v.ChainErr, walkErr) && !(walkErr == nil && v.ChainErr == nil) {
					t.Fatalf("%s: visit of %v: %v, the walk %v", when, chain, v.ChainErr, walkErr)
				}
				if walkErr == nil && (v.End.Inode != end.Inode || v.End.Name != end.Name) {
					t.Fatalf("%s: visit of %v ends at %+v, the walk at %+v", when, chain, v.End, end)
				}
			}
		}
		agree("as shared")
		if _, err := f.st.Move(f.ctx, f.lib, f.space, p("docs/deep/a.txt"), p("docs/deep/renamed.txt"), app.ConflictAsk, app.WriteRules{}, f.tick()); err != nil {
			t.Fatal(err)
		}
		agree("after a rename")
		deleted, err := f.st.DeleteTree(f.ctx, f.lib, f.space, p("docs/deep"), binRules, f.tick())
		if err != nil {
			t.Fatal(err)
		}
		agree("with an item's ancestor in the bin")
		f.restore(deleted.RecycledID, app.RestoreOptions{})
		agree("after the restore")
		if _, err := f.st.Move(f.ctx, f.lib, f.space, p("docs/deep"), p("other/deep"), app.ConflictAsk, app.WriteRules{}, f.tick()); err != nil {
			t.Fatal(err)
		}
		agree("with a shared directory's child moved out")
		if _, err := f.st.DeleteTree(f.ctx, f.lib, f.space, p("b.pdf"), app.WriteRules{}, f.tick()); err != nil {
			t.Fatal(err)
		}
		agree("with an item deleted for good")
	})
}

// The longest chain a visitor may send (64 links) answers as a short one does: the joins of
// one statement stop short of SQLite's 64 tables, and longer chains are walked row by row.
func TestVisitShareLongestChain(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *SQL) {
		f := newFixture(t, s)
		path := "top"
		for range 63 {
			path += "/d"
		}
		f.mkdir(path)
		f.file(path+"/end.txt", 7)
		sh := f.newShare("deep", "alice", "deep", app.ShareConfig{IsPermanent: true, CanDownload: true}, "top")
		var chain []int64
		parts := strings.Split(path+"/end.txt", "/")
		for i := range parts {
			chain = append(chain, f.lookup(strings.Join(parts[:i+1], "/")).Inode)
		}
		if len(chain) != 65 {
			t.Fatalf("chain of %d", len(chain))
		}
		for _, n := range []int{1, 2, 31, 32, 33, 63, 64} {
			v, err := f.st.VisitShare(f.ctx, sh.Code, chain[:n], 0)
			if err != nil || v.ChainErr != nil || v.End.Inode != chain[n-1] {
				t.Fatalf("chain of %d: %+v, %v", n, v.ChainErr, err)
			}
			bad := slices.Clone(chain[:n])
			bad[n/2] = chain[64]
			if v, err := f.st.VisitShare(f.ctx, sh.Code, bad, 0); err != nil || !errors.Is(v.ChainErr, app.ErrNotInShare) {
				t.Fatalf("broken chain of %d: %+v, %v", n, v.ChainErr, err)
			}
		}
	})
}
