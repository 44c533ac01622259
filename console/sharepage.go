package console

import (
	"embed"
	"net/http"
	"strings"
)

// The share visitor page (docs/shares.md, "The visitor page"): what a share link opens. It is
// static like the console and carries the same headers, but it holds no operator key and no
// library token: it talks only to the public share routes with the short-lived share access
// token that verify hands out.

//go:embed sharepage
var sharePage embed.FS

// Share links are <public URL>/s/<share code>; the page's scripts and styles live under
// SharePageAssets (a share code may be any URL-safe string, so the assets do not share /s/).
const (
	ShareLinkPrefix  = "/s/"
	SharePageAssets  = "/share-page/"
	sharePageRoot    = "sharepage"
	sharePageIndex   = "index.html"
	maxShareCodeSize = 128
)

// SharePageHandler serves the visitor page at /s/{code} and its files under SharePageAssets.
// connectOrigins are as for Handler: the public URL's origin and the download origin, where the
// preview and download redirects of a share lead (the page shows them in <img> and <video>).
func SharePageHandler(connectOrigins ...string) http.Handler {
	assets := loadAssets(sharePage, sharePageRoot)
	csp := contentSecurityPolicy(connectOrigins)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !readOnly(w, r) {
			return
		}
		var name string
		switch {
		case strings.HasPrefix(r.URL.Path, ShareLinkPrefix):
			// Every share code gets the same page: the script reads the code from the path and
			// asks the server, which alone knows whether the share exists.
			code := strings.TrimPrefix(r.URL.Path, ShareLinkPrefix)
			if code == "" || len(code) > maxShareCodeSize || strings.Contains(code, "/") {
				http.NotFound(w, r)
				return
			}
			name = sharePageIndex
		case strings.HasPrefix(r.URL.Path, SharePageAssets):
			name = strings.TrimPrefix(r.URL.Path, SharePageAssets)
			if name == sharePageIndex {
				// The page only makes sense under a share link.
				http.NotFound(w, r)
				return
			}
		}
		a, ok := assets[name]
		if !ok {
			http.NotFound(w, r)
			return
		}
		a.serve(w, r, csp)
	})
}
