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
	"github.com/opensmh/opensmh/services/namespace/internal/app"
)

// FuzzMetaDataUpdate fuzzes the metadata of ?update (3.16, 4.9) from the JSON body the gateway
// decodes to the stored result: the directive and metaData are accepted only in the documented
// shapes, anything else is ParamInvalid; a merge is RFC 7396 on an object of strings (a string
// sets its key, null deletes it, keys the patch does not name are kept, applying it twice changes
// nothing more) and a replace is exactly the object given; the stored metadata is not modified.
func FuzzMetaDataUpdate(f *testing.F) {
	stored := `{"a":"1","b":"2","相":"册"}`
	for _, body := range []string{
		`{}`,
		`{"metaData":{"a":"x"}}`,
		`{"metaData":null}`,
		`{"metaData":{"a":null,"c":"3"},"metaDataDirective":"merge"}`,
		`{"metaData":{"a":null,"a":"1"},"metaDataDirective":"MERGE"}`,
		`{"metaData":null,"metaDataDirective":"merge"}`,
		`{"metaDataDirective":"merge"}`,
		`{"metaData":{"a":1},"metaDataDirective":"merge"}`,
		`{"metaData":{"a":{"b":null}},"metaDataDirective":"merge"}`,
		`{"metaData":["a"],"metaDataDirective":"replace"}`,
		`{"metaData":"a","metaDataDirective":"patch"}`,
		`{"meta_data":{"":"","\u0000":"\u202e"},"meta_data_directive":"merge"}`,
		`{"metaData":{"a":"` + strings.Repeat("x", 4096) + `"},"labels":["l"]}`,
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
			if !errors.As(err, &in) || !errors.Is(err, app.ErrParamInvalid) {
				t.Fatalf("refused with %v, not ParamInvalid", err)
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
		for k, v := range patch {
			s, isString := v.GetKind().(*structpb.Value_StringValue)
			if have, ok := got[k]; isString && (!ok || have != s.StringValue) || !isString && ok {
				t.Fatalf("key %q: patch %v, result %q (present %v)", k, v, have, ok)
			}
		}
		for k, v := range got {
			if _, inPatch := patch[k]; !inPatch && old[k] != v {
				t.Fatalf("key %q not in the patch changed from %q to %q", k, old[k], v)
			}
		}
		for k := range old {
			if _, inPatch := patch[k]; !inPatch {
				if _, ok := got[k]; !ok {
					t.Fatalf("key %q not in the patch was lost", k)
				}
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
// strings or null.
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
	for _, f := range obj.StructValue.GetFields() {
		switch f.GetKind().(type) {
		case *structpb.Value_StringValue:
		case *structpb.Value_NullValue:
			if !merge {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// checkReplace fails unless a replace update is exactly the metadata given: absent keeps the
// stored one (nil), null clears it, an object is the new metadata.
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
		for k, f := range v.GetStructValue().GetFields() {
			want[k] = f.GetStringValue()
		}
		if !maps.Equal(m.Set, want) || len(m.Delete) != 0 {
			t.Fatalf("replace with %v gives %+v", want, m)
		}
	}
}
