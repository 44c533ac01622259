// Command smh runs OpenSMH (smh serve) and operates a running server (docs/architecture.md, "The smh command").
package main

import (
	"os"

	"github.com/opensmh/opensmh/pkg/cmdutil"
	"github.com/opensmh/opensmh/services/smh/internal/cli"
)

func main() {
	cmdutil.PrivateFiles()
	os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr))
}
