package deploy

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

const k8sDir = "../../k8s"

// secretTemplate describes the Secrets an operator creates by hand; kustomization.yaml must not
// list it (placeholder secrets would be applied), but the manifests' secretKeyRefs must name its keys.
const secretTemplate = "secret.example.yaml"

// manifest is one object of k8s/: the file it comes from, its JSON as rendered (what the schema
// and the API server see, unknown fields included) and its typed form.
type manifest struct {
	File string // k8s/<file>
	GVK  schema.GroupVersionKind
	JSON []byte
	Obj  runtime.Object // a k8s.io/api type, decoded strictly
}

func (m manifest) name() string {
	if o, ok := m.Obj.(interface{ GetName() string }); ok {
		return o.GetName()
	}
	return ""
}

func (m manifest) String() string { return fmt.Sprintf("%s %s/%s", m.File, m.GVK.Kind, m.name()) }

// strictDecoder decodes into the k8s.io/api types and fails on an unknown field, a value of
// the wrong type or a duplicate key (apimachinery's strict mode), which a plain decode ignores.
var strictDecoder = serializer.NewCodecFactory(scheme.Scheme, serializer.EnableStrict).UniversalDeserializer()

// decodeStrict answers the typed object a YAML or JSON document describes.
func decodeStrict(doc []byte) (runtime.Object, schema.GroupVersionKind, error) {
	obj, gvk, err := strictDecoder.Decode(doc, nil, nil)
	if err != nil {
		return nil, schema.GroupVersionKind{}, err
	}
	return obj, *gvk, nil
}

// k8sObjects is what the checks read: the rendered objects (kubectl apply -k k8s/) and the
// Secrets of the template.
type k8sObjects struct {
	Rendered []manifest
	Secrets  []manifest // secret.example.yaml
}

// loadK8s renders k8s/ with kustomize and decodes every object strictly; errors name the file and
// object. It also decodes each source file on its own: kustomize's YAML reader keeps the last of
// two duplicate keys, so only the source shows them.
func loadK8s(t *testing.T) k8sObjects {
	t.Helper()
	dir, err := filepath.Abs(k8sDir)
	if err != nil {
		t.Fatal(err)
	}
	listed, errs := kustomizationResources(dir)
	origin := map[string]string{} // kind/name -> k8s/<file>
	for _, file := range listed {
		_, fileErrs := decodeFile(filepath.Join(dir, file), origin)
		errs = append(errs, fileErrs...)
	}
	rendered, renderErrs := render(dir, origin)
	errs = append(errs, renderErrs...)
	secrets, secretErrs := decodeFile(filepath.Join(dir, secretTemplate), map[string]string{})
	errs = append(errs, secretErrs...)
	for _, e := range errs {
		t.Error(e)
	}
	if t.Failed() {
		t.FailNow()
	}
	return k8sObjects{Rendered: rendered, Secrets: secrets}
}

// kustomizationResources answers the files kustomization.yaml lists, and an error for each
// manifest of k8s/ it does not list, each listed file that is missing and a listed template.
func kustomizationResources(dir string) ([]string, []error) {
	data, err := os.ReadFile(filepath.Join(dir, "kustomization.yaml"))
	if err != nil {
		return nil, []error{err}
	}
	var k types.Kustomization
	if err := yaml.UnmarshalStrict(data, &k); err != nil {
		return nil, []error{fmt.Errorf("k8s/kustomization.yaml: %w", err)}
	}
	var errs []error
	for _, name := range k.Resources {
		if strings.HasSuffix(name, ".example.yaml") {
			errs = append(errs, fmt.Errorf("k8s/kustomization.yaml lists the template %s: it must not be applied", name))
		} else if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			errs = append(errs, fmt.Errorf("k8s/kustomization.yaml lists %s: %w", name, err))
		}
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.y*ml"))
	for _, f := range files {
		name := filepath.Base(f)
		if name != "kustomization.yaml" && !strings.HasSuffix(name, ".example.yaml") && !slices.Contains(k.Resources, name) {
			errs = append(errs, fmt.Errorf("k8s/kustomization.yaml does not list %s", name))
		}
	}
	return k.Resources, errs
}

// decodeFile decodes each document of a manifest file strictly, and records in origin the file
// of each object by kind/name (read leniently, so an object that fails is still named by its file).
func decodeFile(path string, origin map[string]string) ([]manifest, []error) {
	file := "k8s/" + filepath.Base(path)
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, []error{err}
	}
	var out []manifest
	var errs []error
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	for i := 1; ; i++ {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return out, append(errs, fmt.Errorf("%s: %w", file, err))
		}
		if len(bytes.TrimSpace(stripComments(doc))) == 0 {
			continue
		}
		var id struct {
			Kind     string
			Metadata struct{ Name string }
		}
		if yaml.Unmarshal(doc, &id) == nil {
			origin[id.Kind+"/"+id.Metadata.Name] = file
		}
		m, err := decodeManifest(file, doc)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s document %d: %w", file, i, err))
			continue
		}
		out = append(out, m)
	}
	return out, errs
}

// stripComments drops the comment lines of a YAML document (a document of comments alone is empty).
func stripComments(doc []byte) []byte {
	var b bytes.Buffer
	for _, line := range bytes.Split(doc, []byte("\n")) {
		if !bytes.HasPrefix(bytes.TrimSpace(line), []byte("#")) {
			b.Write(line)
			b.WriteByte('\n')
		}
	}
	return b.Bytes()
}

func decodeManifest(file string, doc []byte) (manifest, error) {
	j, err := yaml.YAMLToJSONStrict(doc)
	if err != nil {
		return manifest{}, err
	}
	obj, gvk, err := decodeStrict(j)
	if err != nil {
		return manifest{}, err
	}
	m := manifest{File: file, GVK: gvk, JSON: j, Obj: obj}
	if m.name() == "" {
		return m, fmt.Errorf("a %s without metadata.name", gvk.Kind)
	}
	return m, nil
}

// render answers what `kubectl apply -k` sends: kustomize's output (namespace set, image
// rewritten), each object decoded strictly and named by the file it came from.
func render(dir string, origin map[string]string) ([]manifest, []error) {
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	res, err := k.Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		return nil, []error{fmt.Errorf("kustomize build k8s/: %w", err)}
	}
	var out []manifest
	var errs []error
	for _, r := range res.Resources() {
		doc, err := r.AsYAML()
		if err != nil {
			errs = append(errs, err)
			continue
		}
		key := r.GetKind() + "/" + r.GetName()
		file := origin[key]
		if file == "" {
			file = "k8s/ (kustomize output)"
		}
		m, err := decodeManifest(file, doc)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s %s: %w", file, key, err))
			continue
		}
		out = append(out, m)
	}
	return out, errs
}

// typed answers the objects of type T (e.g. *appsv1.Deployment) with their manifests.
func typed[T runtime.Object](ms []manifest) []typedObject[T] {
	var out []typedObject[T]
	for _, m := range ms {
		if o, ok := m.Obj.(T); ok {
			out = append(out, typedObject[T]{m, o})
		}
	}
	return out
}

type typedObject[T runtime.Object] struct {
	manifest
	O T
}
