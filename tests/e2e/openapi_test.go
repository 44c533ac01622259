package e2e

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi2"
	"github.com/getkin/kin-openapi/openapi2conv"

	"github.com/opensmh/opensmh/services/gateway"
)

// TestOpenAPIDocument fetches the OpenAPI document of the public API over HTTPS (decision 53):
// the gateway's document, with every dispatcher row, that an OpenAPI validator accepts, served
// to anyone as cacheable JSON, to browsers of any origin. What the document holds row by row is
// checked in services/gateway/internal/apidoc.
func TestOpenAPIDocument(t *testing.T) {
	s := startSystem(t)
	want, err := gateway.APIDocument()
	if err != nil {
		t.Fatal(err)
	}
	r := s.call("GET", gateway.APIDocumentPath, nil, nil, nil)
	if r.Status != http.StatusOK || r.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("GET %s: %d %s", gateway.APIDocumentPath, r.Status, r.Header.Get("Content-Type"))
	}
	if !bytes.Equal(r.Body, want) {
		t.Fatal("the served document is not gateway.APIDocument()")
	}

	t.Run("an OpenAPI validator accepts it", func(t *testing.T) {
		var doc2 openapi2.T
		if err := json.Unmarshal(r.Body, &doc2); err != nil {
			t.Fatal(err)
		}
		doc3, err := openapi2conv.ToV3(&doc2) // resolves every $ref
		if err != nil {
			t.Fatal(err)
		}
		if err := doc3.Validate(t.Context()); err != nil {
			t.Fatal(err)
		}
		rows := 0
		for _, item := range doc2.Paths {
			for _, op := range item.Operations() {
				if _, ok := op.Extensions["x-smh-path"]; ok {
					rows++
				}
			}
		}
		if rows != len(gateway.Routes()) {
			t.Fatalf("%d operations of the business API, the dispatcher table has %d rows", rows, len(gateway.Routes()))
		}
		if strings.Contains(string(r.Body), "/_smh/") {
			t.Fatal("the document names an internal /_smh/ route")
		}
	})

	t.Run("cacheable: revalidated by its ETag", func(t *testing.T) {
		etag := r.Header.Get("ETag")
		if etag == "" {
			t.Fatal("no ETag")
		}
		again := s.call("GET", gateway.APIDocumentPath, nil, nil, http.Header{"If-None-Match": {etag}})
		if again.Status != http.StatusNotModified || len(again.Body) != 0 {
			t.Fatalf("revalidation: %d, %d bytes", again.Status, len(again.Body))
		}
		if head := s.call("HEAD", gateway.APIDocumentPath, nil, nil, nil); head.Status != http.StatusOK || head.Header.Get("ETag") != etag {
			t.Fatalf("HEAD: %d ETag %q", head.Status, head.Header.Get("ETag"))
		}
	})

	t.Run("browsers of any origin may read it", func(t *testing.T) {
		got := s.call("GET", gateway.APIDocumentPath, nil, nil, http.Header{"Origin": {"https://tools.example"}})
		if got.Header.Get("Access-Control-Allow-Origin") != "https://tools.example" {
			t.Fatalf("Allow-Origin %q", got.Header.Get("Access-Control-Allow-Origin"))
		}
	})

	t.Run("it takes no credential and answers nothing else", func(t *testing.T) {
		// A credential, good or bad, changes nothing (the matrix sends every kind).
		bogus := s.call("GET", gateway.APIDocumentPath, url.Values{"access_token": {"bogus"}}, nil, nil)
		if bogus.Status != http.StatusOK || !bytes.Equal(bogus.Body, want) {
			t.Fatalf("with a bad access_token: %d", bogus.Status)
		}
		expectError(t, s.call("POST", gateway.APIDocumentPath, nil, "{}", nil), http.StatusNotFound, "RouteNotFound")
	})
}
