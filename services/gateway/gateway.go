// Package gateway is the public HTTPS edge: the SMH business API through the dispatcher table,
// the admin API, gRPC for internal callers, CORS, request ids, SMH error bodies, /healthz and the
// OpenAPI document of the public API, all on one port (docs/architecture.md, "The public edge").
// It holds no business logic.
package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/opensmh/opensmh/console"
	libraryv1 "github.com/opensmh/opensmh/gen/go/smh/library/v1"
	namespacev1 "github.com/opensmh/opensmh/gen/go/smh/namespace/v1"
	objectv1 "github.com/opensmh/opensmh/gen/go/smh/object/v1"
	tokenv1 "github.com/opensmh/opensmh/gen/go/smh/token/v1"
	"github.com/opensmh/opensmh/pkg/adminauth"
	"github.com/opensmh/opensmh/pkg/authz"
	"github.com/opensmh/opensmh/pkg/clock"
	"github.com/opensmh/opensmh/pkg/dataroute"
	"github.com/opensmh/opensmh/pkg/grpcx"
	"github.com/opensmh/opensmh/pkg/smherr"
	"github.com/opensmh/opensmh/services/gateway/internal/dispatch"
	"github.com/opensmh/opensmh/services/gateway/internal/edge"
	"github.com/opensmh/opensmh/services/gateway/internal/grpcproxy"
)

// Config wires the gateway to the services.
type Config struct {
	// Connections to the services; in the all-in-one they are in-memory, in a split deployment
	// they resolve instances through etcd.
	Library   grpc.ClientConnInterface
	Token     grpc.ClientConnInterface
	Namespace grpc.ClientConnInterface
	Object    grpc.ClientConnInterface
	// Data serves the object service's data endpoint (decision 11) on this port: the object
	// service's handler in the all-in-one, a reverse proxy to it in a split deployment. nil
	// leaves the endpoint to an ingress.
	Data http.Handler
	// AdminKey lets the gateway make internal calls (library CORS settings) and refuse admin
	// requests without it before their bodies are read.
	AdminKey string
	Logger   *slog.Logger
	// GRPC, when set, is the server that answers gRPC callers on the public port with the services
	// registered in process (all-in-one). When nil, the gateway builds one that forwards each
	// service to its connection (split deployment).
	GRPC *grpc.Server
	// OriginsTTL bounds how long a library's CORS origins are cached; default 5 s.
	OriginsTTL time.Duration
	// PublicURL is the base clients reach (tickets and redirects name it). The console may send
	// requests there when it is opened under another name.
	PublicURL string
	// DataURL, when set, is the download origin: requests whose Host is its host reach the data
	// endpoint and nothing else, and the data endpoint answers on no other host, so the
	// console's origin never serves uploaded bytes (docs/security.md). Empty serves the data
	// endpoint beside the API on every host.
	DataURL string
	// Tokens validates the access tokens of writes before their bodies are read (the all-in-one
	// passes its in-process validator). nil: a cached validator over authtoken that the gateway
	// owns (split deployment).
	Tokens authz.TokenValidator
	// BodyReadTimeout bounds how long the body of an API or admin request may take to arrive;
	// 0 = DefaultBodyReadTimeout.
	BodyReadTimeout time.Duration
	// TrustedProxies lists the proxies (CIDR prefixes or addresses) whose X-Forwarded-For names the
	// client address the services rate-limit by; default none: the connection's remote address
	// (docs/security.md, "Client addresses").
	TrustedProxies []string
}

// Gateway is an http.Handler for the public port.
type Gateway struct {
	rest     http.Handler
	grpc     *grpc.Server
	health   *health.Server
	ownsGRPC bool
	// dataHost is the download origin's host[:port], "" without one.
	dataHost string
	// tokens is the validator the gateway built itself, closed by Stop.
	tokens *authz.RemoteValidator
	// origins caches libraries' CORS origins; Stop ends its lookups in flight.
	origins *edge.CachedOrigins
	// warm serves REST requests other than the probes on goroutines whose stacks have grown
	// (edge.Warm); a probe is served at once on its own, however busy the gateway is.
	warm http.Handler
}

// warmIdle and warmIdleFor bound the goroutines kept waiting for requests (edge.Warm): enough
// for the requests a busy gateway serves at once, each given back after a quiet spell.
const (
	warmIdle    = 256
	warmIdleFor = 10 * time.Second
)

// maxJSONBody bounds the JSON bodies of the REST API. File bytes never travel through it (they go
// to the object service's data endpoint), so a larger body is a mistake or an attack.
const maxJSONBody = 4 << 20

// maxHeaderBytes bounds the request header block of the business API (edge.CheckHeaders).
const maxHeaderBytes = 64 << 10

// New builds the gateway.
func New(ctx context.Context, cfg Config) (*Gateway, error) {
	if cfg.Library == nil || cfg.Token == nil || cfg.Namespace == nil || cfg.Object == nil {
		return nil, errors.New("gateway: library, token, namespace and object connections are required")
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.Default()
	}
	mux, err := newServeMux(ctx, cfg)
	if err != nil {
		return nil, err
	}
	libraries := libraryv1.NewLibraryServiceClient(cfg.Library)

	ttl := cfg.OriginsTTL
	if ttl == 0 {
		ttl = 5 * time.Second
	}
	origins := edge.NewCachedOrigins(func(ctx context.Context, id string) ([]string, error) {
		resp, err := libraries.GetLibraryAccess(adminauth.Outgoing(ctx, cfg.AdminKey), &libraryv1.GetLibraryAccessRequest{LibraryId: id})
		if err != nil {
			if smherr.As(err).Code == "LibraryNotFound" {
				return nil, nil
			}
			return nil, err
		}
		return resp.GetAccess().GetCorsAllowedOrigins(), nil
	}, ttl, clock.Real{})

	dataHost := ""
	if data, err := ParseDataURL(cfg.DataURL, cfg.PublicURL); err != nil {
		return nil, err
	} else if data != nil {
		dataHost = data.Host
	}

	addresses, err := edge.NewClientAddresses(cfg.TrustedProxies)
	if err != nil {
		return nil, err
	}
	table := dispatch.Compile(dispatch.Routes)
	doc, err := APIDocument()
	if err != nil {
		return nil, err
	}
	g := &Gateway{grpc: cfg.GRPC, dataHost: dataHost, origins: origins}
	tokens := cfg.Tokens
	if tokens == nil {
		v, err := authz.NewRemoteValidator(ctx, tokenv1.NewTokenServiceClient(cfg.Token), cfg.AdminKey)
		if err != nil {
			return nil, err
		}
		tokens, g.tokens = v, v
	}
	early := authz.New(tokens, authz.LibrarySecrets(libraries, cfg.AdminKey))
	bodyTimeout := cfg.BodyReadTimeout
	if bodyTimeout == 0 {
		bodyTimeout = DefaultBodyReadTimeout
	}
	checks := map[string]healthCheck{
		"library":   {cfg.Library, libraryv1.LibraryService_ServiceDesc.ServiceName},
		"authtoken": {cfg.Token, tokenv1.TokenService_ServiceDesc.ServiceName},
		"namespace": {cfg.Namespace, namespacev1.NamespaceService_ServiceDesc.ServiceName},
		"object":    {cfg.Object, objectv1.ObjectService_ServiceDesc.ServiceName},
	}
	withCORS := func(next http.Handler) http.Handler { return edge.CORS(origins, libraryOf, next) }
	api := withCORS(smhAPI(mux))
	root := http.NewServeMux()
	root.Handle("/admin/", edge.LimitBody(maxJSONBody, mux))
	root.Handle(console.Prefix, console.Handler(originOf(cfg.PublicURL), originOf(cfg.DataURL)))
	// ---- issue 13 page
	// The share visitor page: what a share link <public URL>/s/<code> opens (docs/shares.md).
	sharePage := console.SharePageHandler(originOf(cfg.PublicURL), originOf(cfg.DataURL))
	root.Handle(console.ShareLinkPrefix, sharePage)
	root.Handle(console.SharePageAssets, sharePage)
	// ---- end issue 13 page
	root.Handle(APIDocumentPath, withCORS(apiDocument(doc)))
	root.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) { healthz(w, r, checks) })
	// Liveness: the process serves HTTP. Unlike /healthz it asks no service, so an orchestrator
	// does not restart a gateway because a backend is down.
	root.HandleFunc("/livez", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"ok"}` + "\n"))
	})
	root.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		// A browser opening the bare address is an operator looking for the console.
		if r.URL.Path == "/" && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
			http.Redirect(w, r, console.Prefix, http.StatusFound)
			return
		}
		edge.WriteError(w, r, smherr.ErrRouteNotFound)
	})
	// Credentials are checked and the body's time bounded before anything reads the body (the
	// dispatcher's peek included). With a download origin, its host serves the data endpoint only.
	site := noSniff(credentialsFirst(table, early, adminauth.NewChecker(cfg.AdminKey), withCORS,
		boundAPIBodies(bodyTimeout, matchOnce(table, businessFirst(edge.CheckHeaders(maxHeaderBytes, edge.LimitBody(maxJSONBody, api)), root)))))
	// The client address is stamped before anything else sees the request, the data endpoint's
	// downloads included.
	g.rest = edge.Observe(logger, routeNamer(table), addresses.Stamp(g.byOrigin(cfg.Data, site)))
	g.warm = edge.NewWarm(warmIdle, warmIdleFor).Handler(g.rest)

	if g.grpc == nil {
		backends := map[string]grpc.ClientConnInterface{
			libraryv1.LibraryService_ServiceDesc.ServiceName:     cfg.Library,
			tokenv1.TokenService_ServiceDesc.ServiceName:         cfg.Token,
			namespacev1.NamespaceService_ServiceDesc.ServiceName: cfg.Namespace,
			namespacev1.RecycleService_ServiceDesc.ServiceName:   cfg.Namespace,
			namespacev1.FileOpsService_ServiceDesc.ServiceName:   cfg.Namespace, // issue 12 fileops
			namespacev1.SearchService_ServiceDesc.ServiceName:    cfg.Namespace, // search (issue 12)
			namespacev1.FavoriteService_ServiceDesc.ServiceName:  cfg.Namespace, // favorites (issue 12 item 4)
			objectv1.ObjectService_ServiceDesc.ServiceName:       cfg.Object,
			// Issue 12, batch.
			namespacev1.BatchService_ServiceDesc.ServiceName: cfg.Namespace,
			// archives (issue 12 item 6)
			objectv1.ArchiveService_ServiceDesc.ServiceName:        cfg.Object,
			namespacev1.ArchiveTaskService_ServiceDesc.ServiceName: cfg.Namespace,
			// issue 12 change feed (3.18)
			namespacev1.DeltaService_ServiceDesc.ServiceName: cfg.Namespace,
			// ---- issue 13 fetch
			objectv1.SharedFileService_ServiceDesc.ServiceName: cfg.Object,
			// ---- end issue 13 fetch
			// ---- issue 13 shares
			namespacev1.ShareService_ServiceDesc.ServiceName: cfg.Namespace,
			// ---- end issue 13 shares
			// issue 13 tokens: 13.12 save from a share
			namespacev1.ShareSaveService_ServiceDesc.ServiceName: cfg.Namespace,
		}
		opts := append(append(grpcx.ServerOptions(logger), grpcx.PublicEdgeOptions()...),
			grpc.ForceServerCodec(grpcproxy.Codec{}),
			grpc.UnknownServiceHandler(grpcproxy.Handler(backends)))
		g.grpc = grpc.NewServer(opts...)
		g.health = health.NewServer()
		healthpb.RegisterHealthServer(g.grpc, g.health)
		reflection.Register(g.grpc)
		g.ownsGRPC = true
	}
	return g, nil
}

// newServeMux builds the grpc-gateway mux of the internal routes (proto/http.yaml) that the
// dispatcher table's rows target, and of the admin API, each service's handlers calling it over
// its connection in cfg. The table test resolves every row through this same mux.
func newServeMux(ctx context.Context, cfg Config) (*runtime.ServeMux, error) {
	mux := runtime.NewServeMux(
		runtime.WithMarshalerOption(runtime.MIMEWildcard, &runtime.JSONPb{
			// SMH clients expect every field, false and 0 included; fields with presence
			// (optional, messages) stay absent when unset.
			MarshalOptions:   protojson.MarshalOptions{EmitDefaultValues: true},
			UnmarshalOptions: protojson.UnmarshalOptions{},
		}),
		runtime.WithErrorHandler(edge.ErrorHandler),
		runtime.WithRoutingErrorHandler(edge.RoutingErrorHandler),
		runtime.WithForwardResponseOption(edge.ForwardStatus),
		runtime.WithForwardResponseRewriter(edge.ChosenAnswer),
		runtime.WithOutgoingHeaderMatcher(edge.OutgoingHeader),
		runtime.WithIncomingHeaderMatcher(edge.IncomingHeader),
	)
	if err := libraryv1.RegisterLibraryServiceHandlerClient(ctx, mux, libraryv1.NewLibraryServiceClient(cfg.Library)); err != nil {
		return nil, err
	}
	if err := tokenv1.RegisterTokenServiceHandlerClient(ctx, mux, tokenv1.NewTokenServiceClient(cfg.Token)); err != nil {
		return nil, err
	}
	if err := namespacev1.RegisterNamespaceServiceHandlerClient(ctx, mux, namespacev1.NewNamespaceServiceClient(cfg.Namespace)); err != nil {
		return nil, err
	}
	if err := namespacev1.RegisterRecycleServiceHandlerClient(ctx, mux, namespacev1.NewRecycleServiceClient(cfg.Namespace)); err != nil {
		return nil, err
	}
	// issue 12 fileops.
	if err := namespacev1.RegisterFileOpsServiceHandlerClient(ctx, mux, namespacev1.NewFileOpsServiceClient(cfg.Namespace)); err != nil {
		return nil, err
	}
	// search (issue 12): section 8.
	if err := namespacev1.RegisterSearchServiceHandlerClient(ctx, mux, namespacev1.NewSearchServiceClient(cfg.Namespace)); err != nil {
		return nil, err
	}
	// favorites (issue 12 item 4): section 11, served by the namespace.
	if err := namespacev1.RegisterFavoriteServiceHandlerClient(ctx, mux, namespacev1.NewFavoriteServiceClient(cfg.Namespace)); err != nil {
		return nil, err
	}
	if err := objectv1.RegisterObjectServiceHandlerClient(ctx, mux, objectv1.NewObjectServiceClient(cfg.Object)); err != nil {
		return nil, err
	}
	// Issue 12, batch: batch operations and the typed task query (docs/batch.md).
	if err := namespacev1.RegisterBatchServiceHandlerClient(ctx, mux, namespacev1.NewBatchServiceClient(cfg.Namespace)); err != nil {
		return nil, err
	}
	// archives (issue 12 item 6): zip preview and uncompress (3.17).
	if err := objectv1.RegisterArchiveServiceHandlerClient(ctx, mux, objectv1.NewArchiveServiceClient(cfg.Object)); err != nil {
		return nil, err
	}
	// --- issue 12 change feed (3.18) ---
	if err := namespacev1.RegisterDeltaServiceHandlerClient(ctx, mux, namespacev1.NewDeltaServiceClient(cfg.Namespace)); err != nil {
		return nil, err
	}
	// --- end change feed ---
	// ---- issue 13 fetch: a share visitor's bytes (13.11), served by the object service.
	if err := objectv1.RegisterSharedFileServiceHandlerClient(ctx, mux, objectv1.NewSharedFileServiceClient(cfg.Object)); err != nil {
		return nil, err
	}
	// ---- end issue 13 fetch
	// ---- issue 13 shares: share links (section 13), served by the namespace.
	if err := namespacev1.RegisterShareServiceHandlerClient(ctx, mux, namespacev1.NewShareServiceClient(cfg.Namespace)); err != nil {
		return nil, err
	}
	// ---- end issue 13 shares
	// ---- issue 13 tokens: 13.12 save from a share
	if err := namespacev1.RegisterShareSaveServiceHandlerClient(ctx, mux, namespacev1.NewShareSaveServiceClient(cfg.Namespace)); err != nil {
		return nil, err
	}
	// ---- end issue 13 tokens
	return mux, nil
}

// ServeHTTP sends gRPC (HTTP/2, application/grpc) to the gRPC server and everything else to REST:
// the probes on the goroutine net/http gave them (they are shallow), the rest on warm ones.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.ProtoMajor == 2 && strings.HasPrefix(r.Header.Get("Content-Type"), "application/grpc") && !g.onDataHost(r):
		g.grpc.ServeHTTP(w, r)
	case r.URL.Path == "/livez" || r.URL.Path == "/healthz":
		g.rest.ServeHTTP(w, r)
	default:
		g.warm.ServeHTTP(w, r)
	}
}

// Stop stops the gRPC server and the token validator the gateway built (split deployment).
func (g *Gateway) Stop() {
	if g.ownsGRPC {
		g.health.Shutdown()
		g.grpc.Stop()
	}
	if g.tokens != nil {
		_ = g.tokens.Close()
	}
	g.origins.Close()
}

// ParseDataURL checks a download origin (--data-url) against the public URL: https, no path, and
// a host name of its own, because browsers share cookies across the ports of one host and an
// ingress may route by name alone. It answers nil for "".
func ParseDataURL(dataURL, publicURL string) (*url.URL, error) {
	if dataURL == "" {
		return nil, nil
	}
	data, err := url.Parse(dataURL)
	if err != nil || data.Scheme != "https" || data.Hostname() == "" || (data.Path != "" && data.Path != "/") || data.RawQuery != "" {
		return nil, fmt.Errorf("--data-url %q must be an https:// URL with no path", dataURL)
	}
	if pub, err := url.Parse(publicURL); err == nil && strings.EqualFold(pub.Hostname(), data.Hostname()) {
		return nil, fmt.Errorf("--data-url %q must name a host other than the public URL's (%s)", dataURL, pub.Hostname())
	}
	return data, nil
}

// onDataHost reports whether r is addressed to the download origin.
func (g *Gateway) onDataHost(r *http.Request) bool {
	return g.dataHost != "" && sameHost(r.Host, g.dataHost)
}

// byOrigin sends data-endpoint requests to data and the rest to site. The data endpoint streams
// file bytes: no JSON body limit, and its own CORS, security headers and XML errors (decision
// 11); form uploads post to "/" (3.3). With a download origin, that host serves the data
// endpoint only and every other host serves everything but it.
func (g *Gateway) byOrigin(data, site http.Handler) http.Handler {
	refused := noSniff(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		edge.WriteError(w, r, smherr.ErrRouteNotFound)
	}))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		onData := g.onDataHost(r)
		switch {
		case data != nil && dataroute.Is(r) && (onData || g.dataHost == ""):
			data.ServeHTTP(w, r)
		case onData:
			refused.ServeHTTP(w, r)
		default:
			site.ServeHTTP(w, r)
		}
	})
}

// sameHost compares a request's Host with a configured host[:port], as browsers address it:
// case-insensitively, and with :443 the same as no port.
func sameHost(got, want string) bool {
	norm := func(h string) string { return strings.TrimSuffix(strings.ToLower(h), ":443") }
	return norm(got) == norm(want)
}

// noSniff makes browsers take every answer's Content-Type as given (JSON errors included), so
// none is ever read as a page or a script.
func noSniff(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		next.ServeHTTP(w, r)
	})
}

// matchOnce looks a business-API request up in the dispatcher table once, reading the body if
// its row depends on it, and hands the match on to the dispatch.
func matchOnce(table *dispatch.Table, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/api/") {
			m, ok := table.MatchOnce(r)
			r = dispatch.WithMatch(r, m, ok)
		}
		next.ServeHTTP(w, r)
	})
}

// businessFirst sends /api/ requests to api directly. http.ServeMux would answer a path with
// "." or ".." segments with a redirect to the cleaned path, so such a name would reach a
// different entry instead of being refused with 400 IllegalFileName (decision 6).
func businessFirst(api, rest http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/api/") {
			api.ServeHTTP(w, r)
			return
		}
		rest.ServeHTTP(w, r)
	})
}

// smhAPI dispatches a business-API request to the internal route of its table row.
func smhAPI(mux http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m, ok := dispatch.MatchOf(r)
		if !ok {
			edge.WriteError(w, r, smherr.ErrRouteNotFound)
			return
		}
		mux.ServeHTTP(w, dispatch.Rewrite(r, m))
	})
}

// routeNamer names a request by its table row's pattern (or its top-level area) for spans and
// logs. It reads no body: the rows a body chooses between share their pattern.
func routeNamer(table *dispatch.Table) edge.RouteNamer {
	return func(r *http.Request) (string, *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/api/") {
			// The match is remembered on the request: the layers after this one reuse it.
			r, m, ok := table.AddressOnce(r)
			if ok {
				return m.Route.Pattern, r
			}
			return "/api/*", r
		}
		return routeName(r), r
	}
}

func routeName(r *http.Request) string {
	switch {
	case strings.HasPrefix(r.URL.Path, "/admin/"):
		return "/admin/*"
	case r.URL.Path == "/healthz", r.URL.Path == "/livez", r.URL.Path == APIDocumentPath:
		return r.URL.Path
	case dataroute.Is(r):
		return "/data/*"
	}
	return "other"
}

var libraryIDPattern = regexp.MustCompile(`^smh[0-9a-z]{13}$`)

// libraryOf names the library a business-API request addresses: the segment after the resource
// group (/api/v1/<group>/<LibraryId>/...), or library_id in the query (token minting).
func libraryOf(r *http.Request) string {
	segs := strings.Split(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if len(segs) >= 4 && libraryIDPattern.MatchString(segs[3]) {
		return segs[3]
	}
	if id := r.URL.Query().Get("library_id"); libraryIDPattern.MatchString(id) {
		return id
	}
	return ""
}

// healthCheck is where /healthz asks after one service: its connection, and the gRPC service
// name its health server reports under (NOT_SERVING while its store is down, pkg/readiness).
type healthCheck struct {
	conn    grpc.ClientConnInterface
	service string
}

// healthCheckTimeout bounds one service's answer to /healthz: a service that does not answer in
// time is reported unreachable.
const healthCheckTimeout = 2 * time.Second

// healthz answers 200 once every service reports SERVING over grpc.health.v1 (what each service
// checks: docs/operations.md). The services are asked at once, each under its own bound, so a
// hung one is reported unreachable without the others being reported so after it.
func healthz(w http.ResponseWriter, r *http.Request, checks map[string]healthCheck) {
	type outcome struct{ name, status string }
	outcomes := make(chan outcome, len(checks))
	for name, c := range checks {
		go func() {
			ctx, cancel := context.WithTimeout(r.Context(), healthCheckTimeout)
			defer cancel()
			resp, err := healthpb.NewHealthClient(c.conn).Check(ctx, &healthpb.HealthCheckRequest{Service: c.service})
			if err != nil {
				outcomes <- outcome{name, "unreachable"}
				return
			}
			outcomes <- outcome{name, strings.ToLower(resp.GetStatus().String())}
		}()
	}
	report := map[string]string{}
	ok := true
	for range checks { // every goroutine sends once and is done: they end with this loop
		o := <-outcomes
		report[o.name] = o.status
		ok = ok && o.status == "serving"
	}
	w.Header().Set("Content-Type", "application/json")
	if !ok {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"status": map[bool]string{true: "ok", false: "unavailable"}[ok], "services": report})
}

// originOf answers the scheme://host[:port] of a URL ("" when there is none).
func originOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return ""
	}
	return u.Scheme + "://" + u.Host
}
