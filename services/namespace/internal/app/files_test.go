package app_test

import (
	"context"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/metadata"

	"github.com/opensmh/opensmh/pkg/authz"
	"github.com/opensmh/opensmh/pkg/fileattr"
	"github.com/opensmh/opensmh/pkg/reqmeta"
	"github.com/opensmh/opensmh/services/namespace/internal/app"
	"github.com/opensmh/opensmh/services/namespace/internal/store"
	"github.com/opensmh/opensmh/services/namespace/storetest"
)

// Use-case tests of section 3 on a real store (SQLite; the store contract suite covers both
// engines): grants and force, the SMH error of every rule, and what each use case answers.

type fakeLibraries map[string]app.Library

func (f fakeLibraries) Library(_ context.Context, id string) (app.Library, error) {
	lib, ok := f[id]
	if !ok {
		return app.Library{}, app.ErrLibraryNotFound
	}
	lib.ID = id
	return lib, nil
}

// fakeTokens makes a token "<library>:<grant>,<grant>" hold those grants on the library's
// space "-", or on the spaces after a "@": "lib:upload_file@s1".
type fakeTokens struct{}

func (fakeTokens) ValidateToken(_ context.Context, libraryID, token string) (*authz.Principal, error) {
	lib, rest, ok := strings.Cut(token, ":")
	if !ok || lib != libraryID {
		return nil, authz.ErrInvalidAccessToken
	}
	grantList, spaces, _ := strings.Cut(rest, "@")
	var names []string
	if grantList != "" {
		names = strings.Split(grantList, ",")
	}
	g, bad, ok := authz.NewGrantSet(names...)
	if !ok {
		panic("unknown grant " + bad)
	}
	p := &authz.Principal{LibraryID: lib, SpaceIDs: []string{"-"}, Grants: g, UserID: "u-" + grantList}
	if spaces != "" {
		p.SpaceIDs = strings.Split(spaces, ",")
	}
	return p, nil
}

type harness struct {
	t  *testing.T
	ns *app.Namespace
	st *store.SQL
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	st, err := store.Open(context.Background(), storetest.Engines()[0].DSN(t), 0)
	if err != nil {
		t.Fatal(err)
	}
	libs := fakeLibraries{
		"flib":  {IsFileLibrary: true},
		"wlib":  {IsFileLibrary: true, AllowFileExtname: []string{".txt"}},
		"mlib":  {AllowPhoto: true, AllowVideo: true},
		"alib":  {IsMultiAlbum: true, AllowPhoto: true, AllowVideo: true, AllowPhotoExtname: []string{".jpg"}},
		"plib":  {IsFileLibrary: true, IsPublicRead: true},
		"tlib":  {IsMultiSpace: true, IsFileLibrary: true},
		"short": {IsFileLibrary: true, MaxNameLength: 8},
	}
	ns := app.New(app.Config{Store: st, Libraries: libs, Auth: authz.New(fakeTokens{}, nil), LibraryTTL: time.Nanosecond})
	t.Cleanup(func() {
		ns.Close()
		_ = st.Close()
	})
	return &harness{t: t, ns: ns, st: st}
}

// as is a request context carrying token ("" = anonymous).
func as(token string) context.Context {
	if token == "" {
		return context.Background()
	}
	return metadata.NewIncomingContext(context.Background(), metadata.Pairs(reqmeta.AccessToken, token))
}

func admin(lib string) context.Context { return as(lib + ":admin") }

func (h *harness) mkdir(lib, path string) {
	h.t.Helper()
	if _, _, err := h.ns.CreateDirectory(admin(lib), lib, "-", path, "", app.DirAttrs{}); err != nil {
		h.t.Fatalf("mkdir %s/%s: %v", lib, path, err)
	}
}

// upload runs the object service's two calls: CheckUpload with the user's token, CommitFile.
func (h *harness) upload(ctx context.Context, lib, path, strategy, blob string, size int64, typ app.NodeType) (app.Placed, error) {
	h.t.Helper()
	c, err := h.ns.CheckUpload(ctx, lib, "-", path, strategy, nil)
	if err != nil {
		return app.Placed{}, err
	}
	return h.ns.CommitFile(context.Background(), app.Commit{
		LibraryID: lib, SpaceID: "-", Path: c.Path, Strategy: string(c.Strategy), Force: c.Force, UserID: c.UserID,
		BlobID: blob, Size: size, Type: typ, ContentType: "application/octet-stream", ETag: "e-" + blob, CRC64: "1",
	})
}

func (h *harness) put(lib, path, blob string, size int64) app.Placed {
	h.t.Helper()
	typ := app.TypeFile
	if !strings.HasPrefix(lib, "f") && !strings.HasPrefix(lib, "p") && !strings.HasPrefix(lib, "w") {
		typ = app.TypeImage
		if strings.HasSuffix(path, ".mp4") {
			typ = app.TypeVideo
		}
	}
	p, err := h.upload(admin(lib), lib, path, "", blob, size, typ)
	if err != nil {
		h.t.Fatalf("upload %s/%s: %v", lib, path, err)
	}
	return p
}

func want(t *testing.T, what string, got, wantErr error) {
	t.Helper()
	if wantErr == nil && got != nil || !errors.Is(got, wantErr) {
		t.Fatalf("%s: error %v, want %v", what, got, wantErr)
	}
}

func TestCheckUpload(t *testing.T) {
	h := newHarness(t)
	h.mkdir("flib", "d")
	h.put("flib", "d/a.txt", "b1", 5)
	h.mkdir("alib", "album")
	tests := []struct {
		name, lib, token, path, strategy string
		wantErr                          error
		wantForce                        bool
	}{
		{"upload_file", "flib", "upload_file", "d/new.txt", "", nil, false},
		{"begin_upload", "flib", "begin_upload", "d/new.txt", "", nil, false},
		{"upload_file_force", "flib", "upload_file_force", "d/new.txt", "", nil, true},
		{"begin_upload_force", "flib", "begin_upload_force", "d/new.txt", "", nil, true},
		{"space_admin forces", "flib", "space_admin", "d/new.txt", "", nil, true},
		{"admin forces", "flib", "admin", "d/new.txt", "", nil, true},
		{"read-only token", "flib", "", "d/new.txt", "", authz.ErrNoPermission, false},
		{"another grant", "flib", "delete_file", "d/new.txt", "", authz.ErrNoPermission, false},
		{"confirm_upload alone cannot begin", "flib", "confirm_upload", "d/new.txt", "", authz.ErrNoPermission, false},
		{"rename over a file", "flib", "upload_file", "d/a.txt", "", nil, false},
		{"ask over a file", "flib", "upload_file", "d/a.txt", "ask", app.ErrNameTaken, false},
		{"overwrite without force (decision 3)", "flib", "upload_file", "d/a.txt", "overwrite", authz.ErrNoPermission, false},
		{"overwrite with force", "flib", "upload_file_force", "d/a.txt", "overwrite", nil, true},
		{"overwrite of a new name needs no force", "flib", "upload_file", "d/b.txt", "overwrite", nil, false},
		{"overwrite of a directory", "flib", "admin", "d", "overwrite", app.ErrNameTaken, true},
		{"ask on a directory", "flib", "admin", "d", "ask", app.ErrNameTaken, true},
		{"missing parent", "flib", "admin", "x/a.txt", "", app.ErrNodeNotFound, true},
		{"file in the middle", "flib", "admin", "d/a.txt/b.txt", "", app.ErrNotDirectory, true},
		{"empty path", "flib", "admin", "", "", app.ErrEmptyFileName, true},
		{"empty last segment", "flib", "admin", "d/", "", app.ErrEmptyFileName, true},
		{"illegal name", "flib", "admin", "d/a\\b", "", app.ErrIllegalName, true},
		{"file name too long", "short", "admin", "abcdefghi", "", app.ErrFileNameTooLong, true},
		{"bad strategy", "flib", "admin", "d/a.txt", "merge", app.ErrInvalidStrategy, true},
		{"whitelist admits", "wlib", "admin", "a.TXT", "", nil, true},
		{"whitelist refuses", "wlib", "admin", "a.exe", "", app.ErrExtnameNotAllowed, true},
		{"multi-album root", "alib", "admin", "a.jpg", "", app.ErrUploadToRoot, true},
		{"multi-album album", "alib", "admin", "album/a.jpg", "", nil, true},
		{"single-album subdirectory", "mlib", "admin", "x/a.jpg", "", app.ErrDirectoryNotAllowed, true},
		{"single-album root", "mlib", "admin", "a.jpg", "", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := h.ns.CheckUpload(as(tt.lib+":"+tt.token), tt.lib, "-", tt.path, tt.strategy, nil)
			want(t, "CheckUpload", err, tt.wantErr)
			if err == nil && c.Force != tt.wantForce {
				t.Fatalf("force = %v, want %v", c.Force, tt.wantForce)
			}
		})
	}
	if _, err := h.ns.CheckUpload(as(""), "flib", "-", "d/n.txt", "", nil); !errors.Is(err, authz.ErrEmptyAccessToken) {
		t.Fatalf("anonymous upload: %v", err)
	}
	if _, err := h.ns.CreateSpace(as("tlib:admin"), "tlib", "s2", app.ExtensionPatch{}); err != nil {
		t.Fatal(err)
	}
	_, err := h.ns.CheckUpload(as("tlib:admin@s1"), "tlib", "s2", "a.txt", "", nil)
	want(t, "token of another space", err, authz.ErrAccessTokenNotMatchSpace)
	if _, err := h.ns.CheckUpload(as("tlib:upload_file@s2"), "tlib", "s2", "a.txt", "", nil); err != nil {
		t.Fatalf("token of the space: %v", err)
	}
	c, err := h.ns.CheckUpload(as("alib:upload_file"), "alib", "-", "album/a.jpg", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	wantRules := app.UploadRules{MediaLibrary: true, AllowPhoto: true, AllowVideo: true, AllowPhotoExtname: []string{".jpg"}}
	if !reflect.DeepEqual(c.Rules, wantRules) || c.Strategy != app.ConflictRename || c.UserID != "u-upload_file" ||
		!reflect.DeepEqual(c.Path, []string{"album", "a.jpg"}) {
		t.Fatalf("CheckUpload = %+v", c)
	}
	neg := int64(-1)
	if _, err := h.ns.CheckUpload(admin("flib"), "flib", "-", "d/n.txt", "", &neg); !errors.Is(err, app.ErrParamInvalid) {
		t.Fatalf("negative filesize: %v", err)
	}
}

func TestCommitFile(t *testing.T) {
	h := newHarness(t)
	h.mkdir("flib", "d")
	first := h.put("flib", "d/a.txt", "b1", 5)
	if first.Overwritten || first.Node.BlobID != "b1" || first.Node.Type != app.TypeFile || first.Node.UserID != "u-admin" {
		t.Fatalf("first commit = %+v", first)
	}
	commit := func(strategy string, force bool, blob string) (app.Placed, error) {
		return h.ns.CommitFile(context.Background(), app.Commit{LibraryID: "flib", SpaceID: "-", Path: []string{"d", "a.txt"},
			Strategy: strategy, Force: force, BlobID: blob, Size: 9, Category: "docs", Labels: []string{"x"}})
	}
	p, err := commit("", false, "b2")
	if err != nil || !reflect.DeepEqual(p.Path, []string{"d", "a (1).txt"}) || p.Overwritten {
		t.Fatalf("rename commit = %+v, %v", p, err)
	}
	_, err = commit("ask", false, "b3")
	want(t, "ask", err, app.ErrNameTaken)
	_, err = commit("overwrite", false, "b3")
	want(t, "overwrite without force", err, authz.ErrNoPermission)
	p, err = commit("overwrite", true, "b3")
	if err != nil || !p.Overwritten || p.Node.Inode != first.Node.Inode || p.Node.BlobID != "b3" || p.Node.Category != "docs" {
		t.Fatalf("overwrite commit = %+v, %v", p, err)
	}
	_, err = h.ns.CommitFile(context.Background(), app.Commit{LibraryID: "flib", SpaceID: "-", Path: []string{"d"}, Strategy: "overwrite", Force: true})
	want(t, "overwrite a directory", err, app.ErrNameTaken)
	_, err = h.ns.CommitFile(context.Background(), app.Commit{LibraryID: "flib", SpaceID: "-", Path: []string{"d"}, Strategy: "overwrite"})
	want(t, "overwrite a directory without force", err, app.ErrNameTaken)
	_, err = h.ns.CommitFile(context.Background(), app.Commit{LibraryID: "flib", SpaceID: "-", Path: []string{"d", "c.txt"}, Category: strings.Repeat("c", 17)})
	want(t, "long category", err, fileattr.ErrInvalid)
	_, err = h.ns.CommitFile(context.Background(), app.Commit{LibraryID: "flib", SpaceID: "-", Path: []string{"d", "c.txt"}, MetaData: map[string]string{"location": "https://evil.example/x"}})
	want(t, "metadata outside x-smh-meta-", err, fileattr.ErrInvalid)
	_, err = h.ns.CommitFile(context.Background(), app.Commit{LibraryID: "flib", SpaceID: "-", Path: []string{"d", "c.txt"}, Type: app.TypeSymlink})
	want(t, "symlink type", err, app.ErrParamInvalid)
	_, err = h.ns.CommitFile(context.Background(), app.Commit{LibraryID: "flib", SpaceID: "-", Path: []string{"d/c.txt"}})
	want(t, "a slash inside a segment", err, app.ErrParamInvalid)
	_, err = h.ns.CommitFile(context.Background(), app.Commit{LibraryID: "flib", SpaceID: "-", Path: []string{"x", "c.txt"}})
	want(t, "missing parent", err, app.ErrNodeNotFound)
	_, err = h.ns.CommitFile(context.Background(), app.Commit{LibraryID: "alib", SpaceID: "-", Path: []string{"c.jpg"}, Type: app.TypeImage})
	want(t, "multi-album root", err, app.ErrUploadToRoot)
	_, err = h.ns.CommitFile(context.Background(), app.Commit{LibraryID: "nope", SpaceID: "-", Path: []string{"c.jpg"}})
	want(t, "unknown library", err, app.ErrLibraryNotFound)
	_, err = h.ns.CommitFile(context.Background(), app.Commit{LibraryID: "flib", SpaceID: "s1", Path: []string{"c.txt"}})
	want(t, "single tenant, other space", err, app.ErrSpaceNotFound)
}

func TestCopyMoveDelete(t *testing.T) {
	h := newHarness(t)
	h.mkdir("flib", "d")
	h.mkdir("flib", "e")
	h.put("flib", "d/a.txt", "b1", 5)
	h.put("flib", "d/b.txt", "b2", 7)
	ctx := admin("flib")

	path, err := h.ns.CopyFile(ctx, "flib", "-", "e/a.txt", "d/a.txt", "")
	if err != nil || !reflect.DeepEqual(path, []string{"e", "a.txt"}) {
		t.Fatalf("CopyFile = %v, %v", path, err)
	}
	path, err = h.ns.CopyFile(ctx, "flib", "-", "e/a.txt", "d/a.txt", "")
	if err != nil || !reflect.DeepEqual(path, []string{"e", "a (1).txt"}) {
		t.Fatalf("CopyFile rename = %v, %v", path, err)
	}
	tests := []struct {
		name, token, dest, from, strategy string
		move                              bool
		wantErr                           error
	}{
		{"copy_file may copy", "copy_file", "e/c.txt", "d/a.txt", "", false, nil},
		{"move_file may not copy", "move_file", "e/c2.txt", "d/a.txt", "", false, authz.ErrNoPermission},
		{"copy over a file without force", "copy_file", "e/a.txt", "d/b.txt", "overwrite", false, authz.ErrNoPermission},
		{"copy over a file with force", "copy_file_force", "e/a.txt", "d/b.txt", "overwrite", false, nil},
		{"copy ask", "copy_file", "e/a.txt", "d/b.txt", "ask", false, app.ErrNameTaken},
		{"copy over a directory", "admin", "e", "d/b.txt", "overwrite", false, app.ErrNameTaken},
		{"copy from nowhere", "admin", "e/z.txt", "d/none.txt", "", false, app.ErrSourceFileNotFound},
		{"copy from through a file", "admin", "e/z.txt", "d/a.txt/x", "", false, app.ErrSourceFileNotFound},
		{"copy a directory", "admin", "e/z.txt", "d", "", false, app.ErrInvalidSourceFile},
		{"copy from an empty path", "admin", "e/z.txt", "", "", false, app.ErrInvalidSourceFile},
		{"copy to a missing directory", "admin", "x/z.txt", "d/a.txt", "", false, app.ErrNodeNotFound},
		{"copy to through a file", "admin", "d/a.txt/z.txt", "d/b.txt", "", false, app.ErrNotDirectory},
		{"move_file may move", "move_file", "e/m.txt", "e/c.txt", "", true, nil},
		{"copy_file may not move", "copy_file", "e/m2.txt", "e/m.txt", "", true, authz.ErrNoPermission},
		{"move over a file without force", "move_file", "e/a.txt", "e/m.txt", "overwrite", true, authz.ErrNoPermission},
		{"move over a file with force", "move_file_force", "e/a.txt", "e/m.txt", "overwrite", true, nil},
		{"move from nowhere", "admin", "e/q.txt", "e/m.txt", "", true, app.ErrSourceFileNotFound},
		{"move a directory", "admin", "e/q.txt", "d", "", true, app.ErrInvalidSourceFile},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := as("flib:" + tt.token)
			var err error
			if tt.move {
				_, err = h.ns.MoveFile(c, "flib", "-", tt.dest, tt.from, tt.strategy)
			} else {
				_, err = h.ns.CopyFile(c, "flib", "-", tt.dest, tt.from, tt.strategy)
			}
			want(t, tt.name, err, tt.wantErr)
		})
	}
	r, err := h.ns.ResolveFile(ctx, "flib", "-", "e/a.txt", "")
	if err != nil || r.Node.BlobID != "b1" || r.Node.Size != 5 {
		t.Fatalf("e/a.txt after the forced move = %+v, %v", r, err)
	}

	want(t, "delete without a grant", second(h.ns.DeleteFile(as("flib:copy_file"), "flib", "-", "e/a.txt", false)), authz.ErrNoPermission)
	want(t, "delete a directory", second(h.ns.DeleteFile(ctx, "flib", "-", "d", false)), app.ErrFileNotFound)
	want(t, "delete nothing", second(h.ns.DeleteFile(ctx, "flib", "-", "d/none.txt", false)), app.ErrFileNotFound)
	want(t, "delete through a file", second(h.ns.DeleteFile(ctx, "flib", "-", "d/a.txt/x", false)), app.ErrFileNotFound)
	// The library's bin is off: permanent is ignored and delete_file suffices (5.10); with the
	// bin on it needs delete_file_permanent (recycle_test.go).
	want(t, "permanent with delete_file, bin off", second(h.ns.DeleteFile(as("flib:delete_file"), "flib", "-", "e/a.txt", true)), nil)
	want(t, "delete_file_permanent", second(h.ns.DeleteFile(as("flib:delete_file_permanent"), "flib", "-", "d/b.txt", true)), nil)
	_, err = h.ns.ResolveFile(ctx, "flib", "-", "e/a.txt", "")
	want(t, "resolve deleted", err, app.ErrFileNotFound)

	// ?update (3.16) works on files through the directory use case.
	if err := h.ns.UpdateDirectory(ctx, "flib", "-", "d/a.txt", []string{"l1"}, app.MetaUpdate{Set: map[string]string{"x-smh-meta-k": "v", "x-smh-meta-gone": "x"}}); err != nil {
		t.Fatalf("update a file: %v", err)
	}
	n, _, err := h.ns.EntryInfo(ctx, "flib", "-", "d/a.txt")
	if err != nil || !reflect.DeepEqual(n.Labels, []string{"l1"}) || n.MetaData["x-smh-meta-k"] != "v" || n.BlobID != "b1" {
		t.Fatalf("updated file = %+v, %v", n, err)
	}
	// metaDataDirective merge: new keys join, null deletes, the rest stays; labels kept (nil).
	merge := app.MetaUpdate{Merge: true, Set: map[string]string{"x-smh-meta-k2": "v2"}, Delete: []string{"x-smh-meta-gone"}}
	if err := h.ns.UpdateDirectory(ctx, "flib", "-", "d/a.txt", nil, merge); err != nil {
		t.Fatalf("merge: %v", err)
	}
	n, _, err = h.ns.EntryInfo(ctx, "flib", "-", "d/a.txt")
	if err != nil || !reflect.DeepEqual(n.MetaData, map[string]string{"x-smh-meta-k": "v", "x-smh-meta-k2": "v2"}) || !reflect.DeepEqual(n.Labels, []string{"l1"}) {
		t.Fatalf("merged file = %+v, %v", n, err)
	}
}

func TestMediaRenames(t *testing.T) {
	h := newHarness(t)
	h.mkdir("alib", "x")
	h.mkdir("alib", "y")
	h.put("alib", "x/a.jpg", "b1", 5)
	h.put("alib", "x/v.mp4", "b2", 5)
	ctx := admin("alib")
	tests := []struct {
		name, dest, from string
		wantErr          error
	}{
		{"same extension", "y/a.jpg", "x/a.jpg", nil},
		{"another image extension", "y/a.png", "x/a.jpg", nil},
		{"image to video", "y/a.mp4", "x/a.jpg", app.ErrFileTypeNotMatched},
		{"video to image", "y/v.gif", "x/v.mp4", app.ErrFileTypeNotMatched},
		{"image to text", "y/a.txt", "x/a.jpg", app.ErrFileTypeNotMatched},
		{"to the root", "a.jpg", "x/a.jpg", app.ErrUploadToRoot},
		{"deeper", "y/z/a.jpg", "x/a.jpg", app.ErrDirectoryLevelExceed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := h.ns.CopyFile(ctx, "alib", "-", tt.dest, tt.from, "")
			want(t, "copy", err, tt.wantErr)
			_, err = h.ns.MoveFile(ctx, "alib", "-", tt.dest+".moved", tt.from, "")
			if tt.wantErr == nil {
				// "a.jpg.moved" has another extension: refused as well.
				want(t, "move", err, app.ErrFileTypeNotMatched)
			}
		})
	}
}

func TestSymlinksAndReads(t *testing.T) {
	h := newHarness(t)
	h.mkdir("flib", "d")
	target := h.put("flib", "d/a.txt", "b1", 5)
	ctx := admin("flib")

	for _, tok := range []string{"upload_file", "create_symlink", "create_symlink_force", "upload_file_force"} {
		if _, err := h.ns.CreateSymlink(as("flib:"+tok), "flib", "-", "d/link-"+tok, "d/a.txt", ""); err != nil {
			t.Fatalf("CreateSymlink with %s: %v", tok, err)
		}
	}
	_, err := h.ns.CreateSymlink(as("flib:copy_file"), "flib", "-", "d/l", "d/a.txt", "")
	want(t, "without a grant", err, authz.ErrNoPermission)
	_, err = h.ns.CreateSymlink(ctx, "flib", "-", "d/l", "d", "")
	want(t, "to a directory", err, app.ErrSymlinkToDirectory)
	_, err = h.ns.CreateSymlink(ctx, "flib", "-", "d/l", "d/none", "")
	want(t, "to nothing", err, app.ErrFileNotFound)
	_, err = h.ns.CreateSymlink(ctx, "flib", "-", "d/l", "", "")
	want(t, "to an empty path", err, app.ErrParamInvalid)
	_, err = h.ns.CreateSymlink(as("flib:create_symlink"), "flib", "-", "d/link-upload_file", "d/a.txt", "overwrite")
	want(t, "overwrite without force", err, authz.ErrNoPermission)
	_, err = h.ns.CreateSymlink(ctx, "flib", "-", "d/a.txt", "d/link-upload_file", "overwrite")
	want(t, "a link over its own target", err, app.ErrSymlinkOverwrite)
	path, err := h.ns.CreateSymlink(ctx, "flib", "-", "link2", "d/link-upload_file", "")
	if err != nil || !reflect.DeepEqual(path, []string{"link2"}) {
		t.Fatalf("a link to a link = %v, %v", path, err)
	}

	r, err := h.ns.ResolveFile(as("flib:"), "flib", "-", "link2", "")
	if err != nil || r.Node.Inode != target.Node.Inode || !reflect.DeepEqual(r.Path, []string{"d", "a.txt"}) ||
		!reflect.DeepEqual(r.LinkPath, []string{"link2"}) || r.Node.BlobID != "b1" {
		t.Fatalf("ResolveFile(link2) = %+v, %v", r, err)
	}
	_, err = h.ns.ResolveFile(as(""), "flib", "-", "d/a.txt", "")
	want(t, "anonymous on a private library", err, authz.ErrEmptyAccessToken)
	_, err = h.ns.ResolveFile(ctx, "flib", "-", "d", "")
	want(t, "resolve a directory", err, app.ErrFileNotFound)
	h.mkdir("plib", "p")
	h.put("plib", "p/a.txt", "b9", 1)
	if _, err := h.ns.ResolveFile(as(""), "plib", "-", "p/a.txt", ""); err != nil {
		t.Fatalf("anonymous on a public-read library: %v", err)
	}

	// Inode info.
	n, p, err := h.ns.GetInodeInfo(as("flib:"), "flib", "-", itoa(target.Node.Inode))
	if err != nil || n.Name != "a.txt" || !reflect.DeepEqual(p, []string{"d", "a.txt"}) {
		t.Fatalf("GetInodeInfo = %+v %v, %v", n, p, err)
	}
	for _, bad := range []string{"", "abc", "-1", "0", "1.5"} {
		_, _, err = h.ns.GetInodeInfo(ctx, "flib", "-", bad)
		want(t, "inode "+bad, err, app.ErrParamInvalid)
	}
	_, _, err = h.ns.GetInodeInfo(ctx, "flib", "-", "999999")
	want(t, "unknown inode", err, app.ErrFileNotFound)

	// Deleting the target deletes every link to it.
	if _, err := h.ns.DeleteFile(ctx, "flib", "-", "d/a.txt", false); err != nil {
		t.Fatal(err)
	}
	for _, l := range []string{"link2", "d/link-upload_file", "d/link-create_symlink"} {
		_, err = h.ns.ResolveFile(ctx, "flib", "-", l, "")
		want(t, "link after its target's deletion", err, app.ErrFileNotFound)
	}
	_, _, err = h.ns.GetInodeInfo(ctx, "flib", "-", itoa(target.Node.Inode))
	want(t, "deleted inode", err, app.ErrFileNotFound)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestAlbumCover(t *testing.T) {
	h := newHarness(t)
	h.mkdir("alib", "x")
	h.mkdir("alib", "empty")
	h.put("alib", "x/first.jpg", "b1", 1)
	h.put("alib", "x/second.mp4", "b2", 1)
	h.put("mlib", "root.jpg", "b3", 1)
	ctx := admin("alib")

	r, err := h.ns.ResolveAlbumCover(ctx, "alib", "-", "x")
	if err != nil || r.Node.Name != "first.jpg" || !reflect.DeepEqual(r.Path, []string{"x", "first.jpg"}) {
		t.Fatalf("cover of x = %+v, %v", r, err)
	}
	r, err = h.ns.ResolveAlbumCover(admin("mlib"), "mlib", "-", "")
	if err != nil || r.Node.Name != "root.jpg" {
		t.Fatalf("cover of a single-album library = %+v, %v", r, err)
	}
	tests := []struct {
		name, lib, album string
		wantErr          error
	}{
		{"file library", "flib", "", app.ErrCoverInFileLibrary},
		{"multi-album root", "alib", "", app.ErrCoverInRoot},
		{"single-album with a name", "mlib", "x", app.ErrParamInvalid},
		{"missing album", "alib", "nope", app.ErrNodeNotFound},
		{"nested album", "alib", "x/y", app.ErrNodeNotFound},
		{"album without media", "alib", "empty", app.ErrFileNotFound},
		{"a file as album", "alib", "x/first.jpg", app.ErrNodeNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := h.ns.ResolveAlbumCover(admin(tt.lib), tt.lib, "-", tt.album)
			want(t, "cover", err, tt.wantErr)
		})
	}
	_, err = h.ns.ResolveAlbumCover(as(""), "alib", "-", "x")
	want(t, "anonymous on a private library", err, authz.ErrEmptyAccessToken)
}

func TestReferencedBlobs(t *testing.T) {
	h := newHarness(t)
	h.mkdir("flib", "d")
	h.put("flib", "d/a.txt", "b1", 1)
	h.put("flib", "d/b.txt", "b2", 1)
	got, err := h.ns.ReferencedBlobs(context.Background(), []string{"b2", "", "zz", "b1", "b2"})
	if err != nil || !reflect.DeepEqual(got, []string{"b1", "b2"}) {
		t.Fatalf("ReferencedBlobs = %v, %v", got, err)
	}
	if got, err := h.ns.ReferencedBlobs(context.Background(), nil); err != nil || len(got) != 0 {
		t.Fatalf("ReferencedBlobs(nil) = %v, %v", got, err)
	}
	_, err = h.ns.ReferencedBlobs(context.Background(), make([]string, 1001))
	want(t, "too many", err, app.ErrParamInvalid)
}

// second answers the error of a call that also answers a value.
func second[T any](_ T, err error) error { return err }
