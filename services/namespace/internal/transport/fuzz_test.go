package transport

import (
	"encoding/json"
	"errors"
	"maps"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"

	namespacev1 "github.com/opensmh/opensmh/gen/go/smh/namespace/v1"
	"github.com/opensmh/opensmh/pkg/fileattr"
	"github.com/opensmh/opensmh/services/namespace/internal/app"
)

// FuzzMetaDataUpdate fuzzes the metadata of ?update (3.16, 4.9) from the JSON body the gateway
// decodes to the stored result. The directive and metaData are accepted exactly in the documented
// shapes whose keys follow fileattr's rule (x-smh-meta-<name>, folded to lower case, one spelling
// per key, a merge never both sets and deletes a key); anything else is a 400 (ParamInvalid or
// fileattr's refusal). A merge is RFC 7396 on an object of strings: a string sets its stored key,
// null deletes the key as written and folded, keys the patch does not name are kept, applying it
// twice changes nothing more; a replace is exactly the object given; the stored map is untouched.
func FuzzMetaDataUpdate(f *testing.F) {
	stored := `{"x-smh-meta-a":"1","x-smh-meta-b":"2","Legacy_Key":"3"}`
	for _, body := range []string{
		`{}`,
		`{"metaData":{"x-smh-meta-a":"x"}}`,
		`{"metaData":{"X-SMH-Meta-A":"x"}}`,
		`{"metaData":{"location":"https://evil.example/x"}}`,
		`{"metaData":null}`,
		`{"metaData":{"x-smh-meta-a":null,"x-smh-meta-c":"3"},"metaDataDirective":"merge"}`,
		`{"metaData":{"x-smh-meta-a":null,"X-Smh-Meta-A":"1"},"metaDataDirective":"MERGE"}`,
		`{"metaData":{"x-smh-meta-a":"1","X-Smh-Meta-A":"2"},"metaDataDirective":"merge"}`,
		`{"metaData":{"Legacy_Key":null},"metaDataDirective":"merge"}`,
		`{"metaData":null,"metaDataDirective":"merge"}`,
		`{"metaDataDirective":"merge"}`,
		`{"metaData":{"x-smh-meta-a":1},"metaDataDirective":"merge"}`,
		`{"metaData":{"x-smh-meta-a":{"b":null}},"metaDataDirective":"merge"}`,
		`{"metaData":["a"],"metaDataDirective":"replace"}`,
		`{"metaData":"a","metaDataDirective":"patch"}`,
		`{"meta_data":{"":"","\u0000":"\u202e"},"meta_data_directive":"merge"}`,
		`{"metaData":{"x-smh-meta-\u212a":"kelvin"}}`,
		`{"metaData":{"x-smh-meta-a":"` + strings.Repeat("x", 4096) + `"},"labels":["l"]}`,
	} {
		f.Add([]byte(body), stored)
	}
	f.Fuzz(func(t *testing.T, body []byte, storedJSON string) {
		var u namespacev1.DirectoryUpdate
		if protojson.Unmarshal(body, &u) != nil {
			return // the gateway answers 400 before the service
		}
		old := map[string]string{}
		if json.Unmarshal([]byte(storedJSON), &old) != nil {
			old = map[string]string{}
		}
		before := maps.Clone(old)
		m, err := metaUpdate(u.GetMetaData(), u.GetMetaDataDirective())
		directive := strings.ToLower(u.GetMetaDataDirective())
		if err != nil {
			var in *app.InputError
			if !errors.As(err, &in) || !errors.Is(err, app.ErrParamInvalid) && !errors.Is(err, fileattr.ErrInvalid) {
				t.Fatalf("refused with %v, not a 400", err)
			}
			if wellFormed(u.GetMetaData(), directive) {
				t.Fatalf("refused %s: %v", body, err)
			}
			return
		}
		if !wellFormed(u.GetMetaData(), directive) {
			t.Fatalf("accepted %s as %+v", body, m)
		}
		if !m.Merge {
			checkReplace(t, u.GetMetaData(), m)
			return
		}
		got := m.Merged(old)
		if !maps.Equal(old, before) {
			t.Fatalf("the merge changed the stored metadata: %v, was %v", old, before)
		}
		patch := u.GetMetaData().GetStructValue().GetFields()
		named := map[string]bool{}
		for raw, v := range patch {
			if s, isString := v.GetKind().(*structpb.Value_StringValue); isString {
				key, _ := fileattr.MetaKey(raw)
				named[key] = true
				if got[key] != s.StringValue {
					t.Fatalf("key %q: patch %q, result %q", key, s.StringValue, got[key])
				}
				continue
			}
			named[raw], named[fileattr.FoldKey(raw)] = true, true
			if _, ok := got[raw]; ok {
				t.Fatalf("key %q deleted by the patch is still there", raw)
			}
			if _, ok := got[fileattr.FoldKey(raw)]; ok {
				t.Fatalf("key %q (folded from %q) deleted by the patch is still there", fileattr.FoldKey(raw), raw)
			}
		}
		for k, v := range got {
			if !named[k] && old[k] != v {
				t.Fatalf("key %q not in the patch changed from %q to %q", k, old[k], v)
			}
		}
		for k := range old {
			if _, ok := got[k]; !named[k] && !ok {
				t.Fatalf("key %q not in the patch was lost", k)
			}
		}
		if again := m.Merged(got); !maps.Equal(again, got) {
			t.Fatalf("applying the patch twice: %v, once: %v", again, got)
		}
		if m2, _ := metaUpdate(u.GetMetaData(), u.GetMetaDataDirective()); !maps.Equal(m2.Merged(old), got) {
			t.Fatalf("two merges of the same patch differ")
		}
	})
}

// wellFormed reports whether metaData is a documented shape for directive: replace (or none)
// takes absent, null or an object of strings; merge takes absent or an object whose values are
// strings or null. Keys that set a value must pass fileattr.MetaKey, each stored key may be named
// once, and a merge may not set and delete the same key.
func wellFormed(v *structpb.Value, directive string) bool {
	merge := directive == "merge"
	if directive != "" && directive != "replace" && !merge {
		return false
	}
	if v == nil {
		return true
	}
	if _, null := v.GetKind().(*structpb.Value_NullValue); null {
		return !merge
	}
	obj, ok := v.GetKind().(*structpb.Value_StructValue)
	if !ok {
		return false
	}
	set, deleted := map[string]bool{}, map[string]bool{}
	for raw, f := range obj.StructValue.GetFields() {
		switch f.GetKind().(type) {
		case *structpb.Value_StringValue:
			key, err := fileattr.MetaKey(raw)
			if err != nil || set[key] {
				return false
			}
			set[key] = true
		case *structpb.Value_NullValue:
			if !merge {
				return false
			}
			deleted[fileattr.FoldKey(raw)] = true
		default:
			return false
		}
	}
	for key := range set {
		if deleted[key] {
			return false
		}
	}
	return true
}

// checkReplace fails unless a replace update is exactly the metadata given, under its stored
// keys: absent keeps the stored one (nil), null clears it, an object is the new metadata.
func checkReplace(t *testing.T, v *structpb.Value, m app.MetaUpdate) {
	t.Helper()
	switch {
	case v == nil:
		if m.Set != nil {
			t.Fatalf("absent metaData replaces the stored one with %v", m.Set)
		}
	case v.GetStructValue() == nil:
		if m.Set == nil || len(m.Set) != 0 {
			t.Fatalf("null metaData gives %v, want an empty object", m.Set)
		}
	default:
		want := map[string]string{}
		for raw, f := range v.GetStructValue().GetFields() {
			key, _ := fileattr.MetaKey(raw)
			want[key] = f.GetStringValue()
		}
		if !maps.Equal(m.Set, want) || len(m.Delete) != 0 {
			t.Fatalf("replace with %v gives %+v", want, m)
		}
	}
}
