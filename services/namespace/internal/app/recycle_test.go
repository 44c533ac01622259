package app_test

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/opensmh/opensmh/pkg/authz"
	"github.com/opensmh/opensmh/pkg/clock"
	"github.com/opensmh/opensmh/services/namespace/internal/app"
	"github.com/opensmh/opensmh/services/namespace/internal/store"
	"github.com/opensmh/opensmh/services/namespace/storetest"
)

// Use-case tests of section 5 (the recycle bin) on both engines: the delete answers of 5.10,
// the ten operations with their grants and bad input, the typed task query of 7.3.

// binLib is a file library with the bin on and 30 days of retention; offLib has the bin off;
// pubLib is public-read with the bin on.
var binLibraries = fakeLibraries{
	"rlib":    {IsFileLibrary: true, UseRecycleBin: true, AutoRemoveRecycledDays: 30},
	"offlib":  {IsFileLibrary: true},
	"forever": {IsFileLibrary: true, UseRecycleBin: true},
	"publib":  {IsFileLibrary: true, IsPublicRead: true, UseRecycleBin: true},
}

type binHarness struct {
	*harness
	clk *clock.Fake
}

func newBinHarness(t *testing.T, dsn string, batchThreshold int) *binHarness {
	t.Helper()
	st, err := store.Open(context.Background(), dsn, 0)
	if err != nil {
		t.Fatal(err)
	}
	clk := clock.NewFake(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	ns := app.New(app.Config{Store: st, Libraries: binLibraries, Auth: authz.New(fakeTokens{}, nil), Clock: clk,
		LibraryTTL: time.Nanosecond, AsyncBatchThreshold: batchThreshold})
	t.Cleanup(func() {
		ns.Close()
		_ = st.Close()
	})
	return &binHarness{harness: &harness{t: t, ns: ns, st: st}, clk: clk}
}

// bin deletes path (a file when it has an extension) into lib's bin and answers the item id.
func (h *binHarness) bin(lib, path string, dir bool) int64 {
	h.t.Helper()
	var id int64
	var err error
	if dir {
		id, err = h.ns.DeleteDirectory(admin(lib), lib, "-", path, false, false)
	} else {
		id, err = h.ns.DeleteFile(admin(lib), lib, "-", path, false)
	}
	if err != nil || id <= 0 {
		h.t.Fatalf("delete %s/%s into the bin: %d %v", lib, path, id, err)
	}
	return id
}

func (h *binHarness) listAll(lib string, q app.RecycleQuery) []app.RecycledItem {
	h.t.Helper()
	l, err := h.ns.ListRecycled(admin(lib), lib, "-", q)
	if err != nil {
		h.t.Fatalf("list %s: %v", lib, err)
	}
	return l.Page.Items
}

func names(items []app.RecycledItem) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.Node.Name
	}
	return out
}

func ptr[T any](v T) *T { return &v }

// body answers ids as a batch body decodes (a JSON array of numbers); nil stays nil (no body).
func body(ids []int64) any {
	if ids == nil {
		return nil
	}
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = float64(id)
	}
	return out
}

func eachBinEngine(t *testing.T, batchThreshold int, test func(t *testing.T, h *binHarness)) {
	for _, e := range storetest.Engines() {
		t.Run(e.Name, func(t *testing.T) { test(t, newBinHarness(t, e.DSN(t), batchThreshold)) })
	}
}

func TestDeleteAnswers(t *testing.T) {
	eachBinEngine(t, 0, func(t *testing.T, h *binHarness) {
		for _, lib := range []string{"rlib", "offlib"} {
			h.mkdir(lib, "d/sub")
			h.put(lib, "d/sub/a.txt", "b-"+lib, 7)
			h.put(lib, "f.txt", "f-"+lib, 3)
			h.put(lib, "g.txt", "g-"+lib, 3)
		}
		// Bin on: into the bin (an id), the whole directory as one item.
		fileID := h.bin("rlib", "f.txt", false)
		dirID := h.bin("rlib", "d", true)
		if fileID == dirID {
			t.Fatalf("two items share id %d", fileID)
		}
		it, _, err := h.ns.RecycledItem(admin("rlib"), "rlib", "-", idText(dirID))
		if err != nil || it.Totals.Size != 7 || it.Totals.Files != 1 || !slices.Equal(it.OriginalPath, []string{"d"}) {
			t.Fatalf("directory item %+v %v", it, err)
		}
		// permanent=1 needs the permanent grant while the bin is on (5.10), then deletes for good.
		want(t, "permanent with delete_file, bin on", second(h.ns.DeleteFile(as("rlib:delete_file"), "rlib", "-", "g.txt", true)), authz.ErrNoPermission)
		if id, err := h.ns.DeleteFile(as("rlib:delete_file_permanent"), "rlib", "-", "g.txt", true); err != nil || id != 0 {
			t.Fatalf("permanent delete: %d %v", id, err)
		}
		if got := h.listAll("rlib", app.RecycleQuery{}); len(got) != 2 {
			t.Fatalf("bin after a permanent delete: %v", names(got))
		}
		// Bin off: always for good, and permanent is ignored (delete_directory suffices).
		if id, err := h.ns.DeleteDirectory(as("offlib:delete_directory"), "offlib", "-", "d", true, false); err != nil || id != 0 {
			t.Fatalf("delete with the bin off: %d %v", id, err)
		}
		if id, err := h.ns.DeleteFile(admin("offlib"), "offlib", "-", "f.txt", false); err != nil || id != 0 {
			t.Fatalf("file delete with the bin off: %d %v", id, err)
		}
	})
}

func idText(id int64) string { return strconv.FormatInt(id, 10) }

func TestRecycleBinOff(t *testing.T) {
	eachBinEngine(t, 0, func(t *testing.T, h *binHarness) {
		c := admin("offlib")
		off := app.ErrRecycleBinNotEnabled
		want(t, "list", second(h.ns.ListRecycled(c, "offlib", "-", app.RecycleQuery{})), off)
		_, _, err := h.ns.RecycledItem(c, "offlib", "-", "1")
		want(t, "item", err, off)
		want(t, "resolve", second(h.ns.ResolveRecycledFile(c, "offlib", "-", "1")), off)
		want(t, "restore", second(h.ns.RestoreRecycled(c, "offlib", "-", "1", "", "")), off)
		want(t, "restore batch", second(h.ns.RestoreRecycledBatch(c, "offlib", "-", body([]int64{1}), "", "")), off)
		want(t, "purge", h.ns.PurgeRecycled(c, "offlib", "-", "1"), off)
		want(t, "purge batch", h.ns.PurgeRecycledBatch(c, "offlib", "-", body([]int64{1})), off)
		want(t, "empty", h.ns.EmptyRecycled(c, "offlib", "-"), off)
		want(t, "lifecycle", h.ns.SetRecycleLifecycle(c, "offlib", "-", ptr(5)), off)
		// The caller is judged first: without a token the switch stays hidden.
		want(t, "anonymous", second(h.ns.ListRecycled(as(""), "offlib", "-", app.RecycleQuery{})), authz.ErrEmptyAccessToken)
	})
}

func TestRecycleList(t *testing.T) {
	eachBinEngine(t, 0, func(t *testing.T, h *binHarness) {
		sizes := map[string]int64{"b.txt": 30, "a.txt": 10, "c.txt": 20}
		for _, name := range []string{"b.txt", "a.txt", "c.txt"} {
			h.put("rlib", name, "blob-"+name, sizes[name])
			h.bin("rlib", name, false)
			h.clk.Advance(time.Hour)
		}
		tests := []struct {
			name string
			q    app.RecycleQuery
			want []string
		}{
			{"default: newest removal first (decision 23)", app.RecycleQuery{}, []string{"c.txt", "a.txt", "b.txt"}},
			{"removalTime asc", app.RecycleQuery{OrderBy: "removalTime"}, []string{"b.txt", "a.txt", "c.txt"}},
			{"remainingTime asc: least left first", app.RecycleQuery{OrderBy: "remainingTime"}, []string{"b.txt", "a.txt", "c.txt"}},
			{"name", app.RecycleQuery{OrderBy: "name"}, []string{"a.txt", "b.txt", "c.txt"}},
			{"name desc", app.RecycleQuery{OrderBy: "name", OrderByType: "desc"}, []string{"c.txt", "b.txt", "a.txt"}},
			{"size", app.RecycleQuery{OrderBy: "size"}, []string{"a.txt", "c.txt", "b.txt"}},
			{"page 2 of 2", app.RecycleQuery{Mode: "page", Page: ptr(2), PageSize: ptr(2), OrderBy: "name"}, []string{"c.txt"}},
		}
		for _, tt := range tests {
			if got := names(h.listAll("rlib", tt.q)); !slices.Equal(got, tt.want) {
				t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
			}
		}
		// Marker mode walks the bin page by page; page mode counts it and answers no marker.
		l, err := h.ns.ListRecycled(admin("rlib"), "rlib", "-", app.RecycleQuery{Limit: ptr(2)})
		if err != nil || len(l.Page.Items) != 2 || l.Page.NextMarker == "" || l.PageMode {
			t.Fatalf("first marker page %+v %v", l, err)
		}
		l, err = h.ns.ListRecycled(admin("rlib"), "rlib", "-", app.RecycleQuery{Marker: &l.Page.NextMarker, Limit: ptr(2)})
		if err != nil || !slices.Equal(names(l.Page.Items), []string{"b.txt"}) || l.Page.NextMarker != "" {
			t.Fatalf("last marker page %+v %v", l, err)
		}
		l, err = h.ns.ListRecycled(admin("rlib"), "rlib", "-", app.RecycleQuery{Mode: "page", PageSize: ptr(1)})
		if err != nil || l.Page.Total != 3 || !l.PageMode || l.Page.NextMarker != "" {
			t.Fatalf("page mode %+v %v", l, err)
		}
		// remainingTime: 30 days less what passed, whole days.
		it := h.listAll("rlib", app.RecycleQuery{OrderBy: "removalTime"})[0]
		if got := it.RemainingDays(h.clk.Now()); got != 29 {
			t.Fatalf("remaining days of the oldest item: %d", got)
		}
		bad := []struct {
			name string
			q    app.RecycleQuery
		}{
			{"both modes", app.RecycleQuery{Mode: "both"}},
			{"marker and page", app.RecycleQuery{Marker: ptr(""), Page: ptr(1)}},
			{"limit 0", app.RecycleQuery{Limit: ptr(0)}},
			{"limit 101", app.RecycleQuery{Limit: ptr(101)}},
			{"page size 101", app.RecycleQuery{PageSize: ptr(101)}},
			{"page 0", app.RecycleQuery{Page: ptr(0)}},
			{"past 10,000", app.RecycleQuery{Page: ptr(101), PageSize: ptr(100)}},
			{"order", app.RecycleQuery{OrderBy: "creationTime"}},
			{"direction", app.RecycleQuery{OrderByType: "up"}},
		}
		for _, tt := range bad {
			want(t, tt.name, second(h.ns.ListRecycled(admin("rlib"), "rlib", "-", tt.q)), app.ErrParamInvalid)
		}
		want(t, "bad marker", second(h.ns.ListRecycled(admin("rlib"), "rlib", "-", app.RecycleQuery{Marker: ptr("garbage")})), app.ErrMarkerNotFound)
		// Reading needs a principal of the space, or public read (12.7).
		want(t, "anonymous", second(h.ns.ListRecycled(as(""), "rlib", "-", app.RecycleQuery{})), authz.ErrEmptyAccessToken)
		if _, err := h.ns.ListRecycled(as("rlib:"), "rlib", "-", app.RecycleQuery{}); err != nil {
			t.Fatalf("a grantless token reads the bin: %v", err)
		}
		want(t, "another space's token", second(h.ns.ListRecycled(as("rlib:admin@s1"), "rlib", "-", app.RecycleQuery{})), authz.ErrAccessTokenNotMatchSpace)
		h.put("publib", "p.txt", "p", 1)
		h.bin("publib", "p.txt", false)
		if l, err := h.ns.ListRecycled(as(""), "publib", "-", app.RecycleQuery{}); err != nil || len(l.Page.Items) != 1 {
			t.Fatalf("public-read bin: %+v %v", l, err)
		}
		// An item kept forever answers -1.
		h.put("forever", "k.txt", "k", 1)
		h.bin("forever", "k.txt", false)
		if got := h.listAll("forever", app.RecycleQuery{})[0].RemainingDays(h.clk.Now()); got != -1 {
			t.Fatalf("remaining days of an item kept forever: %d", got)
		}
	})
}

func TestRecycleInfoAndResolve(t *testing.T) {
	eachBinEngine(t, 0, func(t *testing.T, h *binHarness) {
		h.mkdir("rlib", "docs")
		h.put("rlib", "docs/r.txt", "rblob", 4)
		fileID := h.bin("rlib", "docs/r.txt", false)
		dirID := h.bin("rlib", "docs", true)
		it, err := h.ns.ResolveRecycledFile(as("rlib:"), "rlib", "-", idText(fileID))
		if err != nil || it.Node.BlobID != "rblob" || !slices.Equal(it.OriginalPath, []string{"docs", "r.txt"}) {
			t.Fatalf("resolve a recycled file: %+v %v", it, err)
		}
		want(t, "resolve a directory item", second(h.ns.ResolveRecycledFile(admin("rlib"), "rlib", "-", idText(dirID))), app.ErrRecycledItemNotFound)
		want(t, "resolve an unknown id", second(h.ns.ResolveRecycledFile(admin("rlib"), "rlib", "-", "999999")), app.ErrRecycledItemNotFound)
		for _, raw := range []string{"", "0", "-1", "x", "1.5", "99999999999999999999"} {
			_, _, err := h.ns.RecycledItem(admin("rlib"), "rlib", "-", raw)
			want(t, "item id "+raw, err, app.ErrParamInvalid)
		}
	})
}

func TestRestoreRecycled(t *testing.T) {
	eachBinEngine(t, 0, func(t *testing.T, h *binHarness) {
		c := as("rlib:restore_recycled")
		h.mkdir("rlib", "p/q")
		h.put("rlib", "p/q/x.txt", "x1", 1)
		x1 := h.bin("rlib", "p/q/x.txt", false)
		// Grants (5.4) and bad input change nothing.
		want(t, "restore without the grant", second(h.ns.RestoreRecycled(as("rlib:delete_recycled"), "rlib", "-", idText(x1), "", "")), authz.ErrNoPermission)
		want(t, "bad strategy", second(h.ns.RestoreRecycled(c, "rlib", "-", idText(x1), "merge", "")), app.ErrInvalidStrategy)
		want(t, "bad path strategy", second(h.ns.RestoreRecycled(c, "rlib", "-", idText(x1), "", "elsewhere")), app.ErrParamInvalid)
		want(t, "unknown id", second(h.ns.RestoreRecycled(c, "rlib", "-", "424242", "", "")), app.ErrRecycledItemNotFound)

		// ask (the default) refuses a taken name; rename and overwrite resolve it.
		h.put("rlib", "p/q/x.txt", "x2", 2)
		want(t, "ask", second(h.ns.RestoreRecycled(c, "rlib", "-", idText(x1), "", "")), app.ErrNameTaken)
		path, err := h.ns.RestoreRecycled(c, "rlib", "-", idText(x1), "rename", "")
		if err != nil || !slices.Equal(path, []string{"p", "q", "x (1).txt"}) {
			t.Fatalf("rename: %v %v", path, err)
		}
		x2 := h.bin("rlib", "p/q/x.txt", false)
		h.put("rlib", "p/q/x.txt", "x3", 3)
		if path, err := h.ns.RestoreRecycled(c, "rlib", "-", idText(x2), "overwrite", ""); err != nil || !slices.Equal(path, []string{"p", "q", "x.txt"}) {
			t.Fatalf("overwrite: %v %v", path, err)
		}
		if r, err := h.ns.ResolveFile(admin("rlib"), "rlib", "-", "p/q/x.txt", ""); err != nil || r.Node.BlobID != "x2" {
			t.Fatalf("after overwrite: %+v %v", r, err)
		}
		// The replaced file went to the bin under the same rules.
		if got := names(h.listAll("rlib", app.RecycleQuery{})); !slices.Equal(got, []string{"x.txt"}) {
			t.Fatalf("bin after the overwrite: %v", got)
		}

		// Missing parents are created again; fallbackToRoot restores into the root instead.
		h.put("rlib", "p/q/y.txt", "y", 1)
		h.put("rlib", "p/q/z.txt", "z", 1)
		y := h.bin("rlib", "p/q/y.txt", false)
		z := h.bin("rlib", "p/q/z.txt", false)
		h.bin("rlib", "p", true)
		if path, err := h.ns.RestoreRecycled(c, "rlib", "-", idText(y), "", ""); err != nil || !slices.Equal(path, []string{"p", "q", "y.txt"}) {
			t.Fatalf("restore with recreated parents: %v %v", path, err)
		}
		h.bin("rlib", "p", true)
		if path, err := h.ns.RestoreRecycled(c, "rlib", "-", idText(z), "", "fallbackToRoot"); err != nil || !slices.Equal(path, []string{"z.txt"}) {
			t.Fatalf("fallbackToRoot: %v %v", path, err)
		}
		want(t, "restored twice", second(h.ns.RestoreRecycled(c, "rlib", "-", idText(z), "", "")), app.ErrRecycledItemNotFound)
	})
}

// waitTaskResult polls the typed task query until the task has finished. It waits as long as the
// test may run: only the outcome is judged.
func waitTaskResult(t *testing.T, ns *app.Namespace, lib string, id int32) app.Task {
	t.Helper()
	for {
		task, err := ns.TaskResult(admin(lib), lib, "-", taskID(id))
		if err != nil {
			t.Fatalf("TaskResult(%d): %v", id, err)
		}
		if task.Status != app.TaskRunning {
			return task
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestRestoreRecycledBatch(t *testing.T) {
	eachBinEngine(t, 2, func(t *testing.T, h *binHarness) {
		c := as("rlib:restore_recycled")
		h.put("rlib", "a.txt", "a", 1)
		h.put("rlib", "b.txt", "b", 1)
		a, b := h.bin("rlib", "a.txt", false), h.bin("rlib", "b.txt", false)
		h.put("rlib", "a.txt", "a2", 1)
		want(t, "no items", second(h.ns.RestoreRecycledBatch(c, "rlib", "-", []any{}, "", "")), app.ErrNoItemsProvided)
		want(t, "too many", second(h.ns.RestoreRecycledBatch(c, "rlib", "-", body(make([]int64, 1001)), "", "")), app.ErrTooManyItems)
		want(t, "a zero id", second(h.ns.RestoreRecycledBatch(c, "rlib", "-", body([]int64{0}), "", "")), app.ErrParamInvalid)
		for _, bad := range []any{map[string]any{"ids": []any{1.0}}, []any{1.5}, []any{"x"}, []any{true}, []any{float64(1 << 54)}, "1"} {
			want(t, "bad body", second(h.ns.RestoreRecycledBatch(c, "rlib", "-", bad, "", "")), app.ErrParamInvalid)
		}
		if got, err := h.ns.RestoreRecycledBatch(c, "rlib", "-", []any{"999999"}, "", ""); err != nil || len(got.Results) != 1 {
			t.Fatalf("an id as a string: %+v %v", got, err)
		}
		want(t, "no grant", second(h.ns.RestoreRecycledBatch(as("rlib:delete_recycled"), "rlib", "-", body([]int64{a}), "", "")), authz.ErrNoPermission)
		// Within the threshold: answered at once, in request order, each item on its own; the
		// batch default is rename (5.5).
		got, err := h.ns.RestoreRecycledBatch(c, "rlib", "-", body([]int64{999999, a}), "", "")
		if err != nil || got.TaskID != 0 || len(got.Results) != 2 {
			t.Fatalf("batch: %+v %v", got, err)
		}
		if r := got.Results[0]; r.ID != 999999 || !errors.Is(r.Err, app.ErrRecycledItemNotFound) {
			t.Fatalf("unknown item %+v", r)
		}
		if r := got.Results[1]; r.ID != a || r.Err != nil || !slices.Equal(r.Path, []string{"a (1).txt"}) {
			t.Fatalf("renamed item %+v", r)
		}
		// ask refuses the clash per item.
		h.put("rlib", "b.txt", "b2", 1)
		got, err = h.ns.RestoreRecycledBatch(c, "rlib", "-", body([]int64{b}), "ask", "")
		if err != nil || len(got.Results) != 1 || !errors.Is(got.Results[0].Err, app.ErrNameTaken) {
			t.Fatalf("ask in a batch: %+v %v", got, err)
		}

		// Over the threshold (lowered to 2): a task whose typed result lists every item.
		var ids []int64
		for _, name := range []string{"c.txt", "d.txt"} {
			h.put("rlib", name, name, 1)
			ids = append(ids, h.bin("rlib", name, false))
		}
		ids = append(ids, 888888)
		got, err = h.ns.RestoreRecycledBatch(c, "rlib", "-", body(ids), "", "")
		if err != nil || got.TaskID <= 0 || got.Results != nil {
			t.Fatalf("async batch: %+v %v", got, err)
		}
		task := waitTaskResult(t, h.ns, "rlib", got.TaskID)
		if task.Kind != app.TaskBatchRestoreRecycle || task.Status != app.TaskPartial || len(task.Restores) != 3 {
			t.Fatalf("batch task %+v", task)
		}
		wantPaths := [][]string{{"c.txt"}, {"d.txt"}, nil}
		for i, r := range task.Restores {
			if r.ID != ids[i] || !reflect.DeepEqual(r.Path, wantPaths[i]) {
				t.Fatalf("task item %d: %+v", i, r)
			}
		}
		if !errors.Is(task.Restores[2].Err, app.ErrRecycledItemNotFound) {
			t.Fatalf("failed item of the task: %+v", task.Restores[2])
		}
		// The same task through 7.1.
		v1, err := h.ns.Tasks(admin("rlib"), "rlib", "-", taskID(got.TaskID))
		if err != nil || len(v1) != 1 || !reflect.DeepEqual(v1[0].Task, task) {
			t.Fatalf("7.1 of the batch task: %+v %v", v1, err)
		}
		// Every item failed: 400.
		got, err = h.ns.RestoreRecycledBatch(c, "rlib", "-", body([]int64{777, 778, 779}), "", "")
		if err != nil || got.TaskID <= 0 {
			t.Fatalf("failing async batch: %+v %v", got, err)
		}
		if task := waitTaskResult(t, h.ns, "rlib", got.TaskID); task.Status != app.TaskAllFailed {
			t.Fatalf("all-failed task %+v", task)
		}
		// The typed query takes one id.
		want(t, "two ids", second(h.ns.TaskResult(admin("rlib"), "rlib", "-", "1,2")), app.ErrParamInvalid)
		want(t, "unknown task", second(h.ns.TaskResult(admin("rlib"), "rlib", "-", "99999")), app.ErrTaskNotFound)
		want(t, "anonymous", second(h.ns.TaskResult(as(""), "rlib", "-", "1")), authz.ErrEmptyAccessToken)
	})
}

func TestPurgeAndEmpty(t *testing.T) {
	eachBinEngine(t, 0, func(t *testing.T, h *binHarness) {
		c := as("rlib:delete_recycled")
		var ids []int64
		for _, name := range []string{"1.txt", "2.txt", "3.txt", "4.txt"} {
			h.put("rlib", name, "blob"+name, 1)
			ids = append(ids, h.bin("rlib", name, false))
		}
		want(t, "purge without the grant", h.ns.PurgeRecycled(as("rlib:restore_recycled"), "rlib", "-", idText(ids[0])), authz.ErrNoPermission)
		want(t, "purge bad id", h.ns.PurgeRecycled(c, "rlib", "-", "abc"), app.ErrParamInvalid)
		want(t, "purge unknown", h.ns.PurgeRecycled(c, "rlib", "-", "999999"), app.ErrRecycledItemNotFound)
		if err := h.ns.PurgeRecycled(c, "rlib", "-", idText(ids[0])); err != nil {
			t.Fatal(err)
		}
		want(t, "purged item", h.ns.PurgeRecycled(c, "rlib", "-", idText(ids[0])), app.ErrRecycledItemNotFound)
		// A batch is all or nothing: an unknown id purges none.
		want(t, "batch with an unknown id", h.ns.PurgeRecycledBatch(c, "rlib", "-", body([]int64{ids[1], 999999})), app.ErrRecycledItemNotFound)
		if got := h.listAll("rlib", app.RecycleQuery{}); len(got) != 3 {
			t.Fatalf("bin after a refused batch: %v", names(got))
		}
		want(t, "empty batch", h.ns.PurgeRecycledBatch(c, "rlib", "-", []any{}), app.ErrNoItemsProvided)
		if err := h.ns.PurgeRecycledBatch(c, "rlib", "-", body([]int64{ids[1], ids[2], ids[1]})); err != nil {
			t.Fatalf("batch purge (an id twice): %v", err)
		}
		if got := names(h.listAll("rlib", app.RecycleQuery{})); !slices.Equal(got, []string{"4.txt"}) {
			t.Fatalf("bin after the batch: %v", got)
		}
		want(t, "empty without the grant", h.ns.EmptyRecycled(as("rlib:restore_recycled"), "rlib", "-"), authz.ErrNoPermission)
		if err := h.ns.EmptyRecycled(c, "rlib", "-"); err != nil {
			t.Fatal(err)
		}
		if got := h.listAll("rlib", app.RecycleQuery{}); len(got) != 0 {
			t.Fatalf("bin after empty: %v", names(got))
		}
		want(t, "restore after empty", second(h.ns.RestoreRecycled(admin("rlib"), "rlib", "-", idText(ids[3]), "", "")), app.ErrRecycledItemNotFound)
	})
}

func TestRecycleLifecycle(t *testing.T) {
	eachBinEngine(t, 0, func(t *testing.T, h *binHarness) {
		c := as("rlib:space_admin")
		for _, days := range []*int{nil, ptr(0), ptr(-1), ptr(10001)} {
			want(t, "retention", h.ns.SetRecycleLifecycle(c, "rlib", "-", days), app.ErrParamInvalid)
		}
		want(t, "lifecycle with a bin grant only", h.ns.SetRecycleLifecycle(as("rlib:delete_recycled"), "rlib", "-", ptr(5)), authz.ErrNoPermission)
		h.put("rlib", "old.txt", "o", 1)
		h.bin("rlib", "old.txt", false) // 30 days, the library's
		// Lengthening applies to the items in the bin; new deletes take the space's retention.
		if err := h.ns.SetRecycleLifecycle(c, "rlib", "-", ptr(100)); err != nil {
			t.Fatal(err)
		}
		ext, err := h.ns.SpaceExtension(admin("rlib"), "rlib", "-")
		if err != nil || ext.RecycleRetentionDays != 100 {
			t.Fatalf("extension %+v %v", ext, err)
		}
		if got := h.listAll("rlib", app.RecycleQuery{})[0].RemainingDays(h.clk.Now()); got != 100 {
			t.Fatalf("remaining days after lengthening: %d", got)
		}
		// Shortening applies to new items only.
		if err := h.ns.SetRecycleLifecycle(c, "rlib", "-", ptr(3)); err != nil {
			t.Fatal(err)
		}
		h.put("rlib", "new.txt", "n", 1)
		h.bin("rlib", "new.txt", false)
		days := map[string]int{}
		for _, it := range h.listAll("rlib", app.RecycleQuery{}) {
			days[it.Node.Name] = it.RemainingDays(h.clk.Now())
		}
		if !reflect.DeepEqual(days, map[string]int{"old.txt": 100, "new.txt": 3}) {
			t.Fatalf("remaining days %v", days)
		}
	})
}
