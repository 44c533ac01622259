// Command namespace runs the namespace service as its own process (split deployment): it
// registers in etcd, reaches library and authtoken through the etcd naming resolver, validates
// tokens from a local cache that authtoken's revocation stream keeps honest, and keeps its tree in
// PostgreSQL (or a SQLite file).
package main

import (
	"os"

	libraryv1 "github.com/opensmh/opensmh/gen/go/smh/library/v1"
	tokenv1 "github.com/opensmh/opensmh/gen/go/smh/token/v1"
	"github.com/opensmh/opensmh/pkg/authz"
	"github.com/opensmh/opensmh/pkg/cmdutil"
	"github.com/opensmh/opensmh/pkg/readiness"
	"github.com/opensmh/opensmh/pkg/servicehost"
	"github.com/opensmh/opensmh/services/namespace"
)

func main() {
	var common cmdutil.Common
	var flags namespace.Flags
	fs := cmdutil.FlagSet("namespace", &common, &flags)
	os.Exit(cmdutil.Main("namespace", fs, &common, os.Args[1:], func(env cmdutil.Env) error {
		adminKey, err := cmdutil.RequireEnv("SMH_ADMIN_KEY")
		if err != nil {
			return err
		}
		libs, err := env.Dial("library")
		if err != nil {
			return err
		}
		defer libs.Close()
		tokens, err := env.Dial("authtoken")
		if err != nil {
			return err
		}
		defer tokens.Close()
		validator, err := authz.NewRemoteValidator(env.Ctx, tokenv1.NewTokenServiceClient(tokens), adminKey)
		if err != nil {
			return err
		}
		defer validator.Close()
		svc, err := namespace.New(env.Ctx, namespace.Config{
			DSN: flags.DSN, Libraries: libraryv1.NewLibraryServiceClient(libs), Tokens: validator, AdminKey: adminKey, Etcd: env.Etcd, Logger: env.Logger,
			TxTimeout: env.Deadlines.SQLTx, TaskWorkers: flags.TaskWorkers, TaskQueue: flags.TaskQueue,
			PublicURL: flags.PublicURL, TokenService: tokenv1.NewTokenServiceClient(tokens), // issue 13 shares
			ShareLimits: &flags.ShareLimits,
		})
		if err != nil {
			return err
		}
		defer svc.Close()
		return servicehost.Run(env.Ctx, servicehost.Options{
			Name: "namespace", Listen: flags.Listen, Advertise: flags.Advertise, Etcd: env.Etcd, Logger: env.Logger, Register: svc.Register,
			Probes: []readiness.Probe{svc.Probe()}, Readiness: env.Deadlines.Readiness(env.Logger),
		})
	}))
}
