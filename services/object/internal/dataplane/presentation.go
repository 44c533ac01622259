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

// securityHeaders are set on every answer of the data endpoint: downloads, uploads, errors,
// preflights and HEAD alike.
//   - nosniff: the browser takes the Content-Type as given and never guesses HTML from bytes
//     (a "photo.jpg" holding markup stays a broken image), and refuses a download as a script
//     or a stylesheet unless it is one.
//   - CSP sandbox: should a document render after all, it runs no script, submits no form and
//     gets an opaque origin, so it reads no storage of the host it came from.
//   - no-referrer: a download URL carries its signature; nothing opened from it passes it on.
//   - CORP cross-origin: the signature is the credential (decision 11) and SMH web apps embed
//     thumbnails from other sites, including cross-origin-isolated ones.
var securityHeaders = map[string]string{
	"X-Content-Type-Options":       "nosniff",
	"Content-Security-Policy":      "sandbox",
	"Referrer-Policy":              "no-referrer",
	"Cross-Origin-Resource-Policy": "cross-origin",
}

func setSecurityHeaders(h http.Header) {
	for k, v := range securityHeaders {
		h.Set(k, v)
	}
}

// passiveTypes are the media types served inline: raster images, audio, video and plain text,
// which browsers display with no script engine. Not here, so downloaded: HTML, XHTML, SVG and
// XML (scripts and event handlers), JavaScript and CSS, JSON, and PDF, whose viewers run
// scripts of their own (and which Chromium refuses to show under a sandbox policy anyway).
var passiveTypes = map[string]bool{
	"image/jpeg": true, "image/png": true, "image/gif": true, "image/webp": true,
	"image/avif": true, "image/bmp": true, "image/heic": true, "image/heif": true,
	"text/plain": true,
}

// passiveExts are the file extensions a passive file may carry besides the images and videos
// pkg/filetype names. The name counts as well as the type, because a browser that saves a file
// shown in place keeps its name: "notes.html" shown as text would open as a page once saved.
var passiveExts = map[string]bool{
	"mp3": true, "m4a": true, "aac": true, "wav": true, "flac": true, "ogg": true, "oga": true,
	"opus": true, "wma": true, "amr": true, "txt": true, "log": true,
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

// isPassiveType takes a media type as mime.ParseMediaType answers it (lower case, no
// parameters).
func isPassiveType(mt string) bool {
	return passiveTypes[mt] || strings.HasPrefix(mt, "video/") || strings.HasPrefix(mt, "audio/")
}

// isPassiveName reports whether a file name ends in no extension or a passive one; SVG is no
// image here (filetype does not list it).
func isPassiveName(name string) bool {
	ext := filetype.ExtOf(name)
	return ext == "" || filetype.KindByExt(ext) != filetype.Other || passiveExts[ext]
}
