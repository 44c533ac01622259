package store

import (
	"errors"
	"maps"
	"testing"
)

// MergeMeta judges the merged metadata with check inside its transaction: a refusal writes
// nothing (neither metadata nor labels) and comes back as it is; an accepted merge sees the
// stored pairs.
func TestMergeMetaCheck(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *SQL) {
		f := newFixture(t, s)
		f.file("a", 1)
		if err := f.st.UpdateAttrs(f.ctx, f.lib, f.space, p("a"), []string{"l"}, map[string]string{"k1": "v1"}, "u1", f.tick()); err != nil {
			t.Fatal(err)
		}
		errTooMuch := errors.New("too much")
		var judged map[string]string
		check := func(m map[string]string) error {
			judged = maps.Clone(m)
			if len(m) > 2 {
				return errTooMuch
			}
			return nil
		}
		err := f.st.MergeMeta(f.ctx, f.lib, f.space, p("a"), []string{"new"}, map[string]string{"k2": "v2", "k3": "v3"}, nil, check, "u1", f.tick())
		if !errors.Is(err, errTooMuch) || len(judged) != 3 {
			t.Fatalf("merge over the check: %v, judged %v", err, judged)
		}
		if n := f.lookup("a"); !maps.Equal(n.MetaData, map[string]string{"k1": "v1"}) || len(n.Labels) != 1 || n.Labels[0] != "l" {
			t.Fatalf("a refused merge changed the entry: %+v", n)
		}
		err = f.st.MergeMeta(f.ctx, f.lib, f.space, p("a"), nil, map[string]string{"k2": "v2", "k3": "v3"}, []string{"k1"}, check, "u1", f.tick())
		if err != nil || !maps.Equal(judged, map[string]string{"k2": "v2", "k3": "v3"}) {
			t.Fatalf("merge within the check: %v, judged %v", err, judged)
		}
		if n := f.lookup("a"); !maps.Equal(n.MetaData, judged) {
			t.Fatalf("merged %v", n.MetaData)
		}
	})
}
