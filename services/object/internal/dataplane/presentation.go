package dataplane

import (
	"mime"
	"net/http"
	"strings"

	"github.com/opensmh/opensmh/pkg/filetype"
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

// presentation decides how a download is served from its signed content type and file name:
// the Content-Type to send and whether it may show inline. A passive type with a passive
// extension (or none) keeps its type and may show inline; anything else is sent as
// application/octet-stream and always as an attachment, so that no browser treats it as a
// page, a script or a stylesheet, even one that ignores Content-Disposition for a subresource.
// The type is compared after mime.ParseMediaType, so parameters and casing change nothing; an
// unparsable type is not passive.
func presentation(contentType, name string) (string, bool) {
	const opaque = "application/octet-stream"
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil || !isPassiveType(mt) || !isPassiveName(name) {
		return opaque, false
	}
	return mime.FormatMediaType(mt, params), true
}

// isPassiveType reports whether a media type (as mime.ParseMediaType answers it: lower case, no
// parameters) is one browsers display with no script engine: raster images, audio, video and
// plain text. Not passive, so downloaded: HTML, XHTML, SVG and XML (scripts and event
// handlers), JavaScript and CSS, JSON, and PDF, whose viewers run scripts and follow links of
// their own.
func isPassiveType(mt string) bool {
	switch mt {
	case "image/jpeg", "image/png", "image/gif", "image/webp", "image/avif", "image/bmp", "image/heic", "image/heif",
		"text/plain":
		return true
	}
	return strings.HasPrefix(mt, "video/") || strings.HasPrefix(mt, "audio/")
}

// isPassiveName reports whether a file name ends in no extension or a passive one: the images
// and videos pkg/filetype names (SVG is not among them), audio, and plain text. The name counts
// as well as the type, because a browser that saves a file shown in place keeps its name:
// "notes.html" shown as text would open as a page once saved.
func isPassiveName(name string) bool {
	ext := filetype.ExtOf(name)
	if ext == "" || filetype.KindByExt(ext) != filetype.Other {
		return true
	}
	switch ext {
	case "mp3", "m4a", "aac", "wav", "flac", "ogg", "oga", "opus", "wma", "amr", "txt", "log":
		return true
	}
	return false
}
