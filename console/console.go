// Package console is the operator's web console: static HTML, CSS and JavaScript (no build step,
// nothing fetched from elsewhere) embedded in the binary and served by the gateway under
// /console/. The console talks to the admin API with the operator key and to the business API
// with tokens it mints for the operator (docs/architecture.md, "The admin API").
package console

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed static
var static embed.FS

// Prefix is where the console is served.
const Prefix = "/console/"

// asset is one embedded file, read once.
type asset struct {
	body        []byte
	etag        string
	contentType string
}

// Handler serves the console under Prefix. connectOrigins are the origins besides the console's
// own that its scripts may send requests to: the public URL's origin, where upload and download
// targets point when the console is reached under another name.
func Handler(connectOrigins ...string) http.Handler {
	assets := loadAssets(static, "static")
	csp := contentSecurityPolicy(connectOrigins)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !readOnly(w, r) {
			return
		}
		name := strings.TrimPrefix(r.URL.Path, Prefix)
		if name == "" {
			name = "index.html"
		}
		a, ok := assets[name]
		if !ok {
			http.NotFound(w, r)
			return
		}
		a.serve(w, r, csp)
	})
}

// loadAssets reads the embedded files under root, once, keyed by their path below it.
func loadAssets(files embed.FS, root string) map[string]asset {
	assets := map[string]asset{}
	err := fs.WalkDir(files, root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := files.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		ctype := mime.TypeByExtension(path.Ext(p))
		if ctype == "" {
			ctype = "application/octet-stream"
		}
		assets[strings.TrimPrefix(p, root+"/")] = asset{body: body, etag: `"` + hex.EncodeToString(sum[:16]) + `"`, contentType: ctype}
		return nil
	})
	if err != nil {
		// The files are compiled in: failing to read them is a broken build.
		panic("console: " + err.Error())
	}
	return assets
}

// readOnly answers whether the request is a GET or HEAD, and answers 405 when it is not.
func readOnly(w http.ResponseWriter, r *http.Request) bool {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return true
	}
	w.Header().Set("Allow", "GET, HEAD")
	http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	return false
}

// serve writes one embedded file with the headers every page of ours carries.
func (a asset) serve(w http.ResponseWriter, r *http.Request, csp string) {
	h := w.Header()
	h.Set("Content-Type", a.contentType)
	h.Set("ETag", a.etag)
	// Revalidate every time (a 304 is cheap): a new binary must never run with old scripts.
	h.Set("Cache-Control", "no-cache")
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Content-Type-Options", "nosniff")
	// Thumbnail and download URLs carry an access token in their query.
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(a.body))
}

// contentSecurityPolicy allows the console's own files and nothing from elsewhere: no inline
// script, no external fonts, styles or scripts; images and downloads from the API (the same
// origin, or the public URL's).
func contentSecurityPolicy(connectOrigins []string) string {
	self := "'self'"
	for _, o := range connectOrigins {
		if o != "" {
			self += " " + o
		}
	}
	return strings.Join([]string{
		"default-src 'none'",
		"script-src 'self'",
		"style-src 'self'",
		"img-src " + self + " data: blob:",
		"media-src " + self + " blob:",
		"connect-src " + self,
		"font-src 'self'",
		"form-action 'none'",
		"frame-ancestors 'none'",
		"base-uri 'none'",
	}, "; ")
}
