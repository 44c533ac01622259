package store

import (
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/opensmh/opensmh/services/namespace/internal/app"
)

// model is the expected tree: path ("a/b") → entry.
type model map[string]modelEntry

type modelEntry struct {
	dir  bool
	size int64
}

func (m model) dirs() []string {
	out := []string{""}
	for k, e := range m {
		if e.dir {
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

// addParents records the directories a create/move/copy made on the way to path.
func (m model) addParents(path []string) {
	for i := 1; i < len(path); i++ {
		if _, ok := m[join(path[:i])]; !ok {
			m[join(path[:i])] = modelEntry{dir: true}
		}
	}
}

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

func (m model) remove(path string) {
	for rel := range m.subtree(path) {
		delete(m, path+rel)
	}
}

func (m model) put(path string, sub map[string]modelEntry) {
	for rel, e := range sub {
		m[path+rel] = e
	}
}

// TestRandomOperations runs seeded random sequences of creates, moves, copies and deletes
// against a model, checking after every few steps that the store's tree equals the model and
// that there are no orphans, no cycles and exact counters.
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
				runRandom(t, &f, rand.New(rand.NewPCG(seed, 99)), 200)
			})
		}
	})
}

func runRandom(t *testing.T, f *fixture, rng *rand.Rand, steps int) {
	m := model{}
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
	succeeded := map[string]int{}
	defer func() { t.Logf("successful operations: %v", succeeded) }()
	for step := range steps {
		strategy := strategies[rng.IntN(len(strategies))]
		var (
			op    string
			err   error
			final []string
		)
		switch k := rng.IntN(10); {
		case k < 3:
			op = "mkdir"
			path := newPath()
			var n app.Node
			n, final, err = f.st.MakeDirectories(f.ctx, f.lib, f.space, path, strategy, app.DirAttrs{}, f.tick())
			if err == nil {
				m.addParents(final)
				m[join(final)] = modelEntry{dir: true}
				if n.Name != final[len(final)-1] {
					t.Fatalf("mkdir answered %q for %v", n.Name, final)
				}
			}
		case k < 6:
			op = "file"
			path := append(p(pick(m.dirs())), pick(names))
			size := int64(rng.IntN(100))
			_, final, err = f.raw.CreateFile(f.ctx, f.lib, f.space, path, app.Node{Size: size}, strategy, f.tick())
			if err == nil {
				m[join(final)] = modelEntry{size: size}
			}
		case k < 9 && len(m) > 0:
			from := pick(m.all())
			to := newPath()
			copyOp := k == 8
			op = "move"
			if copyOp {
				op = "copy"
				final, err = f.st.CopyTree(f.ctx, f.lib, f.space, p(from), to, strategy, f.tick())
			} else {
				final, err = f.st.Move(f.ctx, f.lib, f.space, p(from), to, strategy, f.tick())
			}
			if isUnder(to, p(from)) {
				wantErr(t, fmt.Sprintf("%s %s → %v", op, from, to), err, app.ErrDestinationInside)
			} else if _, taken := m[join(to)]; taken && strategy == app.ConflictAsk && join(to) != from {
				wantErr(t, fmt.Sprintf("%s %s → %v (ask)", op, from, to), err, app.ErrNameTaken)
			}
			if err == nil && join(final) != from {
				sub := m.subtree(from)
				if !copyOp {
					m.remove(from)
				}
				m.addParents(final)
				m.remove(join(final)) // overwrite replaced a file
				m.put(join(final), sub)
			}
		default:
			if len(m) == 0 {
				continue
			}
			op = "delete"
			path := pick(m.all())
			if err = f.st.DeleteTree(f.ctx, f.lib, f.space, p(path)); err == nil {
				m.remove(path)
			}
		}
		if err == nil {
			succeeded[op]++
		}
		if err != nil && !errors.Is(err, app.ErrNameTaken) && !errors.Is(err, app.ErrDestinationInside) &&
			!errors.Is(err, app.ErrNotDirectory) && !errors.Is(err, app.ErrNodeNotFound) {
			t.Fatalf("step %d %s: unexpected error %v", step, op, err)
		}
		if step%20 == 19 || step == steps-1 {
			got := map[string]string{}
			for k, v := range treeShape(f, "") {
				typeAndSize := strings.SplitN(v, "/", 3)
				got[k] = typeAndSize[0] + "/" + typeAndSize[1]
			}
			want := map[string]string{}
			for k, e := range m {
				typ := "file"
				if e.dir {
					typ = "dir"
				}
				want[k] = fmt.Sprintf("%s/%d", typ, e.size)
			}
			if !maps.Equal(got, want) {
				t.Fatalf("step %d (%s): tree differs from the model\n got %v\nwant %v", step, op, got, want)
			}
			checkInvariants(t, f.raw, f.lib, f.space)
		}
	}
}
