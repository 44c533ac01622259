package namespace

import (
	"github.com/spf13/pflag"

	"github.com/opensmh/opensmh/pkg/ratelimit"
	"github.com/opensmh/opensmh/pkg/servicehost"
)

// Settings are the namespace service's flags that `smh serve` declares too: each flag's name,
// default and help text live here only.
type Settings struct {
	// TaskWorkers and TaskQueue are Config.TaskWorkers and Config.TaskQueue.
	TaskWorkers, TaskQueue int
}

// AddFlags declares s's flags on fs.
func (s *Settings) AddFlags(fs *pflag.FlagSet) {
	fs.IntVar(&s.TaskWorkers, "task-workers", DefaultTaskWorkers, "async directory copies and deletes run at once; more wait in the queue")
	fs.IntVar(&s.TaskQueue, "task-queue", DefaultTaskQueue, "async directory tasks that may wait for a worker; beyond it a request answers 503")
}

// Flags are the namespace binary's own flags (beside cmdutil.Common), declared here once for the
// binary and for the deploy test that checks the example env files against them.
type Flags struct {
	servicehost.Addresses
	// DSN and PublicURL are Config.DSN and Config.PublicURL.
	DSN, PublicURL string
	Settings
	ShareLimits ratelimit.ShareLimits
}

// AddFlags declares f's flags on fs.
func (f *Flags) AddFlags(fs *pflag.FlagSet) {
	f.Addresses.AddFlags(fs, "127.0.0.1:9103")
	fs.StringVar(&f.DSN, "sql-dsn", "./data/namespace.db", "postgres://... for PostgreSQL, otherwise a SQLite file")
	fs.StringVar(&f.PublicURL, "public-url", "", "base URL clients reach (the gateway's --public-url): share links name it (docs/shares.md)")
	f.Settings.AddFlags(fs)
	f.ShareLimits = ratelimit.DefaultShareLimits()
	f.ShareLimits.AddFlags(fs)
}
