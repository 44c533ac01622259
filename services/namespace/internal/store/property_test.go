package store

import (
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/opensmh/opensmh/services/namespace/internal/app"
)

// model is the expected tree: path ("a/b") → entry.
type model map[string]modelEntry

// modelEntry is one expected entry. id is its identity, which moves and in-place overwrites keep
// (the store's inode); a symlink names its target by id, so it follows the target's moves.
type modelEntry struct {
	id     int
	kind   app.NodeType // TypeDir, TypeFile or TypeSymlink
	size   int64
	blob   string
	target int // a symlink's target id
}

func (e modelEntry) dir() bool { return e.kind == app.TypeDir }

func (m model) dirs() []string {
	out := []string{""}
	for k, e := range m {
		if e.dir() {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

func (m model) all() []string {
	out := slices.Collect(maps.Keys(m))
	slices.Sort(out)
	return out
}

func join(parts []string) string { return strings.Join(parts, "/") }

// subtree answers the entries at or under path, relative to it ("" is path itself).
func (m model) subtree(path string) map[string]modelEntry {
	out := map[string]modelEntry{}
	for k, e := range m {
		if k == path {
			out[""] = e
		} else if strings.HasPrefix(k, path+"/") {
			out[k[len(path):]] = e
		}
	}
	return out
}

func (m model) pathOf(id int) (string, bool) {
	for k, e := range m {
		if e.id == id {
			return k, true
		}
	}
	return "", false
}

// removeTree removes path's subtree and every symlink pointing into it (3.12, 4.5), and
// records the blobs of the removed files in deleted: soft-deleted rows keep referencing them.
func (m model) removeTree(path string, deleted map[string]bool) {
	gone := map[int]bool{}
	for rel, e := range m.subtree(path) {
		gone[e.id] = true
		if e.blob != "" {
			deleted[e.blob] = true
		}
		delete(m, path+rel)
	}
	for k, e := range m {
		if e.kind == app.TypeSymlink && gone[e.target] {
			delete(m, k)
		}
	}
}

// repoint points the symlinks at id from at id to.
func (m model) repoint(from, to int) {
	for k, e := range m {
		if e.kind == app.TypeSymlink && e.target == from {
			e.target = to
			m[k] = e
		}
	}
}

// modelFinalTarget is what a link to e points at.
func modelFinalTarget(e modelEntry) int {
	if e.kind == app.TypeSymlink {
		return e.target
	}
	return e.id
}

// TestRandomOperations runs seeded random sequences of directory creates, file commits,
// overwrites, copies, moves, symlinks and deletes against a model, checking after every few steps
// that the store's tree (symlink targets included) equals the model and that there are no
// orphans, no cycles, no dangling links and exact counters; and at the end that the blobs the
// store reports referenced are those of the live and the deleted rows, then after a purge only
// those of the live ones.
func TestRandomOperations(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *SQL) {
		base := newFixture(t, s)
		for _, seed := range []uint64{1, 2, 3} {
			t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
				f := *base
				f.t = t
				f.space = fmt.Sprint("seed", seed)
				if err := f.st.CreateSpace(f.ctx, app.Space{LibraryID: f.lib, ID: f.space, CreatedAt: t0}); err != nil {
					t.Fatal(err)
				}
				runRandom(t, &f, rand.New(rand.NewPCG(seed, 99)), 300)
			})
		}
	})
}

func runRandom(t *testing.T, f *fixture, rng *rand.Rand, steps int) {
	m := model{}
	nextID := 0
	newID := func() int { nextID++; return nextID }
	var blobs []string // every blob ever committed in this space
	// deleted holds the blobs of soft-deleted rows. A blob an in-place overwrite replaced is in
	// no row any more (there are no history versions yet).
	deleted := map[string]bool{}
	addParents := func(path []string) {
		for i := 1; i < len(path); i++ {
			if _, ok := m[join(path[:i])]; !ok {
				m[join(path[:i])] = modelEntry{id: newID(), kind: app.TypeDir}
			}
		}
	}
	names := []string{"a", "b", "c.txt", "d"}
	strategies := []app.Conflict{app.ConflictAsk, app.ConflictRename, app.ConflictOverwrite}
	pick := func(list []string) string { return list[rng.IntN(len(list))] }
	newPath := func() []string { // an existing directory plus one or two new components
		path := p(pick(m.dirs()))
		for range 1 + rng.IntN(2) {
			path = append(path, pick(names))
		}
		return path
	}
	filePath := func() []string { return append(p(pick(m.dirs())), pick(names)) }
	succeeded := map[string]int{}
	defer func() { t.Logf("successful operations: %v", succeeded) }()
	for step := range steps {
		strategy := strategies[rng.IntN(len(strategies))]
		var (
			op     string
			err    error
			placed app.Placed
		)
		switch k := rng.IntN(12); {
		case k < 2:
			op = "mkdir"
			var (
				n     app.Node
				final []string
			)
			n, final, err = f.st.MakeDirectories(f.ctx, f.lib, f.space, newPath(), strategy, app.DirAttrs{}, f.tick())
			if err == nil {
				addParents(final)
				if _, exists := m[join(final)]; !exists {
					m[join(final)] = modelEntry{id: newID(), kind: app.TypeDir}
				}
				if n.Name != final[len(final)-1] {
					t.Fatalf("mkdir answered %q for %v", n.Name, final)
				}
			}
		case k < 5:
			op = "file"
			size := int64(rng.IntN(100))
			blob := fmt.Sprintf("%s-blob%d", f.space, step)
			placed, err = f.st.CreateFile(f.ctx, f.lib, f.space, filePath(), app.Node{Size: size, BlobID: blob}, strategy, app.WriteRules{}, f.tick())
			if err == nil {
				blobs = append(blobs, blob)
				final := join(placed.Path)
				old, exists := m[final]
				if exists != placed.Overwritten {
					t.Fatalf("step %d: overwritten = %v, but the model says %v", step, placed.Overwritten, exists)
				}
				id := newID()
				if exists {
					id = old.id // in place: links to it follow
				}
				m[final] = modelEntry{id: id, kind: app.TypeFile, size: size, blob: blob}
			}
		case k < 9 && len(m) > 0:
			from := pick(m.all())
			src := m[from]
			copyOp := k < 7
			op = "move"
			if copyOp {
				op = "copy"
			}
			if src.dir() {
				to := newPath()
				var final []string
				if copyOp {
					final, err = f.st.CopyTree(f.ctx, f.lib, f.space, p(from), to, strategy, app.WriteRules{}, f.tick())
				} else {
					final, err = f.st.Move(f.ctx, f.lib, f.space, p(from), to, strategy, app.WriteRules{}, f.tick())
				}
				if isUnder(to, p(from)) {
					wantErr(t, fmt.Sprintf("%s %s → %v", op, from, to), err, app.ErrDestinationInside)
				} else if _, taken := m[join(to)]; taken && strategy == app.ConflictAsk && join(to) != from {
					wantErr(t, fmt.Sprintf("%s %s → %v (ask)", op, from, to), err, app.ErrNameTaken)
				}
				if err == nil && join(final) != from {
					sub := m.subtree(from)
					if !copyOp {
						for rel := range sub {
							delete(m, from+rel)
						}
					}
					addParents(final)
					for rel, e := range sub {
						if copyOp {
							e.id = newID() // links inside keep their targets (the originals)
						}
						m[join(final)+rel] = e
					}
				}
				break
			}
			to := filePath()
			if copyOp {
				placed, err = f.st.CopyFile(f.ctx, f.lib, f.space, p(from), to, strategy, app.WriteRules{}, f.tick())
			} else {
				placed, err = f.st.MoveFile(f.ctx, f.lib, f.space, p(from), to, strategy, app.WriteRules{}, f.tick())
			}
			if _, taken := m[join(to)]; taken && strategy == app.ConflictAsk && join(to) != from {
				wantErr(t, fmt.Sprintf("%s %s → %v (ask)", op, from, to), err, app.ErrNameTaken)
			}
			if err != nil {
				break
			}
			final := join(placed.Path)
			if final == from {
				break // onto itself: nothing changes
			}
			old, exists := m[final]
			if exists != placed.Overwritten {
				t.Fatalf("step %d %s: overwritten = %v, but the model says %v", step, op, placed.Overwritten, exists)
			}
			if copyOp {
				e := src
				e.id = newID()
				if exists {
					e.id = old.id
					if e.kind == app.TypeSymlink {
						m.repoint(old.id, e.target)
					}
				}
				m[final] = e
			} else {
				if exists {
					m.repoint(old.id, modelFinalTarget(src))
					m.removeTree(final, deleted)
				}
				delete(m, from)
				m[final] = src
			}
		case k < 10 && len(m) > 0:
			op = "symlink"
			target := pick(m.all())
			tgt := m[target]
			placed, err = f.st.CreateSymlink(f.ctx, f.lib, f.space, filePath(), p(target), strategy, "", app.WriteRules{}, f.tick())
			if tgt.dir() {
				wantErr(t, "link to a directory", err, app.ErrIsDirectory)
			}
			if err == nil {
				final := join(placed.Path)
				old, exists := m[final]
				if exists != placed.Overwritten {
					t.Fatalf("step %d symlink: overwritten = %v, but the model says %v", step, placed.Overwritten, exists)
				}
				e := modelEntry{id: newID(), kind: app.TypeSymlink, target: modelFinalTarget(tgt)}
				if exists {
					e.id = old.id
					m.repoint(old.id, e.target)
				}
				m[final] = e
			}
		default:
			if len(m) == 0 {
				continue
			}
			path := pick(m.all())
			if m[path].dir() {
				op = "delete tree"
				_, err = f.st.DeleteTree(f.ctx, f.lib, f.space, p(path), app.WriteRules{}, time.Now())
			} else {
				op = "delete file"
				_, err = f.st.DeleteFile(f.ctx, f.lib, f.space, p(path), app.WriteRules{}, f.tick())
			}
			if err == nil {
				m.removeTree(path, deleted)
			}
		}
		if err == nil {
			succeeded[op]++
		}
		if err != nil && !errors.Is(err, app.ErrNameTaken) && !errors.Is(err, app.ErrDestinationInside) &&
			!errors.Is(err, app.ErrNotDirectory) && !errors.Is(err, app.ErrNodeNotFound) &&
			!errors.Is(err, app.ErrIsDirectory) && !errors.Is(err, app.ErrSymlinkOverwrite) {
			t.Fatalf("step %d %s: unexpected error %v", step, op, err)
		}
		if step%20 == 19 || step == steps-1 {
			compareModel(t, f, m, fmt.Sprintf("step %d (%s)", step, op))
			checkInvariants(t, f.raw, f.lib, f.space)
		}
	}

	// A blob stays referenced while a live row or a deleted one awaiting the recycle bin names
	// it; after a purge, only the live rows count.
	live := map[string]bool{}
	for _, e := range m {
		if e.blob != "" {
			live[e.blob] = true
		}
	}
	wantRefs := maps.Clone(live)
	maps.Copy(wantRefs, deleted)
	referenced, err := f.raw.ReferencedBlobs(f.ctx, blobs)
	if err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(wantRefs, toSet(referenced)) {
		t.Fatalf("before the purge: referenced %v, want %v", referenced, slices.Sorted(maps.Keys(wantRefs)))
	}
	if _, err := f.raw.DrainPurges(f.ctx, time.Now().Add(time.Hour), 0); err != nil {
		t.Fatal(err)
	}
	if referenced, err = f.raw.ReferencedBlobs(f.ctx, blobs); err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(live, toSet(referenced)) {
		t.Fatalf("after the purge: referenced %v, live %v", referenced, slices.Sorted(maps.Keys(live)))
	}
}

func toSet(list []string) map[string]bool {
	out := map[string]bool{}
	for _, s := range list {
		out[s] = true
	}
	return out
}

// compareModel walks the store's tree and compares every entry with the model: type, size and
// blob, and for a symlink the path of the file it resolves to.
func compareModel(t *testing.T, f *fixture, m model, when string) {
	t.Helper()
	describe := func(e modelEntry) string {
		if e.kind == app.TypeSymlink {
			target, ok := m.pathOf(e.target)
			if !ok {
				t.Fatalf("%s: the model has a dangling link", when)
			}
			return "symlink->" + target
		}
		return fmt.Sprintf("%s/%d/%s", e.kind, e.size, e.blob)
	}
	want := map[string]string{}
	for k, e := range m {
		want[k] = describe(e)
	}
	got := map[string]string{}
	var walk func(dir int64, prefix string)
	walk = func(dir int64, prefix string) {
		opts := app.ListOptions{Limit: 1000}
		for {
			page, err := f.st.List(f.ctx, f.lib, f.space, dir, opts)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range page.Entries {
				path := prefix + e.Name
				switch {
				case e.IsDir():
					got[path] = "dir/0/"
					walk(e.Inode, path+"/")
				case e.IsSymlink():
					r, err := f.st.ResolveFile(f.ctx, f.lib, f.space, p(path))
					if err != nil {
						t.Fatalf("%s: resolve %s: %v", when, path, err)
					}
					got[path] = "symlink->" + join(r.Path)
				default:
					got[path] = fmt.Sprintf("%s/%d/%s", e.Type, e.Size, e.BlobID)
				}
			}
			if page.NextMarker == "" {
				return
			}
			opts.Marker = page.NextMarker
		}
	}
	walk(0, "")
	if !maps.Equal(got, want) {
		t.Fatalf("%s: tree differs from the model\n got %v\nwant %v", when, got, want)
	}
}
