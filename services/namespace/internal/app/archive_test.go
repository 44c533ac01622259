package app_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/opensmh/opensmh/pkg/authz"
	"github.com/opensmh/opensmh/pkg/clock"
	"github.com/opensmh/opensmh/services/namespace/internal/app"
	"github.com/opensmh/opensmh/services/namespace/storetest"
)

// The namespace's side of uncompress (docs/archives.md): the grants, the target check, a task an
// object service runs (alive while it beats, interrupted when it stops) with its typed result,
// and the directories of an extraction.
func TestUncompressTaskLifecycle(t *testing.T) {
	for _, e := range storetest.Engines() {
		t.Run(e.Name, func(t *testing.T) {
			st := openTaskStore(t, e.DSN(t))
			t.Cleanup(func() { _ = st.Close() })
			clk := clock.NewFake(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
			ns := replica(t, st, clk) // heartbeat 1 ms
			ctx := admin("flib")
			if _, _, err := ns.CreateDirectory(ctx, "flib", "-", "out", "", app.DirAttrs{}); err != nil {
				t.Fatal(err)
			}
			if _, err := ns.CommitFile(context.Background(), app.Commit{LibraryID: "flib", SpaceID: "-", Path: []string{"a.zip"}, BlobID: "b1", Size: 3}); err != nil {
				t.Fatal(err)
			}

			// Grants: preview is admin or space_admin; uncompress takes read_only with upload_file.
			for _, tt := range []struct {
				token, op string
				ok        bool
			}{
				{"flib:space_admin", app.ArchivePreview, true},
				{"flib:read_only,upload_file", app.ArchivePreview, false},
				{"flib:read_only,upload_file", app.ArchiveUncompress, true},
				{"flib:upload_file", app.ArchiveUncompress, false},
				{"flib:read_only", app.ArchiveUncompress, false},
			} {
				_, _, err := ns.OpenArchive(as(tt.token), "flib", "-", "a.zip", tt.op)
				if (err == nil) != tt.ok || err != nil && !errors.Is(err, authz.ErrNoPermission) {
					t.Errorf("%s %s: %v", tt.token, tt.op, err)
				}
			}
			if r, on, err := ns.OpenArchive(ctx, "flib", "-", "a.zip", app.ArchivePreview); err != nil || on || r.Node.BlobID != "b1" {
				t.Fatalf("open: %+v %v %v", r, on, err)
			}
			if r, _, err := ns.OpenArchive(ctx, "flib", "-", "out", app.ArchivePreview); err != nil || r.Node.BlobID != "" {
				t.Fatalf("a directory opens without bytes: %+v %v", r, err)
			}
			if _, _, err := ns.OpenArchive(ctx, "flib", "-", "none.zip", app.ArchivePreview); !errors.Is(err, app.ErrFileNotFound) {
				t.Fatalf("missing archive: %v", err)
			}

			// Targets.
			for path, want := range map[string]error{"missing": app.ErrNodeNotFound, "a.zip": app.ErrNodeNotFound, "": app.ErrParamInvalid, "../x": app.ErrIllegalName} {
				if _, err := ns.BeginUncompressTask(ctx, "flib", "-", "", path, "r1"); !errors.Is(err, want) {
					t.Errorf("target %q: %v, want %v", path, err, want)
				}
			}
			if _, err := ns.BeginUncompressTask(as("flib:space_admin"), "flib", "-", "elsewhere", "/", "r1"); !errors.Is(err, authz.ErrNoPermission) {
				t.Fatalf("another space without admin: %v", err)
			}

			tg, err := ns.BeginUncompressTask(ctx, "flib", "-", "", "/out/", "r1")
			if err != nil || tg.TaskID <= 0 || len(tg.Path) != 1 || tg.Path[0] != "out" || !tg.Force || tg.SpaceID != "-" || tg.HeartbeatMS != 1 {
				t.Fatalf("begin: %+v %v", tg, err)
			}
			if got := task(t, ns, tg.TaskID); got.Status != app.TaskRunning || got.Kind != app.TaskFileUncompress {
				t.Fatalf("new task %+v", got)
			}
			// Beats keep it alive; without them it reads as interrupted.
			clk.Advance(time.Hour)
			if err := ns.BeatUncompressTasks(context.Background(), "r1"); err != nil {
				t.Fatal(err)
			}
			if got := task(t, ns, tg.TaskID); got.Status != app.TaskRunning {
				t.Fatalf("beating task %+v", got)
			}
			clk.Advance(5 * time.Millisecond)
			if got := task(t, ns, tg.TaskID); got.Status != app.TaskFailed || !errors.Is(got.Err, app.ErrTaskInterrupted) {
				t.Fatalf("task of a stopped runner %+v", got)
			}

			// A finished task keeps its typed result, once.
			tg, err = ns.BeginUncompressTask(ctx, "flib", "-", "", "out", "r2")
			if err != nil {
				t.Fatal(err)
			}
			result := `{"outputDir":"/out","fileCount":1,"successCount":1,"failedCount":1,"failedItems":[{"key":"../x","code":"IllegalFileName","err":"e"}]}`
			if err := ns.FinishUncompressTask(context.Background(), tg.TaskID, app.TaskPartial, result); err != nil {
				t.Fatal(err)
			}
			if err := ns.FinishUncompressTask(context.Background(), tg.TaskID, app.TaskDone, `{}`); err != nil {
				t.Fatal(err)
			}
			got, err := ns.TaskResult(ctx, "flib", "-", taskID(tg.TaskID))
			if err != nil || got.Status != app.TaskPartial || string(got.Uncompress) != result {
				t.Fatalf("finished task %+v %v", got, err)
			}
			if err := ns.FinishUncompressTask(context.Background(), tg.TaskID, 201, ""); !errors.Is(err, app.ErrParamInvalid) {
				t.Fatalf("bad status: %v", err)
			}

			// Directories merge; a file in the way is a conflict.
			for range 2 {
				if err := ns.EnsureDirectory(context.Background(), "flib", "-", []string{"out", "x", "y"}, "u"); err != nil {
					t.Fatal(err)
				}
			}
			if err := ns.EnsureDirectory(context.Background(), "flib", "-", []string{"a.zip", "z"}, "u"); !errors.Is(err, app.ErrNotDirectory) {
				t.Fatalf("file in the way: %v", err)
			}
			if err := ns.EnsureDirectory(context.Background(), "flib", "-", []string{"a/b"}, "u"); err == nil {
				t.Fatal("a segment with a slash was taken")
			}
		})
	}
}
