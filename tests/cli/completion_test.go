package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// completionLibrary makes a library holding docs/a.txt, "docs/b c.txt" and docs/sub/x, and
// answers a user who calls it with the library secret.
func completionLibrary(t *testing.T) (library, user) {
	lib := newLibrary(t, "", "--file-library")
	u := lib.owner(t)
	u.ok("mkdir", "-p", lib.at("docs/sub"))
	for _, name := range []string{"a.txt", "b c.txt"} {
		u.ok("put", u.writeFile(name, []byte(name)), lib.at("docs/"+name))
	}
	u.ok("put", u.writeFile("x", []byte("x")), lib.at("docs/sub/x"))
	return lib, u
}

// inShell runs a shell command line with the smh binary on PATH and the user's environment.
func (u user) inShell(t *testing.T, shell string, args ...string) string {
	t.Helper()
	path, err := exec.LookPath(shell)
	if err != nil {
		t.Fatalf("%s is not installed: the completion tests need bash (with the bash-completion package), zsh and fish (.ci/run installs them)", shell)
	}
	c := u.cmd()
	sh := exec.Command(path, args...)
	sh.Dir = c.Dir
	sh.Env = append(c.Env, "PATH="+filepath.Dir(server.bin)+":"+os.Getenv("PATH"))
	out, err := sh.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", shell, err, out)
	}
	return string(out)
}

// TestCompletionOfRemotePaths: the completion protocol lists a remote directory's entries
// (directories with a trailing slash) and leaves local paths to the shell; bash, zsh and fish,
// with the scripts `smh completion` writes, offer those entries at a TAB.
func TestCompletionOfRemotePaths(t *testing.T) {
	lib, u := completionLibrary(t)
	// The server lists directories first.
	want := []string{lib.at("docs/sub/"), lib.at("docs/a.txt"), lib.at("docs/b c.txt")}

	out := strings.Split(strings.TrimSpace(u.ok("__complete", "get", lib.at("docs/"))), "\n")
	if got := out[:len(out)-1]; !slices.Equal(got, want) || out[len(out)-1] != ":6" {
		t.Fatalf("__complete get %s: %q; want %q and the no-space, no-file directive :6", lib.at("docs/"), out, want)
	}
	out = strings.Split(strings.TrimSpace(u.ok("__complete", "ls", lib.at("docs/b"))), "\n")
	if !slices.Equal(out, []string{lib.at("docs/b c.txt"), ":6"}) {
		t.Fatalf("__complete with a name prefix: %q", out)
	}
	// A local path is the shell's to complete (directive 0, default file completion).
	if out := u.ok("__complete", "put", "./"); strings.TrimSpace(out) != ":0" {
		t.Fatalf("__complete of a local path: %q", out)
	}

	// bash splits words at the colon (COMP_WORDBREAKS); bash-completion's helpers put them back
	// together and the reply holds what follows the colon.
	script := `source /usr/share/bash-completion/bash_completion || exit 3
source <(smh completion bash)
COMP_LINE="smh get ` + lib.at("docs/") + `"; COMP_POINT=${#COMP_LINE}
COMP_WORDS=(smh get ` + lib.ID + ` : docs/); COMP_CWORD=4
__start_smh 2>/dev/null
printf '%s\n' "${COMPREPLY[@]}"`
	bash := strings.Split(strings.TrimSpace(u.inShell(t, "bash", "-c", script)), "\n")
	for _, w := range want {
		if !slices.Contains(bash, strings.TrimPrefix(w, lib.ID+":")) && !slices.Contains(bash, strings.ReplaceAll(strings.TrimPrefix(w, lib.ID+":"), " ", `\ `)) {
			t.Fatalf("bash offers %q, not %q", bash, w)
		}
	}

	fish := u.inShell(t, "fish", "-c", "smh completion fish | source; complete -C 'smh get "+lib.at("docs/")+"'")
	for _, w := range want {
		if !strings.Contains(fish, w) {
			t.Fatalf("fish offers %q, not %q", fish, w)
		}
	}

	// zsh completes only in an interactive shell: zpty gives it a terminal, types the line and a
	// TAB, and reads what it lists.
	zsh := u.inShell(t, "zsh", "-fc", `zmodload zsh/zpty
zpty z zsh -f -i
zpty -w z "PS1='> '; autoload -U compinit; compinit -u; source <(smh completion zsh)"
sleep 1
zpty -w -n z "smh get `+lib.at("docs/")+`"$'\t'
sleep 3
all=""
while zpty -r -t z chunk; do all+=$chunk; done
zpty -d z
print -r -- "$all"`)
	for _, w := range want {
		if !strings.Contains(zsh, w) {
			t.Fatalf("zsh lists %q, not %q", zsh, w)
		}
	}
}

// TestHelpShowsExamples walks every command the completion protocol names and checks that its
// help has an Examples section.
func TestHelpShowsExamples(t *testing.T) {
	u := operator(t)
	var visit func(path []string)
	seen := 0
	visit = func(path []string) {
		help := u.ok(append(path, "--help")...)
		if !strings.Contains(help, "\nExamples:\n  ") {
			t.Errorf("smh %s --help shows no example:\n%s", strings.Join(path, " "), help)
		}
		seen++
		if !strings.Contains(help, "Available Commands:") {
			return
		}
		for _, line := range strings.Split(u.ok(append(append([]string{"__complete"}, path...), "")...), "\n") {
			name, _, _ := strings.Cut(line, "\t")
			if name == "" || strings.HasPrefix(name, ":") || strings.HasPrefix(name, "-") {
				continue
			}
			visit(append(slices.Clone(path), name))
		}
	}
	visit(nil)
	if seen < 25 {
		t.Fatalf("the walk saw %d commands; the tree has more", seen)
	}
}
