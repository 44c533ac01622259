package dataplane

import "testing"

func TestPresentation(t *testing.T) {
	const opaque = "application/octet-stream"
	tests := []struct {
		name, contentType, file string
		wantType                string
		wantInline              bool
	}{
		{"photo", "image/jpeg", "IMG_0001.JPG", "image/jpeg", true},
		{"png without extension", "image/png", "scan", "image/png", true},
		{"heic", "image/heic", "a.heic", "image/heic", true},
		{"video", "video/mp4", "clip.mp4", "video/mp4", true},
		{"audio", "audio/mpeg", "song.mp3", "audio/mpeg", true},
		{"thumbnail of a video keeps the video's name", "image/jpeg", "clip.mkv", "image/jpeg", true},
		{"text keeps its charset", "text/plain; charset=utf-8", "notes.txt", "text/plain; charset=utf-8", true},
		{"casing and spacing are normalized", "Text/Plain ; Charset=UTF-8", "notes.txt", "text/plain; charset=UTF-8", true},
		{"html", "text/html", "page.html", opaque, false},
		{"html with parameters", "TEXT/HTML; charset=utf-8", "page.htm", opaque, false},
		{"xhtml", "application/xhtml+xml", "page.xhtml", opaque, false},
		{"svg", "image/svg+xml", "logo.svg", opaque, false},
		{"svg declared as a raster image", "image/png", "logo.svg", opaque, false},
		{"xml", "text/xml", "feed.xml", opaque, false},
		{"application xml", "application/xml", "feed.xml", opaque, false},
		{"javascript", "text/javascript", "app.js", opaque, false},
		{"css", "text/css", "site.css", opaque, false},
		{"json", "application/json", "data.json", opaque, false},
		{"pdf", "application/pdf", "report.pdf", opaque, false},
		{"octet-stream", "application/octet-stream", "data.bin", opaque, false},
		{"text that saves as a page", "text/plain", "notes.html", opaque, false},
		{"html named as text", "text/html", "notes.txt", opaque, false},
		{"html with no extension", "text/html", "index", opaque, false},
		{"empty type", "", "photo.jpg", opaque, false},
		{"unparsable type", "image/jpeg;;;=", "photo.jpg", opaque, false},
		{"type list", "image/png, text/html", "photo.png", opaque, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gotType, gotInline := presentation(tt.contentType, tt.file)
			if gotType != tt.wantType || gotInline != tt.wantInline {
				t.Errorf("presentation(%q, %q) = %q, %v; want %q, %v", tt.contentType, tt.file, gotType, gotInline, tt.wantType, tt.wantInline)
			}
		})
	}
}
