// Package deploy checks the deployment files against the real things: deploy/systemd against the
// binaries and systemd, k8s/ against kustomize, the Kubernetes API types and schema, the binaries' flag
// sets and a real kube-apiserver (decision 50).
package deploy

import (
	"bufio"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/opensmh/opensmh/pkg/config"
	"github.com/opensmh/opensmh/services/authtoken"
	"github.com/opensmh/opensmh/services/gateway"
	"github.com/opensmh/opensmh/services/library"
	"github.com/opensmh/opensmh/services/namespace"
	"github.com/opensmh/opensmh/services/object"
	"github.com/opensmh/opensmh/tests/internal/proc"
)

// binDir holds the binaries the units start, built once for the package.
var binDir string

func TestMain(m *testing.M) {
	os.Exit(proc.RunWithBinaries(m, &binDir, append([]string{proc.SMHCommand}, proc.ServiceCommands...)...))
}

const systemdDir = "../../deploy/systemd"

// splitServices are the instances of the opensmh@ template unit.
var splitServices = []string{"library", "authtoken", "namespace", "object", "gateway"}

// envOnly are settings read from the environment alone, never from a flag a process list shows.
var envOnly = map[string]bool{"SMH_ADMIN_KEY": true, "SMH_SECRET_KEK": true, "SMH_S3_ACCESS_KEY": true, "SMH_S3_SECRET_KEY": true}

// TestSystemdUnitsVerify has systemd itself check each unit as installed, with the ExecStart
// binary in place: the directives parse, the command exists and is executable.
func TestSystemdUnitsVerify(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("systemd-analyze NOT FOUND: CI runs on a systemd machine (Debian's systemd package)")
		}
		t.Skip("systemd-analyze not installed: the units are NOT verified")
	}
	units := map[string]string{"opensmh.service": "smh"} // installed unit name -> binary
	for _, s := range splitServices {
		units["opensmh@"+s+".service"] = s
	}
	for unit, binary := range units {
		t.Run(unit, func(t *testing.T) {
			src := "opensmh.service"
			if strings.HasPrefix(unit, "opensmh@") {
				src = "opensmh@.service"
			}
			text, err := os.ReadFile(filepath.Join(systemdDir, src))
			if err != nil {
				t.Fatal(err)
			}
			installed := strings.ReplaceAll(string(text), "/opt/opensmh/bin/", binDir+"/")
			if !strings.Contains(installed, "ExecStart="+binDir+"/") {
				t.Fatalf("%s: ExecStart does not start a binary from /opt/opensmh/bin", src)
			}
			path := filepath.Join(t.TempDir(), unit)
			if err := os.WriteFile(path, []byte(installed), 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(analyze, "verify", path).CombinedOutput()
			// verify answers 0 after warnings such as an unknown directive: any output is a finding.
			if err != nil || len(strings.TrimSpace(string(out))) > 0 {
				t.Fatalf("systemd-analyze verify %s (%v):\n%s", unit, err, out)
			}
			if _, err := os.Stat(filepath.Join(binDir, binary)); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestSystemdEnvFilesNameRealFlags checks each example environment file against its binary's
// real flag set (SMH_<FLAG> fills --<flag>, pkg/config): a setting no flag reads would be
// silently ignored.
func TestSystemdEnvFilesNameRealFlags(t *testing.T) {
	files := map[string][]string{"common.env": splitServices, "smh.env": {"smh serve"}}
	for _, s := range splitServices {
		files[s+".env"] = []string{s}
	}
	for file, binaries := range files {
		settings := envSettings(t, filepath.Join(systemdDir, "env", file))
		if len(settings) == 0 {
			t.Errorf("%s sets nothing", file)
		}
		for _, binary := range binaries {
			flags := flagsOf(t, binary)
			for _, name := range settings {
				if envOnly[name] {
					continue
				}
				if !slices.ContainsFunc(flags, func(f string) bool { return config.EnvName(f) == name }) {
					t.Errorf("%s sets %s, but %s has no flag it fills", file, name, binary)
				}
			}
		}
	}
}

// TestSplitFlagsAreTheBinaries checks that the flag sets the services export are the flags their
// binaries declare, so the check above reads the binaries' real flags.
func TestSplitFlagsAreTheBinaries(t *testing.T) {
	for _, s := range splitServices {
		exported, declared := flagsOf(t, s), helpFlags(t, s)
		slices.Sort(exported)
		slices.Sort(declared)
		if !slices.Equal(exported, declared) {
			t.Errorf("%s: the exported flags are %q, its --help lists %q", s, exported, declared)
		}
	}
}

func envSettings(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var names []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, _, ok := strings.Cut(line, "=")
		if !ok || !strings.HasPrefix(name, "SMH_") {
			t.Fatalf("%s: %q is not SMH_NAME=value", path, line)
		}
		names = append(names, name)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return names
}

// splitFlags are the flags of each split binary beside cmdutil.Common, as its service exports
// them (its main passes exactly these to cmdutil.FlagSet).
var splitFlags = map[string]interface{ AddFlags(*pflag.FlagSet) }{
	"library":   &library.Flags{},
	"authtoken": &authtoken.Flags{},
	"namespace": &namespace.Flags{},
	"object":    &object.Flags{},
	"gateway":   &gateway.Flags{},
}

// flagsOf answers the long flags binary (a split binary's name, or "smh serve") declares: a
// split binary's from the flag sets its service exports, smh serve's from server.Flags, which
// its command declares its flags with.
func flagsOf(t *testing.T, binary string) []string {
	t.Helper()
	if _, ok := splitFlags[binary]; !ok && binary != "smh serve" {
		t.Fatalf("no flag set known for %q", binary)
	}
	if binary == "smh serve" {
		return slices.Collect(maps.Keys(allInOneBinary(t).Flags))
	}
	return slices.Collect(maps.Keys(splitBinary(t, binary).Flags))
}

var flagName = regexp.MustCompile(`(?m)^\s+(?:-\w, )?--([a-z0-9-]+)`)

// helpFlags answers the long flags binary lists in its --help.
func helpFlags(t *testing.T, binary string) []string {
	t.Helper()
	args := strings.Fields(binary)
	cmd := exec.Command(filepath.Join(binDir, args[0]), append(args[1:], "--help")...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	out, _ := cmd.CombinedOutput()
	var flags []string
	for _, m := range flagName.FindAllStringSubmatch(string(out), -1) {
		flags = append(flags, m[1])
	}
	if !slices.Contains(flags, "listen") {
		t.Fatalf("%s --help lists no --listen; its output:\n%s", binary, out)
	}
	return flags
}
