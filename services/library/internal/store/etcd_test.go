package store

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/opensmh/opensmh/pkg/etcdx/etcdtest"
	"github.com/opensmh/opensmh/services/library/internal/app"
)

func newLibrary(i int) app.Library {
	return app.Library{
		ID:        fmt.Sprintf("smh%013d", i),
		Name:      fmt.Sprintf("library %d", i),
		Remark:    "remark",
		CreatedAt: time.Date(2020, 10, 14, 10, 17, 57, 953_000_000, time.UTC),
		Settings:  app.DefaultSettings(i%2 == 0),
	}
}

func TestCreateGet(t *testing.T) {
	ctx := context.Background()
	s := New(etcdtest.New(t))
	lib := newLibrary(1)
	lib.Settings.CORSAllowedOrigins = []string{"https://app.example.com"}
	if err := s.Create(ctx, lib, []byte("sealed")); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx, lib.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, lib) {
		t.Fatalf("Get =\n%+v\nwant\n%+v", got, lib)
	}
	if err := s.Create(ctx, lib, []byte("other")); !errors.Is(err, app.ErrLibraryExists) {
		t.Fatalf("second Create = %v, want ErrLibraryExists", err)
	}
	gotLib, stored, err := s.WithSecret(ctx, lib.ID)
	if err != nil || string(stored.Sealed) != "sealed" || gotLib.ID != lib.ID {
		t.Fatalf("WithSecret = %v, %q, %v; the failed Create must not touch the secret", gotLib.ID, stored.Sealed, err)
	}
	if _, err := s.Get(ctx, "smh9999999999999"); !errors.Is(err, app.ErrLibraryNotFound) {
		t.Fatalf("Get absent = %v, want ErrLibraryNotFound", err)
	}
	if _, _, err := s.WithSecret(ctx, "smh9999999999999"); !errors.Is(err, app.ErrLibraryNotFound) {
		t.Fatalf("WithSecret absent = %v, want ErrLibraryNotFound", err)
	}
}

func TestListNewestFirst(t *testing.T) {
	ctx := context.Background()
	s := New(etcdtest.New(t))

	libs, total, err := s.List(ctx, 1, 10)
	if err != nil || len(libs) != 0 || total != 0 {
		t.Fatalf("empty List = %d libraries, total %d, %v", len(libs), total, err)
	}
	// Ids in creation order are deliberately not in key order: the order comes from creation.
	const n = 25
	var ids []string
	for i := range n {
		lib := newLibrary((i * 7) % n)
		if err := s.Create(ctx, lib, []byte("x")); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, lib.ID)
	}
	newestFirst := make([]string, n)
	for i, id := range ids {
		newestFirst[n-1-i] = id
	}
	// An update must not move a library in the order.
	if _, err := s.Update(ctx, ids[0], func(l app.Library) (app.Library, error) { l.Name = "renamed"; return l, nil }); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		page, size int
		want       []string
	}{
		{1, 10, newestFirst[:10]},
		{2, 10, newestFirst[10:20]},
		{3, 10, newestFirst[20:]},
		{4, 10, nil},
		{1, 100, newestFirst},
		{7, 4, newestFirst[24:]},
		{1000000, 100, nil},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("page %d size %d", tt.page, tt.size), func(t *testing.T) {
			libs, total, err := s.List(ctx, tt.page, tt.size)
			if err != nil {
				t.Fatal(err)
			}
			if total != n {
				t.Fatalf("total = %d, want %d", total, n)
			}
			var got []string
			for _, l := range libs {
				got = append(got, l.ID)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("ids = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestUpdate(t *testing.T) {
	ctx := context.Background()
	s := New(etcdtest.New(t))
	lib := newLibrary(1)
	if err := s.Create(ctx, lib, []byte("x")); err != nil {
		t.Fatal(err)
	}

	got, err := s.Update(ctx, lib.ID, func(l app.Library) (app.Library, error) {
		l.Remark = "changed"
		l.ID = "smh0000000000000" // must be ignored
		return l, nil
	})
	if err != nil || got.Remark != "changed" || got.ID != lib.ID {
		t.Fatalf("Update = %+v, %v", got, err)
	}

	refuse := errors.New("refused")
	if _, err := s.Update(ctx, lib.ID, func(l app.Library) (app.Library, error) {
		l.Remark = "never stored"
		return l, refuse
	}); !errors.Is(err, refuse) {
		t.Fatalf("Update with refusing change = %v", err)
	}
	if cur, _ := s.Get(ctx, lib.ID); cur.Remark != "changed" {
		t.Fatalf("refused change was stored: remark %q", cur.Remark)
	}
	if _, err := s.Update(ctx, "smh9999999999999", func(l app.Library) (app.Library, error) { return l, nil }); !errors.Is(err, app.ErrLibraryNotFound) {
		t.Fatalf("Update absent = %v", err)
	}
}

// TestUpdateCompareAndSwap races writers that each append to a list; a lost write would drop an
// item.
func TestUpdateCompareAndSwap(t *testing.T) {
	ctx := context.Background()
	s := New(etcdtest.New(t))
	lib := newLibrary(1)
	if err := s.Create(ctx, lib, []byte("x")); err != nil {
		t.Fatal(err)
	}
	const writers = 20
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for i := range writers {
		wg.Go(func() {
			_, err := s.Update(ctx, lib.ID, func(l app.Library) (app.Library, error) {
				l.Settings.AllowFileExtname = append(append([]string{}, l.Settings.AllowFileExtname...), fmt.Sprint(i))
				return l, nil
			})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Get(ctx, lib.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Settings.AllowFileExtname) != writers {
		t.Fatalf("%d of %d writes survived: %v", len(got.Settings.AllowFileExtname), writers, got.Settings.AllowFileExtname)
	}
}

func TestSecretAndRemove(t *testing.T) {
	ctx := context.Background()
	s := New(etcdtest.New(t))
	lib := newLibrary(1)
	if err := s.Create(ctx, lib, []byte("first")); err != nil {
		t.Fatal(err)
	}
	_, first, err := s.WithSecret(ctx, lib.ID)
	if err != nil {
		t.Fatal(err)
	}
	generation, err := s.ReplaceSecret(ctx, lib.ID, []byte("second"))
	if err != nil {
		t.Fatal(err)
	}
	_, second, _ := s.WithSecret(ctx, lib.ID)
	if string(second.Sealed) != "second" {
		t.Fatalf("secret after replace = %q", second.Sealed)
	}
	// The generation names the secret: the reset answers the one a later read sees, and it grew.
	if second.Generation != generation || generation <= first.Generation {
		t.Fatalf("generations: first %d, reset answered %d, read %d", first.Generation, generation, second.Generation)
	}

	if err := s.Remove(ctx, lib.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, lib.ID); !errors.Is(err, app.ErrLibraryNotFound) {
		t.Fatalf("Get after Remove = %v", err)
	}
	if _, _, err := s.WithSecret(ctx, lib.ID); !errors.Is(err, app.ErrLibraryNotFound) {
		t.Fatalf("WithSecret after Remove = %v", err)
	}
	if _, err := s.ReplaceSecret(ctx, lib.ID, []byte("third")); !errors.Is(err, app.ErrLibraryNotFound) {
		t.Fatalf("ReplaceSecret after Remove = %v", err)
	}
	if _, total, _ := s.List(ctx, 1, 10); total != 0 {
		t.Fatalf("List total after Remove = %d", total)
	}
	// While the purge is pending, the id stays reserved and Remove resumes.
	if err := s.Create(ctx, lib, []byte("x")); !errors.Is(err, app.ErrLibraryExists) {
		t.Fatalf("Create over a pending purge = %v", err)
	}
	if err := s.Remove(ctx, lib.ID); err != nil {
		t.Fatalf("Remove with purge pending = %v, want success (resume)", err)
	}
	if err := s.PurgeDone(ctx, lib.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.Remove(ctx, lib.ID); !errors.Is(err, app.ErrLibraryNotFound) {
		t.Fatalf("Remove after purge done = %v, want ErrLibraryNotFound", err)
	}
	resp, err := s.cli.Get(ctx, "/smh/library/", clientv3.WithPrefix())
	if err != nil || resp.Count != 0 {
		t.Fatalf("keys left after delete: %d, %v", resp.Count, err)
	}
}
