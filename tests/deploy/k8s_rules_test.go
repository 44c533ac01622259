package deploy

import (
	"fmt"
	"net"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"

	libraryv1 "github.com/opensmh/opensmh/gen/go/smh/library/v1"
	namespacev1 "github.com/opensmh/opensmh/gen/go/smh/namespace/v1"
	objectv1 "github.com/opensmh/opensmh/gen/go/smh/object/v1"
	tokenv1 "github.com/opensmh/opensmh/gen/go/smh/token/v1"
)

// The project's own rules for k8s/, on the typed objects kustomize renders: what the schema and
// the API server cannot know (which variables a binary reads, which ports its probes and peers
// use, what the NetworkPolicies must admit). Each rule says why in its message.

// grpcServices are the internal gRPC services, registered in etcd; each reports its store's
// health under its gRPC service name (readiness.Probe in its package), which readiness asks for.
var grpcServices = map[string]string{
	"library":   libraryv1.LibraryService_ServiceDesc.ServiceName,
	"authtoken": tokenv1.TokenService_ServiceDesc.ServiceName,
	"namespace": namespacev1.NamespaceService_ServiceDesc.ServiceName,
	"object":    objectv1.ObjectService_ServiceDesc.ServiceName,
}

// requiredEnv is what each binary must get besides SMH_ADMIN_KEY: a setting it refuses to start
// without (SMH_SECRET_KEK, object's --domain) or one whose default does not fit a container (a
// SQLite file on the read-only root, a data endpoint on 127.0.0.1).
var requiredEnv = map[string][]string{
	"library":   {"SMH_ADMIN_KEY", "SMH_SECRET_KEK"},
	"authtoken": {"SMH_ADMIN_KEY"},
	"namespace": {"SMH_ADMIN_KEY", "SMH_SQL_DSN"},
	"object":    {"SMH_ADMIN_KEY", "SMH_SQL_DSN", "SMH_DOMAIN", "SMH_DATA_LISTEN"},
	"gateway":   {"SMH_ADMIN_KEY", "SMH_LISTEN"},
}

// sqlServices share one PostgreSQL between replicas (a SQLite file is single-instance).
var sqlServices = []string{"namespace", "object"}

// replicated each have a PodDisruptionBudget and a HorizontalPodAutoscaler. object is not among
// them: with its default local blob volume (ReadWriteOnce) it runs one replica.
var replicated = []string{"library", "authtoken", "namespace", "gateway"}

var opensmhImage = regexp.MustCompile(`^(?:.*/)?opensmh(?::[\w.-]+)?(?:@sha256:[0-9a-f]+)?$`)

// workload is a Deployment or StatefulSet, by its pod template.
type workload struct {
	Where    string
	Kind     string
	Name     string
	Replicas int32
	Recreate bool // a Deployment replacing its pods with the Recreate strategy
	Selector *metav1.LabelSelector
	Template *corev1.PodTemplateSpec
	Claims   bool // volumeClaimTemplates (StatefulSet)
}

// deployment is an OpenSMH container of a Deployment: its binary, labels, env and ports.
type deployment struct {
	Where    string
	Binary   string
	Labels   map[string]string
	Env      map[string]corev1.EnvVar
	GRPCPort int32
	DataPort int32
}

// k8sRules collects the findings of the project's rules over one rendering of k8s/.
type k8sRules struct {
	objs      k8sObjects
	bins      map[string]binaryInfo
	errs      []string
	configMap map[string]map[string]string // ConfigMap -> data
	secrets   map[string]map[string]string // template Secret -> stringData
	rwoClaims map[string]bool              // PersistentVolumeClaims one node at a time can mount
	claims    map[string]bool
	workloads []workload
	deployed  map[string][]deployment // binary -> its Deployments
	policies  []*networkingv1.NetworkPolicy
}

func (r *k8sRules) errorf(where, format string, args ...any) {
	r.errs = append(r.errs, where+": "+fmt.Sprintf(format, args...))
}

// checkK8sRules answers every finding of the project's rules; none means k8s/ keeps them.
func checkK8sRules(objs k8sObjects, bins map[string]binaryInfo) []string {
	r := &k8sRules{objs: objs, bins: bins, configMap: map[string]map[string]string{}, secrets: map[string]map[string]string{},
		rwoClaims: map[string]bool{}, claims: map[string]bool{}, deployed: map[string][]deployment{}}
	r.index()
	for _, w := range r.workloads {
		r.checkWorkload(w)
	}
	r.checkServices()
	r.checkBudgetsAndAutoscalers()
	r.checkPolicies()
	r.checkReplicated()
	r.checkNamespace()
	return r.errs
}

// checkNamespace: the one Namespace enforces the restricted Pod Security Standard, which the
// workloads are written to meet; enforcing it keeps them so (the dry run proves they meet it).
func (r *k8sRules) checkNamespace() {
	list := typed[*corev1.Namespace](r.objs.Rendered)
	if len(list) != 1 {
		r.errorf("k8s/", "renders %d Namespaces, want 1", len(list))
		return
	}
	if got := list[0].O.Labels["pod-security.kubernetes.io/enforce"]; got != "restricted" {
		r.errorf(list[0].String(), "label pod-security.kubernetes.io/enforce is %q, want restricted", got)
	}
}

// index gathers ConfigMaps, template Secrets, claims, NetworkPolicies and workloads.
func (r *k8sRules) index() {
	for _, c := range typed[*corev1.ConfigMap](r.objs.Rendered) {
		r.configMap[c.O.Name] = c.O.Data
	}
	for _, s := range typed[*corev1.Secret](r.objs.Secrets) {
		keys := map[string]string{}
		for k, v := range s.O.StringData {
			keys[k] = v
		}
		for k := range s.O.Data {
			keys[k] = ""
		}
		r.secrets[s.O.Name] = keys
	}
	for _, c := range typed[*corev1.PersistentVolumeClaim](r.objs.Rendered) {
		r.claims[c.O.Name] = true
		if !slices.Contains(c.O.Spec.AccessModes, corev1.ReadWriteMany) {
			r.rwoClaims[c.O.Name] = true
		}
	}
	for _, p := range typed[*networkingv1.NetworkPolicy](r.objs.Rendered) {
		r.policies = append(r.policies, p.O)
	}
	for _, d := range typed[*appsv1.Deployment](r.objs.Rendered) {
		r.workloads = append(r.workloads, workload{Where: d.String(), Kind: "Deployment", Name: d.O.Name, Replicas: replicasOf(d.O.Spec.Replicas),
			Recreate: d.O.Spec.Strategy.Type == appsv1.RecreateDeploymentStrategyType, Selector: d.O.Spec.Selector, Template: &d.O.Spec.Template})
	}
	for _, s := range typed[*appsv1.StatefulSet](r.objs.Rendered) {
		r.workloads = append(r.workloads, workload{Where: s.String(), Kind: "StatefulSet", Name: s.O.Name, Replicas: replicasOf(s.O.Spec.Replicas),
			Selector: s.O.Spec.Selector, Template: &s.O.Spec.Template, Claims: len(s.O.Spec.VolumeClaimTemplates) > 0})
	}
}

func replicasOf(n *int32) int32 {
	if n == nil {
		return 1
	}
	return *n
}

// ---- workloads ----------------------------------------------------------------------------

func (r *k8sRules) checkWorkload(w workload) {
	if !selectorMatches(w.Selector, w.Template.Labels) {
		r.errorf(w.Where, "the selector does not match the pod template's labels")
	}
	psc := w.Template.Spec.SecurityContext
	for _, c := range w.Template.Spec.Containers {
		where := w.Where + " container " + c.Name
		r.checkContainerBasics(where, c, psc)
		if !opensmhImage.MatchString(c.Image) {
			if w.Kind == "Deployment" {
				r.errorf(where, "image %q is not the OpenSMH image", c.Image)
			}
			continue // etcd, postgres: their own commands and env
		}
		if !strings.Contains(c.Image, "/") {
			r.errorf(where, "image %q is not rewritten by kustomization.yaml's images:", c.Image)
		}
		r.checkOpenSMHContainer(w, where, c)
	}
	r.checkVolumes(w)
}

// checkContainerBasics: probes name declared ports, the container is locked down, has resources
// and its env references name keys that exist.
func (r *k8sRules) checkContainerBasics(where string, c corev1.Container, psc *corev1.PodSecurityContext) {
	probes := map[string]*corev1.Probe{"readinessProbe": c.ReadinessProbe, "livenessProbe": c.LivenessProbe, "startupProbe": c.StartupProbe}
	for name, p := range probes {
		if p == nil {
			continue
		}
		switch {
		case p.HTTPGet != nil && !declaresPort(c, p.HTTPGet.Port):
			r.errorf(where, "%s.httpGet.port %s is not a port of the container", name, p.HTTPGet.Port.String())
		case p.TCPSocket != nil && !declaresPort(c, p.TCPSocket.Port):
			r.errorf(where, "%s.tcpSocket.port %s is not a port of the container", name, p.TCPSocket.Port.String())
		case p.GRPC != nil && !declaresPort(c, intstr.FromInt32(p.GRPC.Port)):
			r.errorf(where, "%s.grpc.port %d is not a port of the container", name, p.GRPC.Port)
		}
	}
	sc := c.SecurityContext
	if sc == nil {
		sc = &corev1.SecurityContext{}
	}
	if !isTrue(sc.RunAsNonRoot) && (psc == nil || !isTrue(psc.RunAsNonRoot)) {
		r.errorf(where, "runAsNonRoot is not set")
	}
	if !isTrue(sc.ReadOnlyRootFilesystem) {
		r.errorf(where, "readOnlyRootFilesystem is not set")
	}
	if sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") {
		r.errorf(where, "capabilities do not drop ALL")
	}
	if c.Resources.Requests.Cpu().IsZero() || c.Resources.Limits.Memory().IsZero() {
		r.errorf(where, "resources need a cpu request and a memory limit")
	}
	for _, e := range c.Env {
		r.checkEnvRef(where, e)
	}
}

func isTrue(b *bool) bool { return b != nil && *b }

// declaresPort: a probe or Service port, by number or name, is one the container declares.
func declaresPort(c corev1.Container, ref intstr.IntOrString) bool {
	for _, p := range c.Ports {
		if (ref.Type == intstr.String && p.Name == ref.StrVal) || (ref.Type == intstr.Int && p.ContainerPort == ref.IntVal) {
			return true
		}
	}
	return false
}

// checkEnvRef: configMapKeyRef and secretKeyRef name keys the ConfigMap or the Secret template define.
func (r *k8sRules) checkEnvRef(where string, e corev1.EnvVar) {
	if e.ValueFrom == nil {
		return
	}
	if ref := e.ValueFrom.ConfigMapKeyRef; ref != nil {
		if _, ok := r.configMap[ref.Name][ref.Key]; !ok {
			r.errorf(where, "env %s: ConfigMap %s has no key %s", e.Name, ref.Name, ref.Key)
		}
	}
	if ref := e.ValueFrom.SecretKeyRef; ref != nil {
		if _, ok := r.secrets[ref.Name][ref.Key]; !ok {
			r.errorf(where, "env %s: Secret %s (%s) has no key %s", e.Name, ref.Name, secretTemplate, ref.Key)
		}
	}
}

var expansion = regexp.MustCompile(`\$\(([A-Za-z_][A-Za-z0-9_]*)\)`)

// checkOpenSMHContainer: the command is a split binary and every --flag and variable it gets is
// one that binary reads, then the rules of that binary.
func (r *k8sRules) checkOpenSMHContainer(w workload, where string, c corev1.Container) {
	argv := append(slices.Clone(c.Command), c.Args...)
	if len(argv) == 0 {
		r.errorf(where, "no command: it must name one of the split binaries")
		return
	}
	bin, ok := r.bins[path.Base(argv[0])]
	if !ok {
		r.errorf(where, "command %q is not one of the split binaries", argv[0])
		return
	}
	for _, e := range unknownFlags(bin, argv[1:]) {
		r.errorf(where, "%s", e)
	}
	if len(c.EnvFrom) > 0 {
		r.errorf(where, "envFrom hides which variables a binary gets: list env entries instead")
	}
	env := r.checkEnvNames(where, bin, c, argv)
	for _, name := range requiredEnv[bin.Name] {
		if _, ok := env[name]; !ok {
			r.errorf(where, "%s needs %s", bin.Name, name)
		}
	}
	d := deployment{Where: where, Binary: bin.Name, Labels: w.Template.Labels, Env: env,
		GRPCPort: portOf(env["SMH_LISTEN"].Value), DataPort: portOf(env["SMH_DATA_LISTEN"].Value)}
	if _, ok := grpcServices[bin.Name]; ok {
		r.checkGRPCService(where, bin.Name, c, env)
	}
	if slices.Contains(sqlServices, bin.Name) {
		r.checkSQLDSN(where, env)
	}
	switch bin.Name {
	case "object":
		r.checkObject(where, w, c, env)
	case "gateway":
		r.checkGateway(where, c, env)
	}
	r.checkMetrics(where, w, c, env)
	if w.Kind == "Deployment" {
		r.deployed[bin.Name] = append(r.deployed[bin.Name], d)
	}
}

// checkEnvNames: each variable is SMH_* and read by the binary (a flag's, or read by its main)
// or OTEL_*; the only other one allowed is a downward-API helper expanded into another value as
// $(NAME), which must be defined before it is used. Answers the env by name.
func (r *k8sRules) checkEnvNames(where string, bin binaryInfo, c corev1.Container, argv []string) map[string]corev1.EnvVar {
	env := map[string]corev1.EnvVar{}
	expanded := map[string]bool{}
	for _, s := range argv {
		for _, m := range expansion.FindAllStringSubmatch(s, -1) {
			expanded[m[1]] = true
		}
	}
	for _, e := range c.Env {
		for _, m := range expansion.FindAllStringSubmatch(e.Value, -1) {
			expanded[m[1]] = true
			if _, defined := env[m[1]]; !defined {
				r.errorf(where, "env %s expands $(%s), which is not defined before it", e.Name, m[1])
			}
		}
		env[e.Name] = e
	}
	for _, e := range c.Env {
		switch {
		case strings.HasPrefix(e.Name, "OTEL_"):
		case strings.HasPrefix(e.Name, "SMH_"):
			if !bin.Env[e.Name] {
				r.errorf(where, "env %s is not read by %s (no flag fills it and its main does not read it)", e.Name, bin.Name)
			}
		case expanded[e.Name] && e.ValueFrom != nil && e.ValueFrom.FieldRef != nil:
			// a downward-API helper, e.g. POD_IP for SMH_ADVERTISE
		default:
			r.errorf(where, "env %s: only SMH_* and OTEL_* variables are allowed (and downward-API helpers expanded into them)", e.Name)
		}
	}
	return env
}

// portOf answers the port of host:port (0 if there is none).
func portOf(addr string) int32 {
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		return 0
	}
	n, err := strconv.ParseInt(p, 10, 32)
	if err != nil {
		return 0
	}
	return int32(n)
}

func declaresNumber(c corev1.Container, port int32) bool {
	return port != 0 && declaresPort(c, intstr.FromInt32(port))
}

// checkGRPCService: listens on a declared port, advertises the pod IP on it, and is probed with
// grpc.health.v1: readiness by its service name (its store's health), liveness and startup by
// "", which stays SERVING while the process serves, so a store outage never restarts the pod.
func (r *k8sRules) checkGRPCService(where, b string, c corev1.Container, env map[string]corev1.EnvVar) {
	lis, adv := env["SMH_LISTEN"].Value, env["SMH_ADVERTISE"].Value
	if !declaresNumber(c, portOf(lis)) {
		r.errorf(where, "SMH_LISTEN %q must be set to a declared container port", lis)
	}
	podIP := env["POD_IP"].ValueFrom
	switch {
	case !strings.Contains(adv, "$(POD_IP)") || portOf(adv) != portOf(lis):
		r.errorf(where, "SMH_ADVERTISE %q must be $(POD_IP):<the SMH_LISTEN port>", adv)
	case podIP == nil || podIP.FieldRef == nil || podIP.FieldRef.FieldPath != "status.podIP":
		r.errorf(where, "POD_IP must come from the downward API status.podIP")
	}
	for name, p := range map[string]*corev1.Probe{"readinessProbe": c.ReadinessProbe, "livenessProbe": c.LivenessProbe} {
		if p == nil || p.GRPC == nil {
			r.errorf(where, "%s must be a grpc probe (grpc.health.v1)", name)
		}
	}
	if p := c.ReadinessProbe; p != nil && p.GRPC != nil && (p.GRPC.Service == nil || *p.GRPC.Service != grpcServices[b]) {
		r.errorf(where, "readinessProbe.grpc.service must be %s (\"\" answers SERVING while the store is down)", grpcServices[b])
	}
	for name, p := range map[string]*corev1.Probe{"livenessProbe": c.LivenessProbe, "startupProbe": c.StartupProbe} {
		if p != nil && p.GRPC != nil && p.GRPC.Service != nil && *p.GRPC.Service != "" {
			r.errorf(where, "%s.grpc must not name a service: a store outage would restart the pod", name)
		}
	}
}

var postgresDSN = regexp.MustCompile(`^postgres(?:ql)?://`)

// checkSQLDSN: the DSN holds the database password, so it comes from a Secret, and replicas
// share it, which only PostgreSQL allows (the template's value shows which).
func (r *k8sRules) checkSQLDSN(where string, env map[string]corev1.EnvVar) {
	e, ok := env["SMH_SQL_DSN"]
	if !ok {
		return
	}
	if e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil {
		r.errorf(where, "SMH_SQL_DSN must come from a Secret (secretKeyRef): it holds the database password")
		return
	}
	ref := e.ValueFrom.SecretKeyRef
	if v := r.secrets[ref.Name][ref.Key]; v != "" && !postgresDSN.MatchString(v) {
		r.errorf(where, "SMH_SQL_DSN: Secret %s key %s must be a postgres:// DSN in the template (SQLite cannot be shared by replicas)", ref.Name, ref.Key)
	}
}

// envValue answers a variable's literal value or the ConfigMap value it refers to.
func (r *k8sRules) envValue(e corev1.EnvVar) (string, bool) {
	if e.ValueFrom == nil {
		return e.Value, true
	}
	if ref := e.ValueFrom.ConfigMapKeyRef; ref != nil {
		v, ok := r.configMap[ref.Name][ref.Key]
		return v, ok
	}
	return "", false
}

var hostPort = regexp.MustCompile(`^[A-Za-z0-9.-]+(?::\d+)?$|^\[[0-9A-Fa-f:]+\](?::\d+)?$`)

// checkObject: SMH_DOMAIN is the public URL's host[:port]; the data endpoint has its own declared
// port; blobs are on a persistent volume (unless S3) and /tmp is writable (read-only root).
func (r *k8sRules) checkObject(where string, w workload, c corev1.Container, env map[string]corev1.EnvVar) {
	if e, ok := env["SMH_DOMAIN"]; ok {
		domain, _ := r.envValue(e)
		public := ""
		if e.ValueFrom != nil && e.ValueFrom.ConfigMapKeyRef != nil {
			public = r.configMap[e.ValueFrom.ConfigMapKeyRef.Name]["SMH_PUBLIC_URL"]
		}
		if e := domainProblem(domain, public); e != "" {
			r.errorf(where, "%s", e)
		}
	}
	data := env["SMH_DATA_LISTEN"].Value
	if _, ok := env["SMH_DATA_LISTEN"]; ok && (!declaresNumber(c, portOf(data)) || portOf(data) == portOf(env["SMH_LISTEN"].Value)) {
		r.errorf(where, "SMH_DATA_LISTEN %q must be a declared container port other than SMH_LISTEN's", data)
	}
	mounts, claimMounts := mountPaths(w, c)
	if _, s3 := env["SMH_S3_ENDPOINT"]; !s3 {
		dir := env["SMH_BLOB_DIR"].Value
		if !path.IsAbs(dir) || !under(dir, claimMounts) {
			r.errorf(where, "SMH_BLOB_DIR %q must be an absolute path on a persistentVolumeClaim mount %v (or set SMH_S3_ENDPOINT)", dir, claimMounts)
		}
	}
	if !under("/tmp", mounts) {
		r.errorf(where, "needs a writable /tmp (an emptyDir): the root filesystem is read-only")
	}
}

// domainProblem answers what is wrong with object's SMH_DOMAIN ("" if nothing): it must be a
// host[:port], the one of the public URL clients reach (when known), since upload tickets and
// download URLs name it.
func domainProblem(domain, publicURL string) string {
	if !hostPort.MatchString(domain) {
		return fmt.Sprintf("SMH_DOMAIN %q must be host[:port] (no scheme, no path)", domain)
	}
	u, err := url.Parse(publicURL)
	if publicURL == "" || err != nil || u.Hostname() == "" {
		return ""
	}
	want := u.Hostname()
	if u.Port() != "" && u.Port() != "443" {
		want += ":" + u.Port()
	}
	if !strings.EqualFold(domain, want) && !strings.EqualFold(domain, want+":443") {
		return fmt.Sprintf("SMH_DOMAIN %q is not the host[:port] of SMH_PUBLIC_URL %q (%s)", domain, publicURL, want)
	}
	return ""
}

// mountPaths answers the container's mount paths, and those of them on a PersistentVolumeClaim.
func mountPaths(w workload, c corev1.Container) (all, claims []string) {
	volumes := map[string]corev1.Volume{}
	for _, v := range w.Template.Spec.Volumes {
		volumes[v.Name] = v
	}
	for _, m := range c.VolumeMounts {
		all = append(all, m.MountPath)
		if volumes[m.Name].PersistentVolumeClaim != nil {
			claims = append(claims, m.MountPath)
		}
	}
	return all, claims
}

func under(p string, mounts []string) bool {
	p = path.Clean(p)
	for _, m := range mounts {
		m = path.Clean(m)
		if p == m || strings.HasPrefix(p, strings.TrimSuffix(m, "/")+"/") {
			return true
		}
	}
	return false
}

// checkGateway: listens on a declared port, probed over HTTPS on /healthz (ready: every service
// answers) and /livez.
func (r *k8sRules) checkGateway(where string, c corev1.Container, env map[string]corev1.EnvVar) {
	if lis := env["SMH_LISTEN"].Value; !declaresNumber(c, portOf(lis)) {
		r.errorf(where, "SMH_LISTEN %q must be set to a declared container port", lis)
	}
	for _, p := range []struct {
		name  string
		probe *corev1.Probe
		path  string
	}{{"readinessProbe", c.ReadinessProbe, "/healthz"}, {"livenessProbe", c.LivenessProbe, "/livez"}} {
		if p.probe == nil || p.probe.HTTPGet == nil || p.probe.HTTPGet.Path != p.path || p.probe.HTTPGet.Scheme != corev1.URISchemeHTTPS {
			r.errorf(where, "%s must be httpGet %s with scheme HTTPS", p.name, p.path)
		}
	}
}

// checkMetrics: SMH_METRICS_LISTEN, where set, is plain HTTP on a declared port of its own on
// 0.0.0.0 (the scraper comes from another pod), announced by the prometheus.io annotations.
func (r *k8sRules) checkMetrics(where string, w workload, c corev1.Container, env map[string]corev1.EnvVar) {
	e, ok := env["SMH_METRICS_LISTEN"]
	if !ok {
		return
	}
	port := portOf(e.Value)
	if !strings.HasPrefix(e.Value, "0.0.0.0:") || !declaresNumber(c, port) {
		r.errorf(where, "SMH_METRICS_LISTEN %q must be 0.0.0.0:<a declared container port> to be scraped", e.Value)
	}
	if port == portOf(env["SMH_LISTEN"].Value) || port == portOf(env["SMH_DATA_LISTEN"].Value) {
		r.errorf(where, "SMH_METRICS_LISTEN %q must not share a port with SMH_LISTEN or SMH_DATA_LISTEN", e.Value)
	}
	ann := w.Template.Annotations
	if ann["prometheus.io/scrape"] != "true" || ann["prometheus.io/port"] != strconv.Itoa(int(port)) {
		r.errorf(where, "SMH_METRICS_LISTEN %q: the pod template needs the annotations prometheus.io/scrape: \"true\" and prometheus.io/port: %q", e.Value, strconv.Itoa(int(port)))
	}
	if r.anyPolicySelects(w.Template.Labels) && !r.someSelectingPolicyListsPort(w.Template.Labels, port) {
		r.errorf(where, "no NetworkPolicy selecting these pods admits the metrics port %d", port)
	}
}

// checkVolumes: secret volumes are described in the template; claims exist, are writable by a
// non-root user (fsGroup), and a ReadWriteOnce claim (which follows one pod) means one replica
// replaced with Recreate (a second pod elsewhere would wait for the volume forever).
func (r *k8sRules) checkVolumes(w workload) {
	spec := w.Template.Spec
	var claims []string
	for _, v := range spec.Volumes {
		if s := v.Secret; s != nil {
			if _, ok := r.secrets[s.SecretName]; !ok {
				r.errorf(w.Where, "volume %s: Secret %s is not described in %s", v.Name, s.SecretName, secretTemplate)
			}
		}
		if c := v.PersistentVolumeClaim; c != nil {
			claims = append(claims, c.ClaimName)
			if !r.claims[c.ClaimName] {
				r.errorf(w.Where, "PersistentVolumeClaim %s is not defined", c.ClaimName)
			}
		}
	}
	psc := spec.SecurityContext
	if (len(claims) > 0 || w.Claims) && psc != nil && psc.RunAsUser != nil && *psc.RunAsUser != 0 && psc.FSGroup == nil {
		r.errorf(w.Where, "mounts a PersistentVolumeClaim as a non-root user without securityContext.fsGroup: the volume may not be writable")
	}
	if w.Kind != "Deployment" || !slices.ContainsFunc(claims, func(c string) bool { return r.rwoClaims[c] }) {
		return
	}
	if w.Replicas != 1 {
		r.errorf(w.Where, "mounts a ReadWriteOnce claim: replicas must be 1")
	}
	if !w.Recreate {
		r.errorf(w.Where, "mounts a ReadWriteOnce claim: the strategy must be Recreate")
	}
}

// ---- Services, budgets, autoscalers --------------------------------------------------------

func selectorMatches(sel *metav1.LabelSelector, l map[string]string) bool {
	s, err := metav1.LabelSelectorAsSelector(sel)
	return sel != nil && err == nil && !s.Empty() && s.Matches(labels.Set(l))
}

// selected answers the workloads whose pods sel selects.
func (r *k8sRules) selected(sel *metav1.LabelSelector) []workload {
	var out []workload
	for _, w := range r.workloads {
		if selectorMatches(sel, w.Template.Labels) {
			out = append(out, w)
		}
	}
	return out
}

// servesPort: some container of the workload declares the port (by name or number).
func servesPort(w workload, ref intstr.IntOrString) (int32, bool) {
	for _, c := range w.Template.Spec.Containers {
		for _, p := range c.Ports {
			if (ref.Type == intstr.String && p.Name == ref.StrVal) || (ref.Type == intstr.Int && p.ContainerPort == ref.IntVal) {
				return p.ContainerPort, true
			}
		}
	}
	return 0, false
}

func (r *k8sRules) checkServices() {
	for _, s := range typed[*corev1.Service](r.objs.Rendered) {
		hit := r.selected(&metav1.LabelSelector{MatchLabels: s.O.Spec.Selector})
		if len(hit) == 0 {
			r.errorf(s.String(), "the selector matches no workload")
			continue
		}
		for _, p := range s.O.Spec.Ports {
			target := p.TargetPort
			if target.Type == intstr.Int && target.IntVal == 0 {
				target = intstr.FromInt32(p.Port)
			}
			if !slices.ContainsFunc(hit, func(w workload) bool { _, ok := servesPort(w, target); return ok }) {
				r.errorf(s.String(), "targetPort %s is not a port of the selected pods", target.String())
			}
		}
	}
}

func (r *k8sRules) checkBudgetsAndAutoscalers() {
	for _, p := range typed[*policyv1.PodDisruptionBudget](r.objs.Rendered) {
		if len(r.selected(p.O.Spec.Selector)) == 0 {
			r.errorf(p.String(), "the selector matches no workload")
		}
	}
	for _, h := range typed[*autoscalingv2.HorizontalPodAutoscaler](r.objs.Rendered) {
		ref := h.O.Spec.ScaleTargetRef
		i := slices.IndexFunc(r.workloads, func(w workload) bool { return w.Kind == ref.Kind && w.Name == ref.Name })
		if i < 0 {
			r.errorf(h.String(), "scaleTargetRef %s/%s does not exist", ref.Kind, ref.Name)
			continue
		}
		for _, v := range r.workloads[i].Template.Spec.Volumes {
			if v.PersistentVolumeClaim != nil && r.rwoClaims[v.PersistentVolumeClaim.ClaimName] {
				r.errorf(h.String(), "scales %s, which mounts a ReadWriteOnce claim (one replica only)", ref.Name)
			}
		}
	}
}

func (r *k8sRules) checkReplicated() {
	for _, b := range append(slices.Clone(replicated), "object") {
		if !slices.ContainsFunc(r.workloads, func(w workload) bool { return w.Kind == "Deployment" && w.Name == b }) {
			r.errorf("k8s/", "no Deployment %s", b)
		}
	}
	for _, b := range replicated {
		if !slices.ContainsFunc(typed[*policyv1.PodDisruptionBudget](r.objs.Rendered), func(p typedObject[*policyv1.PodDisruptionBudget]) bool { return p.O.Name == b }) {
			r.errorf("k8s/", "no PodDisruptionBudget for %s", b)
		}
		if !slices.ContainsFunc(typed[*autoscalingv2.HorizontalPodAutoscaler](r.objs.Rendered), func(h typedObject[*autoscalingv2.HorizontalPodAutoscaler]) bool { return h.O.Name == b }) {
			r.errorf("k8s/", "no HorizontalPodAutoscaler for %s", b)
		}
	}
}

// ---- NetworkPolicies ------------------------------------------------------------------------

func (r *k8sRules) anyPolicySelects(l map[string]string) bool {
	return slices.ContainsFunc(r.policies, func(p *networkingv1.NetworkPolicy) bool { return selectorMatches(&p.Spec.PodSelector, l) })
}

func (r *k8sRules) someSelectingPolicyListsPort(l map[string]string, port int32) bool {
	for _, p := range r.policies {
		if !selectorMatches(&p.Spec.PodSelector, l) {
			continue
		}
		for _, rule := range p.Spec.Ingress {
			if len(rule.Ports) > 0 && portsAdmit(rule.Ports, port) {
				return true
			}
		}
	}
	return false
}

func portsAdmit(ports []networkingv1.NetworkPolicyPort, port int32) bool {
	if len(ports) == 0 {
		return true
	}
	for _, p := range ports {
		if p.Port == nil || (p.Port.Type == intstr.Int && (p.Port.IntVal == port || (p.EndPort != nil && p.Port.IntVal <= port && port <= *p.EndPort))) {
			return true
		}
	}
	return false
}

// admits: whether the policies let pods labelled source reach pods labelled target on port, in
// the same namespace (no policy selecting target for ingress: no restriction).
func (r *k8sRules) admits(target, source map[string]string, port int32) bool {
	restricted := false
	for _, p := range r.policies {
		if !selectorMatches(&p.Spec.PodSelector, target) || !(len(p.Spec.PolicyTypes) == 0 || slices.Contains(p.Spec.PolicyTypes, networkingv1.PolicyTypeIngress)) {
			continue
		}
		restricted = true
		for _, rule := range p.Spec.Ingress {
			if !portsAdmit(rule.Ports, port) {
				continue
			}
			if len(rule.From) == 0 || slices.ContainsFunc(rule.From, func(peer networkingv1.NetworkPolicyPeer) bool {
				return peer.PodSelector != nil && peer.NamespaceSelector == nil && peer.IPBlock == nil && selectorMatches(peer.PodSelector, source)
			}) {
				return true
			}
		}
	}
	return !restricted
}

// checkPolicies: internal gRPC is plaintext, so each port of those pods is admitted by a policy
// selecting them; and the policies admit each binary to what it dials (its main's env.Dial), to
// etcd, to the database its DSN names, and the gateway to the object data endpoint.
func (r *k8sRules) checkPolicies() {
	for _, w := range r.workloads {
		if _, grpc := grpcServices[w.Name]; !grpc || w.Kind != "Deployment" {
			continue
		}
		for _, c := range w.Template.Spec.Containers {
			for _, p := range c.Ports {
				if !r.someSelectingPolicyListsPort(w.Template.Labels, p.ContainerPort) {
					r.errorf(w.Where, "no NetworkPolicy selects these pods and admits port %d", p.ContainerPort)
				}
			}
		}
	}
	etcd := slices.IndexFunc(r.workloads, func(w workload) bool { return w.Kind == "StatefulSet" && w.Name == "etcd" })
	for b, instances := range r.deployed {
		for _, d := range instances {
			for _, target := range r.bins[b].Dials {
				if len(r.deployed[target]) == 0 {
					r.errorf(d.Where, "%s dials %s, which has no Deployment", b, target)
				}
				for _, t := range r.deployed[target] {
					if t.GRPCPort != 0 && !r.admits(t.Labels, d.Labels, t.GRPCPort) {
						r.errorf(d.Where, "no NetworkPolicy admits %s to %s on port %d", b, target, t.GRPCPort)
					}
				}
			}
			if etcd < 0 {
				r.errorf(d.Where, "no etcd StatefulSet to reach")
			} else if !r.admits(r.workloads[etcd].Template.Labels, d.Labels, 2379) {
				r.errorf(d.Where, "no NetworkPolicy admits it to etcd on port 2379")
			}
			r.checkDSNAdmitted(d)
		}
	}
	r.checkObjectDataAdmitted()
}

var dsnService = regexp.MustCompile(`^postgres(?:ql)?://[^@/]*@([\w-]+)[\w.-]*(?::(\d+))?/`)

// checkDSNAdmitted: a SQL DSN naming an in-cluster Service: the policies admit the pod to its pods.
func (r *k8sRules) checkDSNAdmitted(d deployment) {
	e := d.Env["SMH_SQL_DSN"]
	if e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil {
		return
	}
	m := dsnService.FindStringSubmatch(r.secrets[e.ValueFrom.SecretKeyRef.Name][e.ValueFrom.SecretKeyRef.Key])
	if m == nil {
		return
	}
	port := int32(5432)
	if m[2] != "" {
		n, _ := strconv.Atoi(m[2])
		port = int32(n)
	}
	for _, s := range typed[*corev1.Service](r.objs.Rendered) {
		if s.O.Name != m[1] {
			continue
		}
		for _, sp := range s.O.Spec.Ports {
			if sp.Port != port {
				continue
			}
			for _, w := range r.selected(&metav1.LabelSelector{MatchLabels: s.O.Spec.Selector}) {
				if tp, ok := servesPort(w, sp.TargetPort); ok && !r.admits(w.Template.Labels, d.Labels, tp) {
					r.errorf(d.Where, "no NetworkPolicy admits it to %s on port %d (its SMH_SQL_DSN)", w.Name, tp)
				}
			}
		}
	}
}

// checkObjectDataAdmitted: the gateway reaches the object pods' data port, either as each lists
// it in etcd (SMH_OBJECT_DATA_URL unset or "etcd") or through a Service on that port.
func (r *k8sRules) checkObjectDataAdmitted() {
	for _, g := range r.deployed["gateway"] {
		raw, _ := r.envValue(g.Env["SMH_OBJECT_DATA_URL"])
		if raw != "" && raw != "etcd" {
			r.checkObjectDataService(g, raw)
			continue
		}
		for _, o := range r.deployed["object"] {
			if o.DataPort != 0 && !r.admits(o.Labels, g.Labels, o.DataPort) {
				r.errorf(g.Where, "no NetworkPolicy admits the gateway to the object data port %d", o.DataPort)
			}
		}
	}
}

func (r *k8sRules) checkObjectDataService(g deployment, raw string) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "http" || u.Hostname() == "" {
		r.errorf(g.Where, "SMH_OBJECT_DATA_URL %q must be http://<object Service>:<data port>", raw)
		return
	}
	port := int32(80)
	if u.Port() != "" {
		port = portOf(u.Host)
	}
	svc, _, _ := strings.Cut(u.Hostname(), ".")
	reached := false
	for _, s := range typed[*corev1.Service](r.objs.Rendered) {
		if s.O.Name != svc {
			continue
		}
		for _, sp := range s.O.Spec.Ports {
			for _, o := range r.deployed["object"] {
				w := r.workloads[slices.IndexFunc(r.workloads, func(w workload) bool { return w.Kind == "Deployment" && w.Name == "object" })]
				if tp, ok := servesPort(w, sp.TargetPort); sp.Port == port && ok && tp == o.DataPort && selectorMatches(&metav1.LabelSelector{MatchLabels: s.O.Spec.Selector}, o.Labels) {
					reached = true
				}
				if o.DataPort != 0 && !r.admits(o.Labels, g.Labels, o.DataPort) {
					r.errorf(g.Where, "no NetworkPolicy admits the gateway to the object data port %d", o.DataPort)
				}
			}
		}
	}
	if !reached {
		r.errorf(g.Where, "SMH_OBJECT_DATA_URL %q: no Service %s port %d reaches the object pods' SMH_DATA_LISTEN port", raw, svc, port)
	}
}

// splitBinaries answers the binaryInfo of every split binary.
func splitBinaries(t *testing.T) map[string]binaryInfo {
	t.Helper()
	out := map[string]binaryInfo{}
	for _, s := range splitServices {
		out[s] = splitBinary(t, s)
	}
	return out
}
