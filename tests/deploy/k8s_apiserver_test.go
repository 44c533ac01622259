package deploy

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"

	"github.com/opensmh/opensmh/tests/internal/cluster"
	"github.com/opensmh/opensmh/tests/internal/proc"
)

// The second step: k8s/ applied to a real kube-apiserver (built from Go modules by
// tests/deploy/kubeapiserver, on a real etcd) in server-side dry run, in a Namespace that
// enforces the restricted Pod Security Standard. The server runs its own validation, defaulting
// and admission on each object, which no static check reproduces. There is no kubelet, scheduler
// or controller-manager: nothing runs, and Deployments make no Pods, so each pod template is
// also dry-run as a Pod, where PodSecurity enforces (on workloads it only warns).

const fieldManager = "opensmh-deploy-test"

// kubeAPIServer answers the kube-apiserver binary of tests/deploy/kubeapiserver, built once per
// machine into the user cache directory under a name that changes with that module's go.mod and
// go.sum, so a clean clone reuses it and a version change rebuilds it. A failed build fails the
// test: the dry run is never skipped for want of its server.
func kubeAPIServer(t *testing.T) string {
	t.Helper()
	_, version := kubernetesModuleDir(t)
	h := sha256.New()
	for _, f := range []string{"go.mod", "go.sum"} {
		data, err := os.ReadFile(filepath.Join(kubeAPIServerModule, f))
		if err != nil {
			t.Fatal(err)
		}
		h.Write(data)
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(cache, "opensmh", "kube-apiserver-"+version+"-"+hex.EncodeToString(h.Sum(nil))[:12])
	if _, err := os.Stat(bin); err == nil {
		return bin
	}
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		t.Fatal(err)
	}
	// A temporary name, renamed when complete: a parallel run never starts a half-written file.
	tmp := fmt.Sprintf("%s.%d.tmp", bin, os.Getpid())
	t.Logf("building kube-apiserver %s into %s (once per machine; minutes when the Go build cache is cold)", version, bin)
	cmd := exec.Command("go", "build", "-trimpath", "-o", tmp, "k8s.io/kubernetes/cmd/kube-apiserver")
	cmd.Dir = kubeAPIServerModule
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-buildvcs=false")
	if out, err := cmd.CombinedOutput(); err != nil {
		os.Remove(tmp)
		t.Fatalf("building kube-apiserver (tests/deploy/%s) failed: %v\n%s", kubeAPIServerModule, err, out)
	}
	if err := os.Rename(tmp, bin); err != nil {
		t.Fatal(err)
	}
	return bin
}

// pki is what the API server and its one client need: a CA, the serving certificate, a client
// certificate in system:masters and the service-account signing key, written to dir.
type pki struct {
	Dir                       string
	CA, ClientCert, ClientKey []byte // PEM
}

func newPKI(t *testing.T, dir string) pki {
	t.Helper()
	caKey := newKey(t)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "opensmh-deploy-test-ca"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	issue := func(serial int64, cn string, orgs []string, usage x509.ExtKeyUsage) (cert, key []byte) {
		k := newKey(t)
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn, Organization: orgs},
			NotBefore: caTmpl.NotBefore, NotAfter: caTmpl.NotAfter, KeyUsage: x509.KeyUsageDigitalSignature,
			ExtKeyUsage: []x509.ExtKeyUsage{usage}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"}}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &k.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		return pemOf("CERTIFICATE", der), keyPEM(t, k)
	}
	p := pki{Dir: dir, CA: pemOf("CERTIFICATE", caDER)}
	serving, servingKey := issue(2, "kube-apiserver", nil, x509.ExtKeyUsageServerAuth)
	p.ClientCert, p.ClientKey = issue(3, fieldManager, []string{"system:masters"}, x509.ExtKeyUsageClientAuth)
	for name, data := range map[string][]byte{"ca.pem": p.CA, "serving.pem": serving, "serving-key.pem": servingKey, "sa-key.pem": keyPEM(t, newKey(t))} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

func newKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func keyPEM(t *testing.T, k *ecdsa.PrivateKey) []byte {
	t.Helper()
	der, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return pemOf("EC PRIVATE KEY", der)
}

func pemOf(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

// warnings collects the Warning headers the server answers (PodSecurity warns about workloads
// whose pod template it would reject).
type warnings struct {
	mu   sync.Mutex
	list []string
}

func (w *warnings) HandleWarningHeader(_ int, _ string, text string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.list = append(w.list, text)
}

func (w *warnings) take() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := w.list
	w.list = nil
	return out
}

// apiServer is a running kube-apiserver and clients of it.
type apiServer struct {
	Clients  *kubernetes.Clientset
	Dynamic  *dynamic.DynamicClient
	Mapper   meta.RESTMapper
	Warnings *warnings
}

// startAPIServer runs kube-apiserver on its own etcd and waits until it is ready.
func startAPIServer(t *testing.T) *apiServer {
	t.Helper()
	etcd := cluster.EtcdBinary(t)
	bin := kubeAPIServer(t)
	tmp := t.TempDir()
	etcdURL := cluster.StartEtcd(t, etcd, tmp).ClientURL
	p := newPKI(t, tmp)
	addr := proc.FreeAddr(t)
	_, port, _ := net.SplitHostPort(addr)
	srv := proc.Start(t, "kube-apiserver", nil, bin,
		"--etcd-servers="+etcdURL,
		"--bind-address=127.0.0.1", "--advertise-address=127.0.0.1", "--secure-port="+port,
		"--cert-dir="+filepath.Join(tmp, "certs"),
		"--tls-cert-file="+filepath.Join(tmp, "serving.pem"), "--tls-private-key-file="+filepath.Join(tmp, "serving-key.pem"),
		"--client-ca-file="+filepath.Join(tmp, "ca.pem"),
		"--service-account-key-file="+filepath.Join(tmp, "sa-key.pem"),
		"--service-account-signing-key-file="+filepath.Join(tmp, "sa-key.pem"),
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--authorization-mode=RBAC",
		// The reconciler publishes the advertise address as the kubernetes Service's endpoint
		// and refuses a loopback one; nothing here needs that endpoint.
		"--endpoint-reconciler-type=none",
		"--service-cluster-ip-range=10.96.0.0/24",
		// As a real cluster's server (kubeadm sets it): privileged pods pass validation, so
		// only PodSecurity stands between them and the restricted Namespace.
		"--allow-privileged=true",
		"--enable-priority-and-fairness=false", "--profiling=false")
	w := &warnings{}
	cfg := &rest.Config{Host: "https://" + addr, QPS: 100, Burst: 200, WarningHandler: w,
		TLSClientConfig: rest.TLSClientConfig{CAData: p.CA, CertData: p.ClientCert, KeyData: p.ClientKey}}
	clients, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	// Ready: etcd reached, the built-in objects (priority classes, RBAC) bootstrapped. The bound
	// is for a cold start on a loaded machine; it is not a measurement.
	proc.WaitFor(t, "kube-apiserver /readyz", 5*time.Minute, func() bool {
		if srv.Exited() {
			t.Fatalf("kube-apiserver exited:\n%s", srv.Output())
		}
		_, err := clients.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(context.Background())
		return err == nil
	})
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(clients.Discovery()))
	return &apiServer{Clients: clients, Dynamic: dyn, Mapper: mapper, Warnings: w}
}

// apply sends m as a server-side apply with strict field validation (an unknown or duplicate
// field is an error, as with kubectl), in dry run unless dryRun is false.
func (s *apiServer) apply(ctx context.Context, m manifest, dryRun bool) error {
	mapping, err := s.Mapper.RESTMapping(m.GVK.GroupKind(), m.GVK.Version)
	if err != nil {
		return err
	}
	var ri dynamic.ResourceInterface = s.Dynamic.Resource(mapping.Resource)
	if mapping.Scope.Name() == meta.RESTScopeNameNamespace {
		ns := m.Obj.(metav1.Object).GetNamespace()
		if ns == "" {
			return fmt.Errorf("no metadata.namespace (kustomization.yaml sets it)")
		}
		ri = s.Dynamic.Resource(mapping.Resource).Namespace(ns)
	}
	force := true
	opts := metav1.PatchOptions{FieldManager: fieldManager, Force: &force, FieldValidation: metav1.FieldValidationStrict}
	if dryRun {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	_, err = ri.Patch(ctx, m.name(), types.ApplyPatchType, m.JSON, opts)
	return err
}

// dryRunPod creates pod in dry run, where PodSecurity enforces the Namespace's level.
func (s *apiServer) dryRunPod(ctx context.Context, pod *corev1.Pod) error {
	_, err := s.Clients.CoreV1().Pods(pod.Namespace).Create(ctx, pod, metav1.CreateOptions{
		DryRun: []string{metav1.DryRunAll}, FieldManager: fieldManager, FieldValidation: metav1.FieldValidationStrict})
	return err
}

// podsOf answers a Pod for each workload's template, as its controller would make it (a
// StatefulSet's claim templates become the pod's volumes).
func podsOf(objs []manifest) map[string]*corev1.Pod {
	pods := map[string]*corev1.Pod{}
	newPod := func(m manifest, tpl corev1.PodTemplateSpec) *corev1.Pod {
		o := m.Obj.(metav1.Object)
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: o.GetName() + "-0", Namespace: o.GetNamespace(),
			Labels: tpl.Labels, Annotations: tpl.Annotations}, Spec: *tpl.Spec.DeepCopy()}
	}
	for _, d := range typed[*appsv1.Deployment](objs) {
		pods[d.String()] = newPod(d.manifest, d.O.Spec.Template)
	}
	for _, s := range typed[*appsv1.StatefulSet](objs) {
		pod := newPod(s.manifest, s.O.Spec.Template)
		for _, c := range s.O.Spec.VolumeClaimTemplates {
			pod.Spec.Volumes = append(pod.Spec.Volumes, corev1.Volume{Name: c.Name, VolumeSource: corev1.VolumeSource{
				PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: c.Name + "-" + pod.Name}}})
		}
		pods[s.String()] = pod
	}
	return pods
}

// TestK8sAPIServerDryRun applies k8s/ to a real kube-apiserver: the Namespace for real (it must
// enforce the restricted Pod Security Standard), the rest and the Secret templates in
// server-side dry run, then each pod template as a Pod; nothing may be refused or warned about.
// Then it proves the server really refuses: a privileged pod (PodSecurity), an unknown field
// and a missing required field.
func TestK8sAPIServerDryRun(t *testing.T) {
	objs := loadK8s(t)
	s := startAPIServer(t)
	ctx := context.Background()

	ns := namespaceOf(t, objs)
	if err := s.apply(ctx, ns, false); err != nil {
		t.Fatalf("%s: %v", ns, err)
	}
	// No controller-manager makes the Namespace's default ServiceAccount, which pods need.
	if _, err := s.Clients.CoreV1().ServiceAccounts(ns.name()).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default"}},
		metav1.CreateOptions{FieldManager: fieldManager}); err != nil {
		t.Fatal(err)
	}
	s.Warnings.take()

	t.Run("objects", func(t *testing.T) {
		for _, m := range append(objs.Rendered, objs.Secrets...) {
			if m.GVK.Kind == "Namespace" {
				continue
			}
			if err := s.apply(ctx, m, true); err != nil {
				t.Errorf("%s: refused: %v", m, err)
			}
			for _, w := range s.Warnings.take() {
				if m.File == "k8s/"+secretTemplate {
					// Its values are placeholders (the TLS one is not PEM): the operator's are checked when created.
					t.Logf("%s (placeholder values): warning: %s", m, w)
					continue
				}
				t.Errorf("%s: warning: %s", m, w)
			}
		}
	})
	t.Run("pods meet restricted", func(t *testing.T) {
		for where, pod := range podsOf(objs.Rendered) {
			if err := s.dryRunPod(ctx, pod); err != nil {
				t.Errorf("%s: its pod is refused: %v", where, err)
			}
			for _, w := range s.Warnings.take() {
				t.Errorf("%s: its pod: warning: %s", where, w)
			}
		}
	})
	t.Run("privileged pod refused", func(t *testing.T) {
		pod := podsOf(objs.Rendered)[deploymentWhere(objs, "gateway")]
		privileged := true
		sc := pod.Spec.Containers[0].SecurityContext
		sc.Privileged, sc.AllowPrivilegeEscalation = &privileged, nil // (false contradicts privileged)
		err := s.dryRunPod(ctx, pod)
		if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), `violates PodSecurity "restricted`) {
			t.Errorf("a privileged pod: want a PodSecurity refusal, got %v", err)
		}
	})
	// What the static layers let through is refused here too, and what they catch.
	for _, c := range brokenCases {
		if c.name == "duplicate key" {
			continue // not JSON: the client never sends it
		}
		t.Run(c.name+" refused", func(t *testing.T) {
			m := manifest{File: "test", GVK: appsv1.SchemeGroupVersion.WithKind("Deployment"), JSON: mustJSON(t, c.doc),
				Obj: &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "broken", Namespace: ns.name()}}}
			if err := s.apply(ctx, m, true); err == nil {
				t.Errorf("the API server accepted it")
			} else {
				t.Logf("refused: %v", err)
			}
		})
	}
}

// namespaceOf answers the rendered Namespace; the rules (checkNamespace) require it to enforce
// the restricted Pod Security Standard, and the privileged pod below proves it does.
func namespaceOf(t *testing.T, objs k8sObjects) manifest {
	t.Helper()
	list := typed[*corev1.Namespace](objs.Rendered)
	if len(list) != 1 {
		t.Fatalf("k8s/ renders %d Namespaces, want 1", len(list))
	}
	return list[0].manifest
}

func deploymentWhere(objs k8sObjects, name string) string {
	for _, d := range typed[*appsv1.Deployment](objs.Rendered) {
		if d.O.Name == name {
			return d.String()
		}
	}
	return ""
}
