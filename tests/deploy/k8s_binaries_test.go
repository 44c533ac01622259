package deploy

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/spf13/pflag"

	"github.com/opensmh/opensmh/pkg/cmdutil"
	"github.com/opensmh/opensmh/pkg/config"
)

// binaryInfo is what a split binary accepts and reaches, from its own code: its flag set as its
// main builds it (cmdutil.FlagSet with the Flags its service exports), the SMH_* variables that
// fill those flags (config.EnvName, the mapping cmdutil.Main applies), the variables its main
// reads itself and the services it dials.
type binaryInfo struct {
	Name  string
	Flags map[string]bool
	Env   map[string]bool // every variable it reads
	Dials []string        // services it reaches through etcd (env.Dial)
}

// splitBinary answers the binaryInfo of a split binary (library, authtoken, namespace, object,
// gateway).
func splitBinary(t *testing.T, name string) binaryInfo {
	t.Helper()
	own, ok := splitFlags[name]
	if !ok {
		t.Fatalf("%s is not a split binary", name)
	}
	b := binaryInfo{Name: name, Flags: map[string]bool{}, Env: map[string]bool{}}
	cmdutil.FlagSet(name, new(cmdutil.Common), own).VisitAll(func(f *pflag.Flag) {
		b.Flags[f.Name] = true
		b.Env[config.EnvName(f.Name)] = true
	})
	direct, dials := mainCalls(t, name)
	for _, v := range direct {
		b.Env[v] = true
	}
	b.Dials = dials
	return b
}

// mainCalls answers the variables a binary's main reads itself (cmdutil.RequireEnv, os.Getenv,
// os.LookupEnv: the secrets that are never flags) and the services it dials (env.Dial), from the
// parsed source of services/<name>/cmd/<name>/main.go: these are calls, not declarations, so no
// exported value lists them.
func mainCalls(t *testing.T, name string) (env, dials []string) {
	t.Helper()
	path := filepath.Join("..", "..", "services", name, "cmd", name, "main.go")
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	ast.Inspect(f, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok || len(call.Args) != 1 {
			return true
		}
		sel, ok := call.Fun.(*ast.SelectorExpr)
		lit, isLit := call.Args[0].(*ast.BasicLit)
		if !ok || !isLit || lit.Kind != token.STRING {
			return true
		}
		v, _ := strconv.Unquote(lit.Value)
		switch sel.Sel.Name {
		case "RequireEnv", "Getenv", "LookupEnv":
			env = append(env, v)
		case "Dial":
			dials = append(dials, v)
		}
		return true
	})
	if len(env) == 0 {
		t.Fatalf("%s: no RequireEnv/Getenv call found: every split binary reads SMH_ADMIN_KEY", path)
	}
	return env, dials
}
