package authtoken

import (
	"github.com/spf13/pflag"

	"github.com/opensmh/opensmh/pkg/servicehost"
)

// Flags are the authtoken binary's own flags (beside cmdutil.Common), declared here once for the
// binary and for the deploy test that checks the example env files against them.
type Flags struct {
	servicehost.Addresses
}

// AddFlags declares f's flags on fs.
func (f *Flags) AddFlags(fs *pflag.FlagSet) {
	f.Addresses.AddFlags(fs, "127.0.0.1:9102")
}
