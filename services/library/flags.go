package library

import (
	"github.com/spf13/pflag"

	"github.com/opensmh/opensmh/pkg/servicehost"
)

// Flags are the library binary's own flags (beside cmdutil.Common), declared here once for the
// binary and for the deploy test that checks the example env files against them.
type Flags struct {
	servicehost.Addresses
	// PublicURL is Config.PublicURL.
	PublicURL string
}

// AddFlags declares f's flags on fs.
func (f *Flags) AddFlags(fs *pflag.FlagSet) {
	f.Addresses.AddFlags(fs, "127.0.0.1:9101")
	fs.StringVar(&f.PublicURL, "public-url", "https://127.0.0.1:8443", "public URL of the gateway (libraries' accessDomain)")
}
