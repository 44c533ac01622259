package transport

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protojson"

	objectv1 "github.com/opensmh/opensmh/gen/go/smh/object/v1"
	"github.com/opensmh/opensmh/pkg/smherr"
	"github.com/opensmh/opensmh/services/object/internal/app"
)

// FuzzConfirmBody fuzzes the confirm call (3.4, POST ...?confirm) from the JSON body the gateway
// decodes (protojson with the gateway's options: unknown fields refused) and the query's strategy
// to the object service's validation of it: nothing panics, a refusal is an input error (400),
// and an accepted request carries the body's fields unchanged, in valid UTF-8, with a known
// strategy and a category of at most 16 bytes.
func FuzzConfirmBody(f *testing.F) {
	for _, seed := range []struct{ body, strategy string }{
		{`{}`, ""},
		{`{"crc64":"12345678901234567890","labels":["a","相册"],"category":"doc","localCreationTime":"2026-12-03T10:00:00Z","localModificationTime":"1"}`, "rename"},
		{`{"crc64":"x","labels":null,"category":null}`, "overwrite"},
		{`{"category":"0123456789abcdef"}`, "ask"},
		{`{"category":"0123456789abcdefg"}`, ""},
		{`{"category":"相册相册相册"}`, ""},
		{`{"labels":["` + strings.Repeat("l", 1000) + `"]}`, ""},
		{`{"labels":[1]}`, ""},
		{`{"labels":"a"}`, ""},
		{`{"local_creation_time":"\u202e","unknown":1}`, ""},
		{`{"crc64":"\ud800"}`, ""},
		{`[]`, ""},
		{`null`, ""},
		{`{"crc64":"1"}`, "Rename"},
		{`{"crc64":"1"}`, "append"},
	} {
		f.Add([]byte(seed.body), seed.strategy)
	}
	f.Fuzz(func(t *testing.T, body []byte, strategy string) {
		var b objectv1.ConfirmBody
		if protojson.Unmarshal(body, &b) != nil {
			return // the gateway answers 400 before the service
		}
		req := &objectv1.ConfirmUploadRequest{
			LibraryId: "smhlib", SpaceId: "-", ConfirmKey: "key", ConflictResolutionStrategy: strategy, Body: &b,
		}
		c := confirmRequest(req)
		if err := c.Check(); err != nil {
			var in *app.InputError
			if !errors.As(err, &in) {
				t.Fatalf("confirm refused with %v, not an input error", err)
			}
			if e := smherr.As(toStatus(err)); e.Status != http.StatusBadRequest {
				t.Fatalf("confirm refusal %v answers %d %s", err, e.Status, e.Code)
			}
			return
		}
		if !slices.Contains([]string{"", "ask", "rename", "overwrite"}, c.Strategy) {
			t.Fatalf("strategy %q accepted", c.Strategy)
		}
		if c.Category != nil && len(*c.Category) > 16 {
			t.Fatalf("category of %d bytes accepted", len(*c.Category))
		}
		if c.CRC64 != b.GetCrc64() || !slices.Equal(c.Labels, b.GetLabels()) || c.Category != b.Category ||
			c.LocalCreationTime != b.GetLocalCreationTime() || c.LocalModificationTime != b.GetLocalModificationTime() {
			t.Fatalf("confirm request %+v does not carry the body %v", c, &b)
		}
		for _, s := range append([]string{c.CRC64, c.LocalCreationTime, c.LocalModificationTime}, c.Labels...) {
			if !utf8.ValidString(s) {
				t.Fatalf("invalid UTF-8 %q accepted", s)
			}
		}
		if c.Category != nil && !utf8.ValidString(*c.Category) {
			t.Fatalf("invalid UTF-8 category %q accepted", *c.Category)
		}
	})
}
