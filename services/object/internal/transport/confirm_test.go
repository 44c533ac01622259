package transport

import (
	"errors"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"

	objectv1 "github.com/opensmh/opensmh/gen/go/smh/object/v1"
	"github.com/opensmh/opensmh/pkg/fileattr"
	"github.com/opensmh/opensmh/services/object/internal/app"
)

// A confirm body (3.4) as the gateway decodes it, through confirmRequest and Check: what is
// refused before any session is read.
func TestConfirmBody(t *testing.T) {
	labels := func(n int) string {
		return `[` + strings.TrimSuffix(strings.Repeat(`"l",`, n), ",") + `]`
	}
	tests := []struct {
		name, body string
		// wantDecode is false when the gateway's JSON decoding refuses the body (400 ParamInvalid).
		wantDecode bool
		wantErr    error
	}{
		{"empty", `{}`, true, nil},
		{"crc64 and attributes", `{"crc64":"1","labels":["a","b"],"category":"photos","localCreationTime":"2020-01-01T00:00:00.000Z"}`, true, nil},
		{"labels at the count", `{"labels":` + labels(fileattr.MaxLabels) + `}`, true, nil},
		{"labels over the count", `{"labels":` + labels(fileattr.MaxLabels+1) + `}`, true, fileattr.ErrInvalid},
		{"label too long", `{"labels":["` + strings.Repeat("a", fileattr.MaxLabelChars+1) + `"]}`, true, fileattr.ErrInvalid},
		{"label with a newline", `{"labels":["a\nb"]}`, true, fileattr.ErrInvalid},
		{"category at the limit", `{"category":"` + strings.Repeat("c", fileattr.MaxCategoryBytes) + `"}`, true, nil},
		{"category over the limit", `{"category":"` + strings.Repeat("c", fileattr.MaxCategoryBytes+1) + `"}`, true, fileattr.ErrInvalid},
		{"category with NUL", `{"category":"a\u0000"}`, true, fileattr.ErrInvalid},
		// The confirm body carries no metadata: metadata comes from begin's headers only.
		{"metaData", `{"metaData":{"location":"https://evil.example/x"}}`, false, nil},
		{"labels not strings", `{"labels":[1]}`, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := &objectv1.ConfirmBody{}
			err := protojson.UnmarshalOptions{}.Unmarshal([]byte(tt.body), body)
			if (err == nil) != tt.wantDecode {
				t.Fatalf("decode: %v, want decoded %v", err, tt.wantDecode)
			}
			if err != nil {
				return
			}
			r := confirmRequest(&objectv1.ConfirmUploadRequest{LibraryId: "lib", SpaceId: "-", ConfirmKey: "k", Body: body})
			if err := r.Check(); !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("Check = %v, want %v", err, tt.wantErr)
			}
		})
	}
	// A gRPC caller may leave the body out (this panicked once, on the category).
	r := confirmRequest(&objectv1.ConfirmUploadRequest{ConflictResolutionStrategy: "sideways"})
	if err := r.Check(); !errors.Is(err, app.ErrInvalidStrategy) {
		t.Fatalf("bad strategy: %v", err)
	}
}
