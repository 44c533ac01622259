package apidoc

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/opensmh/opensmh/gen/openapi"
	"github.com/opensmh/opensmh/services/gateway/internal/dispatch"
)

// document is the part of an OpenAPI 2.0 document the tests read.
type document struct {
	Swagger     string                                `json:"swagger"`
	Paths       map[string]map[string]operation       `json:"paths"`
	Parameters  map[string]map[string]any             `json:"parameters"`
	Definitions map[string]any                        `json:"definitions"`
	Security    map[string]map[string]json.RawMessage `json:"securityDefinitions"`
}

type operation struct {
	OperationID string           `json:"operationId"`
	Parameters  []map[string]any `json:"parameters"`
	Responses   map[string]any   `json:"responses"`
	Path        string           `json:"x-smh-path"`
	Flags       []string         `json:"x-smh-flags"`
	BodyKey     string           `json:"x-smh-body-key"`
}

// build answers the document the gateway serves, raw and decoded.
func build(t *testing.T) ([]byte, document) {
	t.Helper()
	raw, err := Build(openapi.Internal(), dispatch.Routes)
	if err != nil {
		t.Fatal(err)
	}
	var doc document
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	return raw, doc
}

// resolve answers a parameter, following its $ref to the document's parameters.
func (d document) resolve(p map[string]any) map[string]any {
	if ref, ok := p["$ref"].(string); ok {
		return d.Parameters[strings.TrimPrefix(ref, "#/parameters/")]
	}
	return p
}

// TestEveryRowIsDocumented: each dispatcher row is one operation, on its method, under a key
// made of its path template and its selector, with its flags as required query parameters, its
// body key required of the body, and its credentials.
func TestEveryRowIsDocumented(t *testing.T) {
	_, doc := build(t)
	for _, r := range dispatch.Routes {
		what := fmt.Sprintf("%s %s %v %q", r.Method, r.Pattern, r.Flags, r.BodyKey)
		template := strings.Replace(r.Pattern, "...}", "}", 1)
		var found []operation
		for key, item := range doc.Paths {
			op, ok := item[strings.ToLower(r.Method)]
			if ok && op.Path == template && slices.Equal(op.Flags, r.Flags) && op.BodyKey == r.BodyKey {
				if p, _, _ := strings.Cut(key, "#"); p != template {
					t.Errorf("%s: under %q, whose path is not its template", what, key)
				}
				found = append(found, op)
			}
		}
		if len(found) != 1 {
			t.Errorf("%s: %d operations in the document, want 1", what, len(found))
			continue
		}
		op := found[0]
		in := map[string]map[string]any{}
		for _, p := range op.Parameters {
			p = doc.resolve(p)
			in[p["in"].(string)+" "+p["name"].(string)] = p
		}
		for _, f := range r.Flags {
			if p := in["query "+f]; p == nil || p["required"] != true {
				t.Errorf("%s: flag %q is not a required query parameter", what, f)
			}
		}
		if r.BodyKey != "" && !strings.Contains(fmt.Sprint(bodyOf(op)), "required:["+r.BodyKey+"]") {
			t.Errorf("%s: the body does not require %q: %v", what, r.BodyKey, bodyOf(op))
		}
		credential := "query access_token"
		if strings.HasPrefix(r.Pattern, "/api/v1/token") {
			credential = "query library_secret"
		}
		if in[credential] == nil {
			t.Errorf("%s: no %s parameter", what, credential)
		}
	}
}

func bodyOf(op operation) any {
	for _, p := range op.Parameters {
		if p["in"] == "body" {
			return p["schema"]
		}
	}
	return nil
}

// TestNothingInternal: the document describes what clients call, never the /_smh/ routes the
// dispatcher rewrites to; the admin API is there as it is.
func TestNothingInternal(t *testing.T) {
	raw, doc := build(t)
	if strings.Contains(string(raw), "/_smh/") {
		t.Error("the document names an internal /_smh/ route")
	}
	var internal document
	if err := json.Unmarshal(openapi.Internal(), &internal); err != nil {
		t.Fatal(err)
	}
	admin := 0
	for key, item := range internal.Paths {
		if !strings.HasPrefix(key, "/admin/") {
			continue
		}
		for method, op := range item {
			admin++
			if got, ok := doc.Paths[key][method]; !ok || got.OperationID != op.OperationID {
				t.Errorf("admin %s %s is missing", method, key)
			}
		}
	}
	if admin == 0 {
		t.Error("the internal document has no admin route")
	}
	for key := range doc.Paths {
		if !strings.HasPrefix(key, "/api/v1/") && !strings.HasPrefix(key, "/admin/v1/") {
			t.Errorf("path %q is neither the business nor the admin API", key)
		}
	}
}

// TestWellFormed checks what OpenAPI 2.0 asks of paths and operations (tests/e2e validates the
// served document with an OpenAPI validator too): each key's parameters declared once and as
// path parameters, no two keys for one path (parameter names aside), one body at most, unique
// operation ids, and every $ref resolving.
func TestWellFormed(t *testing.T) {
	raw, doc := build(t)
	if doc.Swagger != "2.0" {
		t.Fatalf("swagger %q", doc.Swagger)
	}
	ids := map[string]string{}
	shapes := map[string]string{}
	for key, item := range doc.Paths {
		shape := pathParam.ReplaceAllString(key, "{}")
		if other, ok := shapes[shape]; ok {
			t.Errorf("paths %q and %q are one path to a validator", key, other)
		}
		shapes[shape] = key
		var inKey []string
		for _, m := range pathParam.FindAllStringSubmatch(key, -1) {
			inKey = append(inKey, m[1])
		}
		for method, op := range item {
			what := method + " " + key
			if !slices.Contains([]string{"get", "put", "post", "delete", "head", "patch"}, method) {
				t.Errorf("%s: method", what)
			}
			if other, dup := ids[op.OperationID]; dup || op.OperationID == "" {
				t.Errorf("%s: operationId %q, also %s", what, op.OperationID, other)
			}
			ids[op.OperationID] = what
			seen := map[string]bool{}
			var inPath []string
			bodies := 0
			for _, p := range op.Parameters {
				p = doc.resolve(p)
				if p == nil {
					t.Errorf("%s: a parameter $ref resolves to nothing", what)
					continue
				}
				k := p["in"].(string) + " " + p["name"].(string)
				if seen[k] {
					t.Errorf("%s: parameter %s twice", what, k)
				}
				seen[k] = true
				switch p["in"] {
				case "path":
					inPath = append(inPath, p["name"].(string))
					if p["required"] != true {
						t.Errorf("%s: path parameter %s not required", what, k)
					}
				case "body":
					bodies++
				}
			}
			if !slices.Equal(inPath, inKey) {
				t.Errorf("%s: path parameters %v, the key names %v", what, inPath, inKey)
			}
			if bodies > 1 {
				t.Errorf("%s: %d bodies", what, bodies)
			}
			if _, ok := op.Responses["default"]; !ok {
				t.Errorf("%s: no default response", what)
			}
		}
	}
	var all any
	if err := json.Unmarshal(raw, &all); err != nil {
		t.Fatal(err)
	}
	refs := 0
	walkRefs(all, func(ref string) {
		refs++
		kind, name, _ := strings.Cut(strings.TrimPrefix(ref, "#/"), "/")
		ok := false
		switch kind {
		case "definitions":
			_, ok = doc.Definitions[name]
		case "parameters":
			_, ok = doc.Parameters[name]
		}
		if !ok {
			t.Errorf("$ref %q resolves to nothing", ref)
		}
	})
	if refs == 0 {
		t.Error("no $ref at all")
	}
}

func walkRefs(v any, visit func(string)) {
	switch v := v.(type) {
	case map[string]any:
		if ref, ok := v["$ref"].(string); ok {
			visit(ref)
		}
		for _, e := range v {
			walkRefs(e, visit)
		}
	case []any:
		for _, e := range v {
			walkRefs(e, visit)
		}
	}
}

// TestBuildRefusesAnUnservedRow: a row whose target no internal route serves stops the build,
// so the document cannot silently miss a route.
func TestBuildRefusesAnUnservedRow(t *testing.T) {
	routes := append(slices.Clone(dispatch.Routes), dispatch.Route{Method: "GET", Pattern: "/api/v1/nowhere/{LibraryId}",
		Target: "/_smh/nowhere/{LibraryId}", RPC: "/smh.namespace.v1.NamespaceService/Nowhere"})
	if _, err := Build(openapi.Internal(), routes); err == nil || !strings.Contains(err.Error(), "/api/v1/nowhere/") {
		t.Fatalf("err = %v, want the row named", err)
	}
}

// TestBuildIsReproducible: the same table and internal document give the same bytes, so the
// ETag changes only when the document does.
func TestBuildIsReproducible(t *testing.T) {
	a, _ := build(t)
	b, _ := build(t)
	if string(a) != string(b) {
		t.Fatal("two builds differ")
	}
}
