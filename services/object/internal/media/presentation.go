package media

import (
	"mime"
	"strings"

	"github.com/opensmh/opensmh/pkg/filetype"
)

// Uploaded bytes are hostile until proven otherwise (docs/security.md, "Uploaded files never run
// on our origin"): the data endpoint renders in place only types a browser displays without
// running anything, and every other file is a download.

// Presentation decides how a download is served from its signed content type and file name:
// the Content-Type to send and whether it may show inline. A passive type with a passive
// extension (or none) keeps its type and may show inline; anything else is sent as
// application/octet-stream and always as an attachment, so that no browser treats it as a
// page, a script or a stylesheet, even one that ignores Content-Disposition for a subresource.
// The type is compared after mime.ParseMediaType, so parameters and casing change nothing; an
// unparsable type is not passive.
func Presentation(contentType, name string) (string, bool) {
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
