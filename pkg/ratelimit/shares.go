package ratelimit

import (
	"time"

	"github.com/spf13/pflag"
)

// ShareLimits are the limits on share visitors (docs/shares.md, "Share access tokens, addresses
// and limits; saving"). The namespace applies WrongCodes to verify and Visits and ShareVisits
// (through ShareVisitors) to list; the object service applies Visits and ShareVisits to
// preview, download and zip.
type ShareLimits struct {
	// WrongCodes counts wrong extraction codes per client address (AddressKey): a right code is
	// never refused while the bucket holds an event. Default 10 per minute.
	WrongCodes Rate
	// Visits counts visitor requests (list, preview, download, zip) per (share, client address).
	// Default 20 per second, bursts of 200.
	Visits Rate
	// ShareVisits counts the same requests per share, whatever their address, so that many
	// addresses together cannot scrape one share without bound. Default 200 per second, bursts
	// of 2,000.
	ShareVisits Rate
}

// DefaultShareLimits answers the documented defaults.
func DefaultShareLimits() ShareLimits {
	return ShareLimits{
		WrongCodes:  Rate{Events: 10, Per: time.Minute, Burst: 10},
		Visits:      Rate{Events: 20, Per: time.Second, Burst: 200},
		ShareVisits: Rate{Events: 200, Per: time.Second, Burst: 2000},
	}
}

// AddFlags registers --share-wrong-code-limit and --share-visit-limit on fs, defaulting to what
// s holds (set it to DefaultShareLimits first).
func (s *ShareLimits) AddFlags(fs *pflag.FlagSet) {
	fs.Var(&s.WrongCodes, "share-wrong-code-limit", `wrong extraction codes per client address, EVENTS/PER[,BURST] or "off" (docs/shares.md)`)
	fs.Var(&s.Visits, "share-visit-limit", `share visitor requests (list, preview, download, zip) per share and client address, EVENTS/PER[,BURST] or "off" (docs/shares.md)`)
	fs.Var(&s.ShareVisits, "share-visit-total-limit", `share visitor requests (list, preview, download, zip) per share from every address together, EVENTS/PER[,BURST] or "off" (docs/shares.md)`)
}

// ShareVisitors bounds a share's visitor requests per (share, client address) and per share.
type ShareVisitors struct {
	perAddress, perShare *Limiter
}

// NewShareVisitors builds the two limits of l (Visits, ShareVisits).
func NewShareVisitors(l ShareLimits, opts ...Option) *ShareVisitors {
	return &ShareVisitors{perAddress: New(l.Visits, opts...), perShare: New(l.ShareVisits, opts...)}
}

// Allow spends one request on share from addr (AddressKey groups it): refused when the
// address's bucket or the share's is empty. A request its address's bucket refuses spends
// nothing of the share's, so one abusive address cannot use up a share for everyone.
func (v *ShareVisitors) Allow(share, addr string) bool {
	return v.perAddress.Allow(Key(share, AddressKey(addr))) && v.perShare.Allow(share)
}

// OrDefault answers *s, or DefaultShareLimits when s is nil: a service config leaves the field nil
// for the defaults, so forgetting it can never turn the limits off.
func (s *ShareLimits) OrDefault() ShareLimits {
	if s == nil {
		return DefaultShareLimits()
	}
	return *s
}
