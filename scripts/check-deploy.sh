#!/usr/bin/env bash
# Static check of the compose deployment files: docker-compose.yaml and the Dockerfile.
# Needs no Docker engine: bash and python3, plus PyYAML when present. (k8s/ is checked by the Go
# test tests/deploy instead: rendered with kustomize, decoded and schema-validated, the project's
# rules on typed objects, and a dry run on a real kube-apiserver; docs/decisions/0050.)
#
# YAML is read with PyYAML if it is installed, else with ruby's bundled YAML (converted to JSON,
# read with python's stdlib). With neither, python's stdlib has no YAML parser, so the check
# falls back to line-based regex checks (binaries named by commands, env variable names); it says
# so in its output. CHECK_DEPLOY_NO_YAML=1 forces that fallback.
#
# Verified (full mode):
#   - docker-compose.yaml parses; every compose service built from the Dockerfile runs a command
#     naming one of the six binaries (smh, library, authtoken, namespace, object, gateway);
#   - every env variable given to those services starts with SMH_ or OTEL_, and each SMH_ one
#     is a flag of that binary (SMH_<FLAG>, flags grepped from the Go sources) or a variable the
#     binary reads directly (RequireEnv / os.Getenv); --flags on command lines exist too; the
#     flags the file relies on (e.g. namespace and `smh serve` --sql-dsn) must be found, so a
#     change in the flag declaration style cannot silently empty the lists;
#   - compose: etcd has a healthcheck, split services wait for it (service_healthy), the admin
#     key and KEK are required (${VAR:?...}), smh sits in the all-in-one profile, every service
#     built from the Dockerfile is read_only with cap_drop ALL and no-new-privileges; namespace
#     and object have SMH_SQL_DSN, and a postgres:// DSN names a compose service with a
#     healthcheck that they wait for (service_healthy), its password required with ${VAR:?...};
#     object: SMH_DOMAIN is set (it is required) to a host[:port] without scheme, the one of
#     SMH_PUBLIC_URL; SMH_DATA_LISTEN listens on 0.0.0.0 on a port of its own; unless
#     SMH_S3_ENDPOINT is set, SMH_BLOB_DIR lies on a named volume or bind mount, /tmp is
#     writable; the gateway's SMH_OBJECT_DATA_URL is etcd (the default) or names the object
#     service's data port;
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
import json, os, re, subprocess, sys
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

def env_name(flag):
    return "SMH_" + flag.upper().replace("-", "_")

flags, direct_env = {}, {}
for b, path in BINARIES.items():
    p = os.path.join(root, path)
    if not os.path.exists(p):
        err(path, f"source of binary {b} not found")
        flags[b], direct_env[b] = set(), set()
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
    if "common.Add(fs)" in src or "cmdutil.FlagSet(" in src:  # the common flags (pkg/cmdutil)
        fl |= set(FLAG_RE.findall(read(os.path.join(root, COMMON))))
    if not fl:
        err(path, f"no flags found for {b}: has the flag declaration style changed?")
    flags[b] = fl
    direct_env[b] = set(ENV_RE.findall(src))

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
for b, want in EXPECTED_FLAGS.items():
    if flags.get(b) and not want <= flags[b]:
        err(BINARIES[b], f"flags {', '.join(sorted(want - flags[b]))} of {b} not found: has the flag declaration style changed?")
for b, want in EXPECTED_ENV.items():
    if b in direct_env and not want <= direct_env[b]:
        err(BINARIES[b], f"{b} no longer seems to read {', '.join(sorted(want - direct_env[b]))}: update this check")
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

SQL_SERVICES = ("namespace", "object")  # several replicas share one PostgreSQL
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
compose = os.path.join(root, "docker-compose.yaml")
dockerfile = os.path.join(root, "Dockerfile")
for p in (compose, dockerfile):
    if not os.path.exists(p):
        err(rel(p), "missing")
checked = sum(os.path.exists(p) for p in (compose, dockerfile))

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
    helpers = set()
    texts = [(compose, read(compose))] if os.path.exists(compose) else []
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
for p in [compose]:
    if not os.path.exists(p):
        continue
    try:
        docs[p] = load_all(p)
    except Exception as e:  # noqa: BLE001 - any parse error is a failure to report
        err(rel(p), f"does not parse: {e}")

def under(path, mounts):
    path = os.path.normpath(str(path))
    return any(path == m or path.startswith(m.rstrip("/") + "/") for m in map(os.path.normpath, mounts))

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
