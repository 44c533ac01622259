package deploy

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// docker-compose.yaml and the Dockerfile, read into the few typed shapes the project's rules
// (compose_rules_test.go) need. Compose itself is not available here: tests/compose runs the file
// on a real engine; these tests check it statically, as part of every go test run.

const (
	composePath    = "../../docker-compose.yaml"
	dockerfilePath = "../../Dockerfile"
)

// composeFile is the part of a compose file the rules read; other keys (restart,
// stop_grace_period, the x- extension fields whose anchors the services merge) are ignored, as
// compose's own schema allows many the rules have no use for.
type composeFile struct {
	Services map[string]*composeService `json:"services"`
	Volumes  map[string]any             `json:"volumes"`
}

type composeService struct {
	Image       string          `json:"image"`
	Build       *composeBuild   `json:"build"`
	Command     words           `json:"command"`
	Environment composeEnv      `json:"environment"`
	Volumes     []composeVolume `json:"volumes"`
	Tmpfs       words           `json:"tmpfs"`
	ReadOnly    bool            `json:"read_only"`
	CapDrop     []string        `json:"cap_drop"`
	SecurityOpt []string        `json:"security_opt"`
	Profiles    []string        `json:"profiles"`
	Ports       []composePort   `json:"ports"`
	DependsOn   dependsOn       `json:"depends_on"`
	Healthcheck map[string]any  `json:"healthcheck"`
}

type composeBuild struct {
	Context string            `json:"context"`
	Args    map[string]string `json:"args"`
}

// UnmarshalJSON takes both forms: `build: .` (the context alone) and the mapping.
func (b *composeBuild) UnmarshalJSON(data []byte) error {
	var ctx string
	if json.Unmarshal(data, &ctx) == nil {
		*b = composeBuild{Context: ctx}
		return nil
	}
	type plain composeBuild
	return json.Unmarshal(data, (*plain)(b))
}

// words is a command or tmpfs list, written as a list or as one string (split on spaces).
type words []string

func (w *words) UnmarshalJSON(data []byte) error {
	var one string
	if json.Unmarshal(data, &one) == nil {
		*w = strings.Fields(one)
		return nil
	}
	var list []any
	if err := json.Unmarshal(data, &list); err != nil {
		return err
	}
	for _, v := range list {
		*w = append(*w, fmt.Sprint(v))
	}
	return nil
}

// composeEnv is environment: a mapping, or a list of NAME=value (a bare NAME passes the host's
// value on, which the rules see as empty). Non-string scalars are their YAML text.
type composeEnv map[string]string

func (e *composeEnv) UnmarshalJSON(data []byte) error {
	*e = composeEnv{}
	return listOrMap(data, func(s string) {
		k, v, _ := strings.Cut(s, "=")
		(*e)[k] = v
	}, func(k string, v any) {
		if v != nil {
			(*e)[k] = fmt.Sprint(v)
		} else {
			(*e)[k] = ""
		}
	})
}

// listOrMap decodes compose's two spellings of a collection: a list of strings, each handed to
// item, or a mapping, each entry handed to entry.
func listOrMap[V any](data []byte, item func(string), entry func(string, V)) error {
	var list []string
	if json.Unmarshal(data, &list) == nil {
		for _, s := range list {
			item(s)
		}
		return nil
	}
	var m map[string]V
	if err := json.Unmarshal(data, &m); err != nil {
		return err
	}
	for k, v := range m {
		entry(k, v)
	}
	return nil
}

// composeVolume is a service's mount: short syntax source:target[:mode] or the long mapping.
type composeVolume struct {
	Type   string `json:"type"` // long syntax only
	Source string `json:"source"`
	Target string `json:"target"`
}

func (v *composeVolume) UnmarshalJSON(data []byte) error {
	var short string
	if json.Unmarshal(data, &short) == nil {
		parts := strings.Split(short, ":")
		if len(parts) == 1 {
			*v = composeVolume{Target: parts[0]} // an anonymous volume
		} else {
			*v = composeVolume{Source: parts[0], Target: parts[1]}
		}
		return nil
	}
	type plain composeVolume
	return json.Unmarshal(data, (*plain)(v))
}

// composePort is a published port: short syntax [host:]container[/proto] or the long mapping;
// Target is the container's port (interpolation left to the reader).
type composePort struct{ Target string }

func (p *composePort) UnmarshalJSON(data []byte) error {
	var long struct {
		Target any `json:"target"`
	}
	if json.Unmarshal(data, &long) == nil && long.Target != nil {
		p.Target = fmt.Sprint(long.Target)
		return nil
	}
	var short any
	if err := json.Unmarshal(data, &short); err != nil {
		return err
	}
	s, _, _ := strings.Cut(fmt.Sprint(short), "/")
	// The container port follows the last colon outside ${...}: the host part may be a variable
	// with a default such as ${SMH_HTTPS_PORT:-8443}.
	s = composeVar.ReplaceAllString(s, "")
	p.Target = s[strings.LastIndex(s, ":")+1:]
	return nil
}

// dependsOn is depends_on: a mapping of service to condition, or a list of services (which
// waits for them to start only).
type dependsOn map[string]string

func (d *dependsOn) UnmarshalJSON(data []byte) error {
	*d = dependsOn{}
	type wait struct {
		Condition string `json:"condition"`
	}
	return listOrMap(data, func(s string) { (*d)[s] = "service_started" }, func(s string, w wait) { (*d)[s] = w.Condition })
}

// loadCompose parses docker-compose.yaml (anchors and `<<:` merge keys resolved by the YAML
// parser, as compose resolves them), fresh for each caller so negative tests can break it.
func loadCompose(t *testing.T) *composeFile {
	t.Helper()
	data, err := os.ReadFile(composePath)
	if err != nil {
		t.Fatal(err)
	}
	var c composeFile
	if err := yaml.Unmarshal(data, &c); err != nil {
		t.Fatalf("docker-compose.yaml: %v", err)
	}
	if len(c.Services) == 0 {
		t.Fatal("docker-compose.yaml: no services")
	}
	return &c
}

// composeVar is one compose variable reference: ${NAME}, ${NAME:-default}, ${NAME-default},
// ${NAME:?message}, ${NAME?message} (and the :+/+ forms). $$ is a literal $, handled apart.
var composeVar = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}`)

// varRef is one reference in a value: its variable, operator ("" for ${NAME}) and default or
// message.
type varRef struct{ Name, Op, Arg string }

// Required: compose refuses to start without the variable (":?" also refuses it empty).
func (r varRef) Required() bool { return r.Op == ":?" || r.Op == "?" }

// Defaulted: the reference falls back to a value of the file's when the variable is unset.
func (r varRef) Defaulted() bool { return r.Op == ":-" || r.Op == "-" }

// interpolate answers v as compose makes it when none of the variables are set, the case the
// file's defaults describe: a default replaces its reference, anything else (a plain or
// required reference, which compose leaves empty or refuses) becomes ""; and the references it
// holds, so rules can ask which are required.
func interpolate(v string) (string, []varRef) {
	const dollar = "\x00"
	v = strings.ReplaceAll(v, "$$", dollar)
	var refs []varRef
	out := composeVar.ReplaceAllStringFunc(v, func(m string) string {
		s := composeVar.FindStringSubmatch(m)
		r := varRef{Name: s[1], Op: s[2], Arg: s[3]}
		refs = append(refs, r)
		if r.Defaulted() {
			return r.Arg
		}
		return ""
	})
	return strings.ReplaceAll(out, dollar, "$"), refs
}

// value answers v interpolated (interpolate), for rules about the values the file sets.
func value(v string) string {
	s, _ := interpolate(v)
	return s
}

// dockerInstruction is one instruction of a Dockerfile: its keyword (upper case), its arguments
// as written (continuation lines joined) and its line.
type dockerInstruction struct {
	Cmd  string
	Args string
	Line int
}

// parseDockerfile splits a Dockerfile into instructions: comment lines dropped (also inside a
// continued instruction, as Docker does), a trailing \ joining the next line. Enough for the
// rules, which read instructions rather than grep the text: a comment naming a package does not
// build it.
func parseDockerfile(text string) []dockerInstruction {
	var out []dockerInstruction
	var cur *dockerInstruction
	for i, line := range strings.Split(text, "\n") {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "#") || (trimmed == "" && cur == nil) {
			continue
		}
		cont := strings.HasSuffix(trimmed, `\`)
		trimmed = strings.TrimSpace(strings.TrimSuffix(trimmed, `\`))
		if cur == nil {
			cmd, args, _ := strings.Cut(trimmed, " ")
			cur = &dockerInstruction{Cmd: strings.ToUpper(cmd), Args: strings.TrimSpace(args), Line: i + 1}
		} else if trimmed != "" {
			cur.Args += " " + trimmed
		}
		if !cont {
			out = append(out, *cur)
			cur = nil
		}
	}
	if cur != nil {
		out = append(out, *cur)
	}
	return out
}

func loadDockerfile(t *testing.T) []dockerInstruction {
	t.Helper()
	data, err := os.ReadFile(dockerfilePath)
	if err != nil {
		t.Fatal(err)
	}
	ins := parseDockerfile(string(data))
	if len(ins) == 0 {
		t.Fatal("Dockerfile: no instructions")
	}
	return ins
}
