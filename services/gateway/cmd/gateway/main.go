// Command gateway runs the public HTTPS edge as its own process (split deployment): REST and
// gRPC on one port, forwarding to the service instances it finds through etcd.
package main

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/opensmh/opensmh/pkg/cmdutil"
	"github.com/opensmh/opensmh/pkg/discovery"
	"github.com/opensmh/opensmh/pkg/serve"
	"github.com/opensmh/opensmh/pkg/tlsx"
	"github.com/opensmh/opensmh/services/gateway"
)

// objectDataDiscovered is the --object-data-url that follows the object instances' data
// endpoints in etcd (pkg/discovery.ObjectData).
const objectDataDiscovered = "etcd"

func main() {
	var common cmdutil.Common
	var listen, publicURL, dataURL, certFile, keyFile, dataDir, objectData string
	var bodyReadTimeout time.Duration
	var trustedProxies []string
	fs := pflag.NewFlagSet("gateway", pflag.ContinueOnError)
	common.Add(fs)
	fs.StringVar(&listen, "listen", "127.0.0.1:8443", "HTTPS address (REST and gRPC)")
	fs.StringVar(&publicURL, "public-url", "", "base URL clients reach (default https://<listen>)")
	fs.StringVar(&dataURL, "data-url", "", "download origin: https:// URL of a host of its own that serves the data endpoint and nothing else; the object service's --domain must name its host (default: the data endpoint is served on every host)")
	fs.StringVar(&certFile, "tls-cert", "", "server certificate (PEM); default: local CA in --data-dir")
	fs.StringVar(&keyFile, "tls-key", "", "server key (PEM)")
	fs.StringVar(&dataDir, "data-dir", "./data", "where the local CA and certificate are kept")
	fs.StringVar(&objectData, "object-data-url", objectDataDiscovered, "where the object service's data endpoints are, proxied under /data/: "+objectDataDiscovered+" (the instances listed in etcd, in turn), http://host:port (one), or empty (an ingress routes them)")
	fs.DurationVar(&bodyReadTimeout, "body-read-timeout", gateway.DefaultBodyReadTimeout, "how long the body of an API or admin request may take to arrive; then 408 ReadRequestTimeout")
	fs.StringSliceVar(&trustedProxies, "trusted-proxies", nil, "proxies (CIDR prefixes or addresses, comma-separated) whose X-Forwarded-For names the client address that rate limits count; default none (docs/security.md)")
	os.Exit(cmdutil.Main("gateway", fs, &common, os.Args[1:], func(env cmdutil.Env) error {
		adminKey, err := cmdutil.RequireEnv("SMH_ADMIN_KEY")
		if err != nil {
			return err
		}
		if bodyReadTimeout <= 0 {
			return errors.New("--body-read-timeout must be positive")
		}
		lis, err := net.Listen("tcp", listen)
		if err != nil {
			return fmt.Errorf("cannot listen on %s: %w", listen, err)
		}
		if publicURL == "" {
			publicURL = "https://" + lis.Addr().String()
		}
		pub, err := url.Parse(publicURL)
		if err != nil || pub.Scheme != "https" || pub.Hostname() == "" {
			return fmt.Errorf("--public-url %q must be an https:// URL", publicURL)
		}
		certHosts := []string{pub.Hostname()}
		data, err := gateway.ParseDataURL(dataURL, publicURL)
		if err != nil {
			return err
		}
		if data != nil {
			certHosts = append(certHosts, data.Hostname())
		}
		cert, err := tlsx.LoadOrCreate(filepath.Join(dataDir, "tls"), certFile, keyFile, certHosts)
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
		namespaces, err := env.Dial("namespace")
		if err != nil {
			return err
		}
		defer namespaces.Close()
		objects, err := env.Dial("object")
		if err != nil {
			return err
		}
		defer objects.Close()
		cfg := gateway.Config{Library: libs, Token: tokens, Namespace: namespaces, Object: objects, AdminKey: adminKey, Logger: env.Logger, PublicURL: publicURL, DataURL: dataURL,
			BodyReadTimeout: bodyReadTimeout, TrustedProxies: trustedProxies}
		switch objectData {
		case "":
		case objectDataDiscovered:
			instances, err := discovery.Follow(env.Ctx, env.Etcd, discovery.ObjectData)
			if err != nil {
				return fmt.Errorf("follow the object data endpoints in etcd: %w", err)
			}
			defer instances.Close()
			cfg.Data = gateway.DataProxy(instances.Rotation, env.Logger)
		default:
			target, err := url.Parse(objectData)
			if err != nil || target.Scheme != "http" || target.Host == "" || strings.Trim(target.Path, "/") != "" {
				return fmt.Errorf("--object-data-url %q must be %s, http://host:port or empty", objectData, objectDataDiscovered)
			}
			cfg.Data = gateway.DataProxy(gateway.StaticInstances(target.Host), env.Logger)
		}
		gw, err := gateway.New(env.Ctx, cfg)
		if err != nil {
			return err
		}
		defer gw.Stop()
		tlsCfg := tlsx.ServerConfig(cert)
		// No ReadTimeout or WriteTimeout: they would cut long downloads and uploads through the
		// data endpoint; bodies are bounded per request instead (BodyReadTimeout, the minimum rate).
		srv := &http.Server{Handler: gw, TLSConfig: tlsCfg, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute,
			ErrorLog: slog.NewLogLogger(env.Logger.Handler(), slog.LevelDebug)}
		env.Logger.Info("gateway serving", "url", publicURL)
		return serve.Run(env.Ctx, serve.Options{Logger: env.Logger}, serve.HTTP("https server", srv, tls.NewListener(lis, tlsCfg)))
	}))
}
