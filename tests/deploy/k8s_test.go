package deploy

import (
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"
)

// The checks of k8s/, in layers: strict decoding into k8s.io/api (unknown fields, wrong types,
// duplicate keys), the OpenAPI schema of the Kubernetes version the manifests target (also
// missing required fields and fields of the wrong shape the Go types accept), the project's own
// rules (k8s_rules_test.go) and a real API server (apiserver_test.go). Each layer has a negative
// test below proving it rejects what it is meant to catch.

// TestK8sManifestsDecodeStrictly renders k8s/ as `kubectl apply -k` does and decodes every
// object, and each source file, strictly; kustomization.yaml lists exactly the manifests.
func TestK8sManifestsDecodeStrictly(t *testing.T) {
	objs := loadK8s(t)
	kinds := map[string]int{}
	for _, m := range objs.Rendered {
		kinds[m.GVK.Kind]++
	}
	for _, k := range []string{"Namespace", "ConfigMap", "Deployment", "StatefulSet", "Service", "NetworkPolicy", "PodDisruptionBudget", "HorizontalPodAutoscaler"} {
		if kinds[k] == 0 {
			t.Errorf("k8s/ renders no %s (rendered: %v)", k, kinds)
		}
	}
}

// TestK8sManifestsMatchOpenAPISchema validates each rendered object and template Secret against
// the OpenAPI schema of the Kubernetes version in tests/deploy/kubeapiserver/go.mod.
func TestK8sManifestsMatchOpenAPISchema(t *testing.T) {
	objs := loadK8s(t)
	s := loadOpenAPI(t)
	for _, m := range append(objs.Rendered, objs.Secrets...) {
		if err := s.Validate(m.GVK, m.JSON); err != nil {
			t.Errorf("%s does not match the Kubernetes %s schema: %v", m, s.Version, err)
		}
	}
}

// TestK8sProjectRules applies the project's rules (env and flags per binary, probes, ports,
// volumes, NetworkPolicies, metrics) to the rendered objects.
func TestK8sProjectRules(t *testing.T) {
	for _, e := range checkK8sRules(loadK8s(t), splitBinaries(t)) {
		t.Error(e)
	}
}

// brokenDeployment is a small valid Deployment with one line replaced, for the negative tests.
func brokenDeployment(replace, with string) []byte {
	const valid = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: broken
spec:
  selector:
    matchLabels: {app: broken}
  template:
    metadata:
      labels: {app: broken}
    spec:
      containers:
        - name: app
          image: opensmh
          ports:
            - containerPort: 9101
`
	if !strings.Contains(valid, replace) {
		panic("brokenDeployment: no " + replace)
	}
	return []byte(strings.Replace(valid, replace, with, 1))
}

// brokenCases are broken objects and the static layers that (knowingly) let each through: the
// Go types know no required fields, and the OpenAPI document lists no enum values; the API server
// refuses all of them (TestK8sAPIServerDryRun). brokenDeployment("", "") is the unbroken object,
// which every layer accepts, so a refusal is the break's doing.
var brokenCases = []struct {
	name                string
	doc                 []byte
	decodes, fitsSchema bool
}{
	{name: "unknown field", doc: brokenDeployment("          image: opensmh\n", "          image: opensmh\n          imagePullPolicyy: Always\n")},
	{name: "wrong type", doc: brokenDeployment("containerPort: 9101", "containerPort: \"nine\"")},
	{name: "duplicate key", doc: brokenDeployment("          image: opensmh\n", "          image: opensmh\n          image: other\n")},
	{name: "missing required field", doc: brokenDeployment("        - name: app\n          image: opensmh\n", "        - image: opensmh\n"), decodes: true},
	{name: "invalid value", doc: brokenDeployment("          image: opensmh\n", "          image: opensmh\n          imagePullPolicy: Sometimes\n"), decodes: true, fitsSchema: true},
}

// TestK8sStrictDecodeRejects: strict decoding rejects an unknown field, a wrong type and a
// duplicate key; a missing required field and an invalid value decode, which is why the schema
// and the API server are there.
func TestK8sStrictDecodeRejects(t *testing.T) {
	if _, err := decodeManifest("test", brokenDeployment("", "")); err != nil {
		t.Fatalf("the valid Deployment does not decode: %v", err)
	}
	for _, c := range brokenCases {
		_, err := decodeManifest("test", c.doc)
		if c.decodes && err != nil {
			t.Errorf("%s: strict decoding now rejects it (%v): update brokenCases", c.name, err)
		}
		if !c.decodes && err == nil {
			t.Errorf("%s: strict decoding accepted it", c.name)
		}
	}
}

// TestK8sSchemaRejects: the schema rejects an unknown field, a wrong type and a missing required
// field; not an invalid value (the document has no enums). A duplicate key never reaches it: the
// YAML to JSON conversion refuses it first.
func TestK8sSchemaRejects(t *testing.T) {
	s := loadOpenAPI(t)
	gvk := schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}
	if err := s.Validate(gvk, mustJSON(t, brokenDeployment("", ""))); err != nil {
		t.Fatalf("the valid Deployment fails the schema: %v", err)
	}
	for _, c := range brokenCases {
		if c.name == "duplicate key" {
			continue
		}
		err := s.Validate(gvk, mustJSON(t, c.doc))
		if c.fitsSchema && err != nil {
			t.Errorf("%s: the schema now rejects it (%v): update brokenCases", c.name, err)
		}
		if !c.fitsSchema && err == nil {
			t.Errorf("%s: the schema accepted it", c.name)
		}
	}
}

func mustJSON(t *testing.T, doc []byte) []byte {
	t.Helper()
	j, err := yaml.YAMLToJSON(doc)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// TestK8sRulesReject: each project rule below, broken on a copy of the real rendering, is reported.
func TestK8sRulesReject(t *testing.T) {
	bins := splitBinaries(t)
	cases := []struct {
		name   string
		mutate func(objs k8sObjects)
		want   string
	}{
		{"env no flag fills", func(o k8sObjects) {
			c := container(o, "library")
			c.Env = append(c.Env, corev1.EnvVar{Name: "SMH_NO_SUCH_FLAG", Value: "x"})
		}, "env SMH_NO_SUCH_FLAG is not read by library"},
		{"another binary's variable", func(o k8sObjects) {
			c := container(o, "gateway")
			c.Env = append(c.Env, corev1.EnvVar{Name: "SMH_SECRET_KEK", Value: "x"})
		}, "env SMH_SECRET_KEK is not read by gateway"},
		{"unknown command-line flag", func(o k8sObjects) {
			c := container(o, "authtoken")
			c.Args = append(c.Args, "--no-such-flag=1")
		}, "--no-such-flag is not a flag of authtoken"},
		{"probe on an undeclared port", func(o k8sObjects) { container(o, "namespace").LivenessProbe.GRPC.Port = 1 }, "livenessProbe.grpc.port 1 is not a port"},
		{"readiness without the service name", func(o k8sObjects) { container(o, "object").ReadinessProbe.GRPC.Service = nil }, "readinessProbe.grpc.service must be"},
		{"metrics port without annotation", func(o k8sObjects) {
			delete(deploymentOf(o, "gateway").Spec.Template.Annotations, "prometheus.io/port")
		}, "prometheus.io/port"},
		{"blob dir off the volume", func(o k8sObjects) { setEnv(container(o, "object"), "SMH_BLOB_DIR", "/var/blobs") }, "SMH_BLOB_DIR \"/var/blobs\""},
		{"policy no longer admits a caller", func(o k8sObjects) {
			p := policyOf(o, "namespace")
			p.Spec.Ingress[0].From[0].PodSelector.MatchExpressions[0].Values = []string{"gateway"}
		}, "no NetworkPolicy admits library to namespace on port 9103"},
		{"writable root", func(o k8sObjects) {
			f := false
			container(o, "gateway").SecurityContext.ReadOnlyRootFilesystem = &f
		}, "readOnlyRootFilesystem is not set"},
		{"namespace not enforcing restricted", func(o k8sObjects) {
			typed[*corev1.Namespace](o.Rendered)[0].O.Labels["pod-security.kubernetes.io/enforce"] = "baseline"
		}, "want restricted"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			objs := loadK8s(t) // a fresh copy to break
			c.mutate(objs)
			wantFinding(t, checkK8sRules(objs, bins), c.want)
		})
	}
}

// wantFinding fails t unless one of the findings errs of a negative test's broken input
// contains want: the rule meant to catch the break did.
func wantFinding(t *testing.T, errs []string, want string) {
	t.Helper()
	if !strings.Contains(strings.Join(errs, "\n"), want) {
		t.Errorf("want a finding with %q, got %q", want, errs)
	}
}

func deploymentOf(o k8sObjects, name string) *appsv1.Deployment {
	for _, d := range typed[*appsv1.Deployment](o.Rendered) {
		if d.O.Name == name {
			return d.O
		}
	}
	panic("no Deployment " + name)
}

func container(o k8sObjects, name string) *corev1.Container {
	return &deploymentOf(o, name).Spec.Template.Spec.Containers[0]
}

func policyOf(o k8sObjects, name string) *networkingv1.NetworkPolicy {
	for _, p := range typed[*networkingv1.NetworkPolicy](o.Rendered) {
		if p.O.Name == name {
			return p.O
		}
	}
	panic("no NetworkPolicy " + name)
}

func setEnv(c *corev1.Container, name, value string) {
	for i := range c.Env {
		if c.Env[i].Name == name {
			c.Env[i] = corev1.EnvVar{Name: name, Value: value}
		}
	}
}
