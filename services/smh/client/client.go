// Package client is a Go client of the SMH business API and the admin API as OpenSMH serves them
// over HTTPS. The smh command's file, trash, version, quota, search, share, library and token
// subcommands are thin layers over it (docs/cli.md).
package client

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/opensmh/opensmh/pkg/tlsx"
)

// Error is an SMH error body (smh-api.md 12.5) or, when the answer had none, the HTTP status.
type Error struct {
	Status    int    `json:"-"`
	Code      string `json:"code"`
	Message   string `json:"message"`
	RequestID string `json:"requestId"`
}

func (e *Error) Error() string {
	if e.RequestID == "" {
		return fmt.Sprintf("%s: %s (HTTP %d)", e.Code, e.Message, e.Status)
	}
	return fmt.Sprintf("%s: %s (HTTP %d, request %s)", e.Code, e.Message, e.Status, e.RequestID)
}

// IsCode tells whether err is an API error with one of the codes.
func IsCode(err error, codes ...string) bool {
	var e *Error
	if !errors.As(err, &e) {
		return false
	}
	for _, c := range codes {
		if e.Code == c {
			return true
		}
	}
	return false
}

// IsStatus tells whether err is an API error with the HTTP status.
func IsStatus(err error, status int) bool {
	var e *Error
	return errors.As(err, &e) && e.Status == status
}

// Options configure a Client.
type Options struct {
	// URL is the server's public HTTPS origin, e.g. https://127.0.0.1:8443.
	URL string
	// CACert is a PEM file of the CA to trust instead of the system's ("" = the system's).
	CACert string
	// AdminKey is the operator key, for the admin API only.
	AdminKey string
}

// Client calls one server. It is safe for concurrent use.
type Client struct {
	base     string
	adminKey string
	// api carries API calls: they are small, so a whole call has a deadline.
	api *http.Client
	// data carries file bytes to and from the data endpoints that tickets and cosUrls name: a
	// transfer may take hours, so only the connection setup and the wait for headers are bounded.
	data *http.Client
}

// ErrUsage marks a configuration the caller got wrong (the smh command exits 2 with it).
var ErrUsage = errors.New("usage")

// New checks the options and answers a Client.
func New(o Options) (*Client, error) {
	if o.URL == "" {
		return nil, fmt.Errorf("%w: the server URL is required", ErrUsage)
	}
	u, err := url.Parse(o.URL)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("%w: the server URL %q must be an https:// URL", ErrUsage, o.URL)
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if o.CACert != "" {
		pool, err := tlsx.CertPool(o.CACert)
		if err != nil {
			return nil, fmt.Errorf("%w: CA certificate: %v", ErrUsage, err)
		}
		cfg.RootCAs = pool
	}
	transport := &http.Transport{
		TLSClientConfig:       cfg,
		ForceAttemptHTTP2:     true,
		TLSHandshakeTimeout:   15 * time.Second,
		ResponseHeaderTimeout: 60 * time.Second,
		MaxIdleConnsPerHost:   32,
		Proxy:                 http.ProxyFromEnvironment,
	}
	// A 302 (download, preview) is an answer to read, not to follow: its Location is a signed URL.
	noRedirect := func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &Client{
		base:     strings.TrimSuffix(o.URL, "/"),
		adminKey: o.AdminKey,
		api:      &http.Client{Timeout: 60 * time.Second, Transport: transport, CheckRedirect: noRedirect},
		data:     &http.Client{Transport: transport},
	}, nil
}

// request is one API call.
type request struct {
	method string
	// path is escaped already (see escapePath).
	path  string
	query url.Values
	// body is sent as JSON: a proto.Message in its protojson form, anything else with encoding/json.
	body   any
	header http.Header
	// admin sends the operator key.
	admin bool
}

// send makes the call and answers the response when its status is below 400; an error status
// becomes an *Error. The caller closes the body.
func (c *Client) send(ctx context.Context, r request) (*http.Response, error) {
	var rd io.Reader
	if r.body != nil {
		var b []byte
		var err error
		if m, ok := r.body.(proto.Message); ok {
			b, err = protojson.Marshal(m)
		} else {
			b, err = json.Marshal(r.body)
		}
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	u := c.base + r.path
	if len(r.query) > 0 {
		u += "?" + encodeQuery(r.query)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, u, rd)
	if err != nil {
		return nil, err
	}
	for k, v := range r.header {
		req.Header[k] = v
	}
	if r.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if r.admin {
		if c.adminKey == "" {
			return nil, fmt.Errorf("%w: the operator key is required", ErrUsage)
		}
		req.Header.Set("Authorization", "Bearer "+c.adminKey)
	}
	resp, err := c.api.Do(req)
	if err != nil {
		return nil, hideURL(r.method, c.base, err)
	}
	if resp.StatusCode >= 400 {
		defer resp.Body.Close()
		return nil, errorOf(resp)
	}
	return resp, nil
}

// call makes the call and decodes a JSON answer into out (when out is non-nil and the answer has
// a body). It answers the HTTP status.
func (c *Client) call(ctx context.Context, r request, out any) (int, error) {
	resp, err := c.send(ctx, r)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, err
	}
	if out != nil && len(bytes.TrimSpace(data)) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s %s: answer is not the expected JSON: %v", r.method, c.base, err)
		}
	}
	return resp.StatusCode, nil
}

// errorOf reads an error answer's SMH body.
func errorOf(resp *http.Response) error {
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	e := &Error{Status: resp.StatusCode}
	if json.Unmarshal(data, e) != nil || e.Code == "" {
		e.Code, e.Message = http.StatusText(resp.StatusCode), strings.TrimSpace(string(data))
		if len(e.Message) > 200 {
			e.Message = e.Message[:200] + "..."
		}
	}
	if e.RequestID == "" {
		e.RequestID = resp.Header.Get("X-SMH-Request-Id")
	}
	return e
}

// hideURL reports a transport failure without the URL, whose query may carry an access token,
// a library secret or a signature.
func hideURL(method, base string, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s %s: %w", method, base, ue.Err)
	}
	return err
}

// encodeQuery is url.Values.Encode, except that a flag with no value is written bare ("?confirm"),
// the form SMH clients send for operation flags.
func encodeQuery(q url.Values) string {
	var parts []string
	for _, k := range sortedKeys(q) {
		for _, v := range q[k] {
			if v == "" {
				parts = append(parts, url.QueryEscape(k))
			} else {
				parts = append(parts, url.QueryEscape(k)+"="+url.QueryEscape(v))
			}
		}
	}
	return strings.Join(parts, "&")
}

// escapePath escapes each segment of a slash-separated path; empty segments go.
func escapePath(p string) string {
	var out []string
	for _, s := range strings.Split(p, "/") {
		if s != "" {
			out = append(out, url.PathEscape(s))
		}
	}
	return strings.Join(out, "/")
}

// Int64 is a number the API writes as a JSON string (sizes, crc64; smh-api.md 12.4). It reads
// a string or a number and writes a string.
type Int64 int64

func (n *Int64) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	if s == "" || s == "null" {
		*n = 0
		return nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("not an integer: %s", b)
	}
	*n = Int64(v)
	return nil
}

func (n Int64) MarshalJSON() ([]byte, error) {
	return []byte(`"` + strconv.FormatInt(int64(n), 10) + `"`), nil
}

func sortedKeys(q url.Values) []string {
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Call makes a call to any route of the server, sending body as JSON, and decodes a JSON answer
// into out; the admin and token commands use it for routes this package has no method for.
// admin sends the operator key.
func (c *Client) Call(ctx context.Context, method, path string, query url.Values, body any, admin bool, out any) error {
	_, err := c.call(ctx, request{method: method, path: path, query: query, body: body, admin: admin}, out)
	return err
}
