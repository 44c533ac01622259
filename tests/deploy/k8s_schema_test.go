package deploy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// kubeAPIServerModule is the module that pins the Kubernetes version the manifests target: it
// builds the API server of the dry run (apiserver_test.go), and its copy of k8s.io/kubernetes
// holds the OpenAPI document the schema check reads. One go.mod, one version.
const kubeAPIServerModule = "kubeapiserver"

// kubernetesModuleDir answers the directory of k8s.io/kubernetes in the Go module cache, as the
// wrapper module's go.sum pins it (downloaded once, then read offline from the cache).
func kubernetesModuleDir(t *testing.T) (dir, version string) {
	t.Helper()
	cmd := exec.Command("go", "mod", "download", "-json", "k8s.io/kubernetes")
	cmd.Dir = kubeAPIServerModule
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-buildvcs=false")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go mod download k8s.io/kubernetes (in tests/deploy/%s): %v %s", kubeAPIServerModule, err, stderrOf(err))
	}
	var m struct{ Dir, Version, Error string }
	if err := json.Unmarshal(out, &m); err != nil || m.Dir == "" {
		t.Fatalf("go mod download k8s.io/kubernetes answered %s (%v)", out, err)
	}
	return m.Dir, m.Version
}

func stderrOf(err error) string {
	if ee, ok := err.(*exec.ExitError); ok {
		return string(ee.Stderr)
	}
	return ""
}

// openAPISchema validates objects against the OpenAPI (swagger 2.0) document of the Kubernetes
// version in tests/deploy/kubeapiserver/go.mod, its definitions read as JSON Schema (draft 4,
// which swagger 2.0's schema objects are a subset of).
type openAPISchema struct {
	Version  string
	compiler *jsonschema.Compiler
	byGVK    map[schema.GroupVersionKind]string // -> definition name
	mu       sync.Mutex
	compiled map[string]*jsonschema.Schema
}

const schemaURL = "file:///kubernetes-openapi.json"

var (
	openAPIOnce   sync.Once
	openAPILoaded *openAPISchema
	openAPIErr    error
)

// loadOpenAPI reads and converts the document once for the package.
func loadOpenAPI(t *testing.T) *openAPISchema {
	t.Helper()
	openAPIOnce.Do(func() {
		dir, version := kubernetesModuleDir(t)
		openAPILoaded, openAPIErr = newOpenAPISchema(filepath.Join(dir, "api", "openapi-spec", "swagger.json"), version)
	})
	if openAPIErr != nil {
		t.Fatal(openAPIErr)
	}
	return openAPILoaded
}

func newOpenAPISchema(path, version string) (*openAPISchema, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var doc struct {
		Definitions map[string]map[string]any `json:"definitions"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	s := &openAPISchema{Version: version, byGVK: map[schema.GroupVersionKind]string{}, compiled: map[string]*jsonschema.Schema{}}
	defs := map[string]any{}
	for name, def := range doc.Definitions {
		for _, g := range gvksOf(def) {
			s.byGVK[g] = name
		}
		defs[name] = closeSchema(name, def)
	}
	s.compiler = jsonschema.NewCompiler()
	s.compiler.DefaultDraft(jsonschema.Draft4)
	if err := s.compiler.AddResource(schemaURL, map[string]any{"definitions": defs}); err != nil {
		return nil, err
	}
	return s, nil
}

// gvksOf answers the kinds a definition is the schema of (x-kubernetes-group-version-kind).
func gvksOf(def map[string]any) []schema.GroupVersionKind {
	list, _ := def["x-kubernetes-group-version-kind"].([]any)
	var out []schema.GroupVersionKind
	for _, e := range list {
		m, _ := e.(map[string]any)
		g, _ := m["group"].(string)
		v, _ := m["version"].(string)
		k, _ := m["kind"].(string)
		out = append(out, schema.GroupVersionKind{Group: g, Version: v, Kind: k})
	}
	return out
}

// closeSchema makes a definition what the API server's decoder enforces: a field the definition
// does not list is an error (additionalProperties: false wherever properties are listed; the
// document itself leaves objects open). Two types the document describes as strings take
// numbers in YAML too, as the API server accepts them: int-or-string (ports, maxSurge) and
// Quantity (cpu: 2).
func closeSchema(name string, def map[string]any) map[string]any {
	switch {
	case name == "io.k8s.apimachinery.pkg.util.intstr.IntOrString" || def["format"] == "int-or-string":
		return map[string]any{"anyOf": []any{map[string]any{"type": "integer"}, map[string]any{"type": "string"}}}
	case name == "io.k8s.apimachinery.pkg.api.resource.Quantity":
		return map[string]any{"anyOf": []any{map[string]any{"type": "number"}, map[string]any{"type": "string"}}}
	}
	out := map[string]any{}
	for k, v := range def {
		out[k] = v
	}
	if props, ok := def["properties"].(map[string]any); ok {
		closed := map[string]any{}
		for p, ps := range props {
			if m, ok := ps.(map[string]any); ok {
				closed[p] = closeSchema("", m)
			} else {
				closed[p] = ps
			}
		}
		out["properties"] = closed
		if _, set := def["additionalProperties"]; !set {
			out["additionalProperties"] = false
		}
	}
	for _, k := range []string{"items", "additionalProperties"} {
		if m, ok := def[k].(map[string]any); ok {
			out[k] = closeSchema("", m)
		}
	}
	return out
}

// Validate checks one object's JSON against the definition of its kind.
func (s *openAPISchema) Validate(gvk schema.GroupVersionKind, doc []byte) error {
	name, ok := s.byGVK[gvk]
	if !ok {
		return fmt.Errorf("Kubernetes %s has no schema for %s", s.Version, gvk)
	}
	sch, err := s.compile(name)
	if err != nil {
		return err
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return err
	}
	return sch.Validate(inst)
}

func (s *openAPISchema) compile(name string) (*jsonschema.Schema, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sch, ok := s.compiled[name]; ok {
		return sch, nil
	}
	sch, err := s.compiler.Compile(schemaURL + "#/definitions/" + name)
	if err != nil {
		return nil, err
	}
	s.compiled[name] = sch
	return sch, nil
}
