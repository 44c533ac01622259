// Package dataroute names the requests of the object service's data endpoint (decision 11), so
// the gateway routes them to it and the endpoint serves them, by one rule.
package dataroute

import (
	"mime"
	"net/http"
	"strings"
)

// Paths of the data endpoint: uploads (simple PUT and parts) and signed downloads.
const (
	Prefix         = "/data/"
	UploadPrefix   = Prefix + "u/"
	DownloadPrefix = Prefix + "o/"
	// ZipPrefix: a share visitor's folder download, streamed as a zip (issue 13 fetch,
	// docs/shares.md).
	ZipPrefix = Prefix + "z/"
)

// Is reports whether r belongs to the data endpoint: a path under /data/, or a form upload,
// which 3.3 posts to the root of the ticket's domain (with its CORS preflight).
func Is(r *http.Request) bool {
	if strings.HasPrefix(r.URL.Path, Prefix) {
		return true
	}
	if r.URL.Path != "/" {
		return false
	}
	if r.Method == http.MethodOptions {
		return true
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return r.Method == http.MethodPost && mt == "multipart/form-data"
}
