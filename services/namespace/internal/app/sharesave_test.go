package app_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/opensmh/opensmh/pkg/authz"
	"github.com/opensmh/opensmh/pkg/clock"
	"github.com/opensmh/opensmh/services/namespace/internal/app"
	"github.com/opensmh/opensmh/services/namespace/internal/store"
	"github.com/opensmh/opensmh/services/namespace/storetest"
)

// shareTokens is fakeTokens plus share access tokens "share:<library>:<shareID>", whose principal
// is limited to that share as authtoken's are.
type shareTokens struct{ fakeTokens }

func (s shareTokens) ValidateToken(ctx context.Context, libraryID, token string) (*authz.Principal, error) {
	if rest, ok := strings.CutPrefix(token, "share:"); ok {
		lib, shareID, _ := strings.Cut(rest, ":")
		if lib != libraryID {
			return nil, authz.ErrInvalidAccessToken
		}
		return &authz.Principal{LibraryID: lib, ShareID: shareID}, nil
	}
	return s.fakeTokens.ValidateToken(ctx, libraryID, token)
}

// saveFixture: library "tlib" (multi-space) with spaces "src" (the sharer's) and "dst" (the
// saver's). src holds docs/a.txt, docs/sub/b.txt and top.txt.
type saveFixture struct {
	t     *testing.T
	ns    *app.Namespace
	st    *store.SQL
	clk   *clock.Fake
	docs  app.Node
	sub   app.Node
	a     app.Node
	top   app.Node
	share app.Share
}

const saver = "tlib:upload_file@dst" // user "u-upload_file"

func newSaveFixture(t *testing.T, dsn string, asyncItems int) *saveFixture {
	t.Helper()
	st, err := store.Open(context.Background(), dsn, 0)
	if err != nil {
		t.Fatal(err)
	}
	clk := clock.NewFake(time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC))
	ns := app.New(app.Config{Store: st, Libraries: fakeLibraries{"tlib": {IsMultiSpace: true, IsFileLibrary: true}},
		Auth: authz.New(shareTokens{}, nil), Clock: clk, LibraryTTL: time.Nanosecond, AsyncBatchThreshold: asyncItems,
		TaskHeartbeat: time.Millisecond})
	t.Cleanup(func() {
		ns.Close()
		_ = st.Close()
	})
	f := &saveFixture{t: t, ns: ns, st: st, clk: clk}
	for _, sp := range []string{"src", "dst"} {
		if _, err := ns.CreateSpace(as("tlib:admin@src,dst"), "tlib", sp, app.ExtensionPatch{}); err != nil {
			t.Fatal(err)
		}
	}
	f.docs = f.mkdir("src", "docs")
	f.sub = f.mkdir("src", "docs/sub")
	f.a = f.put("src", "docs/a.txt", "blob-a", 10)
	f.put("src", "docs/sub/b.txt", "blob-b", 20)
	f.top = f.put("src", "top.txt", "blob-top", 5)
	f.share = f.newShare("one", app.ShareConfig{IsPermanent: true, CanSave: true}, "docs", "top.txt")
	return f
}

func (f *saveFixture) mkdir(space, path string) app.Node {
	f.t.Helper()
	n, _, err := f.ns.CreateDirectory(as("tlib:admin@src,dst"), "tlib", space, path, "", app.DirAttrs{})
	if err != nil {
		f.t.Fatalf("mkdir %s: %v", path, err)
	}
	return n
}

func (f *saveFixture) put(space, path, blob string, size int64) app.Node {
	f.t.Helper()
	if _, err := f.ns.CommitFile(context.Background(), app.Commit{LibraryID: "tlib", SpaceID: space, Path: strings.Split(path, "/"),
		BlobID: blob, Size: size, Type: app.TypeFile, ContentType: "text/plain", ETag: "e-" + blob, CRC64: "1"}); err != nil {
		f.t.Fatalf("put %s: %v", path, err)
	}
	return f.lookup(space, path)
}

func (f *saveFixture) lookup(space, path string) app.Node {
	f.t.Helper()
	n, err := f.st.Lookup(context.Background(), "tlib", space, strings.Split(path, "/"))
	if err != nil {
		f.t.Fatalf("lookup %s/%s: %v", space, path, err)
	}
	return n
}

func (f *saveFixture) newShare(id string, cfg app.ShareConfig, paths ...string) app.Share {
	f.t.Helper()
	var ps [][]string
	for _, p := range paths {
		ps = append(ps, strings.Split(p, "/"))
	}
	sh, err := f.st.CreateShare(context.Background(), app.Share{LibraryID: "tlib", SpaceID: "src", ShareID: "sid-" + id,
		Code: "code-" + id, CreatorID: "u-upload_file_force", Name: id, Config: cfg, CreatedAt: f.clk.Now()}, ps)
	if err != nil {
		f.t.Fatal(err)
	}
	return sh
}

func saveBody(target, chain string, inodes ...app.Node) map[string]any {
	list := make([]any, len(inodes))
	for i, n := range inodes {
		list[i] = itoa(n.Inode)
	}
	return map[string]any{"targetSpaceId": "dst", "targetPath": target, "sourceInodesPath": chain, "inodes": list}
}

// TestSaveFromShare: a file and a directory land in the saver's space over the same blobs; the
// defaults are rename for files and ask for directories; results keep request order.
func TestSaveFromShare(t *testing.T) {
	for _, e := range storetest.Engines() {
		t.Run(e.Name, func(t *testing.T) {
			f := newSaveFixture(t, e.DSN(t), 100)
			f.mkdir("dst", "in")
			b, err := f.ns.SaveFromShare(as(saver), "code-one", "", saveBody("in", "", f.top, f.docs))
			if err != nil {
				t.Fatal(err)
			}
			if len(b.Results) != 2 || b.TaskID != 0 {
				t.Fatalf("results %+v", b)
			}
			if r := b.Results[0]; r.Err != nil || r.Status != 200 || strings.Join(r.Path, "/") != "in/top.txt" || r.Item.From != "top.txt" {
				t.Errorf("file item %+v", r)
			}
			if r := b.Results[1]; r.Err != nil || r.Status != 204 || r.Item.To != "in/docs" || r.Item.From != "docs" {
				t.Errorf("directory item %+v", r)
			}
			// Same blobs, no bytes copied; new inodes.
			for _, c := range []struct{ src, dst string }{{"top.txt", "in/top.txt"}, {"docs/a.txt", "in/docs/a.txt"}, {"docs/sub/b.txt", "in/docs/sub/b.txt"}} {
				s, d := f.lookup("src", c.src), f.lookup("dst", c.dst)
				if s.BlobID != d.BlobID || s.Size != d.Size || s.Inode == d.Inode {
					t.Errorf("%s → %s: blob %s/%s size %d/%d inode %d/%d", c.src, c.dst, s.BlobID, d.BlobID, s.Size, d.Size, s.Inode, d.Inode)
				}
			}

			// From inside the share: a child of docs, echoed from the share root.
			b, err = f.ns.SaveFromShare(as(saver), "code-one", "", saveBody("", itoa(f.docs.Inode), f.a, f.sub))
			if err != nil || len(b.Results) != 2 || b.Results[0].Item.From != "docs/a.txt" || b.Results[0].Status != 200 || b.Results[1].Status != 204 {
				t.Fatalf("save from a directory of the share: %+v %v", b, err)
			}
			f.lookup("dst", "a.txt")
			f.lookup("dst", "sub/b.txt")

			// Again: the file is renamed, the directory conflicts (ask), the overwrite of a
			// directory is refused; request order kept.
			b, err = f.ns.SaveFromShare(as(saver), "code-one", "", saveBody("in", "", f.top, f.docs))
			if err != nil || len(b.Results) != 2 {
				t.Fatalf("second save: %+v %v", b, err)
			}
			if r := b.Results[0]; r.Status != 200 || strings.Join(r.Path, "/") == "in/top.txt" || !strings.HasPrefix(strings.Join(r.Path, "/"), "in/top") {
				t.Errorf("renamed file %+v", r)
			}
			if r := b.Results[1]; !errors.Is(r.Err, app.ErrNameTaken) {
				t.Errorf("directory under ask: %+v", r)
			}
			body := saveBody("in", "", f.docs)
			body["conflictResolutionStrategy"] = "overwrite"
			b, err = f.ns.SaveFromShare(as(saver), "code-one", "", body)
			if err != nil || b.Results[0].Err == nil {
				t.Errorf("overwrite of a directory: %+v %v", b, err)
			}
			// Overwriting a file needs upload_file_force.
			body = saveBody("in", "", f.top)
			body["conflictResolutionStrategy"] = "overwrite"
			if b, err = f.ns.SaveFromShare(as(saver), "code-one", "", body); err != nil || !errors.Is(b.Results[0].Err, authz.ErrNoPermission) {
				t.Errorf("overwrite without force: %+v %v", b, err)
			}
			if b, err = f.ns.SaveFromShare(as("tlib:upload_file_force@dst"), "code-one", "", body); err != nil || b.Results[0].Status != 204 {
				t.Errorf("overwrite with force: %+v %v", b, err)
			}
		})
	}
}

// TestSaveFromShareRefusals: every refusal of decision 14 and 13.12 saves nothing.
func TestSaveFromShareRefusals(t *testing.T) {
	for _, e := range storetest.Engines() {
		t.Run(e.Name, func(t *testing.T) {
			f := newSaveFixture(t, e.DSN(t), 100)
			f.newShare("nosave", app.ShareConfig{IsPermanent: true}, "top.txt")
			f.newShare("coded", app.ShareConfig{IsPermanent: true, CanSave: true, ExtractionCode: "abc123"}, "top.txt")
			f.newShare("expired", app.ShareConfig{CanSave: true, ExpireAt: f.clk.Now().Add(-time.Hour)}, "top.txt")
			f.newShare("named", app.ShareConfig{IsPermanent: true, CanSave: true, ForbidAnonymous: true}, "top.txt")
			off := f.newShare("off", app.ShareConfig{IsPermanent: true, CanSave: true}, "top.txt")
			if err := f.st.SetShareEnabled(context.Background(), "tlib", off.ShareID, nil, ptr(false), f.clk.Now()); err != nil {
				t.Fatal(err)
			}
			outside := f.put("src", "private.txt", "blob-p", 1)
			tests := []struct {
				name, token, code, shareToken string
				body                          map[string]any
				want                          error
			}{
				{"no token", "", "code-one", "", saveBody("", "", f.top), authz.ErrEmptyAccessToken},
				{"share token as access token", "share:tlib:sid-one", "code-one", "", saveBody("", "", f.top), authz.ErrInvalidAccessToken},
				{"no upload right", "tlib:delete_file@dst", "code-one", "", saveBody("", "", f.top), authz.ErrNoPermission},
				{"other space", "tlib:upload_file@src2", "code-one", "", saveBody("", "", f.top), nil},
				{"unknown share", saver, "code-none", "", saveBody("", "", f.top), app.ErrShareNotFound},
				{"cannot save", saver, "code-nosave", "", saveBody("", "", f.top), app.ErrCannotSaveToNetDisk},
				{"expired", saver, "code-expired", "", saveBody("", "", f.top), app.ErrShareExpired},
				{"disabled", saver, "code-off", "", saveBody("", "", f.top), app.ErrShareDisabled},
				{"admin of the target space only, without the share token", "tlib:admin@dst", "code-coded", "", saveBody("", "", f.top), authz.ErrInvalidAccessToken},
				{"code without share token", saver, "code-coded", "", saveBody("", "", f.top), authz.ErrInvalidAccessToken},
				{"code with another share's token", saver, "code-coded", "share:tlib:sid-one", saveBody("", "", f.top), authz.ErrInvalidAccessToken},
				{"not in share", saver, "code-one", "", saveBody("", "", outside), app.ErrNotInShare},
				{"not a direct child", saver, "code-one", "", saveBody("", "", f.a), app.ErrNotInShare},
				{"chain outside", saver, "code-one", "", saveBody("", itoa(outside.Inode), f.top), app.ErrNotInShare},
				{"bad body", saver, "code-one", "", map[string]any{"targetSpaceId": "dst", "inodes": []any{"1"}}, app.ErrParamInvalid},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					_, err := f.ns.SaveFromShare(as(tt.token), tt.code, tt.shareToken, tt.body)
					if tt.want == nil {
						if err == nil {
							t.Fatal("saved into a space the token does not reach")
						}
					} else if !errors.Is(err, tt.want) {
						t.Fatalf("err = %v, want %v", err, tt.want)
					}
				})
			}
			if n, err := f.st.CountTree(context.Background(), "tlib", "dst", nil, 100); err != nil || n != 0 {
				t.Fatalf("refused saves left %d entries in dst (%v)", n, err)
			}
			// The passes that open the coded share: its own share token, or being its creator
			// ("u-upload_file_force"), or admin.
			for _, c := range []struct{ token, shareToken string }{{saver, "share:tlib:sid-coded"}, {"tlib:upload_file_force@dst", ""}, {"tlib:admin@src,dst", ""}} {
				if b, err := f.ns.SaveFromShare(as(c.token), "code-coded", c.shareToken, saveBody("", "", f.top)); err != nil || b.Results[0].Err != nil {
					t.Errorf("%s with %q: %+v %v", c.token, c.shareToken, b, err)
				}
			}
		})
	}
}

// TestSaveFromShareAsTask: above the async threshold a save is a batchCopy task whose results
// the task query answers.
func TestSaveFromShareAsTask(t *testing.T) {
	f := newSaveFixture(t, storetest.Engines()[0].DSN(t), 1)
	b, err := f.ns.SaveFromShare(as(saver), "code-one", "", saveBody("", "", f.top, f.docs))
	if err != nil || b.TaskID <= 0 {
		t.Fatalf("save of two items over a threshold of one: %+v %v", b, err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, err := f.ns.Tasks(as(saver), "tlib", "dst", itoa(int64(b.TaskID)))
		if err != nil || len(got) != 1 || got[0].Err != nil {
			t.Fatalf("task query: %+v %v", got, err)
		}
		tk := got[0].Task
		if tk.Status != app.TaskRunning {
			results, _ := tk.Result.([]app.BatchResult)
			if tk.Kind != app.TaskBatchCopy || tk.Status != app.TaskDone || len(results) != 2 || results[0].Status != 200 || results[1].Status != 204 {
				t.Fatalf("task %+v", tk)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the save task never finished")
		}
		time.Sleep(10 * time.Millisecond)
	}
	f.lookup("dst", "docs/sub/b.txt")
}
