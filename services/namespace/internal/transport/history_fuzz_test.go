package transport

import (
	"errors"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"

	namespacev1 "github.com/opensmh/opensmh/gen/go/smh/namespace/v1"
	"github.com/opensmh/opensmh/services/namespace/internal/app"
)

// FuzzHistoryIDsBody fuzzes the 9.5 body from the JSON the gateway decodes (a ListValue) to the
// ids the store gets: accepted bodies are arrays of 1 to 100 ids, each a positive number, one per
// item; anything else is a 400 ParamInvalid.
func FuzzHistoryIDsBody(f *testing.F) {
	for _, body := range []string{
		`["1"]`, `["1","2","3"]`, `[1, 2]`, `[]`, `["0"]`, `["-1"]`, `["x"]`, `[1.5]`, `[null]`, `[{"id":1}]`,
		`["9223372036854775807"]`, `["9223372036854775808"]`, `[1e300]`, `["01"]`, `[" 1"]`, `{"ids":[1]}`, `"1"`,
	} {
		f.Add(body)
	}
	f.Fuzz(func(t *testing.T, body string) {
		var l structpb.ListValue
		if err := protojson.Unmarshal([]byte(body), &l); err != nil {
			return // the gateway answers a malformed body itself
		}
		ids, err := app.HistoryIDs(l.AsSlice())
		if err != nil {
			if !errors.Is(err, app.ErrParamInvalid) {
				t.Fatalf("%s: %v, want ParamInvalid", body, err)
			}
			return
		}
		if len(ids) == 0 || len(ids) > 100 || len(ids) != len(l.GetValues()) {
			t.Fatalf("%s: accepted %d ids", body, len(ids))
		}
		for _, id := range ids {
			if id <= 0 {
				t.Fatalf("%s: accepted id %d", body, id)
			}
		}
	})
}

// FuzzHistorySettingsBody fuzzes the 9.2 body from JSON to what the library service would store:
// an accepted body has every given field within 9.2's ranges (count 1-999, expire 0-999,
// mergeInterval 0); a refused one names exactly the field's SMH error.
func FuzzHistorySettingsBody(f *testing.F) {
	for _, body := range []string{
		`{}`, `{"enableFileHistory":true}`, `{"fileHistoryCount":1}`, `{"fileHistoryCount":999}`, `{"fileHistoryCount":0}`,
		`{"fileHistoryCount":1000}`, `{"fileHistoryCount":"5"}`, `{"fileHistoryExpireDay":-1}`, `{"fileHistoryExpireDay":0}`,
		`{"mergeInterval":0}`, `{"mergeInterval":5}`, `{"mergeInterval":-5}`, `{"fileHistoryCount":4294967297}`,
		`{"isClearFileHistory":true,"enableFileHistory":false}`, `{"file_history_count":3}`,
	} {
		f.Add(body)
	}
	f.Fuzz(func(t *testing.T, body string) {
		var b namespacev1.HistorySettingsPatch
		if err := protojson.Unmarshal([]byte(body), &b); err != nil {
			return // the gateway answers a malformed body itself
		}
		count, expire, err := app.CheckHistoryPatch(app.HistoryPatch{
			Enabled: b.EnableFileHistory, Count: b.FileHistoryCount, ExpireDay: b.FileHistoryExpireDay, MergeInterval: b.MergeInterval,
		})
		if err != nil {
			switch {
			case errors.Is(err, app.ErrInvalidFileHistoryCount):
				if c := b.GetFileHistoryCount(); b.FileHistoryCount == nil || (c >= 1 && c <= 999) {
					t.Fatalf("%s: count refused: %v", body, err)
				}
			case errors.Is(err, app.ErrInvalidFileHistoryExpireDay):
				if e := b.GetFileHistoryExpireDay(); b.FileHistoryExpireDay == nil || (e >= 0 && e <= 999) {
					t.Fatalf("%s: expire day refused: %v", body, err)
				}
			case errors.Is(err, app.ErrInvalidFileHistoryMergeInterval):
				if b.MergeInterval == nil || b.GetMergeInterval() == 0 {
					t.Fatalf("%s: merge interval refused: %v", body, err)
				}
			default:
				t.Fatalf("%s: unexpected error %v", body, err)
			}
			return
		}
		if (count == nil) != (b.FileHistoryCount == nil) || count != nil && (*count < 1 || *count > 999 || int64(*count) != b.GetFileHistoryCount()) {
			t.Fatalf("%s: accepted count %v", body, count)
		}
		if (expire == nil) != (b.FileHistoryExpireDay == nil) || expire != nil && (*expire > 999 || int64(*expire) != b.GetFileHistoryExpireDay()) {
			t.Fatalf("%s: accepted expire day %v", body, expire)
		}
		if b.GetMergeInterval() != 0 {
			t.Fatalf("%s: accepted merge interval %d", body, b.GetMergeInterval())
		}
	})
}
