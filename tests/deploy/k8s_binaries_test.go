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
	"github.com/opensmh/opensmh/services/smh/server"
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
	b.addFlags(cmdutil.FlagSet(name, new(cmdutil.Common), own))
	direct, dials := mainCalls(t, filepath.Join("..", "..", "services", name, "cmd", name, "main.go"))
	for _, v := range direct {
		b.Env[v] = true
	}
	b.Dials = dials
	return b
}

// allInOneBinary answers the binaryInfo of `smh serve` (Name "smh"): its flag set is the one its
// command declares (server.Flags), and the variables it reads itself are read by its command's
// source, services/smh/internal/cli/serve.go. It dials nothing: every service is in the process.
func allInOneBinary(t *testing.T) binaryInfo {
	t.Helper()
	b := binaryInfo{Name: "smh", Flags: map[string]bool{}, Env: map[string]bool{}}
	fs := pflag.NewFlagSet("smh serve", pflag.ContinueOnError)
	new(server.Flags).AddFlags(fs)
	b.addFlags(fs)
	direct, _ := mainCalls(t, filepath.Join("..", "..", "services", "smh", "internal", "cli", "serve.go"))
	for _, v := range direct {
		b.Env[v] = true
	}
	return b
}

// addFlags records each flag of fs and the variable that fills it (config.EnvName, the mapping
// cmdutil.Main and config.BindEnv apply).
func (b *binaryInfo) addFlags(fs *pflag.FlagSet) {
	fs.VisitAll(func(f *pflag.Flag) {
		b.Flags[f.Name] = true
		b.Env[config.EnvName(f.Name)] = true
	})
}

// mainCalls answers the variables a binary's command reads itself (cmdutil.RequireEnv,
// os.Getenv, os.LookupEnv: the secrets that are never flags) and the services it dials
// (env.Dial), from the parsed source at path (a split binary's main.go): these are calls, not
// declarations, so no exported value lists them.
func mainCalls(t *testing.T, path string) (env, dials []string) {
	t.Helper()
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
		t.Fatalf("%s: no RequireEnv/Getenv call found: every binary reads SMH_ADMIN_KEY", path)
	}
	return env, dials
}
