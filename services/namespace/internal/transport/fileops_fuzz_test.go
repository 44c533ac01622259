package transport

import (
	"errors"
	"strconv"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"

	namespacev1 "github.com/opensmh/opensmh/gen/go/smh/namespace/v1"
	"github.com/opensmh/opensmh/services/namespace/internal/app"
)

// FuzzVirtualFileBody fuzzes createVirtualFile's body (3.17) from the JSON the gateway decodes:
// size is absent (0), a whole number 0-2^53 or a canonical decimal string of an int64 ≥ 0, read
// exactly; anything else is ParamInvalid, never a panic.
func FuzzVirtualFileBody(f *testing.F) {
	for _, seed := range []string{`{}`, `{"size":"1234"}`, `{"size":12}`, `{"size":-1}`, `{"size":"-1"}`, `{"size":1.5}`,
		`{"size":true}`, `{"size":"00"}`, `{"size":"+1"}`, `{"size":"9223372036854775808"}`, `{"size":1e300}`, `{"contentType":"a/b","labels":["x"],"metaData":{"x-smh-meta-a":"b"}}`} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body string) {
		var b namespacev1.VirtualFileBody
		if protojson.Unmarshal([]byte(body), &b) != nil {
			return // the gateway answers a body that does not decode itself
		}
		v, err := virtualFile(&b)
		if err != nil {
			if !errors.Is(err, app.ErrParamInvalid) {
				t.Fatalf("%s: %v, want ParamInvalid", body, err)
			}
			return
		}
		if v.Size < 0 {
			t.Fatalf("%s: negative size %d accepted", body, v.Size)
		}
		if s := b.GetSize().GetStringValue(); s != "" && strconv.FormatInt(v.Size, 10) != s {
			t.Fatalf("%s: size read as %d", body, v.Size)
		}
	})
}

// FuzzTrafficLimitBody fuzzes setSpaceTrafficLimit's body (2.10): only a whole JSON number is
// read (ranges are the use case's); strings, fractions, null and the rest are ParamInvalid.
func FuzzTrafficLimitBody(f *testing.F) {
	for _, seed := range []string{`{}`, `{"downloadTrafficLimit":102400}`, `{"downloadTrafficLimit":-1}`, `{"downloadTrafficLimit":"102400"}`,
		`{"downloadTrafficLimit":1.5}`, `{"downloadTrafficLimit":null}`, `{"downloadTrafficLimit":1e300}`} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body string) {
		var b namespacev1.TrafficLimit
		if protojson.Unmarshal([]byte(body), &b) != nil {
			return
		}
		n, err := trafficLimitValue(b.GetDownloadTrafficLimit())
		if err != nil {
			if !errors.Is(err, app.ErrParamInvalid) {
				t.Fatalf("%s: %v, want ParamInvalid", body, err)
			}
			return
		}
		if float64(n) != b.GetDownloadTrafficLimit().GetNumberValue() {
			t.Fatalf("%s: read as %d", body, n)
		}
	})
}

// FuzzContentsQuery fuzzes the contents view's query (2.10): a query is accepted only with a
// filter of onlyDir or onlyFile, a limit of 1-1000 (20 when absent), a known order and
// direction; everything else is ParamInvalid.
func FuzzContentsQuery(f *testing.F) {
	f.Add("onlyFile", "name", "asc", "true", int32(20), true)
	f.Add("onlyDir", "uploadTime", "desc", "0", int32(1000), true)
	f.Add("", "size", "", "", int32(0), false)
	f.Add("onlyFile", "colour", "up", "yes", int32(-1), true)
	f.Fuzz(func(t *testing.T, filter, order, dir, withPath string, limit int32, hasLimit bool) {
		q := app.ContentsQuery{Filter: filter, OrderBy: order, OrderByType: dir, WithPath: withPath}
		if hasLimit {
			q.Limit = &limit
		}
		o, err := app.ParseContentsQuery(q)
		if err != nil {
			if !errors.Is(err, app.ErrParamInvalid) {
				t.Fatalf("%+v: %v", q, err)
			}
			return
		}
		if o.Limit < 1 || o.Limit > 1000 || (filter != "onlyDir" && filter != "onlyFile") || o.OnlyDirs != (filter == "onlyDir") {
			t.Fatalf("%+v accepted as %+v", q, o)
		}
	})
}
