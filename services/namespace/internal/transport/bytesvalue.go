package transport

import (
	"math"
	"strconv"

	"google.golang.org/protobuf/types/known/structpb"

	"github.com/opensmh/opensmh/services/namespace/internal/app"
)

// maxExactJSONInteger is the largest integer a JSON number carries exactly (2^53); a larger
// byte count must be sent as a decimal string.
const maxExactJSONInteger = 1 << 53

// wholeBytes reads a byte count (a quota's capacity, a virtual file's size) given as a JSON
// number or a decimal string (SMH API 12.4: inputs accept both); nil when absent or null.
// A string must be canonical decimal digits ("0", "1234"; not "+1", "007" or " 1") so that
// what is stored reads back exactly as it was sent. Anything else is a 400 naming the field.
func wholeBytes(field string, v *structpb.Value) (*int64, error) {
	bad := &app.InputError{Err: app.ErrParamInvalid, Reason: field + " must be a whole number of bytes, 0 or more, as a number or a decimal string"}
	switch k := v.GetKind().(type) {
	case nil, *structpb.Value_NullValue:
		return nil, nil
	case *structpb.Value_NumberValue:
		f := k.NumberValue
		if f < 0 || f > maxExactJSONInteger || f != math.Trunc(f) {
			return nil, bad
		}
		n := int64(f)
		return &n, nil
	case *structpb.Value_StringValue:
		n, err := strconv.ParseInt(k.StringValue, 10, 64)
		if err != nil || n < 0 || strconv.FormatInt(n, 10) != k.StringValue {
			return nil, bad
		}
		return &n, nil
	}
	return nil, bad
}
