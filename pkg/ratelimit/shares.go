package ratelimit

import (
	"time"

	"github.com/spf13/pflag"
)

// ShareLimits are the limits on share visitors (docs/shares.md, "Share access tokens, addresses
// and limits; saving"). The namespace applies WrongCodes and Visits to verify and list; the
// object service applies Visits to preview, download and zip.
type ShareLimits struct {
	// WrongCodes counts wrong extraction codes per client address (AddressKey): a right code is
	// never refused while the bucket holds an event. Default 10 per minute.
	WrongCodes Rate
	// Visits counts visitor requests (list, preview, download, zip) per (share, client address).
	// Default 20 per second, bursts of 200.
	Visits Rate
}

// DefaultShareLimits answers the documented defaults.
func DefaultShareLimits() ShareLimits {
	return ShareLimits{
		WrongCodes: Rate{Events: 10, Per: time.Minute, Burst: 10},
		Visits:     Rate{Events: 20, Per: time.Second, Burst: 200},
	}
}

// AddFlags registers --share-wrong-code-limit and --share-visit-limit on fs, defaulting to what
// s holds (set it to DefaultShareLimits first).
func (s *ShareLimits) AddFlags(fs *pflag.FlagSet) {
	fs.Var(&s.WrongCodes, "share-wrong-code-limit", `wrong extraction codes per client address, EVENTS/PER[,BURST] or "off" (docs/shares.md)`)
	fs.Var(&s.Visits, "share-visit-limit", `share visitor requests (list, preview, download, zip) per share and client address, EVENTS/PER[,BURST] or "off" (docs/shares.md)`)
}

// OrDefault answers *s, or DefaultShareLimits when s is nil: a service config leaves the field nil
// for the defaults, so forgetting it can never turn the limits off.
func (s *ShareLimits) OrDefault() ShareLimits {
	if s == nil {
		return DefaultShareLimits()
	}
	return *s
}
