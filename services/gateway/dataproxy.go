package gateway

import (
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync/atomic"

	"github.com/opensmh/opensmh/pkg/smherr"
	"github.com/opensmh/opensmh/services/gateway/internal/edge"
)

// DataProxy forwards data-endpoint requests (uploads' bytes, downloads) to the object
// instances that instances names, in turn (split deployment; docs/architecture.md). A request
// goes to the first address instances answers; when no connection to it can be made, to the
// next, and so on: a crashed instance stays listed in etcd until its lease lapses, and until
// then only requests already on their way to it fail. Bodies stream both ways: nothing is
// buffered, and responses are flushed as they come. When no instance can be reached the
// answer is 503 ServiceUnavailable.
func DataProxy(instances func() []string, logger *slog.Logger) http.Handler {
	if logger == nil {
		logger = slog.Default()
	}
	return &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			// The host is chosen per attempt by the transport.
			r.SetURL(&url.URL{Scheme: "http", Host: "object-data"})
			r.Out.Host = r.In.Host
			r.SetXForwarded()
		},
		Transport: &dataTransport{instances: instances, next: http.DefaultTransport.(*http.Transport).Clone()},
		// The object service answers with the request id the gateway gave it; the gateway has
		// set the header already, so the copy would only repeat it.
		ModifyResponse: func(resp *http.Response) error {
			resp.Header.Del(edge.RequestIDHeader)
			return nil
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			// A url.Error names the URL, whose query may carry a ticket's signature: log only
			// what went wrong.
			var urlErr *url.Error
			if errors.As(err, &urlErr) {
				err = urlErr.Err
			}
			logger.WarnContext(r.Context(), "object data endpoint unreachable", "error", err)
			edge.WriteError(w, r, smherr.ErrServiceUnavailable)
		},
		FlushInterval: -1,
	}
}

// StaticInstances answers a fixed list of data endpoints for DataProxy (--object-data-url).
func StaticInstances(addrs ...string) func() []string {
	return func() []string { return addrs }
}

// errNoDataInstance answers a request that found no object data endpoint registered.
var errNoDataInstance = errors.New("no object data endpoint is registered")

// dataTransport sends a request to the first instance it can connect to, in the order
// instances gives.
type dataTransport struct {
	instances func() []string
	next      http.RoundTripper
}

func (d *dataTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	addrs := d.instances()
	if len(addrs) == 0 {
		return nil, errNoDataInstance
	}
	// The transport closes a request's body when an attempt fails; the body must survive that
	// to go to the next instance, and it may only if not a byte of it was read.
	var body *attemptBody
	if req.Body != nil && req.Body != http.NoBody {
		body = &attemptBody{ReadCloser: req.Body}
	}
	var err error
	for _, addr := range addrs {
		attempt := req.Clone(req.Context())
		attempt.URL.Host = addr
		if body != nil {
			attempt.Body = body
		}
		var resp *http.Response
		resp, err = d.next.RoundTrip(attempt)
		if err == nil {
			return resp, nil
		}
		if !couldNotConnect(err) || (body != nil && body.read.Load()) || req.Context().Err() != nil {
			break
		}
	}
	return nil, err
}

// couldNotConnect reports whether err is a failure to open a connection, before any of the
// request left.
func couldNotConnect(err error) bool {
	var opErr *net.OpError
	return errors.As(err, &opErr) && opErr.Op == "dial"
}

// attemptBody passes a request body to the attempts, remembering whether any read it, and
// leaves closing it to the server that owns it.
type attemptBody struct {
	io.ReadCloser
	read atomic.Bool
}

func (b *attemptBody) Read(p []byte) (int, error) {
	b.read.Store(true)
	return b.ReadCloser.Read(p)
}

func (b *attemptBody) Close() error { return nil }
