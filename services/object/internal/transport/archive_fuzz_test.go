package transport

import (
	"errors"
	"net/http"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"

	objectv1 "github.com/opensmh/opensmh/gen/go/smh/object/v1"
	"github.com/opensmh/opensmh/pkg/smherr"
	"github.com/opensmh/opensmh/services/object/internal/app"
)

// FuzzUncompressBody fuzzes the uncompress call (3.17, POST ...?uncompress) from the JSON body
// the gateway decodes and the query's strategy to the request check: nothing panics, and a
// refusal is a 400 with an SMH code, never an internal error.
func FuzzUncompressBody(f *testing.F) {
	for _, seed := range []struct{ body, strategy string }{
		{`{"targetPath":"out"}`, ""},
		{`{"targetPath":"/","targetSpaceId":"beta","selectedFilePaths":["a/","b.txt"],"password":"p"}`, "rename"},
		{`{"targetPath":"out","selectedFilePaths":["a/","b/"]}`, "ask"},
		{`{"targetPath":"out","selectedFilePaths":[""]}`, "overwrite"},
		{`{"targetPath":""}`, ""},
		{`{}`, "merge"},
		{`{"selectedFilePaths":"a"}`, ""},
	} {
		f.Add([]byte(seed.body), seed.strategy)
	}
	f.Fuzz(func(t *testing.T, body []byte, strategy string) {
		var b objectv1.UncompressBody
		if protojson.Unmarshal(body, &b) != nil {
			return // the gateway answers 400 before the service
		}
		req := app.UncompressRequest{
			LibraryID: "smhlib", SpaceID: "-", Path: "a.zip", Strategy: strategy,
			TargetPath: b.GetTargetPath(), TargetSpaceID: b.GetTargetSpaceId(), Selected: b.GetSelectedFilePaths(),
		}
		err := req.Check()
		if err == nil {
			return
		}
		if e := smherr.As(toStatus(err)); e == nil || e.Status != http.StatusBadRequest {
			t.Fatalf("refusal %v answers %v", err, e)
		}
		var in *app.InputError
		if !errors.As(err, &in) && !errors.Is(err, app.ErrMultipleDirectories) && !errors.Is(err, app.ErrTooManyItems) {
			t.Fatalf("refusal %v is no input error", err)
		}
	})
}
