package transport

import (
	"errors"
	"maps"
	"slices"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/opensmh/opensmh/pkg/fileattr"
	"github.com/opensmh/opensmh/services/namespace/internal/app"
)

// The metaData of an ?update (3.16) as the gateway decodes it, through metaUpdate: keys fold to
// the stored form, anything fileattr refuses as a key is refused, and a merge's null deletes the
// key as written and folded.
func TestMetaUpdate(t *testing.T) {
	tests := []struct {
		name, json, directive string
		want                  app.MetaUpdate
		wantErr               error
	}{
		{"absent", ``, "", app.MetaUpdate{}, nil},
		{"replace", `{"x-smh-meta-a":"1","X-SMH-Meta-B":"2"}`, "replace", app.MetaUpdate{Set: map[string]string{"x-smh-meta-a": "1", "x-smh-meta-b": "2"}}, nil},
		{"replace by default", `{"x-smh-meta-a":"1"}`, "", app.MetaUpdate{Set: map[string]string{"x-smh-meta-a": "1"}}, nil},
		{"null clears", `null`, "Replace", app.MetaUpdate{Set: map[string]string{}}, nil},
		{"merge", `{"X-Smh-Meta-A":"1","Old-Key":null,"x-smh-meta-b":null}`, "merge",
			app.MetaUpdate{Merge: true, Set: map[string]string{"x-smh-meta-a": "1"}, Delete: []string{"Old-Key", "old-key", "x-smh-meta-b"}}, nil},
		{"bare key", `{"location":"https://evil.example/x"}`, "replace", app.MetaUpdate{}, fileattr.ErrInvalid},
		{"bare key merged", `{"location":"https://evil.example/x"}`, "merge", app.MetaUpdate{}, fileattr.ErrInvalid},
		{"status key", `{"x-smh-http-status":"200"}`, "merge", app.MetaUpdate{}, fileattr.ErrInvalid},
		{"underscore", `{"x-smh-meta-a_b":"1"}`, "replace", app.MetaUpdate{}, fileattr.ErrInvalid},
		{"two spellings", `{"x-smh-meta-a":"1","X-Smh-Meta-A":"2"}`, "replace", app.MetaUpdate{}, app.ErrParamInvalid},
		{"two spellings merged", `{"x-smh-meta-a":"1","X-Smh-Meta-A":"2"}`, "merge", app.MetaUpdate{}, app.ErrParamInvalid},
		{"set and delete", `{"x-smh-meta-a":"1","X-Smh-Meta-A":null}`, "merge", app.MetaUpdate{}, app.ErrParamInvalid},
		{"number value", `{"x-smh-meta-a":1}`, "replace", app.MetaUpdate{}, app.ErrParamInvalid},
		{"list", `["x-smh-meta-a"]`, "merge", app.MetaUpdate{}, app.ErrParamInvalid},
		{"unknown directive", `{}`, "append", app.MetaUpdate{}, app.ErrParamInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v *structpb.Value
			if tt.json != "" {
				v = &structpb.Value{}
				if err := protojson.Unmarshal([]byte(tt.json), v); err != nil {
					t.Fatal(err)
				}
			}
			got, err := metaUpdate(v, tt.directive)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			slices.Sort(got.Delete)
			slices.Sort(tt.want.Delete)
			if err != nil || got.Merge != tt.want.Merge || !maps.Equal(got.Set, tt.want.Set) || (got.Set == nil) != (tt.want.Set == nil) ||
				!slices.Equal(got.Delete, tt.want.Delete) {
				t.Fatalf("metaUpdate = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}
