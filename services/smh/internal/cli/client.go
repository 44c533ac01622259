package cli

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/opensmh/opensmh/pkg/tlsx"
)

// apiError is an SMH error body the server answered; the command exits 1 with it.
type apiError struct {
	Status    int
	Code      string `json:"code"`
	Message   string `json:"message"`
	RequestID string `json:"requestId"`
}

func (e *apiError) Error() string {
	return fmt.Sprintf("%s: %s (HTTP %d, request %s)", e.Code, e.Message, e.Status, e.RequestID)
}

// usageError makes the command exit 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// client calls the HTTPS APIs of a running server.
type client struct {
	base     string
	adminKey string
	http     *http.Client
}

func newClient(base, adminKey, caCert string) (*client, error) {
	if base == "" {
		return nil, usagef("--url (or SMH_URL) is required")
	}
	u, err := url.Parse(base)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return nil, usagef("--url %q must be an https:// URL", base)
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if caCert != "" {
		pool, err := tlsx.CertPool(caCert)
		if err != nil {
			return nil, usagef("--ca-cert: %v", err)
		}
		cfg.RootCAs = pool
	}
	return &client{
		base:     strings.TrimSuffix(base, "/"),
		adminKey: adminKey,
		http:     &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{TLSClientConfig: cfg, ForceAttemptHTTP2: true}},
	}, nil
}

// do sends a request and decodes a JSON answer into out (when non-nil). A body is the
// generated request message of the RPC the route reaches, in its JSON form: a field the contract
// does not have cannot be sent, and a renamed one fails to compile.
func (c *client) do(method, path string, query url.Values, body proto.Message, admin bool, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := protojson.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	u := c.base + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if admin {
		if c.adminKey == "" {
			return usagef("--admin-key (or SMH_ADMIN_KEY) is required")
		}
		req.Header.Set("Authorization", "Bearer "+c.adminKey)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		// The URL may carry a token or secret in its query; report the host only.
		var ue *url.Error
		if errors.As(err, &ue) {
			return fmt.Errorf("%s %s: %w", method, c.base, ue.Err)
		}
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode >= 400 {
		e := &apiError{Status: resp.StatusCode}
		if json.Unmarshal(data, e) != nil || e.Code == "" {
			e.Code, e.Message = http.StatusText(resp.StatusCode), strings.TrimSpace(string(data))
		}
		return e
	}
	if out != nil && len(data) > 0 {
		return json.Unmarshal(data, out)
	}
	return nil
}

// show calls the API and prints the JSON answer, if any, indented on the command's output.
func (c *client) show(cmd *cobra.Command, method, path string, query url.Values, body proto.Message, admin bool) error {
	var out map[string]any
	if err := c.do(method, path, query, body, admin, &out); err != nil {
		return err
	}
	if out == nil {
		return nil
	}
	return printJSON(cmd.OutOrStdout(), out)
}
