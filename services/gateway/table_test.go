package gateway

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"

	"github.com/opensmh/opensmh/services/gateway/internal/dispatch"
)

// methodRecorder is a gRPC server that serves no method: it notes the full name of each method
// a client calls ("/smh.object.v1.ObjectService/ConfirmUpload") and answers Unimplemented. It
// stands in for the services only to say which RPC a REST request reached.
type methodRecorder struct {
	mu     sync.Mutex
	called []string
}

func (rec *methodRecorder) handle(_ any, stream grpc.ServerStream) error {
	method, _ := grpc.MethodFromServerStream(stream)
	rec.mu.Lock()
	rec.called = append(rec.called, method)
	rec.mu.Unlock()
	return status.Error(codes.Unimplemented, "recorded")
}

// take answers the methods called since the last take.
func (rec *methodRecorder) take() []string {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	called := rec.called
	rec.called = nil
	return called
}

// recordingConn answers a client connection to a methodRecorder over an in-memory listener.
func recordingConn(t *testing.T) (*grpc.ClientConn, *methodRecorder) {
	t.Helper()
	rec := &methodRecorder{}
	lis := bufconn.Listen(1 << 20)
	srv := grpc.NewServer(grpc.UnknownServiceHandler(rec.handle))
	served := make(chan error, 1)
	go func() { served <- srv.Serve(lis) }()
	t.Cleanup(func() {
		srv.Stop()
		if err := <-served; err != nil {
			t.Errorf("recorder server: %v", err)
		}
	})
	conn, err := grpc.NewClient("passthrough:///recorder",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn, rec
}

// rowRequest answers a public request shaped after row: every parameter "1" (numeric fields
// parse it), the row's flags as bare query keys, and for a row a body key picks, a JSON body
// with that key.
func rowRequest(row dispatch.Route) *http.Request {
	path := row.Pattern
	for _, seg := range strings.Split(strings.TrimPrefix(row.Pattern, "/"), "/") {
		if strings.HasPrefix(seg, "{") {
			path = strings.Replace(path, seg, "1", 1)
		}
	}
	var flags []string
	for _, f := range row.Flags {
		flags = append(flags, url.QueryEscape(f))
	}
	target := path + "?" + strings.Join(flags, "&")
	if row.BodyKey == "" {
		return httptest.NewRequest(row.Method, target, nil)
	}
	r := httptest.NewRequest(row.Method, target, strings.NewReader(`{"`+row.BodyKey+`":"1"}`))
	r.Header.Set("Content-Type", "application/json")
	return r
}

// TestEveryRowReachesItsRPC sends a request shaped after each row of the dispatcher table
// through the gateway's dispatch (smhAPI) into its own grpc-gateway mux (newServeMux: the same
// registrations and options), and checks that the RPC called is the one the row names. A row
// whose target no internal route serves, or whose route belongs to another RPC, fails here
// rather than in front of a client.
func TestEveryRowReachesItsRPC(t *testing.T) {
	conn, rec := recordingConn(t)
	mux, err := newServeMux(t.Context(), Config{Library: conn, Token: conn, Namespace: conn, Object: conn})
	if err != nil {
		t.Fatal(err)
	}
	table := dispatch.Compile(dispatch.Routes)
	for i := range dispatch.Routes {
		row := &dispatch.Routes[i]
		name := fmt.Sprintf("row %d (%s %s ?%s {%s})", i, row.Method, row.Pattern, strings.Join(row.Flags, "&"), row.BodyKey)
		r := rowRequest(*row)
		m, ok := table.Match(r)
		if !ok || m.Route != row {
			t.Errorf("%s: a request shaped after it does not match it", name)
			continue
		}
		w := httptest.NewRecorder()
		smhAPI(mux).ServeHTTP(w, dispatch.WithMatch(r, m, ok))
		called := rec.take()
		if len(called) != 1 || called[0] != row.RPC {
			t.Errorf("%s -> %s: called %v, want %s (answer %d %s)", name, m.Path, called, row.RPC, w.Code, strings.TrimSpace(w.Body.String()))
		}
	}
}
