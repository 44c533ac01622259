package app_test

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/metadata"

	namespacev1 "github.com/opensmh/opensmh/gen/go/smh/namespace/v1"
	"github.com/opensmh/opensmh/pkg/authz"
	"github.com/opensmh/opensmh/pkg/clock"
	"github.com/opensmh/opensmh/pkg/reqmeta"
	"github.com/opensmh/opensmh/services/object/internal/app"
	"github.com/opensmh/opensmh/services/object/internal/blob"
	"github.com/opensmh/opensmh/services/object/internal/store"
)

// A multipart confirm that dies after the namespace committed the file but before the upload was
// marked confirmed (a crash, or the store failing) must not lose the file's bytes: the retried
// confirm answers the file the first attempt committed, whose blob garbage collection must keep.
func TestMultipartConfirmInterruptedAfterCommitKeepsTheBytes(t *testing.T) {
	ctx := context.Background()
	db, blobs := openStores(t)
	ns := &fakeNamespace{committed: map[string]string{}}
	st := &confirmFailsOnce{Store: db, fail: true}
	clk := clock.NewFake(time.Now())
	o := app.New(app.Config{
		Store: st, Blobs: blobs, Namespace: ns, Auth: authz.New(adminTokens{}, nil),
		Signer: app.NewSigner("operator-key"), Clock: clk, Domain: "example.test",
	})
	user := metadata.NewIncomingContext(ctx, metadata.Pairs(reqmeta.AccessToken, "token"))

	begun, err := o.Begin(user, app.BeginRequest{LibraryID: "lib", SpaceID: "-", Path: "f.bin", Kind: app.KindMultipart})
	if err != nil || begun.Ticket == nil {
		t.Fatalf("begin: %v %+v", err, begun)
	}
	tk := begun.Ticket
	data := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB, two parts
	half := len(data) / 2
	for n, part := range [][]byte{data[:half], data[half:]} {
		if _, err := o.ReceivePart(ctx, tk.Upload.ID, tk.Upload.ID, n+1, tk.Headers["Authorization"], bytes.NewReader(part), int64(len(part))); err != nil {
			t.Fatalf("part %d: %v", n+1, err)
		}
	}
	confirm := app.ConfirmRequest{LibraryID: "lib", SpaceID: "-", ConfirmKey: tk.Upload.ID}
	if _, err := o.Confirm(user, confirm); err == nil {
		t.Fatal("the first confirm should fail after the namespace committed")
	}
	first := ns.blobOf(tk.Upload.ID)
	if first == "" {
		t.Fatal("the namespace did not commit the file")
	}
	// The client retries; the namespace answers the file of the first commit.
	file, err := o.Confirm(user, confirm)
	if err != nil {
		t.Fatalf("retried confirm: %v", err)
	}
	if file.GetSize() != int64(len(data)) {
		t.Fatalf("retried confirm answered %v", file)
	}

	// Long after the grace period, the cleanup keeps the bytes the file references.
	clk.Advance(2 * time.Hour)
	for range 2 {
		if _, err := o.CollectGarbage(ctx); err != nil {
			t.Fatalf("cleanup: %v", err)
		}
	}
	key := "blobs/" + first[:2] + "/" + first
	if _, err := blobs.Stat(ctx, key); err != nil {
		t.Fatalf("the bytes of the committed file are gone: %v", err)
	}
	// And nothing else is left: the blob the retry composed went to the cleanup.
	var left []string
	if err := blobs.List(ctx, "", func(i blob.Info) error { left = append(left, i.Key); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(left) != 1 || left[0] != key {
		t.Fatalf("blob store holds %v, want only %s", left, key)
	}
}

// openStores opens a real object store (SQLite) and a local blob store, both in temp dirs.
func openStores(t *testing.T) (*store.SQL, *blob.Local) {
	t.Helper()
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "object.db"), 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	blobs, err := blob.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return db, blobs
}

// confirmFailsOnce is the store with Confirm failing once, as if the process died just before.
type confirmFailsOnce struct {
	app.Store
	mu   sync.Mutex
	fail bool
}

func (s *confirmFailsOnce) Confirm(ctx context.Context, id string, answer []byte) error {
	s.mu.Lock()
	fail := s.fail
	s.fail = false
	s.mu.Unlock()
	if fail {
		return errors.New("crashed before marking the upload confirmed")
	}
	return s.Store.Confirm(ctx, id, answer)
}

// fakeNamespace commits files idempotently on their upload id, as the namespace service does,
// and answers which blobs its files reference.
type fakeNamespace struct {
	mu        sync.Mutex
	committed map[string]string // upload id -> blob id
}

func (n *fakeNamespace) blobOf(upload string) string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.committed[upload]
}

func (n *fakeNamespace) CheckUpload(_ context.Context, in *namespacev1.CheckUploadRequest) (*namespacev1.CheckUploadResponse, error) {
	return &namespacev1.CheckUploadResponse{Path: []string{in.GetFilePath()}, UserId: "alice", ConflictResolutionStrategy: "rename", Force: true,
		Rules: &namespacev1.UploadRules{}}, nil
}

func (n *fakeNamespace) CommitFile(_ context.Context, in *namespacev1.CommitFileRequest) (*namespacev1.StoredFile, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if _, ok := n.committed[in.GetUploadId()]; !ok {
		n.committed[in.GetUploadId()] = in.GetBlobId()
	}
	return &namespacev1.StoredFile{BlobId: n.committed[in.GetUploadId()],
		File: &namespacev1.FileObject{Path: in.GetPath(), Name: in.GetPath()[len(in.GetPath())-1], Size: in.GetSize(), Crc64: in.GetCrc64()}}, nil
}

func (n *fakeNamespace) ResolveFile(context.Context, *namespacev1.ResolveFileRequest) (*namespacev1.StoredFile, error) {
	return nil, errors.New("not used")
}

func (n *fakeNamespace) ResolveRecycledFile(context.Context, *namespacev1.ResolveRecycledFileRequest) (*namespacev1.StoredFile, error) {
	return nil, errors.New("not used")
}

func (n *fakeNamespace) RecordRecentFile(context.Context, *namespacev1.RecordRecentFileRequest) error {
	return errors.New("not used")
}

func (n *fakeNamespace) FavoriteStatus(context.Context, *namespacev1.GetFavoriteStatusRequest) (map[int64]bool, error) {
	return nil, errors.New("not used")
}

func (n *fakeNamespace) ResolveAlbumCover(context.Context, *namespacev1.ResolveAlbumCoverRequest) (*namespacev1.StoredFile, error) {
	return nil, errors.New("not used")
}

func (n *fakeNamespace) ReferencedBlobs(_ context.Context, ids []string) (map[string]bool, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	refs := map[string]bool{}
	for _, b := range n.committed {
		for _, id := range ids {
			if id == b {
				refs[id] = true
			}
		}
	}
	return refs, nil
}

// adminTokens accepts any token as alice's admin token for every space.
type adminTokens struct{}

func (adminTokens) ValidateToken(_ context.Context, libraryID, _ string) (*authz.Principal, error) {
	grants, _, _ := authz.NewGrantSet("admin")
	return &authz.Principal{LibraryID: libraryID, SpaceIDs: []string{"-"}, UserID: "alice", Grants: grants}, nil
}
