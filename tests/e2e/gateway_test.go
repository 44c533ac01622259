package e2e

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/trace"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"

	libraryv1 "github.com/opensmh/opensmh/gen/go/smh/library/v1"
	"github.com/opensmh/opensmh/pkg/smherr"
)

func TestGatewayEdge(t *testing.T) {
	s := startSystem(t)

	t.Run("healthz answers once every service serves", func(t *testing.T) {
		r := s.call("GET", "/healthz", nil, nil, nil)
		if r.Status != http.StatusOK || r.JSON(t)["status"] != "ok" {
			t.Fatalf("healthz: %d %s", r.Status, r.Body)
		}
		if r.Header.Get("X-SMH-Request-Id") == "" {
			t.Fatal("no X-SMH-Request-Id on /healthz")
		}
	})

	t.Run("every response carries a fresh request id", func(t *testing.T) {
		a := s.call("GET", "/healthz", nil, nil, nil).Header.Get("X-SMH-Request-Id")
		b := s.call("GET", "/api/v1/nothing", nil, nil, nil).Header.Get("X-SMH-Request-Id")
		if a == "" || b == "" || a == b {
			t.Fatalf("request ids %q and %q", a, b)
		}
	})

	t.Run("the console is served under /console/ and the bare address leads there", func(t *testing.T) {
		r := s.call("GET", "/", nil, nil, nil)
		if r.Status != http.StatusFound || r.Header.Get("Location") != "/console/" {
			t.Fatalf("GET /: %d Location %q", r.Status, r.Header.Get("Location"))
		}
		page := s.call("GET", "/console/", nil, nil, nil)
		if page.Status != http.StatusOK || !strings.Contains(string(page.Body), `id="signin"`) {
			t.Fatalf("GET /console/: %d %.200s", page.Status, page.Body)
		}
		if csp := page.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "connect-src 'self' "+s.url) {
			t.Fatalf("CSP %q", csp)
		}
		if r := s.call("GET", "/console/js/main.js", nil, nil, nil); r.Status != http.StatusOK || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/javascript") {
			t.Fatalf("main.js: %d %s", r.Status, r.Header.Get("Content-Type"))
		}
		// The business API's 404 stays the SMH one; only the console's own paths are files.
		expectError(t, s.call("POST", "/", nil, nil, nil), http.StatusNotFound, "RouteNotFound")
	})

	t.Run("unknown routes are RouteNotFound with the SMH body", func(t *testing.T) {
		for _, p := range []string{"/api/v1/nothing", "/api/v2/token", "/elsewhere", "/_smh/token/create"} {
			expectError(t, s.call("GET", p, nil, nil, nil), http.StatusNotFound, "RouteNotFound")
		}
		// The internal routes the dispatcher rewrites to are not reachable from outside.
		expectError(t, s.call("GET", "/_smh/token/create", url.Values{"library_id": {"x"}}, nil, nil), http.StatusNotFound, "RouteNotFound")
	})

	t.Run("oversized bodies are refused before any service sees them", func(t *testing.T) {
		before := s.admin("GET", "/admin/v1/libraries", nil).JSON(t)["totalCount"]
		huge := `{"name":"big","remark":"` + strings.Repeat("x", 5<<20) + `"}`
		expectError(t, s.admin("POST", "/admin/v1/libraries", huge), http.StatusRequestEntityTooLarge, "RequestEntityTooLarge")
		expectError(t, s.call("POST", "/api/v1/token", url.Values{"library_id": {"smh0000000000000"}}, huge, nil), http.StatusRequestEntityTooLarge, "RequestEntityTooLarge")
		if after := s.admin("GET", "/admin/v1/libraries", nil).JSON(t)["totalCount"]; after != before {
			t.Fatalf("totalCount %v -> %v", before, after)
		}
	})

	t.Run("HEAD errors carry no body", func(t *testing.T) {
		r := s.call("HEAD", "/api/v1/nothing", nil, nil, nil)
		if r.Status != http.StatusNotFound || len(r.Body) != 0 {
			t.Fatalf("HEAD: %d %q", r.Status, r.Body)
		}
	})

	t.Run("plain HTTP to the HTTPS port is refused", func(t *testing.T) {
		conn, err := net.DialTimeout("tcp", s.server().Addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := conn.Write([]byte("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("no HTTP answer: %v", err)
		}
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("plain HTTP answered %d", resp.StatusCode)
		}
	})

	t.Run("HTTP/2 is negotiated", func(t *testing.T) {
		req, _ := http.NewRequest("GET", s.url+"/healthz", nil)
		resp, err := s.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.ProtoMajor != 2 {
			t.Fatalf("protocol %s", resp.Proto)
		}
	})
}

func TestCORS(t *testing.T) {
	s := startSystem(t)
	open := s.createLibrary("open", nil)
	closed := s.createLibrary("closed", map[string]any{"corsAllowedOrigins": []string{"https://app.example.com"}})

	preflight := func(lib library, origin string) response {
		return s.call("OPTIONS", "/api/v1/token/"+lib.ID+"/sometoken", nil, nil, http.Header{
			"Origin":                         {origin},
			"Access-Control-Request-Method":  {"POST"},
			"Access-Control-Request-Headers": {"content-type"},
		})
	}
	tests := []struct {
		name    string
		lib     library
		origin  string
		allowed bool
	}{
		{"empty list allows any origin", open, "https://anything.example", true},
		{"listed origin", closed, "https://app.example.com", true},
		{"other origin", closed, "https://evil.example", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := preflight(tt.lib, tt.origin)
			if r.Status != http.StatusNoContent {
				t.Fatalf("preflight status %d", r.Status)
			}
			got := r.Header.Get("Access-Control-Allow-Origin")
			if tt.allowed {
				if got != tt.origin {
					t.Fatalf("Allow-Origin %q", got)
				}
				if !strings.Contains(r.Header.Get("Access-Control-Allow-Methods"), "POST") ||
					r.Header.Get("Access-Control-Allow-Headers") != "content-type" {
					t.Fatalf("preflight headers %v", r.Header)
				}
			} else if got != "" {
				t.Fatalf("refused origin got Allow-Origin %q", got)
			}
		})
	}

	t.Run("simple request exposes x-smh headers", func(t *testing.T) {
		r := s.call("GET", "/api/v1/token", url.Values{"library_id": {closed.ID}, "library_secret": {closed.Secret}}, nil,
			http.Header{"Origin": {"https://app.example.com"}})
		if r.Status != http.StatusOK {
			t.Fatalf("mint: %d %s", r.Status, r.Body)
		}
		if r.Header.Get("Access-Control-Allow-Origin") != "https://app.example.com" {
			t.Fatalf("Allow-Origin %q", r.Header.Get("Access-Control-Allow-Origin"))
		}
		exposed := strings.ToLower(r.Header.Get("Access-Control-Expose-Headers"))
		for _, h := range []string{"x-smh-request-id", "etag", "location"} {
			if !strings.Contains(exposed, h) {
				t.Fatalf("%s not exposed: %q", h, exposed)
			}
		}
	})

	t.Run("changed origins take effect", func(t *testing.T) {
		r := s.admin("PATCH", "/admin/v1/libraries/"+closed.ID, map[string]any{"libraryExtension": map[string]any{"corsAllowedOrigins": []string{}}})
		if r.Status != http.StatusOK {
			t.Fatalf("patch: %d %s", r.Status, r.Body)
		}
		deadline := time.Now().Add(15 * time.Second)
		for preflight(closed, "https://evil.example").Header.Get("Access-Control-Allow-Origin") == "" {
			if time.Now().After(deadline) {
				t.Fatal("cleared origin list never took effect")
			}
			time.Sleep(200 * time.Millisecond)
		}
	})
}

// gRPC callers reach the same services on the HTTPS port, with health and reflection.
func TestGRPCOnTheSamePort(t *testing.T) {
	s := startSystem(t)
	conn := s.grpcConn(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	hr, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
	if err != nil || hr.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("health: %v %v", hr, err)
	}

	stream, err := reflectionpb.NewServerReflectionClient(conn).ServerReflectionInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.Send(&reflectionpb.ServerReflectionRequest{MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{}}); err != nil {
		t.Fatal(err)
	}
	rr, err := stream.Recv()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, svc := range rr.GetListServicesResponse().GetService() {
		names = append(names, svc.GetName())
	}
	for _, want := range []string{"smh.library.v1.LibraryService", "smh.token.v1.TokenService"} {
		if !strings.Contains(strings.Join(names, " "), want) {
			t.Fatalf("reflection lists %v, missing %s", names, want)
		}
	}
	// What grpcurl asks next, to describe a service or build a request: the file that defines it.
	if err := stream.Send(&reflectionpb.ServerReflectionRequest{MessageRequest: &reflectionpb.ServerReflectionRequest_FileContainingSymbol{
		FileContainingSymbol: "smh.library.v1.LibraryService"}}); err != nil {
		t.Fatal(err)
	}
	if rr, err = stream.Recv(); err != nil {
		t.Fatal(err)
	}
	var defined []string
	for _, raw := range rr.GetFileDescriptorResponse().GetFileDescriptorProto() {
		var fd descriptorpb.FileDescriptorProto
		if err := proto.Unmarshal(raw, &fd); err != nil {
			t.Fatalf("reflection sent a file descriptor that does not decode: %v", err)
		}
		for _, svc := range fd.GetService() {
			for _, m := range svc.GetMethod() {
				defined = append(defined, fd.GetPackage()+"."+svc.GetName()+"/"+m.GetName())
			}
		}
	}
	if !slices.Contains(defined, "smh.library.v1.LibraryService/CreateLibrary") {
		t.Fatalf("reflection's file for LibraryService defines %v, not CreateLibrary", defined)
	}

	libs := libraryv1.NewLibraryServiceClient(conn)
	_, err = libs.CreateLibrary(ctx, &libraryv1.CreateLibraryRequest{Name: "no key"})
	if e := smherr.As(err); e == nil || e.Code != "InvalidAdminKey" {
		t.Fatalf("without key: %v", err)
	}
	authed := metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+s.adminKey)
	created, err := libs.CreateLibrary(authed, &libraryv1.CreateLibraryRequest{Name: "over grpc"})
	if err != nil {
		t.Fatal(err)
	}
	got := s.admin("GET", "/admin/v1/libraries/"+created.GetLibrary().GetLibraryId(), nil)
	if got.Status != http.StatusOK || got.JSON(t)["name"] != "over grpc" {
		t.Fatalf("library made over gRPC not visible over REST: %d %s", got.Status, got.Body)
	}
}

// A request's trace spans the gateway and the service that served it.
func TestTraceSpansGatewayAndService(t *testing.T) {
	s := startSystem(t)
	lib := s.createLibrary("traced", nil)
	tok := s.mustMint(lib, nil)
	spans.Reset()
	if r := s.renew(lib.ID, tok); r.Status != http.StatusOK {
		t.Fatalf("renew: %d %s", r.Status, r.Body)
	}
	var gatewaySpan, serviceSpan trace.SpanContext
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) && (!gatewaySpan.IsValid() || !serviceSpan.IsValid()) {
		for _, sp := range spans.GetSpans() {
			switch {
			case sp.SpanKind == trace.SpanKindServer && strings.HasPrefix(sp.Name, "POST /api/v1/token/"):
				gatewaySpan = sp.SpanContext
			case sp.SpanKind == trace.SpanKindServer && sp.Name == "smh.token.v1.TokenService/RenewToken":
				serviceSpan = sp.SpanContext
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !gatewaySpan.IsValid() || !serviceSpan.IsValid() {
		t.Fatalf("spans missing: gateway %v service %v", gatewaySpan.IsValid(), serviceSpan.IsValid())
	}
	if gatewaySpan.TraceID() != serviceSpan.TraceID() {
		t.Fatalf("gateway trace %s, service trace %s", gatewaySpan.TraceID(), serviceSpan.TraceID())
	}
	for _, sp := range spans.GetSpans() {
		for _, kv := range sp.Attributes {
			if strings.Contains(kv.Value.String(), tok) {
				t.Fatalf("span %s records the token in %s", sp.Name, kv.Key)
			}
		}
		if strings.Contains(sp.Name, tok) {
			t.Fatalf("span name holds the token: %s", sp.Name)
		}
	}
}
