package gateway

import (
	"time"

	"github.com/spf13/pflag"
)

// Settings are the gateway's flags that `smh serve` declares too: each flag's name, default and
// help text live here only.
type Settings struct {
	// BodyReadTimeout and TrustedProxies are the Config fields of the same names.
	BodyReadTimeout time.Duration
	TrustedProxies  []string
}

// AddFlags declares s's flags on fs.
func (s *Settings) AddFlags(fs *pflag.FlagSet) {
	fs.DurationVar(&s.BodyReadTimeout, "body-read-timeout", DefaultBodyReadTimeout, "how long the body of an API or admin request may take to arrive; then 408 ReadRequestTimeout")
	fs.StringSliceVar(&s.TrustedProxies, "trusted-proxies", nil, "proxies (CIDR prefixes or addresses, comma-separated) whose X-Forwarded-For names the client address that rate limits count; default none (docs/security.md)")
}

// ObjectDataDiscovered is the --object-data-url that follows the object instances' data
// endpoints in etcd (pkg/discovery.ObjectData).
const ObjectDataDiscovered = "etcd"

// Flags are the gateway binary's own flags (beside cmdutil.Common), declared here once for the
// binary and for the deploy test that checks the example env files against them.
type Flags struct {
	Listen, PublicURL, DataURL string
	TLSCert, TLSKey, DataDir   string
	// ObjectData is where the object data endpoints are: ObjectDataDiscovered, http://host:port
	// or empty.
	ObjectData string
	Settings
}

// AddFlags declares f's flags on fs.
func (f *Flags) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&f.Listen, "listen", "127.0.0.1:8443", "HTTPS address (REST and gRPC)")
	fs.StringVar(&f.PublicURL, "public-url", "", "base URL clients reach (default https://<listen>)")
	fs.StringVar(&f.DataURL, "data-url", "", "download origin: https:// URL of a host of its own that serves the data endpoint and nothing else; the object service's --domain must name its host (default: the data endpoint is served on every host)")
	fs.StringVar(&f.TLSCert, "tls-cert", "", "server certificate (PEM); default: local CA in --data-dir")
	fs.StringVar(&f.TLSKey, "tls-key", "", "server key (PEM)")
	fs.StringVar(&f.DataDir, "data-dir", "./data", "where the local CA and certificate are kept")
	fs.StringVar(&f.ObjectData, "object-data-url", ObjectDataDiscovered, "where the object service's data endpoints are, proxied under /data/: "+ObjectDataDiscovered+" (the instances listed in etcd, in turn), http://host:port (one), or empty (an ingress routes them)")
	f.Settings.AddFlags(fs)
}
