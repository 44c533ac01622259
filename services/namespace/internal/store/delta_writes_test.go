package store

import (
	"encoding/json"
	"reflect"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/opensmh/opensmh/pkg/sqldb"
	"github.com/opensmh/opensmh/services/namespace/internal/app"
)

// The change feed against every write of the store (docs/changefeed.md "What is recorded"):
// each write records the events the page lists, and afterwards every live entry's last event
// shows the entry as it is, in every field an event carries.

// feedSince answers the space's events after from, all pages.
func (f *fixture) feedSince(from app.DeltaPosition) []app.DeltaEvent {
	f.t.Helper()
	var out []app.DeltaEvent
	for {
		page, err := f.raw.DeltaLog(f.ctx, f.lib, f.space, from, deltaEventsBatch)
		if err != nil {
			f.t.Fatalf("DeltaLog(%+v): %v", from, err)
		}
		out = append(out, page.Events...)
		from = page.Next
		if !page.More {
			return out
		}
	}
}

func (f *fixture) deltaHead() app.DeltaPosition {
	f.t.Helper()
	h, err := f.raw.DeltaHead(f.ctx, f.lib, f.space)
	if err != nil {
		f.t.Fatalf("DeltaHead: %v", err)
	}
	return h
}

// eventView is what an event says about its entry (the fields 3.18 carries), to compare with
// the live entry. A directory's modification time is left out: a directory's contents
// changing moves it, and the change's own event stands for that (docs/changefeed.md).
type eventView struct {
	Parent                int64
	Name                  string
	Type                  app.NodeType
	Size                  int64
	ETag, CRC64           string
	ContentType, Category string
	LocalCreated          string
	LocalModified         string
	Created, Modified     time.Time
	Version               int64
	LinkTarget            int64
}

func viewOf(n app.Node) eventView {
	v := eventView{Parent: n.ParentInode, Name: n.Name, Type: n.Type, Size: n.Size, ETag: n.ETag, CRC64: n.CRC64,
		ContentType: n.ContentType, Category: n.Category, LocalCreated: n.LocalCreationTime,
		LocalModified: n.LocalModificationTime, Created: n.CreatedAt.UTC(), Modified: n.ModifiedAt.UTC(),
		Version: n.Version, LinkTarget: n.LinkTarget}
	if n.IsDir() {
		v.Modified = time.Time{}
	}
	return v
}

// checkFeedShowsTree replays the whole feed as a client does (the last event of an inode
// about the live entry wins; history versions' events are not about it) and compares every
// live entry with what its last event says.
func (f *fixture) checkFeedShowsTree(step string) {
	f.t.Helper()
	last := map[int64]app.DeltaEvent{}
	for _, e := range f.feedSince(app.DeltaPosition{Epoch: f.deltaHead().Epoch}) {
		if e.Location != locationHistory {
			last[e.Node.Inode] = e
		}
	}
	queue := []int64{0}
	for len(queue) > 0 {
		dir := queue[0]
		queue = queue[1:]
		page, err := f.st.List(f.ctx, f.lib, f.space, dir, app.ListOptions{Limit: 1000})
		if err != nil {
			f.t.Fatalf("%s: List(%d): %v", step, dir, err)
		}
		for _, n := range page.Entries {
			if n.IsDir() {
				queue = append(queue, n.Inode)
			}
			e, ok := last[n.Inode]
			switch {
			case !ok:
				f.t.Errorf("%s: %q (inode %d) has no event", step, n.Name, n.Inode)
			case e.Location != locationLive:
				f.t.Errorf("%s: %q (inode %d) is live, its last event %s says location %d", step, n.Name, n.Inode, e.Type, e.Location)
			case viewOf(e.Node) != viewOf(n):
				f.t.Errorf("%s: %q (inode %d): last event %s (#%d) shows\n%+v\nthe entry is\n%+v",
					step, n.Name, n.Inode, e.Type, e.Seq, viewOf(e.Node), viewOf(n))
			}
		}
	}
}

// TestDeltaRecordsEveryWrite runs each write of the store once and checks the events it
// recorded (kinds in order, each about the right inode and showing it as the write left it)
// and, after each, that the feed still shows the whole live tree.
func TestDeltaRecordsEveryWrite(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *SQL) {
		f := newFixture(t, s)
		ctx := f.ctx
		history := app.WriteRules{KeepVersions: 5, UserID: "u2"}
		var (
			file, dir, virtual app.Node
			versionIDs         []int64
		)
		versions := func(inode int64) []int64 {
			page, err := s.ListVersions(ctx, f.lib, f.space, inode, app.VersionListOptions{Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			var ids []int64
			for _, v := range page.Versions {
				ids = append(ids, v.ID)
			}
			return ids
		}
		type event struct {
			kind  string
			inode func() int64
		}
		fileInode := func() int64 { return file.Inode }
		dirInode := func() int64 { return dir.Inode }
		var deleted app.Version // the version DeleteVersions removes
		steps := []struct {
			name  string
			write func() error
			want  []event
			check func(events []app.DeltaEvent) // more about the events, when want holds
		}{
			{"mkdir", func() error { dir = f.mkdir("d"); return nil }, []event{{app.EventFileCreate, dirInode}}, nil},
			{"upload", func() error { file = f.upload("d/a", 10, "b1", history).Node; return nil },
				[]event{{app.EventFileCreate, fileInode}}, nil},
			{"overwrite with history", func() error { f.upload("d/a", 20, "b2", history); return nil },
				[]event{{app.EventFileCreateOverwrite, fileInode}}, nil},
			{"overwrite again", func() error { f.upload("d/a", 30, "b3", history); return nil },
				[]event{{app.EventFileCreateOverwrite, fileInode}}, nil},
			{"UpdateAttrs on a file", func() error {
				return s.UpdateAttrs(ctx, f.lib, f.space, p("d/a"), []string{"l1"}, map[string]string{"k": "v"}, "u1", f.tick())
			}, []event{{app.EventFileModify, fileInode}}, func(events []app.DeltaEvent) {
				// The content stayed: the sizes and the etag say so; the actor is the caller.
				wantExtra(t, events[0], map[string]any{"oldSize": 30.0, "newSize": 30.0, "oldEtag": "etag-b3"})
				if e := events[0]; e.UserID != "u1" || e.Location != locationLive || !e.Node.ModifiedAt.Equal(f.now) {
					t.Errorf("UpdateAttrs: event %+v", e)
				}
			}},
			{"MergeMeta on a file", func() error {
				return s.MergeMeta(ctx, f.lib, f.space, p("d/a"), nil, map[string]string{"k2": "v2"}, []string{"k"}, nil, "u1", f.tick())
			}, []event{{app.EventFileModify, fileInode}}, nil},
			{"UpdateAttrs on a directory", func() error {
				return s.UpdateAttrs(ctx, f.lib, f.space, p("d"), []string{"l2"}, nil, "u1", f.tick())
			}, []event{{app.EventFileModify, dirInode}}, nil},
			{"RestoreVersion", func() error {
				versionIDs = versions(file.Inode)
				_, _, err := s.RestoreVersion(ctx, f.lib, f.space, versionIDs[0], history, f.tick())
				return err
			}, []event{{app.EventHistoryLatest, fileInode}}, nil},
			{"DeleteVersions", func() error {
				var err error
				if deleted, err = s.Version(ctx, f.lib, f.space, versionIDs[0]); err != nil {
					return err
				}
				return s.DeleteVersions(ctx, f.lib, f.space, versionIDs[:1], "u2", f.tick())
			}, []event{{app.EventHistoryDelete, fileInode}}, func(events []app.DeltaEvent) {
				// The event shows the version that went (location 2), at its file's place.
				e := events[0]
				wantExtra(t, e, map[string]any{"versionId": strconv.FormatInt(deleted.ID, 10)})
				if e.UserID != "u2" || e.Location != locationHistory || e.Node.Version != deleted.Version ||
					e.Node.ETag != deleted.ETag || e.Node.Size != deleted.Size || e.Node.Name != "a" ||
					e.Node.ParentInode != dir.Inode || !e.Node.CreatedAt.Equal(deleted.CreatedAt) {
					t.Errorf("DeleteVersions: event %+v, version %+v", e, deleted)
				}
			}},
			{"overwrite trimming the history", func() error {
				f.upload("d/a", 40, "b4", app.WriteRules{KeepVersions: 1})
				return nil
			}, []event{{app.EventHistoryDelete, fileInode}, {app.EventHistoryDelete, fileInode}, {app.EventFileCreateOverwrite, fileInode}}, nil},
			{"virtual file", func() error {
				placed, err := s.CreateFile(ctx, f.lib, f.space, p("d/v.doc"), app.Node{Type: app.TypeVirtual, Size: 5},
					app.ConflictAsk, app.WriteRules{}, f.tick())
				virtual = placed.Node
				return err
			}, []event{{app.EventFileCreate, func() int64 { return virtual.Inode }}}, nil},
			{"UpdateVirtual", func() error {
				size, ct := int64(7), "application/msword"
				return s.UpdateVirtual(ctx, f.lib, f.space, p("d/v.doc"), &ct, &size, app.WriteRules{}, f.tick())
			}, []event{{app.EventFileModify, func() int64 { return virtual.Inode }}}, nil},
			{"symlink", func() error {
				_, err := s.CreateSymlink(ctx, f.lib, f.space, p("l"), p("d/a"), app.ConflictAsk, "u1", app.WriteRules{}, f.tick())
				return err
			}, []event{{app.EventFileCreate, func() int64 { return f.lookup("l").Inode }}}, nil},
			{"CopyFile", func() error {
				_, err := s.CopyFile(ctx, f.lib, f.space, p("d/a"), p("c"), app.ConflictAsk, app.WriteRules{}, f.tick())
				return err
			}, []event{{app.EventFileCopy, func() int64 { return f.lookup("c").Inode }}}, nil},
			{"MoveFile", func() error {
				_, err := s.MoveFile(ctx, f.lib, f.space, p("c"), p("d/c2"), app.ConflictAsk, app.WriteRules{}, f.tick())
				return err
			}, []event{{app.EventFileMove, func() int64 { return f.lookup("d/c2").Inode }}}, nil},
			{"Move a directory", func() error {
				_, err := s.Move(ctx, f.lib, f.space, p("d"), p("e"), app.ConflictAsk, app.WriteRules{}, f.tick())
				return err
			}, []event{{app.EventFileMove, dirInode}}, nil},
			{"ExpireVersions", func() error {
				if err := f.raw.inWrite(ctx, f.lib, f.space, func(tx *sqldb.Tx) error {
					_, err := tx.Exec(ctx, "UPDATE file_versions SET expires_at = ?", millis(f.now))
					return err
				}); err != nil {
					return err
				}
				_, err := s.ExpireVersions(ctx, f.tick(), 100)
				return err
			}, []event{{app.EventHistoryDelete, fileInode}}, nil},
			{"overwrite with history once more", func() error { f.upload("e/a", 50, "b5", history); return nil },
				[]event{{app.EventFileCreateOverwrite, fileInode}}, nil},
			{"ClearLibraryHistory", func() error {
				_, err := s.ClearLibraryHistory(ctx, f.lib, time.Minute, f.tick())
				return err
			}, []event{{app.EventHistoryDelete, fileInode}}, func(events []app.DeltaEvent) {
				if e := events[0]; e.UserID != "" || e.Location != locationHistory {
					t.Errorf("ClearLibraryHistory: event %+v", e)
				}
			}},
			{"CalibrateStats", func() error { return s.CalibrateStats(ctx, f.lib, f.space, p("e"), "tree", 0) }, nil, nil},
			{"DeleteTree into the bin", func() error {
				_, err := s.DeleteTree(ctx, f.lib, f.space, p("e"), app.WriteRules{Recycle: true}, f.tick())
				return err
			}, []event{{app.EventFileTrash, dirInode}, {app.EventFileTrash, func() int64 { return f.lookupDeleted("l") }}}, nil},
		}
		for _, step := range steps {
			head := f.deltaHead()
			if err := step.write(); err != nil {
				t.Fatalf("%s: %v", step.name, err)
			}
			got := f.feedSince(head)
			var kinds, wantKinds []string
			for _, e := range got {
				kinds = append(kinds, e.Type)
			}
			for _, w := range step.want {
				wantKinds = append(wantKinds, w.kind)
			}
			if !slices.Equal(kinds, wantKinds) {
				t.Errorf("%s: events %v, want %v", step.name, kinds, wantKinds)
			} else {
				for i, w := range step.want {
					if got[i].Node.Inode != w.inode() {
						t.Errorf("%s: event %d (%s) is about inode %d, want %d", step.name, i, w.kind, got[i].Node.Inode, w.inode())
					}
					if got[i].ExtraInfo != "" && !json.Valid([]byte(got[i].ExtraInfo)) {
						t.Errorf("%s: event %d: extraInfo %q", step.name, i, got[i].ExtraInfo)
					}
				}
				if step.check != nil {
					step.check(got)
				}
			}
			f.checkFeedShowsTree(step.name)
		}
	})
}

// wantExtra fails unless e's extraInfo is want (numbers as JSON decodes them).
func wantExtra(t *testing.T, e app.DeltaEvent, want map[string]any) {
	t.Helper()
	var got map[string]any
	if err := json.Unmarshal([]byte(e.ExtraInfo), &got); err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("event %d (%s): extraInfo %s (%v), want %v", e.Seq, e.Type, e.ExtraInfo, err, want)
	}
}
