package deploy

import (
	"fmt"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
)

// The project's rules for docker-compose.yaml and the Dockerfile, which replaced
// scripts/check-deploy.sh: what compose cannot know (which variables and flags a binary reads,
// which secrets must never default, what a read-only container needs). Each says why in its
// message. tests/compose runs the file on a real engine; these run everywhere, with no engine.

// composeSecrets must be given by the operator: a default would start every deployment with the
// same known operator key, KEK or database password. Compose refuses to start without a
// variable referenced as ${VAR:?message}.
var composeSecrets = []string{"SMH_ADMIN_KEY", "SMH_SECRET_KEK", "SMH_POSTGRES_PASSWORD"}

// composeRules collects the findings over one parsed compose file.
type composeRules struct {
	c        *composeFile
	bins     map[string]binaryInfo // by binary name; "smh" is `smh serve`
	errs     []string
	required map[string]bool // variables referenced as ${VAR:?message} somewhere in the file
}

func (r *composeRules) errorf(where, format string, args ...any) {
	r.errs = append(r.errs, where+": "+fmt.Sprintf(format, args...))
}

// composeBinaries answers the binaryInfo of every binary the image holds.
func composeBinaries(t *testing.T) map[string]binaryInfo {
	t.Helper()
	bins := splitBinaries(t)
	bins["smh"] = allInOneBinary(t)
	// Every one reads the operator key; if the parse of its command stopped finding that call,
	// the rules would judge the file on a short list of variables.
	for name, b := range bins {
		if !b.Env["SMH_ADMIN_KEY"] {
			t.Fatalf("%s does not seem to read SMH_ADMIN_KEY: has the way its command reads it changed?", name)
		}
	}
	return bins
}

// values answers every string of a service compose interpolates and the rules read.
func (s *composeService) values() []string {
	out := append([]string{s.Image}, s.Command...)
	for _, v := range s.Environment {
		out = append(out, v)
	}
	for _, v := range s.Volumes {
		out = append(out, v.Source)
	}
	if s.Build != nil {
		for _, v := range s.Build.Args {
			out = append(out, v)
		}
	}
	return out
}

// checkComposeRules answers every finding of the project's rules; none means the file keeps them.
func checkComposeRules(c *composeFile, bins map[string]binaryInfo) []string {
	r := &composeRules{c: c, bins: bins, required: map[string]bool{}}
	for _, s := range c.Services {
		for _, v := range s.values() {
			for _, ref := range refsOf(v) {
				if ref.Required() && strings.TrimSpace(ref.Arg) != "" {
					r.required[ref.Name] = true
				}
			}
		}
	}
	r.checkSecrets()
	if etcd := c.Services["etcd"]; etcd == nil || len(etcd.Healthcheck) == 0 {
		r.errorf("service etcd", "an etcd service with a healthcheck is required: the split services wait for it to be healthy")
	}
	run := map[string]bool{}
	for _, name := range sortedKeys(c.Services) {
		s := c.Services[name]
		if s.Build != nil || opensmhImage.MatchString(value(s.Image)) {
			r.checkOpenSMH("service "+name, s)
			run[r.binaryOf(s)] = true
		}
	}
	// The file deploys both ways (split and all-in-one): a binary no service runs would also be a
	// service these rules silently stopped recognising.
	for _, b := range sortedKeys(bins) {
		if !run[b] {
			r.errorf("docker-compose.yaml", "no service built from the Dockerfile runs %s", b)
		}
	}
	return r.errs
}

func refsOf(v string) []varRef {
	_, refs := interpolate(v)
	return refs
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// checkSecrets: each secret is required (${VAR:?message}, with a message saying where to set it)
// somewhere, and no service that always runs gives it a default. The all-in-one (in a profile)
// may: smh generates its own key and KEK when they are empty.
func (r *composeRules) checkSecrets() {
	for _, v := range composeSecrets {
		if !r.required[v] {
			r.errorf("docker-compose.yaml", "%s must be required with ${%s:?message}: a default would be a secret every deployment shares", v, v)
		}
	}
	for _, name := range sortedKeys(r.c.Services) {
		s := r.c.Services[name]
		if len(s.Profiles) > 0 {
			continue
		}
		for _, v := range s.values() {
			for _, ref := range refsOf(v) {
				if slices.Contains(composeSecrets, ref.Name) && ref.Defaulted() {
					r.errorf("service "+name, "${%s%s%s} gives a secret a default: write ${%s:?message}", ref.Name, ref.Op, ref.Arg, ref.Name)
				}
			}
		}
	}
}

// binaryOf answers the binary a service's command runs ("" if none of the image's).
func (r *composeRules) binaryOf(s *composeService) string {
	if len(s.Command) == 0 {
		return ""
	}
	b := path.Base(s.Command[0])
	if _, ok := r.bins[b]; !ok {
		return ""
	}
	return b
}

// checkOpenSMH: a service running the image built from the Dockerfile runs one of its binaries
// with flags and variables that binary reads, locked down (the image needs no privilege and
// writes only to its volumes), then the rules of that binary.
func (r *composeRules) checkOpenSMH(where string, s *composeService) {
	b := r.binaryOf(s)
	if b == "" {
		r.errorf(where, "command %q does not name one of the image's binaries %v", []string(s.Command), sortedKeys(r.bins))
		return
	}
	bin := r.bins[b]
	args := s.Command[1:]
	if b == "smh" {
		// Only `smh serve` runs a server; smh's other commands are clients.
		if len(args) == 0 || args[0] != "serve" {
			r.errorf(where, "the smh command must be `smh serve`")
			return
		}
		args = args[1:]
	}
	for _, e := range unknownFlags(bin, args) {
		r.errorf(where, "%s", e)
	}
	for _, name := range sortedKeys(s.Environment) {
		switch {
		case strings.HasPrefix(name, "OTEL_"):
		case !strings.HasPrefix(name, "SMH_"):
			r.errorf(where, "env %s: only SMH_* and OTEL_* variables are allowed", name)
		case !bin.Env[name]:
			r.errorf(where, "env %s is not read by %s (no flag fills it and its command does not read it)", name, b)
		}
	}
	if !s.ReadOnly || !slices.Contains(s.CapDrop, "ALL") ||
		!slices.ContainsFunc(s.SecurityOpt, func(o string) bool { return strings.HasPrefix(o, "no-new-privileges") }) {
		r.errorf(where, "needs read_only: true, cap_drop: [ALL] and security_opt no-new-privileges")
	}
	env := map[string]string{}
	for k, v := range s.Environment {
		env[k] = value(v)
	}
	if slices.Contains(sqlServices, b) {
		r.checkSQLDSN(where, s, b, env)
	}
	switch b {
	case "object":
		r.checkObject(where, s, env)
	case "gateway":
		r.checkGateway(where, env)
	}
	if b == "smh" {
		if !slices.Contains(s.Profiles, "all-in-one") {
			r.errorf(where, "the all-in-one service must be in profiles: [all-in-one]: it and the split services publish the same port")
		}
	} else {
		if s.DependsOn["etcd"] != "service_healthy" {
			r.errorf(where, "must depend on etcd with condition: service_healthy (it registers itself there on start)")
		}
		if lis := env["SMH_LISTEN"]; !strings.HasPrefix(lis, "0.0.0.0:") {
			r.errorf(where, "SMH_LISTEN %q must listen on 0.0.0.0 to be reachable from other containers", lis)
		}
	}
	if b == "gateway" || b == "smh" {
		if !slices.ContainsFunc(s.Ports, func(p composePort) bool { return p.Target == "8443" }) {
			r.errorf(where, "must publish 8443 (its HTTPS port)")
		}
		if !slices.ContainsFunc(s.Volumes, func(v composeVolume) bool { return v.Target == "/data" }) {
			r.errorf(where, "needs a volume on /data (its local CA, and for smh every store)")
		}
	}
}

// unknownFlags answers a finding for each --flag in args that bin does not declare.
func unknownFlags(bin binaryInfo, args []string) []string {
	var errs []string
	for _, a := range args {
		if name, ok := strings.CutPrefix(a, "--"); ok {
			name, _, _ = strings.Cut(name, "=")
			if !bin.Flags[name] {
				errs = append(errs, fmt.Sprintf("--%s is not a flag of %s", name, bin.Name))
			}
		}
	}
	return errs
}

// checkSQLDSN: namespace and object get a DSN (their default SQLite file would be on the
// read-only root). A postgres:// one names a service with a healthcheck they wait for, and every
// variable in it (the password) is required; a SQLite file lies on a volume.
func (r *composeRules) checkSQLDSN(where string, s *composeService, b string, env map[string]string) {
	raw, ok := s.Environment["SMH_SQL_DSN"]
	if !ok || env["SMH_SQL_DSN"] == "" {
		r.errorf(where, "needs SMH_SQL_DSN (%s's default SQLite file would be on the read-only root)", b)
		return
	}
	dsn := env["SMH_SQL_DSN"]
	if !postgresDSN.MatchString(dsn) {
		if !slices.ContainsFunc(s.Volumes, func(v composeVolume) bool { return v.Target != "" && under(dsn, []string{v.Target}) }) {
			r.errorf(where, "SMH_SQL_DSN %q: a SQLite file must be on a volume (the root is read-only)", dsn)
		}
		return
	}
	if u, err := url.Parse(dsn); err == nil {
		if db, ok := r.c.Services[u.Hostname()]; ok {
			if len(db.Healthcheck) == 0 {
				r.errorf("service "+u.Hostname(), "needs a healthcheck (%s waits for it)", b)
			}
			if s.DependsOn[u.Hostname()] != "service_healthy" {
				r.errorf(where, "must depend on %s with condition: service_healthy", u.Hostname())
			}
		}
	}
	for _, ref := range refsOf(raw) {
		if !r.required[ref.Name] {
			r.errorf(where, "%s (in SMH_SQL_DSN) must be required somewhere with ${%s:?message}", ref.Name, ref.Name)
		}
	}
}

// checkObject: SMH_DOMAIN is the public URL's host[:port] (it is required, and names the
// gateway's public address in upload tickets); the data endpoint listens for the gateway on a
// port of its own; blobs are on a kept mount unless S3 holds them; /tmp is writable.
func (r *composeRules) checkObject(where string, s *composeService, env map[string]string) {
	if env["SMH_DOMAIN"] == "" {
		r.errorf(where, "object needs SMH_DOMAIN (--domain is required): the gateway's public host[:port]")
	} else if e := domainProblem(env["SMH_DOMAIN"], r.publicURL()); e != "" {
		r.errorf(where, "%s", e)
	}
	data := env["SMH_DATA_LISTEN"]
	if !strings.HasPrefix(data, "0.0.0.0:") || portOf(data) == portOf(env["SMH_LISTEN"]) {
		r.errorf(where, "SMH_DATA_LISTEN %q must listen on 0.0.0.0, on a port other than SMH_LISTEN's", data)
	}
	var kept, all []string
	for _, v := range s.Volumes {
		all = append(all, v.Target)
		if r.kept(v) {
			kept = append(kept, v.Target)
		}
	}
	all = append(all, s.Tmpfs...)
	if env["SMH_S3_ENDPOINT"] == "" {
		dir := env["SMH_BLOB_DIR"]
		if !path.IsAbs(dir) || !under(dir, kept) {
			r.errorf(where, "SMH_BLOB_DIR %q must be an absolute path on a named volume or bind mount %v (or set SMH_S3_ENDPOINT)", dir, kept)
		}
	}
	if !under("/tmp", all) {
		r.errorf(where, "needs a writable /tmp (tmpfs): the root filesystem is read-only")
	}
}

// kept: a mount whose data outlives the container: a named volume of the file or a bind mount.
func (r *composeRules) kept(v composeVolume) bool {
	switch v.Type {
	case "volume":
		return v.Source != ""
	case "bind":
		return true
	case "":
		if _, named := r.c.Volumes[v.Source]; named {
			return true
		}
		return v.Source != "" && strings.ContainsAny(v.Source[:1], "./~$")
	}
	return false
}

// publicURL answers the gateway's SMH_PUBLIC_URL, interpolated ("" if none).
func (r *composeRules) publicURL() string {
	for _, name := range sortedKeys(r.c.Services) {
		s := r.c.Services[name]
		if r.binaryOf(s) == "gateway" && s.Environment["SMH_PUBLIC_URL"] != "" {
			return value(s.Environment["SMH_PUBLIC_URL"])
		}
	}
	return ""
}

// checkGateway: the object data endpoints come from etcd (the default) or from the object
// service's data port.
func (r *composeRules) checkGateway(where string, env map[string]string) {
	raw := env["SMH_OBJECT_DATA_URL"]
	if raw == "" || raw == "etcd" {
		return
	}
	u, err := url.Parse(raw)
	var target *composeService
	if err == nil && u.Scheme == "http" {
		target = r.c.Services[u.Hostname()]
	}
	if target == nil || r.binaryOf(target) != "object" {
		r.errorf(where, "SMH_OBJECT_DATA_URL %q must be etcd or http://<the object service>:<its data port>", raw)
		return
	}
	if want := portOf(value(target.Environment["SMH_DATA_LISTEN"])); portOf(u.Host) != want {
		r.errorf(where, "SMH_OBJECT_DATA_URL %q: port is not %s's SMH_DATA_LISTEN port %d", raw, u.Hostname(), want)
	}
}

// TestComposeProjectRules: docker-compose.yaml keeps every rule above.
func TestComposeProjectRules(t *testing.T) {
	errs := checkComposeRules(loadCompose(t), composeBinaries(t))
	for _, e := range errs {
		t.Error(e)
	}
}

// TestComposeRulesReject breaks the parsed file one way at a time: each break is reported, so
// the rules above do look (a rule that never fires would pass any file).
func TestComposeRulesReject(t *testing.T) {
	bins := composeBinaries(t)
	cases := []struct {
		name   string
		mutate func(c *composeFile)
		want   string
	}{
		{"env no flag fills", func(c *composeFile) { c.Services["library"].Environment["SMH_NO_SUCH_FLAG"] = "x" },
			"env SMH_NO_SUCH_FLAG is not read by library"},
		{"another binary's variable", func(c *composeFile) { c.Services["authtoken"].Environment["SMH_SECRET_KEK"] = "x" },
			"env SMH_SECRET_KEK is not read by authtoken"},
		{"a variable of neither prefix", func(c *composeFile) { c.Services["gateway"].Environment["TZ"] = "UTC" },
			"env TZ: only SMH_* and OTEL_* variables are allowed"},
		{"all-in-one flag it does not have", func(c *composeFile) {
			s := c.Services["smh"]
			s.Command = append(s.Command, "--no-such-flag", "1")
		}, "--no-such-flag is not a flag of smh"},
		{"split flag of the all-in-one", func(c *composeFile) {
			s := c.Services["namespace"]
			s.Command = append(s.Command, "--data-dir=/data") // smh serve's, not namespace's
		}, "--data-dir is not a flag of namespace"},
		{"etcd without healthcheck", func(c *composeFile) { c.Services["etcd"].Healthcheck = nil },
			"an etcd service with a healthcheck is required"},
		{"writable root", func(c *composeFile) { c.Services["gateway"].ReadOnly = false },
			"service gateway: needs read_only: true"},
		{"domain not the public URL's", func(c *composeFile) {
			c.Services["object"].Environment["SMH_DOMAIN"] = "${SMH_DOMAIN:-files.example.com}"
		}, `SMH_DOMAIN "files.example.com" is not the host[:port] of SMH_PUBLIC_URL "https://localhost:8443"`},
		{"domain with a scheme", func(c *composeFile) { c.Services["object"].Environment["SMH_DOMAIN"] = "https://localhost:8443" },
			"must be host[:port] (no scheme, no path)"},
		{"KEK defaulted", func(c *composeFile) { c.Services["library"].Environment["SMH_SECRET_KEK"] = "${SMH_SECRET_KEK:-}" },
			"SMH_SECRET_KEK must be required with ${SMH_SECRET_KEK:?message}"},
		{"admin key defaulted in one service", func(c *composeFile) {
			c.Services["authtoken"].Environment["SMH_ADMIN_KEY"] = "${SMH_ADMIN_KEY:-admin}"
		}, "service authtoken: ${SMH_ADMIN_KEY:-admin} gives a secret a default"},
		{"postgres password defaulted", func(c *composeFile) {
			c.Services["postgres"].Environment["POSTGRES_PASSWORD"] = "${SMH_POSTGRES_PASSWORD:-postgres}"
		}, "SMH_POSTGRES_PASSWORD (in SMH_SQL_DSN) must be required"},
		{"required without a message", func(c *composeFile) {
			c.Services["postgres"].Environment["POSTGRES_PASSWORD"] = "${SMH_POSTGRES_PASSWORD:?}"
		}, "SMH_POSTGRES_PASSWORD must be required with ${SMH_POSTGRES_PASSWORD:?message}"},
		{"not waiting for postgres", func(c *composeFile) { c.Services["namespace"].DependsOn["postgres"] = "service_started" },
			"service namespace: must depend on postgres with condition: service_healthy"},
		{"not waiting for etcd", func(c *composeFile) { delete(c.Services["authtoken"].DependsOn, "etcd") },
			"service authtoken: must depend on etcd"},
		{"no DSN", func(c *composeFile) { delete(c.Services["object"].Environment, "SMH_SQL_DSN") },
			"service object: needs SMH_SQL_DSN"},
		{"blobs off the volume", func(c *composeFile) { c.Services["object"].Environment["SMH_BLOB_DIR"] = "/var/blobs" },
			`SMH_BLOB_DIR "/var/blobs" must be an absolute path on a named volume`},
		{"no writable /tmp", func(c *composeFile) { c.Services["object"].Tmpfs = nil }, "needs a writable /tmp"},
		{"data endpoint on the gRPC port", func(c *composeFile) { c.Services["object"].Environment["SMH_DATA_LISTEN"] = "0.0.0.0:9104" },
			"SMH_DATA_LISTEN \"0.0.0.0:9104\" must listen on 0.0.0.0, on a port other than SMH_LISTEN's"},
		{"data URL on the wrong port", func(c *composeFile) {
			c.Services["gateway"].Environment["SMH_OBJECT_DATA_URL"] = "http://object:9104"
		}, "port is not object's SMH_DATA_LISTEN port 9105"},
		{"listening on loopback", func(c *composeFile) { c.Services["library"].Environment["SMH_LISTEN"] = "127.0.0.1:9101" },
			`SMH_LISTEN "127.0.0.1:9101" must listen on 0.0.0.0`},
		{"all-in-one outside its profile", func(c *composeFile) { c.Services["smh"].Profiles = nil },
			"must be in profiles: [all-in-one]"},
		{"smh not serving", func(c *composeFile) { c.Services["smh"].Command = words{"smh", "library", "list"} },
			"the smh command must be `smh serve`"},
		{"gateway not publishing 8443", func(c *composeFile) { c.Services["gateway"].Ports = nil }, "service gateway: must publish 8443"},
		{"not one of the binaries", func(c *composeFile) { c.Services["library"].Command = words{"sh", "-c", "library"} },
			`command ["sh" "-c" "library"] does not name one of the image's binaries`},
		{"a binary deployed by no service", func(c *composeFile) { delete(c.Services, "authtoken") },
			"no service built from the Dockerfile runs authtoken"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := loadCompose(t) // a fresh copy to break
			c.mutate(f)
			wantFinding(t, checkComposeRules(f, bins), c.want)
		})
	}
}

// TestComposeInterpolate: defaults are substituted, $$ is a literal $, and :? marks a
// reference required (the rules on secrets rest on this).
func TestComposeInterpolate(t *testing.T) {
	got, refs := interpolate("a${X:-1}b${Y}c${Z:?set Z}$${W}${V-2}")
	if got != "a1bc${W}2" {
		t.Errorf("interpolated %q", got)
	}
	want := []varRef{{"X", ":-", "1"}, {"Y", "", ""}, {"Z", ":?", "set Z"}, {"V", "-", "2"}}
	if !slices.Equal(refs, want) {
		t.Errorf("references %v, want %v", refs, want)
	}
	if refs[0].Required() || !refs[2].Required() || !refs[0].Defaulted() || refs[2].Defaulted() {
		t.Errorf("Required/Defaulted wrong for %v", refs)
	}
}

// ---- Dockerfile ---------------------------------------------------------------------------

// officialImage: a Docker Official Image (Docker Hub's library/, written without a namespace),
// distroless or etcd's own. ADR 0051: the files name these for users; local stand-ins come in
// through the variables only.
var officialImage = regexp.MustCompile(`^(?:docker\.io/library/)?[a-z0-9._-]+(?::[\w.-]+)?(?:@sha256:[0-9a-f]+)?$|^gcr\.io/distroless/|^gcr\.io/etcd-development/etcd:`)

var argRef = regexp.MustCompile(`^\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?$`)

// checkDockerfile answers the findings of the project's rules on the Dockerfile's instructions;
// goWorkModules are the module directories go.work uses.
func checkDockerfile(ins []dockerInstruction, goWorkModules []string, bins map[string]binaryInfo) []string {
	var errs []string
	errorf := func(format string, args ...any) { errs = append(errs, "Dockerfile: "+fmt.Sprintf(format, args...)) }
	global := map[string]string{} // ARG before the first FROM -> default
	stages := map[string]bool{}
	var copied, built []string
	cgoOff, copiesWork := false, false
	lastUser, froms := "", 0
	for _, in := range ins {
		fields := strings.Fields(in.Args)
		switch in.Cmd {
		case "ARG":
			if froms == 0 {
				name, def, _ := strings.Cut(in.Args, "=")
				global[name] = def
			}
		case "FROM":
			froms++
			lastUser = "" // each stage starts as its base's user: root for a builder image
			// FROM [--platform=...] image [AS name]
			fields = slices.DeleteFunc(fields, func(f string) bool { return strings.HasPrefix(f, "--") })
			if len(fields) == 0 {
				errorf("line %d: FROM names no image", in.Line)
				continue
			}
			fromStage := stages[fields[0]] // FROM an earlier stage: checked where that one began
			if len(fields) == 3 && strings.EqualFold(fields[1], "AS") {
				stages[fields[2]] = true
			}
			if fromStage {
				continue
			}
			m := argRef.FindStringSubmatch(fields[0])
			if m == nil {
				errorf("line %d: FROM %s: base images come from build arguments (ADR 0051), so local stand-ins can replace them", in.Line, fields[0])
				continue
			}
			def, ok := global[m[1]]
			switch {
			case !ok:
				errorf("line %d: FROM %s: %s is not an ARG declared before the first FROM", in.Line, fields[0], m[1])
			case !officialImage.MatchString(def):
				errorf("line %d: ARG %s defaults to %q, not an official image (ADR 0051)", in.Line, m[1], def)
			}
		case "COPY":
			args := slices.DeleteFunc(slices.Clone(fields), func(f string) bool { return strings.HasPrefix(f, "--") })
			if len(args) >= 2 {
				copied = append(copied, args[:len(args)-1]...)
				if slices.Contains(args[:len(args)-1], "go.work") {
					copiesWork = true
				}
			}
		case "ENV":
			if strings.Contains(" "+in.Args, " CGO_ENABLED=0") {
				cgoOff = true
			}
		case "RUN":
			if strings.Contains(in.Args, "CGO_ENABLED=0") {
				cgoOff = true
			}
			if slices.Contains(fields, "build") {
				built = append(built, fields...)
			}
		case "USER":
			lastUser = in.Args
		}
	}
	for _, b := range sortedKeys(bins) {
		pkg := "./services/" + b + "/cmd/" + b
		if !slices.Contains(built, pkg) {
			errorf("does not build %s (go build in a RUN)", pkg)
		}
		if _, err := os.Stat(filepath.Join("..", "..", pkg)); err != nil {
			errorf("%s does not exist", pkg)
		}
	}
	if copiesWork {
		// Workspace mode fails to load unless every module named in go.work has its go.mod.
		for _, m := range goWorkModules {
			if !slices.Contains(copied, m+"/go.mod") {
				errorf("does not copy %s/go.mod (go.work uses ./%s)", m, m)
			}
		}
	}
	if !cgoOff {
		errorf("CGO_ENABLED=0 is not set: the runtime image has no C library")
	}
	if u, _, _ := strings.Cut(lastUser, ":"); u == "" || u == "root" || u == "0" {
		errorf("the final stage must set a non-root USER")
	}
	return errs
}

// goWorkModules answers the directories go.work uses (use ./x or a use ( ... ) block).
func goWorkModules(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile("../../go.work")
	if err != nil {
		t.Fatal(err)
	}
	var mods []string
	block := false
	for _, line := range strings.Split(string(data), "\n") {
		line, _, _ = strings.Cut(line, "//")
		f := strings.Fields(line)
		switch {
		case len(f) == 2 && f[0] == "use" && f[1] == "(":
			block = true
		case block && len(f) == 1 && f[0] == ")":
			block = false
		case block && len(f) == 1:
			mods = append(mods, strings.TrimPrefix(f[0], "./"))
		case len(f) == 2 && f[0] == "use":
			mods = append(mods, strings.TrimPrefix(f[1], "./"))
		}
	}
	if len(mods) == 0 {
		t.Fatal("go.work uses no module")
	}
	return mods
}

// TestDockerfileProjectRules: the Dockerfile keeps every rule above, and the compose file builds
// it with the same official defaults for its base images.
func TestDockerfileProjectRules(t *testing.T) {
	ins := loadDockerfile(t)
	for _, e := range checkDockerfile(ins, goWorkModules(t), composeBinaries(t)) {
		t.Error(e)
	}
	// A build argument the Dockerfile does not declare is ignored; one defaulting elsewhere than
	// the Dockerfile would build another image under `compose up --build` than under docker build.
	args := map[string]string{}
	for _, in := range ins {
		if in.Cmd == "ARG" {
			name, def, _ := strings.Cut(in.Args, "=")
			args[name] = def
		}
	}
	built, c := 0, loadCompose(t)
	for _, name := range sortedKeys(c.Services) {
		s := c.Services[name]
		if s.Build == nil {
			continue
		}
		built++
		for arg, v := range s.Build.Args {
			def, ok := args[arg]
			switch {
			case !ok:
				t.Errorf("service %s: build arg %s is not an ARG of the Dockerfile", name, arg)
			case strings.HasSuffix(arg, "_IMAGE") && value(v) != def:
				t.Errorf("service %s: build arg %s defaults to %q, the Dockerfile to %q", name, arg, value(v), def)
			}
		}
	}
	if built == 0 {
		t.Error("docker-compose.yaml builds no service from the Dockerfile")
	}
}

// TestComposeImagesOfficial: the images compose pulls are variables defaulting to official ones
// (ADR 0051).
func TestComposeImagesOfficial(t *testing.T) {
	c := loadCompose(t)
	for _, name := range sortedKeys(c.Services) {
		s := c.Services[name]
		if s.Build != nil {
			continue
		}
		refs := refsOf(s.Image)
		if len(refs) != 1 || !refs[0].Defaulted() || !officialImage.MatchString(value(s.Image)) {
			t.Errorf("service %s: image %q must be ${SMH_<NAME>_IMAGE:-<an official image>}", name, s.Image)
		}
	}
}

// TestDockerfileRulesReject breaks the Dockerfile's text one way at a time; each break is
// reported.
func TestDockerfileRulesReject(t *testing.T) {
	data, err := os.ReadFile(dockerfilePath)
	if err != nil {
		t.Fatal(err)
	}
	text, mods, bins := string(data), goWorkModules(t), composeBinaries(t)
	cases := []struct{ name, replace, with, want string }{
		{"a package not built", "      ./services/object/cmd/object \\\n", "", "does not build ./services/object/cmd/object"},
		{"a package named only in a comment", "      ./services/object/cmd/object \\\n", "      # ./services/object/cmd/object\n", "does not build ./services/object/cmd/object"},
		{"a go.mod not copied", "COPY bench/go.mod bench/go.sum bench/\n", "", "does not copy bench/go.mod"},
		{"cgo on", "ENV CGO_ENABLED=0\n", "", "CGO_ENABLED=0 is not set"},
		{"root user", "USER 65532:65532\n", "USER root\n", "the final stage must set a non-root USER"},
		{"no user", "USER 65532:65532\n", "", "the final stage must set a non-root USER"},
		{"base image fixed", "FROM ${GO_IMAGE} AS build", "FROM golang:1.26 AS build", "base images come from build arguments"},
		{"base image not official", "ARG RUNTIME_IMAGE=gcr.io/distroless/static-debian12:nonroot", "ARG RUNTIME_IMAGE=example.com/static:latest", "not an official image"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if !strings.Contains(text, c.replace) {
				t.Fatalf("the Dockerfile has no %q to break", c.replace)
			}
			wantFinding(t, checkDockerfile(parseDockerfile(strings.Replace(text, c.replace, c.with, 1)), mods, bins), c.want)
		})
	}
}
