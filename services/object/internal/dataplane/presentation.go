package dataplane

import (
	"net/http"

	"github.com/opensmh/opensmh/services/object/internal/media"
)

// Uploaded bytes are hostile until proven otherwise: a user with upload_file can store an HTML
// page, an SVG or a script, and a browser that renders one on an origin the console shares runs
// it as the console (docs/security.md, "Uploaded files never run on our origin"). The data
// endpoint therefore renders in place only types a browser displays without running anything,
// and every other file is a download.

// setSecurityHeaders sets the headers every answer of the data endpoint carries: downloads,
// uploads, errors, preflights and HEAD alike.
//   - nosniff: the browser takes the Content-Type as given and never guesses HTML from bytes
//     (a "photo.jpg" holding markup stays a broken image), and refuses a download as a script
//     or a stylesheet unless it is one.
//   - CSP sandbox: should a document render after all, it runs no script, submits no form and
//     gets an opaque origin, so it reads no storage of the host it came from.
//   - no-referrer: a download URL carries its signature; nothing opened from it passes it on.
//   - CORP cross-origin: the signature is the credential (decision 11) and SMH web apps embed
//     thumbnails from other sites, including cross-origin-isolated ones.
func setSecurityHeaders(h http.Header) {
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "sandbox")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cross-Origin-Resource-Policy", "cross-origin")
}

// presentation decides how a download is served (media.Presentation): the Content-Type to send
// and whether it may show inline. The rule lives beside the media types so that the share
// visitor's preview (app.PreviewShared) judges by the same one.
func presentation(contentType, name string) (string, bool) {
	return media.Presentation(contentType, name)
}
