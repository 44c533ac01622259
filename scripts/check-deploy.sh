#!/usr/bin/env bash
# Static check of the deployment files: k8s/*.yaml, docker-compose.yaml and the Dockerfile.
# Needs no Docker engine and no cluster: bash and python3, plus PyYAML when present.
#
# YAML is read with PyYAML if it is installed, else with ruby's bundled YAML (converted to JSON,
# read with python's stdlib). With neither, python's stdlib has no YAML parser, so the check
# falls back to line-based regex checks (kustomization list, binaries named by commands, env
# variable names); it says so in its output. CHECK_DEPLOY_NO_YAML=1 forces that fallback.
#
# Verified (full mode):
#   - every file parses; kustomization.yaml lists exactly the manifests in k8s/ (every file but
#     itself and *.example.yaml templates) and each listed file exists;
#   - every Deployment container runs the OpenSMH image with a command naming one of the six
#     binaries (smh, library, authtoken, namespace, object, gateway), and so does every compose
#     service built from the Dockerfile;
#   - every env variable given to those containers starts with SMH_ or OTEL_, and each SMH_ one
#     is a flag of that binary (SMH_<FLAG>, flags grepped from the Go sources) or a variable the
#     binary reads directly (RequireEnv / os.Getenv); the only exception is a downward-API helper
#     (fieldRef) that another value expands as $(NAME); --flags on command lines exist too; the
#     flags the manifests rely on (e.g. namespace and `smh serve` --sql-dsn) must be found, so a
#     change in the flag declaration style cannot silently empty the lists;
#   - probes name a port the container declares; SMH_LISTEN's port is a declared port and
#     SMH_ADVERTISE uses the same port; SMH_METRICS_LISTEN, where set, is 0.0.0.0 on a declared
#     port of its own, the pod template carries prometheus.io/scrape "true" and prometheus.io/port
#     naming it, and a NetworkPolicy selecting the pods admits it; the gateway is probed over HTTPS on /healthz and /livez,
#     library/authtoken/namespace/object with grpc probes, readiness naming the service's gRPC
#     name (its health follows its store) and liveness and startup naming none; namespace and object get SMH_SQL_DSN
#     from a Secret and that DSN (in the template) is PostgreSQL, since a SQLite file cannot be
#     shared by replicas;
#   - object: SMH_DOMAIN is set (it is required) to a host[:port] without scheme, the one of
#     SMH_PUBLIC_URL; SMH_DATA_LISTEN's port is declared; unless SMH_S3_ENDPOINT is set,
#     SMH_BLOB_DIR lies on a persistent volume, /tmp is writable; the gateway's
#     SMH_OBJECT_DATA_URL is etcd (the default) or names the object data port (through a Service
#     on Kubernetes), and a NetworkPolicy admits the gateway to that port; a
#     Deployment mounting a ReadWriteOnce claim runs one replica with the Recreate strategy and no
#     HPA, and a pod mounting a claim as non-root sets fsGroup;
#   - Services, PodDisruptionBudgets and HPAs point at existing workloads and ports;
#     configMapKeyRef / secretKeyRef (in any container) / secret volumes name keys that the
#     ConfigMap or the secret.example.yaml template define; every internal port of
#     library/authtoken/namespace/object is admitted by some NetworkPolicy selecting those pods;
#     the NetworkPolicies admit each binary to what it dials (env.Dial in its main.go: the
#     target's gRPC port), the gateway to the object data port, every OpenSMH pod to etcd, and a
#     pod whose SQL DSN names an in-cluster Service to that Service's pods;
#   - compose: etcd has a healthcheck, split services wait for it (service_healthy), the admin
#     key and KEK are required (${VAR:?...}), smh sits in the all-in-one profile, every service
#     built from the Dockerfile is read_only with cap_drop ALL and no-new-privileges; namespace
#     and object have SMH_SQL_DSN, and a postgres:// DSN names a compose service with a
#     healthcheck that they wait for (service_healthy), its password required with ${VAR:?...};
#     object's SMH_DOMAIN / blob volume / /tmp and the gateway's SMH_OBJECT_DATA_URL as above;
#   - Dockerfile: copies the go.mod of every go.work module, builds the six cmd packages with
#     CGO_ENABLED=0 and runs as a non-root user.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
command -v python3 >/dev/null || { echo "deploy check: python3 is required" >&2; exit 1; }

mode=pyyaml
if [[ "${CHECK_DEPLOY_NO_YAML:-}" == 1 ]]; then
  mode=lines
elif ! python3 -c 'import yaml' 2>/dev/null; then
  if command -v ruby >/dev/null && ruby -ryaml -rjson -e '' 2>/dev/null; then mode=ruby; else mode=lines; fi
fi

exec python3 - "$root" "$mode" <<'PY'
import glob, json, os, re, subprocess, sys
from urllib.parse import urlsplit

root, mode = sys.argv[1], sys.argv[2]
errors = []

def err(where, msg):
    errors.append(f"{where}: {msg}")

def rel(p):
    return os.path.relpath(p, root)

def read(p):
    with open(p, encoding="utf-8") as f:
        return f.read()

# ---- what the binaries accept, from the Go sources ------------------------------------------
BINARIES = {
    "library": "services/library/cmd/library/main.go",
    "authtoken": "services/authtoken/cmd/authtoken/main.go",
    "namespace": "services/namespace/cmd/namespace/main.go",
    "object": "services/object/cmd/object/main.go",
    "gateway": "services/gateway/cmd/gateway/main.go",
    "smh": "services/smh/internal/cli/serve.go",  # flags of `smh serve`
}
COMMON = "pkg/cmdutil/cmdutil.go"
FLAG_RE = re.compile(r'\b(?:fs|cmd\.Flags\(\)|f)\.\w+?\(\s*(?:&[\w.]+\s*,\s*)?"([a-z][a-z0-9-]*)"')
ENV_RE = re.compile(r'(?:RequireEnv|os\.Getenv|os\.LookupEnv)\("((?:SMH|OTEL)_[A-Z0-9_]+)"\)')
DIAL_RE = re.compile(r'\.Dial\("(\w+)"\)')  # the services a binary reaches through etcd

def env_name(flag):
    return "SMH_" + flag.upper().replace("-", "_")

flags, direct_env, dials = {}, {}, {}
for b, path in BINARIES.items():
    p = os.path.join(root, path)
    if not os.path.exists(p):
        err(path, f"source of binary {b} not found")
        flags[b], direct_env[b], dials[b] = set(), set(), set()
        continue
    src = read(p)
    # A service declares its flags in its package's flags.go (Flags, Settings), the gRPC
    # addresses in pkg/servicehost (Addresses), the common ones in pkg/cmdutil.
    decl = src
    own = os.path.join(root, "services", b, "flags.go")
    if os.path.exists(own):
        decl += read(own)
        if "servicehost.Addresses" in decl:
            decl += read(os.path.join(root, "pkg/servicehost/servicehost.go"))
    # smh serve declares the flags it shares with a service from that service's Settings.
    for svc in ("library", "authtoken", "namespace", "object", "gateway"):
        if b == "smh" and svc + ".Settings" in src:
            decl += read(os.path.join(root, "services", svc, "flags.go"))
    fl = set(FLAG_RE.findall(decl))
    if "common.Add(fs)" in src:
        fl |= set(FLAG_RE.findall(read(os.path.join(root, COMMON))))
    if not fl:
        err(path, f"no flags found for {b}: has the flag declaration style changed?")
    flags[b] = fl
    direct_env[b] = set(ENV_RE.findall(src))
    dials[b] = set(DIAL_RE.findall(src))

# Flags the deployment files rely on: if the regex stops finding them, fail loudly rather than
# accept or reject env names on a half-empty list.
EXPECTED_FLAGS = {
    "library": {"listen", "advertise", "etcd-endpoints", "log-level"},
    "authtoken": {"listen", "advertise", "etcd-endpoints", "log-level"},
    "namespace": {"listen", "advertise", "etcd-endpoints", "log-level", "sql-dsn"},
    "object": {"listen", "advertise", "etcd-endpoints", "log-level", "data-listen", "domain", "sql-dsn",
               "blob-dir", "s3-endpoint", "s3-bucket"},
    "gateway": {"listen", "etcd-endpoints", "log-level", "object-data-url"},
    "smh": {"listen", "data-dir", "sql-dsn", "s3-endpoint", "s3-bucket"},
}
EXPECTED_ENV = {b: {"SMH_ADMIN_KEY"} for b in ("library", "authtoken", "namespace", "object", "gateway")}
EXPECTED_ENV["object"] |= {"SMH_S3_ACCESS_KEY", "SMH_S3_SECRET_KEY"}
# What each binary dials through etcd: the NetworkPolicies below must admit it. Checked against the
# sources, so a new dependency shows up here (and in the policies) rather than as a timeout.
EXPECTED_DIALS = {"object": {"library", "authtoken", "namespace"}, "gateway": {"library", "authtoken", "namespace", "object"}}
for b, want in EXPECTED_FLAGS.items():
    if flags.get(b) and not want <= flags[b]:
        err(BINARIES[b], f"flags {', '.join(sorted(want - flags[b]))} of {b} not found: has the flag declaration style changed?")
for b, want in EXPECTED_ENV.items():
    if b in direct_env and not want <= direct_env[b]:
        err(BINARIES[b], f"{b} no longer seems to read {', '.join(sorted(want - direct_env[b]))}: update this check")
for b, want in EXPECTED_DIALS.items():
    if flags.get(b) and not want <= dials[b]:
        err(BINARIES[b], f"{b} no longer seems to dial {', '.join(sorted(want - dials[b]))}: update this check")

def allowed_env(b):
    return {env_name(f) for f in flags[b]} | direct_env[b]

ALL_ENV = set().union(*(allowed_env(b) for b in BINARIES))
IMAGE_RE = re.compile(r'^(?:.*/)?opensmh(?::[\w.-]+)?(?:@sha256:[0-9a-f]+)?$')

def is_opensmh_image(img):
    return isinstance(img, str) and bool(IMAGE_RE.match(img.strip()))

def binary_of(cmd):
    if not cmd:
        return None
    b = os.path.basename(str(cmd[0]))
    return b if b in BINARIES else None

def check_cmdline(where, b, argv):
    """--flags on a command line must be flags of binary b (smh: only `smh serve` is deployable)."""
    args = [str(a) for a in argv[1:]]
    if b == "smh":
        if not args or args[0] != "serve":
            err(where, "the smh command must be `smh serve`")
            return
        args = args[1:]
    for a in args:
        if a.startswith("--"):
            name = a[2:].split("=", 1)[0]
            if name not in flags[b]:
                err(where, f"--{name} is not a flag of {b} (flags: {', '.join(sorted(flags[b]))})")

def check_env_name(where, b, name):
    if name.startswith("OTEL_"):
        return
    if not name.startswith("SMH_"):
        err(where, f"env {name}: only SMH_* and OTEL_* variables are allowed")
    elif name not in allowed_env(b):
        err(where, f"env {name} is not read by {b} (it reads {', '.join(sorted(allowed_env(b)))})")

GRPC_SERVICES = ("library", "authtoken", "namespace", "object")  # internal gRPC, registered in etcd
# The gRPC service name each one's store health is reported under (readiness.Probe.Service).
HEALTH_NAMES = {"library": "smh.library.v1.LibraryService", "authtoken": "smh.token.v1.TokenService",
                "namespace": "smh.namespace.v1.NamespaceService", "object": "smh.object.v1.ObjectService"}
# Env each internal service must get besides SMH_ADMIN_KEY: a required setting the binary refuses
# to start without (SMH_SECRET_KEK, object's --domain) or one whose default does not fit a
# container (a SQLite file on the read-only root, a data endpoint on 127.0.0.1).
REQUIRED_ENV = {
    "library": ("SMH_SECRET_KEK",),
    "namespace": ("SMH_SQL_DSN",),
    "object": ("SMH_SQL_DSN", "SMH_DOMAIN", "SMH_DATA_LISTEN"),
}
SQL_SERVICES = ("namespace", "object")  # several replicas share one PostgreSQL
# Each Deployment with its own PodDisruptionBudget and HorizontalPodAutoscaler. object is not
# here: with its default local blob volume (ReadWriteOnce) it runs one replica.
REPLICATED = ("library", "authtoken", "namespace", "gateway")
DOMAIN_RE = re.compile(r'^[A-Za-z0-9.-]+(?::\d+)?$|^\[[0-9A-Fa-f:]+\](?::\d+)?$')

def check_domain(where, value, public_url):
    """object's SMH_DOMAIN: host[:port] without scheme or path, the host[:port] of the public URL."""
    if not value:
        err(where, "object needs SMH_DOMAIN (--domain is required): the gateway's public host[:port]")
        return
    if not DOMAIN_RE.match(value):
        err(where, f"SMH_DOMAIN {value!r} must be host[:port] (no scheme, no path)")
    elif public_url:
        u = urlsplit(public_url)
        netloc = u.hostname + (f":{u.port}" if u.port and u.port != 443 else "") if u.hostname else ""
        if netloc and value.lower() not in (netloc.lower(), f"{netloc.lower()}:443"):
            err(where, f"SMH_DOMAIN {value!r} is not the host[:port] of SMH_PUBLIC_URL {public_url!r} ({netloc})")

def port_of(addr):
    m = re.search(r':(\d+)$', str(addr))
    return int(m.group(1)) if m else None

# ---- files ----------------------------------------------------------------------------------
k8s_dir = os.path.join(root, "k8s")
k8s_files = sorted(glob.glob(os.path.join(k8s_dir, "*.yaml")) + glob.glob(os.path.join(k8s_dir, "*.yml")))
compose = os.path.join(root, "docker-compose.yaml")
dockerfile = os.path.join(root, "Dockerfile")
for p in (compose, dockerfile):
    if not os.path.exists(p):
        err(rel(p), "missing")
if not k8s_files:
    err("k8s/", "no manifests")
kust = os.path.join(k8s_dir, "kustomization.yaml")
manifests = [p for p in k8s_files if p != kust and not re.search(r'\.example\.ya?ml$', p)]
checked = len(k8s_files) + sum(os.path.exists(p) for p in (compose, dockerfile))

# ---- Dockerfile (text) ----------------------------------------------------------------------
if os.path.exists(dockerfile):
    # Instructions only: comments mention `make build` and binaries without building them.
    d = "\n".join(l for l in read(dockerfile).splitlines() if not l.lstrip().startswith("#"))
    for b, path in BINARIES.items():
        pkg = f"./services/{b}/cmd/{b}"
        if pkg not in d and "make build" not in d:
            err("Dockerfile", f"does not build {pkg}")
        if not os.path.isdir(os.path.join(root, pkg)):
            err("Dockerfile", f"{pkg} does not exist")
    gowork = os.path.join(root, "go.work")
    if os.path.exists(gowork) and re.search(r'^\s*COPY\s+go\.work\b', d, re.M):
        # Workspace mode fails to load unless every module named in go.work has its go.mod.
        for m in re.findall(r'^\s*(?:use\s+)?\./([\w./-]+)\s*$', read(gowork), re.M):
            if not re.search(r'^\s*COPY\s+(?:\S+\s+)*' + re.escape(m) + r'/go\.mod\s', d, re.M):
                err("Dockerfile", f"does not copy {m}/go.mod (go.work uses ./{m})")
    if "CGO_ENABLED=0" not in d:
        err("Dockerfile", "CGO_ENABLED=0 is not set")
    users = re.findall(r'^\s*USER\s+(\S+)', d, re.M)
    if not users or users[-1].split(":")[0] in ("root", "0"):
        err("Dockerfile", "the final stage must set a non-root USER")

# ---- line-based fallback --------------------------------------------------------------------
if mode == "lines":
    if os.path.exists(kust):
        listed = re.findall(r'^\s*-\s*([\w./-]+\.ya?ml)\s*$', read(kust), re.M)
        for p in manifests:
            if os.path.basename(p) not in listed:
                err("k8s/kustomization.yaml", f"does not list {os.path.basename(p)}")
        for name in listed:
            if not os.path.exists(os.path.join(k8s_dir, name)):
                err("k8s/kustomization.yaml", f"lists {name}, which does not exist")
    else:
        err("k8s/", "kustomization.yaml missing")
    helpers = set()
    texts = []
    for p in manifests + [compose]:
        if not os.path.exists(p):
            continue
        if p == compose:
            texts.append((p, read(p)))
            continue
        # Per document, and only those running the OpenSMH image: others (etcd, postgres) have
        # their own commands and env variables.
        for t in re.split(r'^---\s*$', read(p), flags=re.M):
            imgs = re.findall(r'^\s*(?:-\s*)?image:\s*"?([^"\s]+)"?\s*$', t, re.M)
            if any(is_opensmh_image(i) for i in imgs):
                texts.append((p, t))
    for p, t in texts:
        helpers |= set(re.findall(r'\$\(([A-Z][A-Z0-9_]*)\)', t))
        for m in re.finditer(r'command:\s*\[\s*"?([\w/.-]+)"?', t):
            b = os.path.basename(m.group(1))
            if b not in BINARIES and b not in ("etcd",):
                err(rel(p), f"command {m.group(1)} is not one of {', '.join(BINARIES)}")
        names = re.findall(r'^\s*-\s*name:\s*([A-Z][A-Z0-9_]*)\s*$', t, re.M)
        if p == compose:
            names += re.findall(r'^\s+((?:SMH|OTEL)_[A-Z0-9_]+):', t, re.M)
        for n in names:
            if n in helpers and "fieldRef" in t:
                continue
            if not (n.startswith("SMH_") or n.startswith("OTEL_")):
                err(rel(p), f"env {n}: only SMH_* and OTEL_* variables are allowed")
            elif n.startswith("SMH_") and n not in ALL_ENV:
                err(rel(p), f"env {n} is not read by any binary")
    if errors:
        print("deploy check FAILED:", *errors, sep="\n  ", file=sys.stderr)
        sys.exit(1)
    print("deploy check: no YAML parser (PyYAML or ruby) found: ran the reduced line-based checks only")
    print(f"deploy check: {checked} files ok")
    sys.exit(0)

# ---- YAML loading ---------------------------------------------------------------------------
def load_all(p):
    if mode == "pyyaml":
        import yaml
        with open(p, encoding="utf-8") as f:
            return [d for d in yaml.safe_load_all(f) if d is not None]
    out = subprocess.run(["ruby", "-ryaml", "-rjson", "-e",
                          "puts JSON.generate(YAML.load_stream(File.read(ARGV[0])).compact)", p],
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise ValueError(out.stderr.strip())
    return json.loads(out.stdout)

docs = {}
for p in k8s_files + [compose]:
    if not os.path.exists(p):
        continue
    try:
        docs[p] = load_all(p)
    except Exception as e:  # noqa: BLE001 - any parse error is a failure to report
        err(rel(p), f"does not parse: {e}")

def objects(kind=None):
    for p in manifests:
        for d in docs.get(p, []):
            if isinstance(d, dict) and (kind is None or d.get("kind") == kind):
                yield p, d

def where(p, d, extra=""):
    return f"{rel(p)} {d.get('kind')}/{(d.get('metadata') or {}).get('name')}{extra}"

# ---- kustomization --------------------------------------------------------------------------
kimages = None  # image names kustomization.yaml rewrites
if kust in docs:
    k = docs[kust][0] if docs[kust] else {}
    listed = k.get("resources") or []
    for p in manifests:
        if os.path.basename(p) not in listed:
            err("k8s/kustomization.yaml", f"does not list {os.path.basename(p)}")
    for name in listed:
        if not os.path.exists(os.path.join(k8s_dir, name)):
            err("k8s/kustomization.yaml", f"lists {name}, which does not exist")
        elif re.search(r'\.example\.ya?ml$', name):
            err("k8s/kustomization.yaml", f"lists the template {name}: it must not be applied")
    kimages = [i.get("name") for i in (k.get("images") or [])]
elif os.path.isdir(k8s_dir):
    err("k8s/", "kustomization.yaml missing")

for p in manifests:
    for d in docs.get(p, []):
        if not isinstance(d, dict) or not d.get("apiVersion") or not d.get("kind"):
            err(rel(p), "a document without apiVersion/kind")
        elif not (d.get("metadata") or {}).get("name"):
            err(rel(p), f"a {d.get('kind')} without metadata.name")

# ---- what ConfigMaps and (template) Secrets define -----------------------------------------
cm_keys, cm_values = {}, {}
for p, d in objects("ConfigMap"):
    cm_keys[d["metadata"]["name"]] = set((d.get("data") or {}).keys())
    cm_values[d["metadata"]["name"]] = dict(d.get("data") or {})
secret_keys, secret_values = {}, {}
for p in k8s_files:
    for d in docs.get(p, []):
        if isinstance(d, dict) and d.get("kind") == "Secret":
            secret_keys[d["metadata"]["name"]] = set((d.get("stringData") or {}).keys()) | set((d.get("data") or {}).keys())
            secret_values[d["metadata"]["name"]] = dict(d.get("stringData") or {})

def check_refs(w, env):
    """configMapKeyRef / secretKeyRef of any container must name defined keys."""
    for e in env or []:
        n, vf = e.get("name", ""), e.get("valueFrom") or {}
        if "configMapKeyRef" in vf:
            r = vf["configMapKeyRef"]
            if r.get("key") not in cm_keys.get(r.get("name"), set()):
                err(w, f"env {n}: ConfigMap {r.get('name')} has no key {r.get('key')}")
        if "secretKeyRef" in vf:
            r = vf["secretKeyRef"]
            if r.get("key") not in secret_keys.get(r.get("name"), set()):
                err(w, f"env {n}: Secret {r.get('name')} (secret.example.yaml) has no key {r.get('key')}")

# ---- workloads ------------------------------------------------------------------------------
WORKLOADS = ("Deployment", "StatefulSet", "DaemonSet")
workloads = {}  # (kind, name) -> (labels, {port name: number}, {numbers})
grpc_pods = []  # (where, labels, {numbers}) of the internal gRPC Deployments
metrics_pods = []  # (where, labels, port) of the containers serving Prometheus metrics

def check_metrics_listen(w, metrics, numbers, envmap):
    """SMH_METRICS_LISTEN: plain HTTP on its own declared port, reachable by the scraper (0.0.0.0),
    never the service's HTTPS/gRPC port or the object data port."""
    mp = port_of(metrics)
    others = {port_of(envmap.get(n, {}).get("value")) for n in ("SMH_LISTEN", "SMH_DATA_LISTEN")} - {None}
    if not str(metrics).startswith("0.0.0.0:") or mp is None:
        err(w, f"SMH_METRICS_LISTEN {metrics!r} must listen on 0.0.0.0:<port> to be scraped")
    elif numbers is not None and mp not in numbers:
        err(w, f"SMH_METRICS_LISTEN {metrics!r} must be a declared container port")
    if mp in others:
        err(w, f"SMH_METRICS_LISTEN {metrics!r} must not share a port with SMH_LISTEN or SMH_DATA_LISTEN")
deployed = {}   # binary -> [(where, labels, envmap, grpc port)] of the OpenSMH Deployments
rwo_claims = set()  # PersistentVolumeClaims that one node at a time can mount
for p, d in objects("PersistentVolumeClaim"):
    if "ReadWriteMany" not in ((d.get("spec") or {}).get("accessModes") or []):
        rwo_claims.add(d["metadata"]["name"])

def env_value(e):
    """The literal value of an env entry, or the ConfigMap value it refers to (None if unknown)."""
    if "value" in e:
        return str(e["value"])
    r = (e.get("valueFrom") or {}).get("configMapKeyRef")
    if r:
        v = cm_values.get(r.get("name"), {}).get(r.get("key"))
        return None if v is None else str(v)
    return None

def under(path, mounts):
    path = os.path.normpath(str(path))
    return any(path == m or path.startswith(m.rstrip("/") + "/") for m in map(os.path.normpath, mounts))

def port_ref_ok(ref, names, numbers):
    return ref in names if isinstance(ref, str) and not ref.isdigit() else int(ref) in numbers

for p, d in objects():
    if d.get("kind") not in WORKLOADS:
        continue
    spec = d.get("spec") or {}
    tpl = spec.get("template") or {}
    labels = (tpl.get("metadata") or {}).get("labels") or {}
    sel = (spec.get("selector") or {}).get("matchLabels") or {}
    if any(labels.get(k) != v for k, v in sel.items()):
        err(where(p, d), "selector.matchLabels does not match the pod template labels")
    pspec = tpl.get("spec") or {}
    psc = pspec.get("securityContext") or {}
    all_names, all_numbers = {}, set()
    for c in pspec.get("containers") or []:
        w = where(p, d, f" container {c.get('name')}")
        ports = c.get("ports") or []
        names = {pt.get("name"): pt.get("containerPort") for pt in ports if pt.get("name")}
        numbers = {pt.get("containerPort") for pt in ports}
        all_names.update(names); all_numbers |= numbers
        for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
            pr = c.get(probe)
            if not pr:
                continue
            for h in ("httpGet", "grpc", "tcpSocket"):
                if h in pr:
                    ref = pr[h].get("port")
                    if ref is None or not port_ref_ok(ref, names, numbers):
                        err(w, f"{probe}.{h}.port {ref!r} is not a port of the container")
                    elif h == "grpc" and not isinstance(ref, int):
                        err(w, f"{probe}.grpc.port must be a number (named ports are not allowed there)")
        csc = c.get("securityContext") or {}
        if not (csc.get("runAsNonRoot") or psc.get("runAsNonRoot")):
            err(w, "runAsNonRoot is not set")
        if not csc.get("readOnlyRootFilesystem"):
            err(w, "readOnlyRootFilesystem is not set")
        if "ALL" not in ((csc.get("capabilities") or {}).get("drop") or []):
            err(w, "capabilities do not drop ALL")
        res = c.get("resources") or {}
        if not (res.get("requests") or {}).get("cpu") or not (res.get("limits") or {}).get("memory"):
            err(w, "resources need a cpu request and a memory limit")
        check_refs(w, c.get("env"))

        image = c.get("image")
        if not is_opensmh_image(image):
            if d["kind"] == "Deployment":
                err(w, f"image {image!r} is not the OpenSMH image")
            continue  # e.g. etcd: its own flags and env
        if kimages is not None and image.split(":")[0] not in kimages and "/" not in image:
            err(w, f"image {image!r} is not rewritten by kustomization images:")
        argv = list(c.get("command") or []) + list(c.get("args") or [])
        b = binary_of(argv)
        if not b:
            err(w, f"command {c.get('command')!r} does not name one of {', '.join(BINARIES)}")
            continue
        check_cmdline(w, b, argv)
        env = c.get("env") or []
        if c.get("envFrom"):
            err(w, "envFrom hides which variables a binary gets: list env entries instead")
        values = " ".join(str(e.get("value", "")) for e in env) + " " + " ".join(map(str, argv))
        expanded = set(re.findall(r'\$\(([A-Za-z_][A-Za-z0-9_]*)\)', values))
        envmap = {}
        for e in env:
            n = e.get("name", "")
            envmap[n] = e
            vf = e.get("valueFrom") or {}
            if "fieldRef" in vf and n in expanded and not (n.startswith("SMH_") or n.startswith("OTEL_")):
                pass  # downward-API helper, only expanded into another value
            else:
                check_env_name(w, b, n)
        for n in expanded:
            if n not in envmap:
                err(w, f"$({n}) is expanded but not defined before use")
        if b in GRPC_SERVICES:
            for name in ("SMH_ADMIN_KEY",) + REQUIRED_ENV.get(b, ()):
                if name not in envmap:
                    err(w, f"{b} needs {name}")
            lis = envmap.get("SMH_LISTEN", {}).get("value")
            adv = envmap.get("SMH_ADVERTISE", {}).get("value")
            if not lis or port_of(lis) not in numbers:
                err(w, f"SMH_LISTEN {lis!r} must be set to a declared container port")
            if not adv or "$(POD_IP)" not in adv or port_of(adv) != port_of(lis):
                err(w, f"SMH_ADVERTISE {adv!r} must be $(POD_IP):<listen port>")
            elif ((envmap.get("POD_IP", {}).get("valueFrom") or {}).get("fieldRef") or {}).get("fieldPath") != "status.podIP":
                err(w, "POD_IP must come from the downward API status.podIP")
            for probe in ("readinessProbe", "livenessProbe"):
                if "grpc" not in (c.get(probe) or {}):
                    err(w, f"{probe} must be a grpc probe (grpc.health.v1)")
            # Readiness names the service, whose health follows its store (pkg/readiness); ""
            # stays SERVING while the process serves, so liveness and startup ask for that.
            ready_as = ((c.get("readinessProbe") or {}).get("grpc") or {}).get("service")
            if ready_as != HEALTH_NAMES[b]:
                err(w, f"readinessProbe.grpc.service {ready_as!r} must be {HEALTH_NAMES[b]} (\"\" answers SERVING while the store is down)")
            for probe in ("livenessProbe", "startupProbe"):
                if ((c.get(probe) or {}).get("grpc") or {}).get("service"):
                    err(w, f"{probe}.grpc must not name a service: a store outage would restart the pod")
        if b in SQL_SERVICES and "SMH_SQL_DSN" in envmap:
            # The DSN holds the database password, and the Deployment runs several replicas,
            # which only a shared PostgreSQL allows (a SQLite file is single-instance).
            r = (envmap["SMH_SQL_DSN"].get("valueFrom") or {}).get("secretKeyRef")
            if not r:
                err(w, "SMH_SQL_DSN must come from a Secret (secretKeyRef): it holds the database password")
            else:
                v = str(secret_values.get(r.get("name"), {}).get(r.get("key"), ""))
                if v and not re.match(r'postgres(?:ql)?://', v):
                    err(w, f"SMH_SQL_DSN: Secret {r.get('name')} key {r.get('key')} must be a postgres:// DSN in the template (SQLite cannot be shared by replicas)")
        if b == "object":
            mounts = {m.get("mountPath"): m.get("name") for m in c.get("volumeMounts") or []}
            vols = {v.get("name"): v for v in pspec.get("volumes") or []}
            if "SMH_DOMAIN" in envmap:
                pub = None
                r = (envmap["SMH_DOMAIN"].get("valueFrom") or {}).get("configMapKeyRef")
                if r:  # the public URL next to it in the same ConfigMap
                    pub = cm_values.get(r.get("name"), {}).get("SMH_PUBLIC_URL")
                check_domain(w, env_value(envmap["SMH_DOMAIN"]), pub)
            data = envmap.get("SMH_DATA_LISTEN", {}).get("value")
            if data and (port_of(data) not in numbers or port_of(data) == port_of(envmap.get("SMH_LISTEN", {}).get("value"))):
                err(w, f"SMH_DATA_LISTEN {data!r} must be a declared container port other than SMH_LISTEN's")
            if "SMH_S3_ENDPOINT" not in envmap:
                bd = envmap.get("SMH_BLOB_DIR", {}).get("value")
                claims = [m for m, v in mounts.items() if (vols.get(v) or {}).get("persistentVolumeClaim")]
                if not bd or not os.path.isabs(bd):
                    err(w, f"SMH_BLOB_DIR {bd!r} must be an absolute path on a persistent volume (or set SMH_S3_ENDPOINT)")
                elif not under(bd, claims):
                    err(w, f"SMH_BLOB_DIR {bd!r} is not on a persistentVolumeClaim mount (mounts: {', '.join(claims) or 'none'})")
            if not under("/tmp", mounts):
                err(w, "needs a writable /tmp (an emptyDir): the root filesystem is read-only")
        if b == "gateway":
            lis = envmap.get("SMH_LISTEN", {}).get("value")
            if not lis or port_of(lis) not in numbers:
                err(w, f"SMH_LISTEN {lis!r} must be set to a declared container port")
            for probe, path in (("readinessProbe", "/healthz"), ("livenessProbe", "/livez")):
                h = (c.get(probe) or {}).get("httpGet") or {}
                if h.get("path") != path or h.get("scheme") != "HTTPS":
                    err(w, f"{probe} must be httpGet {path} with scheme HTTPS")
            if "SMH_ADMIN_KEY" not in envmap:
                err(w, "gateway needs SMH_ADMIN_KEY")
        metrics = envmap.get("SMH_METRICS_LISTEN", {}).get("value")
        if metrics:
            check_metrics_listen(w, metrics, numbers, envmap)
            ann = (tpl.get("metadata") or {}).get("annotations") or {}
            if str(ann.get("prometheus.io/scrape")) != "true" or str(ann.get("prometheus.io/port")) != str(port_of(metrics)):
                err(w, f"SMH_METRICS_LISTEN {metrics!r}: the pod template needs the annotations prometheus.io/scrape: \"true\" and prometheus.io/port: \"{port_of(metrics)}\"")
            metrics_pods.append((w, labels, port_of(metrics)))
        if d["kind"] == "Deployment":
            deployed.setdefault(b, []).append((w, labels, envmap, port_of(envmap.get("SMH_LISTEN", {}).get("value"))))
    for v in pspec.get("volumes") or []:
        s = v.get("secret")
        if s and s.get("secretName") not in secret_keys:
            err(where(p, d), f"volume {v.get('name')}: Secret {s.get('secretName')} is not described in secret.example.yaml")
    claims = {v["persistentVolumeClaim"].get("claimName") for v in pspec.get("volumes") or [] if v.get("persistentVolumeClaim")}
    if (claims or spec.get("volumeClaimTemplates")) and psc.get("runAsUser") not in (None, 0) and psc.get("fsGroup") is None:
        err(where(p, d), "mounts a PersistentVolumeClaim as a non-root user without securityContext.fsGroup: the volume may not be writable")
    if d["kind"] == "Deployment" and claims & rwo_claims:
        # A ReadWriteOnce volume follows one pod: a second replica or a surge pod on another
        # node waits for it forever.
        if spec.get("replicas", 1) != 1:
            err(where(p, d), f"mounts the ReadWriteOnce claim(s) {', '.join(sorted(claims & rwo_claims))}: replicas must be 1")
        if (spec.get("strategy") or {}).get("type") != "Recreate":
            err(where(p, d), "mounts a ReadWriteOnce claim: the strategy must be Recreate")
    for cl in claims:
        if cl not in {d2["metadata"]["name"] for _, d2 in objects("PersistentVolumeClaim")}:
            err(where(p, d), f"PersistentVolumeClaim {cl} is not defined")
    workloads[(d["kind"], d["metadata"]["name"])] = (labels, all_names, all_numbers)
    if d["kind"] == "Deployment" and d["metadata"]["name"] in GRPC_SERVICES:
        grpc_pods.append((where(p, d), labels, all_numbers))

def selects(selector):
    return [key for key, (labels, _, _) in workloads.items()
            if selector and all(labels.get(k) == v for k, v in selector.items())]

for p, d in objects("Service"):
    spec = d.get("spec") or {}
    hit = selects(spec.get("selector") or {})
    if not hit:
        err(where(p, d), "selector matches no workload")
    for pt in spec.get("ports") or []:
        ref = pt.get("targetPort", pt.get("port"))
        if hit and not any(port_ref_ok(ref, workloads[h][1], workloads[h][2]) for h in hit):
            err(where(p, d), f"targetPort {ref!r} is not a port of the selected pods")
for p, d in objects("PodDisruptionBudget"):
    if not selects(((d.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}):
        err(where(p, d), "selector matches no workload")
for p, d in objects("HorizontalPodAutoscaler"):
    t = (d.get("spec") or {}).get("scaleTargetRef") or {}
    if (t.get("kind"), t.get("name")) not in workloads:
        err(where(p, d), f"scaleTargetRef {t.get('kind')}/{t.get('name')} does not exist")
    for p2, d2 in objects(t.get("kind")):
        vols = (((d2.get("spec") or {}).get("template") or {}).get("spec") or {}).get("volumes") or []
        if d2["metadata"]["name"] == t.get("name") and any((v.get("persistentVolumeClaim") or {}).get("claimName") in rwo_claims for v in vols):
            err(where(p, d), f"scales {t.get('name')}, which mounts a ReadWriteOnce claim (one replica only)")
def label_selector_matches(sel, labels):
    if not isinstance(sel, dict):
        return False
    if any(labels.get(k) != v for k, v in (sel.get("matchLabels") or {}).items()):
        return False
    for e in sel.get("matchExpressions") or []:
        k, op, vals = e.get("key"), e.get("operator"), e.get("values") or []
        if (op == "In" and labels.get(k) not in vals) or (op == "NotIn" and labels.get(k) in vals) \
                or (op == "Exists" and k not in labels) or (op == "DoesNotExist" and k in labels):
            return False
    return True

# Internal gRPC is plaintext: each such port must be admitted by a policy that selects its pods
# (otherwise the pods are either unprotected or unreachable, depending on the other policies).
policies = [d for _, d in objects("NetworkPolicy")]
for w, labels, numbers in grpc_pods:
    for port in numbers:
        if not any(label_selector_matches((pol.get("spec") or {}).get("podSelector"), labels)
                   and any(port in {pt.get("port") for pt in (rule.get("ports") or [])}
                           for rule in (pol.get("spec") or {}).get("ingress") or [])
                   for pol in policies):
            err(w, f"no NetworkPolicy selects these pods and admits port {port}")

# The metrics port too: the scraper must be let in wherever policies restrict the pods.
for w, labels, port in metrics_pods:
    if any(label_selector_matches((pol.get("spec") or {}).get("podSelector"), labels) for pol in policies) \
            and not any(label_selector_matches((pol.get("spec") or {}).get("podSelector"), labels)
                        and any(port in {pt.get("port") for pt in (rule.get("ports") or [])}
                                for rule in (pol.get("spec") or {}).get("ingress") or [])
                        for pol in policies):
        err(w, f"no NetworkPolicy selecting these pods admits the metrics port {port}")

def admits(target, source, port):
    """Whether the NetworkPolicies let pods labelled source reach pods labelled target on port
    (same namespace; no policy selecting target means no restriction)."""
    selecting = [pol.get("spec") or {} for pol in policies
                 if label_selector_matches((pol.get("spec") or {}).get("podSelector"), target)
                 and "Ingress" in ((pol.get("spec") or {}).get("policyTypes") or ["Ingress"])]
    if not selecting:
        return True
    for spec in selecting:
        for rule in spec.get("ingress") or []:
            ports = {pt.get("port") for pt in rule.get("ports") or []}
            if ports and port not in ports:
                continue
            peers = rule.get("from")
            if not peers or any("podSelector" in pr and "namespaceSelector" not in pr
                                and label_selector_matches(pr["podSelector"], source) for pr in peers):
                return True
    return False

# Each binary reaches what it dials on that service's gRPC port (SMH_LISTEN).
for b, insts in deployed.items():
    for w, labels, envmap, _ in insts:
        for target in sorted(dials.get(b, ())):
            if target not in deployed:
                err(w, f"{b} dials {target}, which has no Deployment")
            for _w, tlabels, _env, tport in deployed.get(target, []):
                if tport and not admits(tlabels, labels, tport):
                    err(w, f"no NetworkPolicy admits {b} to {target} on port {tport}")
        etcd = workloads.get(("StatefulSet", "etcd"))
        if etcd and not admits(etcd[0], labels, 2379):
            err(w, "no NetworkPolicy admits it to etcd on port 2379")
        # A SQL DSN naming an in-cluster Service: the policies must admit this pod to its pods.
        r = (envmap.get("SMH_SQL_DSN", {}).get("valueFrom") or {}).get("secretKeyRef") or {}
        dsn = str(secret_values.get(r.get("name"), {}).get(r.get("key"), ""))
        m = re.match(r'postgres(?:ql)?://[^@/]*@([\w-]+)[\w.-]*(?::(\d+))?/', dsn)  # Service[.ns...]
        if m:
            for _p, sd in objects("Service"):
                if sd["metadata"]["name"] != m.group(1):
                    continue
                sspec = sd.get("spec") or {}
                for pt in sspec.get("ports") or []:
                    if pt.get("port") != int(m.group(2) or 5432):
                        continue
                    for key in selects(sspec.get("selector") or {}):
                        tl, names = workloads[key][0], workloads[key][1]
                        tp = pt.get("targetPort", pt.get("port"))
                        tp = names.get(tp, tp) if isinstance(tp, str) else tp
                        if not admits(tl, labels, tp):
                            err(w, f"no NetworkPolicy admits it to {key[1]} on port {tp} (its SMH_SQL_DSN)")

# The gateway's SMH_OBJECT_DATA_URL: a Service selecting the object pods, on their data port.
for w, labels, envmap, _ in deployed.get("gateway", []):
    url = env_value(envmap.get("SMH_OBJECT_DATA_URL", {}))
    if url in (None, "", "etcd"):
        # The default: the gateway dials each object pod's data endpoint as listed in etcd.
        for _w, olabels, oenv, _port in deployed.get("object", []):
            dport = port_of(oenv.get("SMH_DATA_LISTEN", {}).get("value"))
            if dport and not admits(olabels, labels, dport):
                err(w, f"no NetworkPolicy admits the gateway to the object data port {dport}")
        continue
    u = urlsplit(url)
    if u.scheme != "http" or not u.hostname:
        err(w, f"SMH_OBJECT_DATA_URL {url!r} must be http://<object Service>:<data port>")
        continue
    svc = [sd for _, sd in objects("Service") if sd["metadata"]["name"] == u.hostname.split(".")[0]]
    if not svc:
        err(w, f"SMH_OBJECT_DATA_URL {url!r}: no Service {u.hostname.split('.')[0]}")
        continue
    sspec = svc[0].get("spec") or {}
    pt = [x for x in sspec.get("ports") or [] if x.get("port") == (u.port or 80)]
    ok = False
    for _w, olabels, oenv, _port in deployed.get("object", []):
        dport = port_of(oenv.get("SMH_DATA_LISTEN", {}).get("value"))
        if not label_selector_matches({"matchLabels": sspec.get("selector") or {}}, olabels):
            continue
        names = workloads[("Deployment", "object")][1] if ("Deployment", "object") in workloads else {}
        for x in pt:
            tp = x.get("targetPort", x.get("port"))
            if (names.get(tp) if isinstance(tp, str) else tp) == dport:
                ok = True
        if dport and not admits(olabels, labels, dport):
            err(w, f"no NetworkPolicy admits the gateway to the object data port {dport}")
    if not ok:
        err(w, f"SMH_OBJECT_DATA_URL {url!r}: Service {u.hostname} has no port {u.port or 80} reaching the object pods' SMH_DATA_LISTEN port")

for b in REPLICATED + ("object",):
    if ("Deployment", b) not in workloads:
        err("k8s/", f"no Deployment {b}")
    if b not in REPLICATED:
        continue
    for kind in ("PodDisruptionBudget", "HorizontalPodAutoscaler"):
        if not any(d["metadata"]["name"] == b for _, d in objects(kind)):
            err("k8s/", f"no {kind} for {b}")

# ---- docker-compose.yaml --------------------------------------------------------------------
if compose in docs and docs[compose]:
    c = docs[compose][0]
    raw = read(compose)
    svcs = c.get("services") or {}
    for var in ("SMH_ADMIN_KEY", "SMH_SECRET_KEK"):
        if not re.search(r'\$\{' + var + r':\?[^}]+\}', raw):
            err("docker-compose.yaml", f"{var} must be required with ${{{var}:?message}}")
    etcd = svcs.get("etcd")
    if not etcd or not etcd.get("healthcheck"):
        err("docker-compose.yaml", "an etcd service with a healthcheck is required")

    def required_var(value, var):
        # The variable must be required (${VAR:?message}) somewhere in the file.
        if not re.search(r'\$\{' + var + r':\?[^}]+\}', raw):
            err("docker-compose.yaml", f"{var} (used in {value!r}) must be required somewhere with ${{{var}:?message}}")

    def default_of(value):
        """value with ${VAR:-default} replaced by its default; None if another ${...} is left."""
        v = re.sub(r'\$\{\w+:?-([^}]*)\}', r'\1', str(value or ""))
        return None if "${" in v else v

    def compose_env(svc):
        env = svc.get("environment") or {}
        if isinstance(env, list):
            env = dict(e.split("=", 1) if "=" in e else (e, None) for e in env)
        return env

    def mounts_of(svc):
        """{container path: kind} of a service's mounts: volume (named), bind or tmpfs."""
        named = set((c.get("volumes") or {}).keys())
        out = {}
        for v in svc.get("volumes") or []:
            if isinstance(v, dict):
                out[str(v.get("target"))] = v.get("type", "volume")
            else:
                parts = str(v).split(":")
                if len(parts) >= 2:
                    out[parts[1]] = "volume" if parts[0] in named else ("bind" if parts[0][:1] in "./~$" else "unknown")
                else:
                    out[parts[0]] = "anonymous"
        t = svc.get("tmpfs") or []
        for x in [t] if isinstance(t, str) else t:
            out[str(x).split(":")[0]] = "tmpfs"
        return out

    def binary_of_service(svc):
        cmd = svc.get("command")
        return binary_of(cmd.split() if isinstance(cmd, str) else list(cmd or []))

    public_urls = [default_of(compose_env(x).get("SMH_PUBLIC_URL")) for x in svcs.values()
                   if binary_of_service(x) == "gateway" and compose_env(x).get("SMH_PUBLIC_URL")]
    for name, s in svcs.items():
        w = f"docker-compose.yaml service {name}"
        if not ("build" in s or is_opensmh_image(s.get("image"))):
            continue
        cmd = s.get("command")
        cmd = cmd.split() if isinstance(cmd, str) else list(cmd or [])
        b = binary_of(cmd)
        if not b:
            err(w, f"command {cmd!r} does not name one of {', '.join(BINARIES)}")
            continue
        check_cmdline(w, b, cmd)
        env = compose_env(s)
        for n in env:
            check_env_name(w, b, n)
        if s.get("read_only") is not True or "ALL" not in (s.get("cap_drop") or []) \
                or not any(str(o).startswith("no-new-privileges") for o in s.get("security_opt") or []):
            err(w, "needs read_only: true, cap_drop: [ALL] and security_opt no-new-privileges")
        if b in SQL_SERVICES:
            dsn = str(env.get("SMH_SQL_DSN") or "")
            m = re.match(r'postgres(?:ql)?://[^@/]*@([\w.-]+)(?::\d+)?/', dsn)
            if not dsn:
                err(w, "needs SMH_SQL_DSN")
            elif m:
                host, dep = m.group(1), s.get("depends_on") or {}
                if host in svcs:
                    if not svcs[host].get("healthcheck"):
                        err(f"docker-compose.yaml service {host}", f"needs a healthcheck ({b} waits for it)")
                    if not isinstance(dep, dict) or (dep.get(host) or {}).get("condition") != "service_healthy":
                        err(w, f"must depend on {host} with condition: service_healthy")
                for var in re.findall(r'\$\{(\w+)', dsn):
                    required_var(dsn, var)
            elif not any(str(v).split(":")[1:2] and dsn.startswith(str(v).split(":")[1].rstrip("/") + "/")
                         for v in s.get("volumes") or []):
                err(w, f"SMH_SQL_DSN {dsn!r}: a SQLite file must be on a volume (the root is read-only)")
        if b == "object":
            if not env.get("SMH_DOMAIN"):
                err(w, "object needs SMH_DOMAIN (--domain is required): the gateway's public host[:port]")
            else:
                dom = default_of(env["SMH_DOMAIN"])
                if dom is not None:
                    check_domain(w, dom, public_urls[0] if public_urls else None)
            data = env.get("SMH_DATA_LISTEN")
            if not data or not str(data).startswith("0.0.0.0:") or port_of(data) == port_of(env.get("SMH_LISTEN")):
                err(w, f"SMH_DATA_LISTEN {data!r} must listen on 0.0.0.0, on a port other than SMH_LISTEN's")
            mounts = mounts_of(s)
            if not env.get("SMH_S3_ENDPOINT"):
                bd = env.get("SMH_BLOB_DIR")
                kept = [m for m, kind in mounts.items() if kind in ("volume", "bind")]
                if not bd or not os.path.isabs(str(bd)):
                    err(w, f"SMH_BLOB_DIR {bd!r} must be an absolute path on a volume (or set SMH_S3_ENDPOINT)")
                elif not under(bd, kept):
                    err(w, f"SMH_BLOB_DIR {bd!r} is not on a named volume or bind mount (the root is read-only)")
            if not under("/tmp", list(mounts)):
                err(w, "needs a writable /tmp (tmpfs): the root filesystem is read-only")
        if b == "gateway":
            url = str(env.get("SMH_OBJECT_DATA_URL") or "")
            u = urlsplit(url)
            target = svcs.get(u.hostname or "") if u.scheme == "http" else None
            if url in ("", "etcd"):
                pass  # the default: the object containers' data endpoints as listed in etcd
            elif not target or binary_of_service(target) != "object":
                err(w, f"SMH_OBJECT_DATA_URL {url!r} must be http://<the object service>:<its data port>")
            elif u.port != port_of(compose_env(target).get("SMH_DATA_LISTEN")):
                err(w, f"SMH_OBJECT_DATA_URL {url!r}: port is not {u.hostname}'s SMH_DATA_LISTEN port")
        if b != "smh":
            dep = (s.get("depends_on") or {})
            if not isinstance(dep, dict) or (dep.get("etcd") or {}).get("condition") != "service_healthy":
                err(w, "must depend on etcd with condition: service_healthy")
            lis = env.get("SMH_LISTEN")
            if not lis or not str(lis).startswith("0.0.0.0:"):
                err(w, f"SMH_LISTEN {lis!r} must listen on 0.0.0.0 to be reachable from other containers")
        else:
            if "all-in-one" not in (s.get("profiles") or []):
                err(w, "the all-in-one service must be in profiles: [all-in-one]")
        if b in ("gateway", "smh"):
            published = [str(pt).rsplit(":", 1)[-1] for pt in s.get("ports") or []]
            if "8443" not in published:
                err(w, "must publish 8443")
            if not any(str(v).endswith(":/data") for v in s.get("volumes") or []):
                err(w, "needs a volume on /data")

if errors:
    print("deploy check FAILED:", *errors, sep="\n  ", file=sys.stderr)
    sys.exit(1)
print(f"deploy check: {checked} files ok")
PY
