// Command library runs the library service as its own process (split deployment): it registers
// in etcd and reaches authtoken through the etcd naming resolver.
package main

import (
	"os"

	namespacev1 "github.com/opensmh/opensmh/gen/go/smh/namespace/v1"
	tokenv1 "github.com/opensmh/opensmh/gen/go/smh/token/v1"
	"github.com/opensmh/opensmh/pkg/cmdutil"
	"github.com/opensmh/opensmh/pkg/config"
	"github.com/opensmh/opensmh/pkg/readiness"
	"github.com/opensmh/opensmh/pkg/servicehost"
	"github.com/opensmh/opensmh/services/library"
)

func main() {
	var common cmdutil.Common
	var flags library.Flags
	fs := cmdutil.FlagSet("library", &common, &flags)
	os.Exit(cmdutil.Main("library", fs, &common, os.Args[1:], func(env cmdutil.Env) error {
		adminKey, err := cmdutil.RequireEnv("SMH_ADMIN_KEY")
		if err != nil {
			return err
		}
		rawKEK, err := cmdutil.RequireEnv("SMH_SECRET_KEK")
		if err != nil {
			return err
		}
		kek, err := config.DecodeKEK(rawKEK)
		if err != nil {
			return err
		}
		tokens, err := env.Dial("authtoken")
		if err != nil {
			return err
		}
		defer tokens.Close()
		namespaces, err := env.Dial("namespace")
		if err != nil {
			return err
		}
		defer namespaces.Close()
		svc, err := library.New(library.Config{
			Etcd:      env.Etcd,
			AdminKey:  adminKey,
			SecretKEK: kek,
			PublicURL: flags.PublicURL,
			Purgers: []library.Purger{
				library.TokenPurger(tokenv1.NewTokenServiceClient(tokens), adminKey),
				library.NamespacePurger(namespacev1.NewNamespaceServiceClient(namespaces), adminKey),
			},
			Tokens: library.TokenRevokerFromClient(tokenv1.NewTokenServiceClient(tokens), adminKey),
			Usage:  library.NamespaceUsage(namespacev1.NewNamespaceServiceClient(namespaces), adminKey),
		})
		if err != nil {
			return err
		}
		return servicehost.Run(env.Ctx, servicehost.Options{
			Name: "library", Listen: flags.Listen, Advertise: flags.Advertise, Etcd: env.Etcd, Logger: env.Logger, Register: svc.Register,
			Probes: []readiness.Probe{svc.Probe()}, Readiness: env.Deadlines.Readiness(env.Logger),
		})
	}))
}
