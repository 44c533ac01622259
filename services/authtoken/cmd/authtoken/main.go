// Command authtoken runs the token service as its own process (split deployment): it registers in
// etcd, reaches the library service through the etcd naming resolver, and follows revocations
// made by other instances through an etcd watch.
package main

import (
	"os"

	libraryv1 "github.com/opensmh/opensmh/gen/go/smh/library/v1"
	"github.com/opensmh/opensmh/pkg/cmdutil"
	"github.com/opensmh/opensmh/pkg/readiness"
	"github.com/opensmh/opensmh/pkg/servicehost"
	"github.com/opensmh/opensmh/services/authtoken"
)

func main() {
	var common cmdutil.Common
	var flags authtoken.Flags
	fs := cmdutil.FlagSet("authtoken", &common, &flags)
	os.Exit(cmdutil.Main("authtoken", fs, &common, os.Args[1:], func(env cmdutil.Env) error {
		adminKey, err := cmdutil.RequireEnv("SMH_ADMIN_KEY")
		if err != nil {
			return err
		}
		libs, err := env.Dial("library")
		if err != nil {
			return err
		}
		defer libs.Close()
		svc, err := authtoken.New(env.Ctx, authtoken.Config{
			Etcd:      env.Etcd,
			Libraries: libraryv1.NewLibraryServiceClient(libs),
			AdminKey:  adminKey,
			Logger:    env.Logger,
		})
		if err != nil {
			return err
		}
		defer svc.Close()
		return servicehost.Run(env.Ctx, servicehost.Options{
			Name: "authtoken", Listen: flags.Listen, Advertise: flags.Advertise, Etcd: env.Etcd, Logger: env.Logger, Register: svc.Register,
			Probes: []readiness.Probe{svc.Probe()}, Readiness: env.Deadlines.Readiness(env.Logger),
		})
	}))
}
