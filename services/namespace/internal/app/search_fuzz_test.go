package app

import (
	"encoding/json"
	"errors"
	"testing"
)

// FuzzSearchRequest fuzzes the bodies of 8.1, 8.2 and 8.3 as the gateway decodes them: whatever
// the JSON, the parser answers a filter within the documented bounds or an input error (a 4xx),
// never a panic.
func FuzzSearchRequest(f *testing.F) {
	for _, s := range []string{`{}`, `null`, `[]`, `{"keyword":"a b"}`, `{"keywords":["a",1]}`, `{"type":["!all","doc"]}`,
		`{"type":"filecontent"}`, `{"scope":"/a/b/"}`, `{"scope":"../x"}`, `{"minFileSize":"12","maxFileSize":1e30}`,
		`{"modificationTimeStart":"2025-01-01T00:00:00Z"}`, `{"labels":["x"],"categories":"c"}`, `{"tags":[{"id":1}]}`,
		`{"marker":"17"}`, `{"marker":1e300}`, `{"inExtnames":[".pdf","."]}`,
		`{"aggregations":[{"field":"extName","operation":"group","subAggregations":[{"field":"size","operation":"sum"}]}]}`} {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, data []byte, legacy bool) {
		var body any
		if json.Unmarshal(data, &body) != nil {
			return
		}
		req, err := ParseSearchRequest(body, legacy, 0)
		if err != nil {
			var in *InputError
			if !errors.As(err, &in) {
				t.Fatalf("%s: %v is not an input error", data, err)
			}
			return
		}
		fl := req.Filter
		if len(fl.Keywords) > maxKeywords || len(fl.Labels) > maxLabels || len(fl.Categories) > maxCategories ||
			len(fl.ExcludeExts) > maxExtnames || len(req.Aggregations) > maxAggregations {
			t.Fatalf("%s: bounds exceeded: %+v", data, req)
		}
		if fl.MinSize != nil && (*fl.MinSize < 0 || fl.MaxSize != nil && *fl.MinSize > *fl.MaxSize) {
			t.Fatalf("%s: size range %v-%v accepted", data, *fl.MinSize, fl.MaxSize)
		}
		for _, kw := range fl.Keywords {
			if kw == "" {
				t.Fatalf("%s: empty keyword kept", data)
			}
		}
		if _, err := parseSearchMarker(req.Marker); err != nil && req.Marker != "" {
			var in *InputError
			if !errors.As(err, &in) {
				t.Fatalf("%s: marker error %v", data, err)
			}
		}
	})
}
