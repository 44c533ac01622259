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

	"github.com/opensmh/opensmh/pkg/cmdutil"
	"github.com/opensmh/opensmh/pkg/discovery"
	"github.com/opensmh/opensmh/pkg/serve"
	"github.com/opensmh/opensmh/pkg/tlsx"
	"github.com/opensmh/opensmh/services/gateway"
)

func main() {
	var common cmdutil.Common
	var flags gateway.Flags
	fs := cmdutil.FlagSet("gateway", &common, &flags)
	os.Exit(cmdutil.Main("gateway", fs, &common, os.Args[1:], func(env cmdutil.Env) error {
		adminKey, err := cmdutil.RequireEnv("SMH_ADMIN_KEY")
		if err != nil {
			return err
		}
		if flags.BodyReadTimeout <= 0 {
			return errors.New("--body-read-timeout must be positive")
		}
		lis, err := net.Listen("tcp", flags.Listen)
		if err != nil {
			return fmt.Errorf("cannot listen on %s: %w", flags.Listen, err)
		}
		publicURL := flags.PublicURL
		if publicURL == "" {
			publicURL = "https://" + lis.Addr().String()
		}
		pub, err := url.Parse(publicURL)
		if err != nil || pub.Scheme != "https" || pub.Hostname() == "" {
			return fmt.Errorf("--public-url %q must be an https:// URL", publicURL)
		}
		certHosts := []string{pub.Hostname()}
		data, err := gateway.ParseDataURL(flags.DataURL, publicURL)
		if err != nil {
			return err
		}
		if data != nil {
			certHosts = append(certHosts, data.Hostname())
		}
		cert, err := tlsx.LoadOrCreate(filepath.Join(flags.DataDir, "tls"), flags.TLSCert, flags.TLSKey, certHosts)
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
		cfg := gateway.Config{Library: libs, Token: tokens, Namespace: namespaces, Object: objects, AdminKey: adminKey, Logger: env.Logger, PublicURL: publicURL, DataURL: flags.DataURL,
			BodyReadTimeout: flags.BodyReadTimeout, TrustedProxies: flags.TrustedProxies}
		switch flags.ObjectData {
		case "":
		case gateway.ObjectDataDiscovered:
			instances, err := discovery.Follow(env.Ctx, env.Etcd, discovery.ObjectData)
			if err != nil {
				return fmt.Errorf("follow the object data endpoints in etcd: %w", err)
			}
			defer instances.Close()
			cfg.Data = gateway.DataProxy(instances.Rotation, env.Logger)
		default:
			target, err := url.Parse(flags.ObjectData)
			if err != nil || target.Scheme != "http" || target.Host == "" || strings.Trim(target.Path, "/") != "" {
				return fmt.Errorf("--object-data-url %q must be %s, http://host:port or empty", flags.ObjectData, gateway.ObjectDataDiscovered)
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
