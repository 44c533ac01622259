package filetype

import "testing"

func TestDescribe(t *testing.T) {
	tests := []struct {
		name, file, contentType string
		fileType                string
		previewByCI             bool
	}{
		{"jpeg", "a.jpg", "image/jpeg", FileTypeImage, true},
		{"jpeg unknown content type", "a.JPG", "", FileTypeImage, true},
		{"jpeg octet-stream", "a.jpeg", "application/octet-stream", FileTypeImage, true},
		{"png with parameters", "a.png", "image/png; charset=binary", FileTypeImage, true},
		{"heic cannot be thumbnailed", "a.heic", "image/heic", FileTypeImage, false},
		{"heic bytes named jpg", "a.jpg", "image/heic", FileTypeImage, false},
		{"text named jpg", "a.jpg", "text/plain; charset=utf-8", FileTypeImage, false},
		{"svg", "logo.svg", "image/svg+xml", FileTypeImage, false},
		{"mp4", "v.mp4", "video/mp4", FileTypeVideo, true},
		{"mp4 unknown content type", "v.mp4", "", FileTypeVideo, true},
		{"transport stream", "v.ts", "video/mp2t", FileTypeVideo, true},
		{"word", "a.docx", "", FileTypeWord, false},
		{"pdf", "a.pdf", "application/pdf", FileTypePDF, false},
		{"excel", "a.xlsx", "", FileTypeExcel, false},
		{"csv", "a.csv", "text/csv", FileTypeExcel, false},
		{"powerpoint", "a.pptx", "", FileTypePowerPoint, false},
		{"text", "notes.txt", "text/plain; charset=utf-8", FileTypeText, false},
		{"archive", "a.tar.gz", "application/x-gzip", FileTypeArchive, false},
		{"audio", "song.MP3", "audio/mpeg", FileTypeAudio, false},
		{"psd", "design.psd", "", FileTypePSD, false},
		{"no extension, png bytes", "scan", "image/png", FileTypeImage, true},
		{"no extension, video bytes", "clip", "video/webm", FileTypeVideo, true},
		{"no extension, pdf bytes", "report", "application/pdf", FileTypePDF, false},
		{"no extension, zip bytes", "bundle", "application/zip", FileTypeArchive, false},
		{"no extension, ogg bytes", "voice", "application/ogg", FileTypeAudio, false},
		{"no extension, text bytes", "LICENSE", "text/plain; charset=utf-8", FileTypeText, false},
		{"nothing known", "blob", "", FileTypeOther, false},
		{"octet-stream", "blob.bin", "application/octet-stream", FileTypeOther, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Describe(tt.file, tt.contentType)
			want := Description{FileType: tt.fileType, PreviewByCI: tt.previewByCI, PreviewAsIcon: tt.previewByCI}
			if got != want {
				t.Errorf("Describe(%q, %q) = %+v, want %+v", tt.file, tt.contentType, got, want)
			}
		})
	}
}

// TestFileTypeValues pins the fileType strings to those the official SDKs decode; the Flutter
// SDK throws on any other value.
func TestFileTypeValues(t *testing.T) {
	sdk := map[string]bool{
		"image": true, "video": true, "audio": true, "word": true, "excel": true,
		"powerpoint": true, "portable": true, "text": true, "archive": true, "psd": true, "other": true,
	}
	for ext, ft := range fileTypeByExt {
		if !sdk[ft] {
			t.Errorf("extension %q maps to %q, which SMH clients do not know", ext, ft)
		}
	}
	for ct, ft := range fileTypeByContentType {
		if !sdk[ft] {
			t.Errorf("content type %q maps to %q, which SMH clients do not know", ct, ft)
		}
	}
}
