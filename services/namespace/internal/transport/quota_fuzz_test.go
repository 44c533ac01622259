package transport

import (
	"errors"
	"net/http"
	"strconv"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"

	namespacev1 "github.com/opensmh/opensmh/gen/go/smh/namespace/v1"
	"github.com/opensmh/opensmh/pkg/smherr"
	"github.com/opensmh/opensmh/services/namespace/internal/app"
)

// FuzzQuotaBody fuzzes the quota body (6.1, 6.3, 6.6) from the JSON the gateway decodes to the
// patch the use cases get. Accepted: capacity absent or null (not given), a whole number 0-2^53,
// or a decimal string of digits that fits an int64, read exactly; spaces absent or a list of
// strings, kept in order; removeAfterDays as given. Everything else is a 400 (ParamInvalid or
// QuotaSpacesInvalid), never a server error or a panic.
func FuzzQuotaBody(f *testing.F) {
	for _, body := range []string{
		`{}`,
		`{"spaces":["a","b"],"capacity":"1099511627776","removeWhenExceed":true,"removeAfterDays":3}`,
		`{"capacity":1024}`,
		`{"capacity":null,"spaces":null}`,
		`{"capacity":"9223372036854775807"}`,
		`{"capacity":"9223372036854775808"}`,
		`{"capacity":-1}`,
		`{"capacity":1.5}`,
		`{"capacity":1e300}`,
		`{"capacity":"+1"}`,
		`{"capacity":" 1"}`,
		`{"capacity":true}`,
		`{"capacity":[1]}`,
		`{"spaces":[]}`,
		`{"spaces":[1]}`,
		`{"spaces":"a"}`,
		`{"removeAfterDays":"7"}`,
		`{"removeNewest":false}`,
	} {
		f.Add([]byte(body))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var body namespacev1.QuotaBody
		if protojson.Unmarshal(data, &body) != nil {
			return // the gateway answers a body it cannot decode itself
		}
		patch, err := quotaPatch(&body)
		if err != nil {
			if !errors.Is(err, app.ErrParamInvalid) && !errors.Is(err, app.ErrQuotaSpacesInvalid) {
				t.Fatalf("%s: unexpected error %v", data, err)
			}
			if e := smherr.As(toStatus(err)); e == nil || e.Status != http.StatusBadRequest {
				t.Fatalf("%s: %v is not a 400", data, err)
			}
			return
		}
		if c := patch.Capacity; c != nil {
			if *c < 0 {
				t.Fatalf("%s: negative capacity %d accepted", data, *c)
			}
			switch k := body.GetCapacity().GetKind().(type) {
			case *structpb.Value_StringValue:
				if n, err := strconv.ParseUint(k.StringValue, 10, 63); err != nil || int64(n) != *c {
					t.Fatalf("%s: capacity %q read as %d", data, k.StringValue, *c)
				}
			case *structpb.Value_NumberValue:
				if float64(*c) != k.NumberValue {
					t.Fatalf("%s: capacity %v read as %d", data, k.NumberValue, *c)
				}
			default:
				t.Fatalf("%s: capacity %d read from %T", data, *c, k)
			}
		} else {
			switch k := body.GetCapacity().GetKind().(type) {
			case nil, *structpb.Value_NullValue:
			default:
				t.Fatalf("%s: capacity %T dropped", data, k)
			}
		}
		if body.GetSpaces() == nil && patch.Spaces != nil || body.GetSpaces() != nil && len(patch.Spaces) != len(body.GetSpaces().GetValues()) {
			t.Fatalf("%s: spaces %v from %v", data, patch.Spaces, body.GetSpaces())
		}
		for i, s := range patch.Spaces {
			if body.GetSpaces().GetValues()[i].GetStringValue() != s {
				t.Fatalf("%s: space %d read as %q", data, i, s)
			}
		}
		if (body.RemoveAfterDays == nil) != (patch.RemoveAfterDays == nil) ||
			body.RemoveAfterDays != nil && int32(*patch.RemoveAfterDays) != body.GetRemoveAfterDays() {
			t.Fatalf("%s: removeAfterDays %v", data, patch.RemoveAfterDays)
		}
	})
}
